package eas

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/easd/easd/eas/model"
)

// clientIDMax is the longest ClientId a client may send (MS-ASCMD
// 2.2.3.28.2). A longer one is refused before anything is stored: it
// cannot be recorded, and a draft stored without its record would be
// stored again by every retry.
const clientIDMax = 64

// draftHeader marks a draft a client created with the device and ClientId
// of its Add. The mark goes into IMAP with the draft, in the one APPEND:
// when the phone gives up after the APPEND and before the sync state
// records the ClientId (or the commit fails), the re-sent Add finds the
// draft by its mark instead of storing a second one.
const draftHeader = "X-Easd-Draft"

// draftMark is the value of draftHeader for a ClientId of this device. The
// ClientId is encoded (it may hold any character) and the value bracketed,
// because IMAP SEARCH HEADER matches substrings: "<7.YQ>" is part of no
// other device's or ClientId's mark.
func (m *mailSync) draftMark(clientID string) string {
	return fmt.Sprintf("<%d.%s>", m.sc.k.dev.ID, base64.RawURLEncoding.EncodeToString([]byte(clientID)))
}

// storeDraft stores the draft of a client Add once: a draft already in
// the folder with the Add's mark (stored by an abandoned earlier attempt)
// is answered instead of appending another. msg is the message.
func (m *mailSync) storeDraft(ctx context.Context, clientID string, msg []byte) (uint32, model.MailFlags, error) {
	mark := m.draftMark(clientID)
	uid, flags, found, err := m.sess.FindByHeader(ctx, m.f.IMAPName, draftHeader, mark)
	if err != nil {
		return 0, model.MailFlags{}, err
	}
	if found {
		m.sc.k.log.Info("draft of a re-sent Add found in the folder; not stored again", "client_id", clientID, "uid", uid)
		return uid, flags, nil
	}
	b := append([]byte(draftHeader+": "+mark+"\r\n"), msg...)
	return m.sess.AppendDraft(ctx, m.f.IMAPName, b)
}
