package model

import (
	"fmt"
	"strconv"
	"strings"
)

// MailID identifies a message: the EAS folder id of its mailbox and its
// IMAP UID there. Its string form "folder:uid" is the message's EAS
// ServerId; it is stable for the life of the message in that folder (a
// UIDVALIDITY change of the mailbox forces a resync of the folder).
type MailID struct {
	FolderID string
	UID      uint32
}

// String returns the ServerId form, e.g. "5:1234".
func (m MailID) String() string { return m.FolderID + ":" + strconv.FormatUint(uint64(m.UID), 10) }

// ParseMailID reads a mail ServerId.
func ParseMailID(s string) (MailID, error) {
	folder, uid, ok := strings.Cut(s, ":")
	if !ok || folder == "" {
		return MailID{}, fmt.Errorf("mail id %q: want folder:uid", s)
	}
	n, err := strconv.ParseUint(uid, 10, 32)
	if err != nil || n == 0 {
		return MailID{}, fmt.Errorf("mail id %q: bad UID", s)
	}
	return MailID{FolderID: folder, UID: uint32(n)}, nil
}
