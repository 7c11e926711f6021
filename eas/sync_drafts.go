package eas

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/wbxml"
)

// clientAdds stores the drafts a client creates (EAS 16.0+, in the Drafts
// folder; MS-ASEMAIL 3.1.5.3). An Add anywhere else, or from an older
// client, is refused with Status 6 rather than dropped, so the client
// keeps its copy. A re-sent Add (lost answer) finds its recorded answer,
// or its draft by the mark storeDraft gives it, and is not stored twice.
func (m *mailSync) clientAdds() error {
	if m.col.Commands == nil || len(m.col.Commands.Add) == 0 {
		return nil
	}
	ctx := m.sc.k.ctx()
	for _, a := range m.col.Commands.Add {
		resp := message.SyncResponseAdd{ClientID: a.ClientID, Status: int(syncConversionError)}
		if m.sc.k.version < 160 || m.f.Type != model.FolderDrafts || a.ClientID == "" {
			m.resps.Add = append(m.resps.Add, resp)
			continue
		}
		if len(a.ClientID) > clientIDMax {
			resp.Status = int(syncProtocolError)
			m.resps.Add = append(m.resps.Add, resp)
			continue
		}
		prev, found, err := m.tx.LookupClientAdd(ctx, a.ClientID)
		if err != nil {
			return err
		}
		if found {
			m.ops = append(m.ops, syncstate.ClientOp{Kind: syncstate.OpAdd, ServerID: prev.ServerID, Version: prev.Version})
			resp.ServerID, resp.Status = m.serverID(keyUID(prev.ServerID)), int(syncOK)
			m.resps.Add = append(m.resps.Add, resp)
			continue
		}
		from, err := m.sc.k.userAddress()
		if err != nil {
			return err
		}
		el, _ := a.ApplicationData.(*wbxml.Element)
		msg, err := draftSource(el, from, time.Now())
		if err != nil {
			// Refused, not stored approximately: the client keeps its copy
			// and can say so to the user.
			m.sc.k.log.Info("sync: draft refused", "collection", m.f.ServerID, "client_id", a.ClientID, "err", err)
			m.resps.Add = append(m.resps.Add, resp)
			continue
		}
		ch, edit, err := mailChange(el, m.sc.k.version)
		if err != nil {
			m.sc.k.log.Info("sync: draft refused", "collection", m.f.ServerID, "client_id", a.ClientID, "err", err)
			m.resps.Add = append(m.resps.Add, resp)
			continue
		}
		// A re-sent Add whose first attempt stored the draft finds it by
		// its mark instead of storing it twice (sync_drafts_retry.go).
		uid, flags, err := m.storeDraft(ctx, a.ClientID, msg)
		if err != nil {
			return err
		}
		if err := m.draftFlags(uid, ch, edit, &flags); err != nil {
			return err
		}
		add := syncstate.ClientAdd{ServerID: uidKey(uid), Version: flags.Version()}
		if err := m.tx.RecordClientAdd(a.ClientID, add); err != nil {
			return err
		}
		m.ops = append(m.ops, syncstate.ClientOp{Kind: syncstate.OpAdd, ServerID: add.ServerID, Version: add.Version})
		resp.ServerID, resp.Status = m.serverID(uid), int(syncOK)
		m.resps.Add = append(m.resps.Add, resp)
	}
	return nil
}

// draftFlags applies what the Add says beyond the message itself: its
// follow-up flag (\Flagged, the details in the flag store) and its
// categories (keywords). Read is not the client's to set: a draft is
// \Seen. flags becomes the message's flags after the change.
func (m *mailSync) draftFlags(uid uint32, ch model.MailFlagChange, edit flagEdit, flags *model.MailFlags) error {
	ch.Seen = nil
	if ch.Flagged == nil && ch.Keywords == nil {
		return nil
	}
	ctx := m.sc.k.ctx()
	nf, ok, err := m.sess.SetFlags(ctx, m.f.IMAPName, uid, ch)
	if err != nil || !ok {
		return err // !ok: deleted meanwhile; the next Sync tells the client
	}
	*flags = nf
	if edit.details == nil {
		return nil
	}
	mb, err := m.changedFlagBox()
	if err != nil {
		return err
	}
	var w flagWrites
	w.put(*mb, uid, edit.details)
	return w.send(ctx, m.tx.PGTx())
}

// Body types a draft may carry (MS-ASAIRS 2.2.2.22.1).
const (
	bodyPlain = "1"
	bodyHTML  = "2"
	bodyRTF   = "3"
	bodyMIME  = "4"
)

// draftSource returns the message to store for a draft Add, or an error
// when what the client sent cannot be stored as sent (the item is
// refused with Status 6). A MIME body (Type 4, as Nine, TouchDown and
// some iOS versions send) is the message: stored as the client wrote it,
// with only Date, Message-ID and From added when missing. Plain text and
// HTML bodies are written into a message with the Add's recipients,
// subject and importance. RTF (compressed, base64) and attachments
// added beside a text body are not turned into MIME yet, so they are
// refused rather than dropped.
func draftSource(data *wbxml.Element, from string, now time.Time) ([]byte, error) {
	if data == nil {
		return nil, errors.New("draft without ApplicationData")
	}
	body := data.Child("AirSyncBase:Body")
	switch t := body.ChildText("AirSyncBase:Type"); t {
	case bodyMIME:
		var raw []byte
		if d := body.Child("AirSyncBase:Data"); d != nil {
			raw = d.Opaque // some clients send the MIME as opaque bytes
			if raw == nil {
				raw = []byte(d.Text)
			}
		}
		return mimeDraft(raw, from, now)
	case "", bodyPlain, bodyHTML:
	default:
		return nil, fmt.Errorf("draft body type %q is not stored", t)
	}
	if data.Path("AirSyncBase:Attachments", "AirSyncBase:Add") != nil {
		return nil, errors.New("attachments beside a text draft body are not stored")
	}
	return draftMessage(data, from, now), nil
}

// mimeDraft checks that raw is a message (a header, then a MIME structure
// go-message reads to the end) and completes its header.
func mimeDraft(raw []byte, from string, now time.Time) ([]byte, error) {
	msg := parseOutgoing(raw)
	if len(msg.header) == 0 {
		return nil, errors.New("MIME draft without a header")
	}
	if err := checkMIME(msg.bytes(msg.header)); err != nil {
		return nil, fmt.Errorf("MIME draft: %w", err)
	}
	msg.finish(from, newMessageID(from), now)
	return msg.bytes(msg.header), nil
}

// checkMIME reads every part of a message, so that a broken multipart
// (a boundary never closed, a bad part header) is found before it is
// stored. Unknown charsets and transfer encodings are the reader's
// problem, not a reason to refuse.
func checkMIME(b []byte) error {
	ent, err := gomessage.Read(bytes.NewReader(b))
	if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
		return err
	}
	return ent.Walk(func(_ []int, e *gomessage.Entity, err error) error {
		if err != nil {
			if gomessage.IsUnknownCharset(err) || gomessage.IsUnknownEncoding(err) {
				return nil
			}
			return err
		}
		if e.MultipartReader() == nil {
			_, err := io.Copy(io.Discard, e.Body)
			if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
				return err
			}
		}
		return nil
	})
}

// draftMessage writes the RFC 5322 message of a draft: recipients,
// subject, importance and the body, as text or HTML in quoted-printable
// UTF-8.
func draftMessage(data *wbxml.Element, from string, now time.Time) []byte {
	var b bytes.Buffer
	header := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s: %s\r\n", name, value)
		}
	}
	header("From", from)
	header("To", oneLine(data.ChildText("Email:To")))
	header("Cc", oneLine(data.ChildText("Email:Cc")))
	header("Bcc", oneLine(data.ChildText("Email2:Bcc")))
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(data.ChildText("Email:Subject"))))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", newMessageID(from))
	switch data.ChildText("Email:Importance") {
	case "0":
		header("Importance", "low")
	case "2":
		header("Importance", "high")
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	ctype := "text/plain"
	body := data.Child("AirSyncBase:Body")
	if body.ChildText("AirSyncBase:Type") == "2" {
		ctype = "text/html"
	}
	fmt.Fprintf(&b, "Content-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", ctype)
	qp := quotedprintable.NewWriter(&b)
	text := strings.ReplaceAll(body.ChildText("AirSyncBase:Data"), "\r\n", "\n")
	_, _ = qp.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	_ = qp.Close()
	b.WriteString("\r\n")
	return b.Bytes()
}

// oneLine keeps a header value on one line: a CR or LF from the client
// must not start a header of its own.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}
