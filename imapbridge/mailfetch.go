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
// order of uids, with one UID FETCH (see FetchEach). A UID without an
// item no longer exists.
func (m *MailSession) Fetch(ctx context.Context, mailbox string, uids []uint32, opts model.MailFetchOptions) ([]model.MailItem, error) {
	byUID := make(map[uint32]model.MailItem, len(uids))
	var mu sync.Mutex
	err := m.FetchEach(ctx, mailbox, uids, opts, func(it model.MailItem) {
		mu.Lock()
		byUID[it.UID] = it
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	out := make([]model.MailItem, 0, len(byUID))
	for _, uid := range uids {
		if it, ok := byUID[uid]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// FetchEach renders the messages uids of mailbox as EAS Email items with
// one UID FETCH and hands each to fn as soon as it is converted, in no
// set order, from several goroutines. Reading and converting overlap: the
// connection's reader hands each message's bytes to converter goroutines
// (one per CPU), so a window costs about the larger of the transfer and
// the conversion, not their sum. A message that cannot be converted
// becomes a bare item (date, flags): the client gets it once, and a
// broken message never blocks a folder.
func (m *MailSession) FetchEach(ctx context.Context, mailbox string, uids []uint32, opts model.MailFetchOptions, fn func(model.MailItem)) (err error) {
	defer m.track(&err)()
	if len(uids) == 0 {
		return nil
	}
	if _, err := m.selectBox(mailbox, false); err != nil {
		return err
	}
	conv := mailconv.Options{Version: opts.Version, BodyPreferences: opts.BodyPreferences,
		MIMESupport: opts.MIMESupport, BodyTruncation: -1, MIMETruncation: -1}
	if opts.MIMETruncation != nil {
		conv.MIMETruncation = mailconv.TruncationSize(*opts.MIMETruncation, true)
	}
	if opts.Truncation != nil {
		conv.BodyTruncation = mailconv.TruncationSize(*opts.Truncation, false)
	}

	jobs := make(chan rawMessage, fetchQueue)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(uids))) {
		wg.Go(func() {
			for raw := range jobs {
				raw.meta.FolderID = opts.FolderID
				it := convertRaw(raw, conv)
				raw.release() // the item holds no slice of its bytes
				fn(it)
			}
		})
	}
	readErr := m.readMessages(uids, conv, jobs)
	close(jobs)
	wg.Wait()
	if readErr != nil {
		return fmt.Errorf("imap: fetch %s: %w", mailbox, readErr)
	}
	return nil
}

// rawMessage is one message as read off the connection: whole (body),
// or sparse (its header, structure and the start of its text parts).
type rawMessage struct {
	meta   mailconv.Meta
	flags  []imap.Flag
	head   []byte // the header, when read apart from body (the text's start)
	body   []byte
	sparse *sparseMessage
}

// release gives the message's buffers back.
func (raw *rawMessage) release() {
	putBody(raw.head)
	putBody(raw.body)
	raw.head, raw.body = nil, nil
}

type sparseMessage struct {
	st     mailconv.Structure
	header []byte
	texts  map[string][]byte
}

// sparseAbove bounds how much of each message's text the first FETCH
// reads when the client wants truncated text bodies; mailconv.PrefixSize
// says how much below it for the truncation asked (tests lower it).
const sparseAbove = 256 << 10

// readMessages fetches uids and queues every message read. When the
// client wants truncated text bodies, the first FETCH reads each
// message's header and the start of its text (mailconv.PrefixSize):
// enough for most messages whole, and for a single-part text message of
// any size, whose structure is its header (mailconv.PrefixPlan). A
// longer multipart message costs a BODYSTRUCTURE and converts from that
// start when its texts are there (mailconv.PrefixTexts); otherwise its
// text parts are fetched in part, per shape of message
// (mailconv.SparsePlan), or the message whole when that saves little.
// A message with a 20 MB attachment costs what its text costs.
func (m *MailSession) readMessages(uids []uint32, conv mailconv.Options, jobs chan<- rawMessage) error {
	size := mailconv.PrefixSize(conv)
	if size == 0 {
		return m.readWhole(uidSet(uids), 0, jobs, nil)
	}
	// The messages read only in part, with their header and the start
	// of their text: their flags, date and size need no second FETCH, and
	// their texts may be there.
	large := map[uint32]rawMessage{}
	var largeSet imap.UIDSet
	groups := &sparseGroups{byKey: map[string]*sparseGroup{}}
	if err := m.readWhole(uidSet(uids), min(size, m.sparseAbove), jobs, func(raw rawMessage) {
		if st, texts, ok := mailconv.PrefixPlan(raw.head, raw.meta.Size, conv); ok {
			if len(texts) == 0 || int64(len(raw.body)) >= texts[0].Bytes {
				// All it needs was read: converted from that, which it
				// holds until then.
				raw.sparse = &sparseMessage{st: st, header: raw.head, texts: map[string][]byte{}}
				for _, t := range texts {
					raw.sparse.texts[t.Path] = raw.body[:t.Bytes]
				}
				jobs <- raw
				return
			}
			raw.release()
			groups.add(texts, st, raw)
			return
		}
		large[raw.meta.UID] = raw
		largeSet.AddNum(imap.UID(raw.meta.UID))
	}); err != nil {
		return err
	}
	var whole imap.UIDSet
	if len(large) > 0 {
		m.commands++
		cmd := m.c.Fetch(largeSet, &imap.FetchOptions{UID: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}})
		err := eachMessage(cmd, func(msg *imapclient.FetchMessageData) error {
			read, bs, err := readMessage(msg)
			raw, known := large[read.meta.UID]
			if err != nil || !known {
				return err
			}
			delete(large, read.meta.UID)
			var texts []mailconv.SparseText
			ok := bs != nil
			st := mailconv.Structure{}
			if ok {
				st = structureOf(bs)
				if read, found, in := mailconv.PrefixTexts(raw.head, raw.body, st, conv); in {
					raw.sparse = &sparseMessage{st: read, header: raw.head, texts: found}
					jobs <- raw
					return nil
				}
				texts, ok = mailconv.SparsePlan(st, raw.meta.Size, conv)
			}
			raw.release()
			if !ok {
				whole.AddNum(imap.UID(raw.meta.UID))
				return nil
			}
			groups.add(texts, st, raw)
			return nil
		})
		for _, raw := range large { // expunged meanwhile, or the FETCH failed
			raw.release()
		}
		if err != nil {
			return err
		}
	}
	if len(whole) > 0 {
		if err := m.readWhole(whole, 0, jobs, nil); err != nil {
			return err
		}
	}
	for _, key := range groups.order {
		if err := m.readSparse(groups.byKey[key], jobs); err != nil {
			return err
		}
	}
	return nil
}

// sparseGroups sorts the messages to fetch in part by the sections they
// need: one FETCH per group.
type sparseGroups struct {
	byKey map[string]*sparseGroup
	order []string
}

func (gs *sparseGroups) add(texts []mailconv.SparseText, st mailconv.Structure, raw rawMessage) {
	key := fmt.Sprint(texts)
	g := gs.byKey[key]
	if g == nil {
		g = &sparseGroup{texts: texts, msgs: map[uint32]rawMessage{}}
		gs.byKey[key] = g
		gs.order = append(gs.order, key)
	}
	raw.sparse = &sparseMessage{st: st}
	g.uids.AddNum(imap.UID(raw.meta.UID))
	g.msgs[raw.meta.UID] = raw
}

// sparseGroup is the messages of a window that need the same sections.
type sparseGroup struct {
	texts []mailconv.SparseText
	uids  imap.UIDSet
	msgs  map[uint32]rawMessage // from the first FETCH, by UID
}

// readSparse fetches the header and the start of the text parts of a
// group's messages and queues them.
func (m *MailSession) readSparse(g *sparseGroup, jobs chan<- rawMessage) error {
	sections := []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}}
	for _, t := range g.texts {
		if t.Bytes == 0 {
			continue
		}
		part, err := parsePath(t.Path)
		if err != nil {
			return err
		}
		sections = append(sections, &imap.FetchItemBodySection{Part: part, Peek: true,
			Partial: &imap.SectionPartial{Size: t.Bytes}})
	}
	m.commands++
	cmd := m.c.Fetch(g.uids, &imap.FetchOptions{UID: true, BodySection: sections})
	return eachMessage(cmd, func(msg *imapclient.FetchMessageData) error {
		raw, ok, err := readSections(msg, g.msgs)
		if ok {
			jobs <- raw
		}
		return err
	})
}

// readSections reads one response of readSparse into the message read
// by the first FETCH.
func readSections(msg *imapclient.FetchMessageData, msgs map[uint32]rawMessage) (rawMessage, bool, error) {
	var uid uint32
	header, texts := []byte(nil), map[string][]byte{}
	for {
		item := msg.Next()
		if item == nil {
			break
		}
		switch it := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = uint32(it.UID)
		case imapclient.FetchItemDataBodySection:
			b := []byte{}
			if it.Literal != nil { // NIL: a server's way to say empty
				var err error
				if b, err = io.ReadAll(it.Literal); err != nil {
					return rawMessage{}, false, err
				}
			}
			if it.Section.Specifier == imap.PartSpecifierHeader {
				header = b
			} else {
				texts[sectionPath(it.Section.Part)] = b
			}
		}
	}
	raw, ok := msgs[uid]
	if !ok || header == nil {
		// Expunged meanwhile: the message is left out, as a whole fetch
		// would leave it.
		return rawMessage{}, false, nil
	}
	raw.sparse.header, raw.sparse.texts = header, texts
	return raw, true, nil
}

// readWhole fetches the messages of set whole and queues them. With text
// above 0, it fetches each one's header and at most text octets of what
// follows, and queues only the messages it read whole (header and text
// joined); the others go to cut, with the start of their text in body.
func (m *MailSession) readWhole(set imap.UIDSet, text int64, jobs chan<- rawMessage, cut func(rawMessage)) error {
	sections := []*imap.FetchItemBodySection{{Peek: true}}
	if text > 0 {
		sections = []*imap.FetchItemBodySection{{Peek: true, Specifier: imap.PartSpecifierHeader},
			{Peek: true, Specifier: imap.PartSpecifierText, Partial: &imap.SectionPartial{Size: text}}}
	}
	m.commands++
	cmd := m.c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, InternalDate: true,
		RFC822Size: true, BodySection: sections})
	return eachMessage(cmd, func(msg *imapclient.FetchMessageData) error {
		raw, _, err := readMessage(msg)
		switch {
		case err != nil || raw.meta.UID == 0:
			raw.release()
		case text > 0 && int64(len(raw.head)+len(raw.body)) < raw.meta.Size:
			cut(raw)
		default:
			jobs <- raw.joined()
		}
		return err
	})
}

// joined is raw with its header and text in one body.
func (raw rawMessage) joined() rawMessage {
	if raw.head == nil {
		return raw
	}
	b := getBody(len(raw.head) + len(raw.body))
	copy(b[copy(b, raw.head):], raw.body)
	raw.release()
	raw.body = b
	return raw
}

// eachMessage calls fn for every message of a FETCH; an error of fn (a
// failure of the connection) ends the command.
func eachMessage(cmd *imapclient.FetchCommand, fn func(*imapclient.FetchMessageData) error) error {
	for {
		msg := cmd.Next()
		if msg == nil {
			return cmd.Close()
		}
		if err := fn(msg); err != nil {
			cmd.Close()
			return err
		}
	}
}

// readMessage reads one FETCH response, and its BODYSTRUCTURE when asked
// for; an error is a failure of the connection.
func readMessage(msg *imapclient.FetchMessageData) (rawMessage, imap.BodyStructure, error) {
	var raw rawMessage
	var bs imap.BodyStructure
	for {
		item := msg.Next()
		if item == nil {
			return raw, bs, nil
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
		case imapclient.FetchItemDataBodyStructure:
			bs = it.BodyStructure
		case imapclient.FetchItemDataBodySection:
			body := []byte{}
			if it.Literal != nil { // NIL: a server's way to say empty
				body = getBody(int(it.Literal.Size()))
				if _, err := io.ReadFull(it.Literal, body); err != nil {
					putBody(body)
					return raw, bs, err
				}
			}
			if it.Section.Specifier == imap.PartSpecifierHeader {
				raw.head = body
			} else {
				raw.body = body
			}
		}
	}
}

// convertRaw converts one message, falling back to a bare item.
func convertRaw(raw rawMessage, conv mailconv.Options) model.MailItem {
	raw.meta.Flags = flagStrings(raw.flags)
	var email *message.Email
	var err error
	if raw.sparse != nil {
		email, err = mailconv.ConvertSparse(raw.sparse.header, raw.sparse.st, raw.sparse.texts, raw.meta, conv)
	} else {
		email, err = mailconv.Convert(bytes.NewReader(raw.body), raw.meta, conv)
	}
	if err != nil || email == nil {
		email = bareEmail(raw.meta)
	}
	return model.MailItem{UID: raw.meta.UID, Flags: mailFlags(raw.flags), Data: email}
}

// bareEmail stands for a message the converter refused: the phone shows
// it with its date and state, and the message stays readable in webmail.
func bareEmail(meta mailconv.Meta) *message.Email {
	f := model.ParseMailFlags(meta.Flags)
	return &message.Email{
		Subject:      "(message could not be shown)",
		DateReceived: meta.InternalDate.UTC().Format("2006-01-02T15:04:05.000Z"),
		Read:         &f.Seen,
		Body:         &message.Body{Type: message.BodyPlain, EstimatedDataSize: meta.Size},
		MessageClass: "IPM.Note",
	}
}
