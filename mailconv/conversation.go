package mailconv

import (
	"crypto/md5"
	"encoding/base64"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// conversation derives Email2:ConversationId and ConversationIndex from
// the thread headers, deterministically, so every message of a thread
// carries the same id (see the package comment for the order).
func conversation(h mail.Header, subject string, date time.Time) (id, index []byte) {
	refs, _ := h.MsgIDList("References")
	inReplyTo, _ := h.MsgIDList("In-Reply-To")
	own, _ := h.MessageID()
	threadIndex := decodeThreadIndex(h.Get("Thread-Index"))

	root := ""
	switch {
	case len(refs) > 0:
		root = refs[0]
	case len(inReplyTo) > 0:
		root = inReplyTo[0]
	case own != "":
		root = own
	}
	switch {
	case root != "":
		sum := md5.Sum([]byte("msgid:" + root))
		id = sum[:]
	case len(threadIndex) >= 22:
		id = append([]byte(nil), threadIndex[6:22]...)
	default:
		topic := headerText(h.Get("Thread-Topic"))
		if topic == "" {
			topic = baseSubject(subject)
		}
		sum := md5.Sum([]byte("topic:" + strings.ToLower(topic)))
		id = sum[:]
	}

	// The index is 5 bytes of the thread's start time and 5 bytes per
	// reply (MS-ASEMAIL 2.2.2.21). Thread-Index has them; otherwise the
	// message's own date and one empty block per reference stand in.
	if len(threadIndex) >= 22 {
		index = append([]byte(nil), threadIndex[1:6]...)
		for i := 22; i+5 <= len(threadIndex); i += 5 {
			index = append(index, threadIndex[i:i+5]...)
		}
		return id, index
	}
	depth := len(refs)
	if depth == 0 && len(inReplyTo) > 0 {
		depth = 1
	}
	index = make([]byte, 5+5*depth)
	if !date.IsZero() {
		ft := uint64(date.UnixNano()/100) + 116444736000000000 // FILETIME: 100 ns since 1601
		ft >>= 24
		for i := 4; i >= 0; i-- {
			index[i] = byte(ft)
			ft >>= 8
		}
	}
	return id, index
}

func decodeThreadIndex(v string) []byte {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	return b
}

// replyPrefixes are the subject prefixes mailers add on reply and forward,
// in several languages, lower case.
var replyPrefixes = []string{"re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "tr:", "rv:", "antw:", "r:", "enc:"}

// baseSubject strips reply and forward prefixes (and "[list]" tags
// before them) from a subject.
func baseSubject(s string) string {
	for {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "[") {
			if i := strings.IndexByte(s, ']'); i > 0 {
				s = strings.TrimSpace(s[i+1:])
			}
		}
		trimmed := false
		for _, p := range replyPrefixes {
			if len(s) >= len(p) && strings.EqualFold(s[:len(p)], p) {
				s = s[len(p):]
				trimmed = true
				break
			}
		}
		if !trimmed {
			return s
		}
	}
}
