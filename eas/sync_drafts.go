package eas

import (
	"bytes"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

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
		uid, flags, err := m.storeDraft(ctx, a.ClientID, func() ([]byte, error) {
			from, err := m.sc.k.userAddress()
			if err != nil {
				return nil, err
			}
			el, _ := a.ApplicationData.(*wbxml.Element)
			return draftMessage(el, from, time.Now()), nil
		})
		if err != nil {
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
