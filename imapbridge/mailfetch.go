package imapbridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/mailconv"
)

// fetchQueue bounds the messages read off the connection but not yet
// converted: memory stays a few messages, whatever the window.
const fetchQueue = 8

// Fetch renders the messages uids of mailbox as EAS Email items, in the
// order of uids, with one UID FETCH. Reading and converting overlap: the
// connection's reader hands each message's bytes to converter goroutines
// (one per CPU), so a window costs about the larger of the transfer and
// the conversion, not their sum. A message that cannot be converted
// becomes a bare item (date, flags): the client gets it once, and a
// broken message never blocks a folder.
func (m *MailSession) Fetch(ctx context.Context, mailbox string, uids []uint32, opts model.MailFetchOptions) (_ []model.MailItem, err error) {
	defer m.track(&err)
	if len(uids) == 0 {
		return nil, nil
	}
	if _, err := m.selectBox(mailbox, false); err != nil {
		return nil, err
	}
	conv := mailconv.Options{Version: opts.Version, BodyPreferences: opts.BodyPreferences,
		MIMESupport: opts.MIMESupport, BodyTruncation: -1, MIMETruncation: -1}
	if opts.MIMETruncation != nil {
		conv.MIMETruncation = mailconv.TruncationSize(*opts.MIMETruncation, true)
	}

	byUID := make(map[uint32]model.MailItem, len(uids))
	var mu sync.Mutex
	jobs := make(chan rawMessage, fetchQueue)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(uids))) {
		wg.Go(func() {
			for raw := range jobs {
				raw.meta.FolderID = opts.FolderID
				it := convertRaw(raw, conv)
				mu.Lock()
				byUID[it.UID] = it
				mu.Unlock()
			}
		})
	}
	readErr := m.readMessages(uids, jobs)
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return nil, fmt.Errorf("imap: fetch %s: %w", mailbox, readErr)
	}
	out := make([]model.MailItem, 0, len(byUID))
	for _, uid := range uids {
		if it, ok := byUID[uid]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// rawMessage is one message as read off the connection.
type rawMessage struct {
	meta  mailconv.Meta
	flags []imap.Flag
	body  []byte
}

// readMessages runs the UID FETCH and queues every message read.
func (m *MailSession) readMessages(uids []uint32, jobs chan<- rawMessage) error {
	section := &imap.FetchItemBodySection{Peek: true}
	m.commands++
	cmd := m.c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
		RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}})
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		raw, err := readMessage(msg)
		if err != nil {
			cmd.Close()
			return err
		}
		if raw.meta.UID != 0 {
			jobs <- raw
		}
	}
	return cmd.Close()
}

// readMessage reads one FETCH response; an error is a failure of the
// connection.
func readMessage(msg *imapclient.FetchMessageData) (rawMessage, error) {
	var raw rawMessage
	for {
		item := msg.Next()
		if item == nil {
			return raw, nil
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			raw.meta.UID = uint32(it.UID)
		case imapclient.FetchItemDataFlags:
			raw.flags = it.Flags
		case imapclient.FetchItemDataInternalDate:
			raw.meta.InternalDate = it.Time
		case imapclient.FetchItemDataRFC822Size:
			raw.meta.Size = it.Size
		case imapclient.FetchItemDataBodySection:
			body := make([]byte, it.Literal.Size())
			if _, err := io.ReadFull(it.Literal, body); err != nil {
				return raw, err
			}
			raw.body = body
		}
	}
}

// convertRaw converts one message, falling back to a bare item.
func convertRaw(raw rawMessage, conv mailconv.Options) model.MailItem {
	raw.meta.Flags = flagStrings(raw.flags)
	email, err := mailconv.Convert(bytes.NewReader(raw.body), raw.meta, conv)
	if err != nil || email == nil {
		email = bareEmail(raw.meta)
	}
	return model.MailItem{UID: raw.meta.UID, Flags: mailFlags(raw.flags), Data: email}
}

// bareEmail stands for a message the converter refused: the phone shows
// it with its date and state, and the message stays readable in webmail.
func bareEmail(meta mailconv.Meta) *message.Email {
	f := mailFlags(imapFlags(meta.Flags))
	return &message.Email{
		Subject:      "(message could not be shown)",
		DateReceived: meta.InternalDate.UTC().Format("2006-01-02T15:04:05.000Z"),
		Read:         &f.Seen,
		Body:         &message.Body{Type: message.BodyPlain, EstimatedDataSize: meta.Size},
		MessageClass: "IPM.Note",
	}
}

func flagStrings(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

func imapFlags(flags []string) []imap.Flag {
	out := make([]imap.Flag, len(flags))
	for i, f := range flags {
		out[i] = imap.Flag(f)
	}
	return out
}
