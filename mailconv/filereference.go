package mailconv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/easd/easd/eas/model"
)

// FileReference names an attachment for ItemOperations Fetch (and 2.5
// GetAttachment): the message's ServerId and the IMAP section number of
// the part, "folderId:uid:partPath", e.g. "5:1234:2.1".
func FileReference(id model.MailID, partPath string) string {
	return id.String() + ":" + partPath
}

// ParseFileReference reads a FileReference back.
func ParseFileReference(s string) (model.MailID, string, error) {
	folder, rest, ok1 := strings.Cut(s, ":")
	uid, path, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return model.MailID{}, "", fmt.Errorf("file reference %q: want folder:uid:part", s)
	}
	id, err := model.ParseMailID(folder + ":" + uid)
	if err != nil {
		return model.MailID{}, "", fmt.Errorf("file reference %q: %w", s, err)
	}
	if _, err := parsePartPath(path); err != nil {
		return model.MailID{}, "", fmt.Errorf("file reference %q: %w", s, err)
	}
	return id, path, nil
}

// parsePartPath reads an IMAP section number such as "1.2".
func parsePartPath(path string) ([]int, error) {
	if path == "" {
		return nil, fmt.Errorf("empty part path")
	}
	var out []int
	for f := range strings.SplitSeq(path, ".") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 || len(f) > 6 {
			return nil, fmt.Errorf("part path %q: bad section %q", path, f)
		}
		out = append(out, n)
	}
	return out, nil
}
