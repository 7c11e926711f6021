package eas

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/syncstate"
	"github.com/easd/easd/internal/httpserver"
)

func init() {
	addCommand("SendMail", &commandSpec{root: "ComposeMail:SendMail", run: sendMail})
}

// MailSubmitter is what SendMail, SmartReply and SmartForward need of the
// mail system. login and password are the request's verified credentials.
type MailSubmitter interface {
	// Submit sends msg over SMTP, authenticated as login. A refusal is
	// (or wraps) an *smtp.SMTPError; a refused recipient's error also
	// has a RejectedRecipient() string method. Any other error means the
	// server was not reached and the message not accepted.
	Submit(ctx context.Context, login, password, from string, to []string, msg []byte) error
	// FetchMessage returns a message's RFC 822 source; nil when the
	// message or its mailbox no longer exists.
	FetchMessage(ctx context.Context, login, password, mailbox string, uid uint32) ([]byte, error)
	// AddFlag sets an IMAP flag or keyword on a message.
	AddFlag(ctx context.Context, login, password, mailbox string, uid uint32, flag string) error
	// SaveSent appends msg as \Seen to mailbox unless a message with
	// messageID is already there.
	SaveSent(ctx context.Context, login, password, mailbox string, msg []byte, messageID string) error
}

// Global statuses of the ComposeMail commands (MS-ASCMD 2.2.2).
const (
	statusMailboxQuotaExceeded       Status = 113
	statusMessageRecipientUnresolved Status = 116
	statusMessageHasNoRecipient      Status = 119
	statusMailSubmissionFailed       Status = 120
	statusAttachmentTooLarge         Status = 122
)

// outgoing is one message a client asked to send.
type outgoing struct {
	clientID    string // "" in the 2.5/12.x form, which has none
	mime        []byte // as the client sent it
	saveInSent  bool
	replaceMime bool
	source      *sourceRef // the original of a SmartReply/SmartForward
	forward     bool
}

// sendMail submits a new message (MS-ASCMD 2.2.1.17).
func sendMail(k *call) error {
	o, err := k.readOutgoing(func() (*outgoing, error) {
		var req message.SendMailRequest
		if err := k.decodeRequired(&req, StatusInvalidContent); err != nil {
			return nil, err
		}
		return &outgoing{clientID: req.ClientID, mime: req.Mime, saveInSent: req.SaveInSentItems}, nil
	})
	if err != nil {
		return k.composeFail(err)
	}
	return k.composeFail(k.send(o))
}

// readOutgoing reads the request: from 14.0 on the ComposeMail document
// (decodeXML); before, the raw MIME with SaveInSent=T in the query
// (MS-ASHTTP 2.2.1.1.1.2). A body sent as message/rfc822 is read as raw
// MIME whatever the version, because some 14.x clients still send it so;
// and a body that is WBXML (by Content-Type, or by its header when the
// type is missing or wrong) is decoded as the ComposeMail document below
// 14.0 too, since submitting WBXML as a message sends the recipients
// binary junk.
func (k *call) readOutgoing(decodeXML func() (*outgoing, error)) (*outgoing, error) {
	ct, _, _ := mime.ParseMediaType(k.c.Request().Header.Get("Content-Type"))
	if k.version >= 140 && ct != "message/rfc822" {
		return decodeXML()
	}
	if ct != "message/rfc822" {
		r := k.c.Request()
		br := bufio.NewReader(r.Body)
		head, _ := br.Peek(len(wbxmlHeader))
		r.Body = struct {
			io.Reader
			io.Closer
		}{br, r.Body}
		if ct == "application/vnd.ms-sync.wbxml" || bytes.Equal(head, wbxmlHeader) {
			return decodeXML()
		}
	}
	b, err := io.ReadAll(k.body())
	if err != nil {
		if httpserver.IsBodyTooLarge(err) {
			return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
		}
		return nil, fmt.Errorf("read message: %w", err)
	}
	return &outgoing{mime: b, saveInSent: k.req.SaveInSent}, nil
}

// wbxmlHeader starts every EAS WBXML document: version 1.3, unknown
// public identifier, UTF-8, no string table. No RFC 822 message starts so.
var wbxmlHeader = []byte{0x03, 0x01, 0x6A, 0x00}

// composeFail answers a failed send. Before 14.0 a message without
// recipients is HTTP 400, as a malformed request is; other statuses take
// the usual HTTP codes (503 for the retryable ones).
func (k *call) composeFail(err error) error {
	var se *StatusError
	if k.version < 140 && errors.As(err, &se) && se.Status == statusMessageHasNoRecipient {
		ri := httpserver.Info(k.c)
		ri.EASStatus, ri.Note = int(se.Status), se.Error()
		return k.c.NoContent(http.StatusBadRequest)
	}
	return err
}

// send submits o and records it, in this order:
//
//  1. The message is parsed and checked (recipients) and, for a
//     SmartReply/SmartForward, the original is fetched and merged in.
//  2. In one PostgreSQL transaction that locks the (device, ClientId)
//     record: if the record says the message went out already, nothing
//     is sent again; otherwise it goes to the SMTP server and the record
//     is committed right after the server accepted it. A crash or a lost
//     database connection between the SMTP server's acceptance and that
//     commit (a few milliseconds) is the one case in which a re-sent
//     request sends the message a second time; easd prefers that to
//     losing a message the phone believes unsent.
//  3. The copy in Sent Items and the flag on the original. When either
//     fails the client gets a retryable status; its retry finds the
//     record, skips SMTP and redoes only this step (the Sent copy is
//     looked up by Message-ID first, so it is not saved twice). Without
//     a key (no ClientId, no Message-ID: only possible in the 2.5/12.x
//     form) a retry would send the message again, so the failure is
//     logged and the answer is success: a missing Sent copy is better
//     than a message delivered twice.
//  4. The record is marked done; a later retry is answered at once.
//     Step 3 and this mark are one step under the record's row lock, so
//     two requests with one ClientId at the same time (a phone that
//     retried while its first request still ran) save one Sent copy.
//
// From step 2 on the work runs on a context of its own, detached from
// the request's: a phone that hangs up after the final "." went out (its
// time limit, a lost network) must not make easd drop the server's 250
// and the record with it, or the phone's retry sends the message again.
// The detached work is bounded by sendFinishTimeout.
//
// A re-sent request whose message went out is answered with success, as
// the first one would have been, rather than with 118
// (MessagePreviouslySent): the spec says the server uses ClientId to
// recognise duplicates, and a phone whose first answer was lost should
// show the message as sent, not as failed.
func (k *call) send(o *outgoing) error {
	if k.s.opts.Submitter == nil {
		return statusErr(StatusCommandNotSupported, "no mail submission configured")
	}
	msg := parseOutgoing(o.mime)
	rcpts, err := msg.recipients()
	if err != nil {
		return &StatusError{Status: statusMessageRecipientUnresolved, Err: err}
	}
	if len(rcpts) == 0 {
		return statusErr(statusMessageHasNoRecipient, "message has no recipient")
	}
	key := o.dedupeKey(msg)
	rec := k.sentRecords()
	st, err := rec.state(k.ctx(), key)
	if err != nil {
		return err
	}
	if st == sentDone {
		k.log.Info("message already sent; not sending again", "client_id", key)
		return k.respondEmpty()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx()), sendFinishTimeout)
	defer cancel()
	return k.submit(ctx, o, msg, rcpts, key, st)
}

// sendFinishTimeout bounds a send once it no longer depends on the
// phone: SMTP (whose commands time out after 30 s each), the record, the
// Sent copy and the flag.
const sendFinishTimeout = 2 * time.Minute

// submit is steps 1 to 4 of send on ctx, which the phone hanging up does
// not cancel.
func (k *call) submit(ctx context.Context, o *outgoing, msg *outMessage, rcpts []string, key string, st sentState) error {
	rec := k.sentRecords()
	release, err := k.dbSlot(ctx)
	if err != nil {
		return err
	}
	defer release()

	var src *sourceMessage
	if o.source != nil {
		src, err = k.fetchSource(ctx, o.source)
		var se *StatusError
		switch {
		case err == nil:
			if !o.replaceMime {
				msg = msg.merge(src, o.forward)
			}
		case st == sentSent && errors.As(err, &se) && se.Status == StatusItemNotFound:
			// The message went out in an earlier request and its original
			// was deleted since: 150 would tell the client a delivered
			// message failed, and so would every retry. Finish without
			// it: nothing is left to flag, and the Sent copy lacks the
			// quoted original.
			k.log.Warn("original gone since the message was sent; Sent copy saved without it", "client_id", key, "err", err)
		default:
			return err
		}
	}

	from, err := k.userAddressIn(ctx)
	if err != nil {
		return err
	}
	messageID := msg.header.get("Message-Id")
	if messageID == "" {
		messageID = newMessageID(from)
	}
	tx, err := rec.lock(ctx, key, messageID)
	if err != nil {
		return err
	}
	defer tx.rollback()
	msg.finish(from, tx.messageID, tx.sentAt)
	if tx.state == sentNone {
		if err := k.s.opts.Submitter.Submit(ctx, k.creds.Login, k.creds.Password, from, rcpts, msg.wire()); err != nil {
			return submitError(err)
		}
		k.log.Info("message submitted", "client_id", key, "recipients", len(rcpts), "bytes", len(o.mime))
	} else {
		k.log.Info("message sent by an earlier request; finishing it", "client_id", key)
	}
	if err := tx.commitSent(); err != nil {
		return err
	}

	if err := rec.finish(ctx, key, func() error { return k.afterSend(ctx, o, src, msg) }); err != nil {
		if key == "" {
			// Nothing tells a retry of this request from a new message, so a
			// retryable answer would have the client send it a second time.
			k.log.Error("message sent, but its Sent copy or flag lost: no ClientId or Message-ID to make a retry safe", "err", err)
			return k.respondEmpty()
		}
		return err
	}
	return k.respondEmpty()
}

// afterSend saves the Sent copy (with its Bcc header, unlike what went
// out) and flags the original. An IMAP failure is retryable: the retry
// does not send again.
func (k *call) afterSend(ctx context.Context, o *outgoing, src *sourceMessage, msg *outMessage) error {
	if o.saveInSent {
		mailbox, err := k.sentMailbox(ctx)
		if err != nil {
			return err
		}
		if mailbox == "" {
			k.log.Info("no Sent Items folder; copy not saved")
		} else if err := k.s.opts.Submitter.SaveSent(ctx, k.creds.Login, k.creds.Password, mailbox, msg.sentCopy(), msg.messageID); err != nil {
			return &StatusError{Status: StatusServerErrorRetryLater, Err: fmt.Errorf("save in Sent Items: %w", err)}
		}
	}
	if src != nil {
		flag := `\Answered`
		if o.forward {
			flag = "$Forwarded"
		}
		if err := k.s.opts.Submitter.AddFlag(ctx, k.creds.Login, k.creds.Password, src.mailbox, src.uid, flag); err != nil {
			return &StatusError{Status: StatusServerErrorRetryLater, Err: fmt.Errorf("flag original: %w", err)}
		}
	}
	return nil
}

// dedupeKey is the ClientId; in the 2.5/12.x form, which has none, the
// message's own Message-ID stands in for it, so a phone re-sending the
// same outbox item is recognised too. Without either there is no
// protection ("").
func (o *outgoing) dedupeKey(m *outMessage) string {
	if o.clientID != "" {
		return o.clientID
	}
	if id := m.header.get("Message-Id"); id != "" {
		return "message-id:" + id
	}
	return ""
}

// newMessageID makes a Message-ID in the sender's domain.
func newMessageID(from string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	domain := "easd.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = d
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// submitError maps an SMTP failure to a ComposeMail status:
//
//	what happened                         status (>= 14.0)                  HTTP (< 14.0)
//	no SMTP answer: connect, TLS, timeout 111 ServerErrorRetryLater         503
//	any 4xx reply (temporary)             111 ServerErrorRetryLater         503
//	5xx to RCPT with 5.1.x (bad address)  116 MessageRecipientUnresolved    500
//	552 or 5.3.4 (message too big)        122 AttachmentIsTooLarge          500
//	5.2.2 (mailbox full)                  113 MailboxQuotaExceeded          500
//	535/534/530 (AUTH refused)            120 MailSubmissionFailed          500
//	any other 5xx                         120 MailSubmissionFailed          500
//
// AUTH refused is 120, not 130 (AccessDenied): the user's password was
// just accepted by the mail server, so the account is fine and only this
// message failed; clients treat 130 as a problem with the account.
func submitError(err error) error {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return &StatusError{Status: StatusServerErrorRetryLater, Err: err}
	}
	var rcpt interface{ RejectedRecipient() string }
	enh := se.EnhancedCode
	switch {
	case se.Code >= 400 && se.Code < 500:
		return &StatusError{Status: StatusServerErrorRetryLater, Err: err}
	case errors.As(err, &rcpt) && enh[0] == 5 && enh[1] == 1:
		return &StatusError{Status: statusMessageRecipientUnresolved, Err: err}
	case enh == smtp.EnhancedCode{5, 3, 4} || (se.Code == 552 && enh[1] != 2):
		return &StatusError{Status: statusAttachmentTooLarge, Err: err}
	case enh == smtp.EnhancedCode{5, 2, 2}:
		return &StatusError{Status: statusMailboxQuotaExceeded, Err: err}
	default:
		return &StatusError{Status: statusMailSubmissionFailed, Err: err}
	}
}

// sentState is how far a message of a given ClientId got.
type sentState int

const (
	sentNone sentState = iota // not sent (or no ClientId to tell)
	sentSent                  // accepted by the SMTP server
	sentDone                  // sent, saved and flagged
)

// sentKeepDays is how long a ClientId is remembered; clients retry within
// minutes, and a counter-based ClientId may come round again much later.
const sentKeepDays = 30

// sentRecords are one device's records of sent messages (table sent_mail).
type sentRecords struct {
	k        *call
	deviceID int64
}

func (k *call) sentRecords() sentRecords { return sentRecords{k: k, deviceID: k.dev.ID} }

// state returns how far the message with key got, without locking.
func (r sentRecords) state(ctx context.Context, key string) (sentState, error) {
	if key == "" {
		return sentNone, nil
	}
	var st string
	err := r.k.s.opts.Pool.QueryRow(ctx, `SELECT state FROM sent_mail WHERE device_id = $1 AND client_id = $2`,
		r.deviceID, key).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return sentNone, nil
	}
	if err != nil {
		return sentNone, fmt.Errorf("sent mail record: %w", err)
	}
	return parseSentState(st), nil
}

func parseSentState(s string) sentState {
	if s == "done" {
		return sentDone
	}
	return sentSent
}

// sentTx holds the lock on one ClientId while its message is submitted;
// a concurrent request with the same ClientId waits for it.
type sentTx struct {
	ctx       context.Context
	tx        pgx.Tx // nil without a key
	state     sentState
	messageID string
	// sentAt is when the record was made: the Date of a message that
	// had none, the same in the request that sends it and in a retry that
	// only saves its Sent copy. Zero without a key.
	sentAt time.Time
}

// lock takes the record of key, creating it (uncommitted, as 'sent') when
// there is none; messageID is the Message-ID to use for a new record. The
// wait for a concurrent request is bounded: past it the client retries.
func (r sentRecords) lock(ctx context.Context, key, messageID string) (*sentTx, error) {
	t := &sentTx{ctx: ctx, messageID: messageID}
	if key == "" {
		return t, nil
	}
	tx, err := r.k.s.opts.Pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("sent mail record: %w", err)
	}
	t.tx = tx
	if err := syncstate.SetLockTimeout(ctx, tx, 20*time.Second); err != nil {
		t.rollback()
		return nil, fmt.Errorf("sent mail record: %w", err)
	}
	var inserted string
	err = tx.QueryRow(ctx, `INSERT INTO sent_mail (device_id, client_id, state, message_id)
		VALUES ($1, $2, 'sent', $3) ON CONFLICT DO NOTHING RETURNING message_id, created_at`,
		r.deviceID, key, messageID).Scan(&inserted, &t.sentAt)
	if errors.Is(err, pgx.ErrNoRows) {
		var st string
		err = tx.QueryRow(ctx, `SELECT state, message_id, created_at FROM sent_mail
			WHERE device_id = $1 AND client_id = $2 FOR UPDATE`,
			r.deviceID, key).Scan(&st, &t.messageID, &t.sentAt)
		t.state = parseSentState(st)
	}
	if err != nil {
		t.rollback()
		err = syncstate.LockError(fmt.Sprintf("sent mail record of ClientId %q", key), err)
		if errors.Is(err, syncstate.ErrBusy) {
			return nil, &StatusError{Status: StatusServerErrorRetryLater, Err: err}
		}
		return nil, err
	}
	return t, nil
}

// commitSent records that the message went out (and releases the lock).
func (t *sentTx) commitSent() error {
	if t.tx == nil {
		return nil
	}
	err := t.tx.Commit(t.ctx)
	t.tx = nil
	if err != nil {
		return fmt.Errorf("sent mail record: commit: %w", err)
	}
	return nil
}

func (t *sentTx) rollback() {
	if t.tx != nil {
		_ = t.tx.Rollback(context.WithoutCancel(t.ctx))
		t.tx = nil
	}
}

// finish runs after (the Sent copy and the flag) unless the record of key
// says it ran already, and marks the record done, holding the record's
// row lock throughout: a second request with the same ClientId waits and
// then finds it done, instead of saving a second copy beside the first.
// The device's records past their time are forgotten on the way.
func (r sentRecords) finish(ctx context.Context, key string, after func() error) error {
	if key == "" {
		return after()
	}
	tx, err := r.k.s.opts.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("sent mail record: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := syncstate.SetLockTimeout(ctx, tx, 20*time.Second); err != nil {
		return fmt.Errorf("sent mail record: %w", err)
	}
	var st string
	err = tx.QueryRow(ctx, `SELECT state FROM sent_mail WHERE device_id = $1 AND client_id = $2 FOR UPDATE`,
		r.deviceID, key).Scan(&st)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		err = syncstate.LockError(fmt.Sprintf("sent mail record of ClientId %q", key), err)
		if errors.Is(err, syncstate.ErrBusy) {
			return &StatusError{Status: StatusServerErrorRetryLater, Err: err}
		}
		return err
	}
	if parseSentState(st) == sentDone {
		return nil
	}
	if err := after(); err != nil {
		return err
	}
	b := &pgx.Batch{}
	b.Queue(`UPDATE sent_mail SET state = 'done' WHERE device_id = $1 AND client_id = $2`, r.deviceID, key)
	b.Queue(`DELETE FROM sent_mail WHERE device_id = $1 AND created_at < now() - make_interval(days => $2)`,
		r.deviceID, sentKeepDays)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		r.k.log.Warn("could not mark message done", "client_id", key, "err", err)
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		// The work is done; a retry redoes only the idempotent steps.
		r.k.log.Warn("could not mark message done", "client_id", key, "err", err)
	}
	return nil
}

// outMessage is a message on its way out, kept as the client's bytes
// (CRLF line ends) with its header split into fields, so that what easd
// does not change goes out byte for byte (signatures stay valid).
type outMessage struct {
	header    header
	body      []byte // after the blank line
	messageID string // set by finish
}

// parseOutgoing reads a client's RFC 822 message. Line ends become CRLF:
// some clients send bare LF, which SMTP forbids and Outlook mangles in
// quoted-printable.
func parseOutgoing(b []byte) *outMessage {
	h, body := splitHeader(toCRLF(b))
	return &outMessage{header: h, body: body}
}

// recipients returns the envelope recipients from To, Cc and Bcc, each
// once. Android clients separate addresses with ';', which is accepted
// (and repaired in the header by finish). An address that does not parse
// is an error (Status 116).
func (m *outMessage) recipients() ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, name := range []string{"To", "Cc", "Bcc"} {
		for _, v := range m.header.values(name) {
			list, _, err := parseAddressList(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for _, a := range list {
				if key := strings.ToLower(a); !seen[key] {
					seen[key] = true
					out = append(out, a)
				}
			}
		}
	}
	return out, nil
}

// finish completes the header: Date (at, or now when at is zero),
// Message-ID and From when missing, and ';'-separated address lists
// rewritten with ','.
func (m *outMessage) finish(from, messageID string, at time.Time) {
	if !m.header.has("Date") {
		if at.IsZero() {
			at = time.Now()
		}
		m.header.add("Date", at.Format(time.RFC1123Z))
	}
	if id := m.header.get("Message-Id"); id != "" {
		m.messageID = id
	} else {
		m.header.add("Message-ID", messageID)
		m.messageID = messageID
	}
	if !m.header.has("From") {
		m.header.add("From", from)
	}
	for i, f := range m.header {
		switch strings.ToLower(f.name) {
		case "to", "cc", "bcc":
			if _, pieces, err := parseAddressList(f.value()); err == nil && strings.Contains(f.value(), ";") {
				m.header[i] = newField(f.name, strings.Join(pieces, ",\r\n "))
			}
		}
	}
}

// wire is the message as transmitted: without its Bcc header.
func (m *outMessage) wire() []byte { return m.bytes(m.header.without("Bcc")) }

// sentCopy is the message as saved in Sent Items: the sender keeps the
// record of whom the message was blind-copied to.
func (m *outMessage) sentCopy() []byte { return m.bytes(m.header) }

func (m *outMessage) bytes(h header) []byte {
	var b bytes.Buffer
	for _, f := range h {
		b.WriteString(f.raw)
	}
	b.WriteString("\r\n")
	b.Write(m.body)
	return b.Bytes()
}

// parseAddressList splits an address header at ',' or ';' outside quotes,
// comments and angle brackets and parses each address. It returns the
// addresses and the pieces as written.
func parseAddressList(v string) (addrs, pieces []string, err error) {
	var cur strings.Builder
	quoted, escaped, angle, comment := false, false, 0, 0
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			pieces = append(pieces, s)
		}
		cur.Reset()
	}
	for _, r := range v {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"' && comment == 0:
			quoted = !quoted
		case quoted:
		case r == '(':
			comment++
		case r == ')' && comment > 0:
			comment--
		case comment > 0:
		case r == '<':
			angle++
		case r == '>' && angle > 0:
			angle--
		case (r == ',' || r == ';') && angle == 0:
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	dec := mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader}}
	for _, p := range pieces {
		a, err := dec.Parse(p)
		if err != nil {
			return nil, nil, fmt.Errorf("address %q: %w", p, err)
		}
		addrs = append(addrs, a.Address)
	}
	return addrs, pieces, nil
}

// header is a header section as its fields, in order, each with its raw
// lines so unchanged fields are written back unchanged.
type header []field

type field struct {
	name string
	raw  string // "Name: value\r\n" with any folded lines
}

func newField(name, value string) field { return field{name: name, raw: name + ": " + value + "\r\n"} }

// value is the field's unfolded value.
func (f field) value() string {
	_, v, _ := strings.Cut(f.raw, ":")
	v = strings.ReplaceAll(v, "\r\n", "")
	return strings.TrimSpace(v)
}

func (h header) values(name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.name, name) {
			out = append(out, f.value())
		}
	}
	return out
}

func (h header) get(name string) string {
	if v := h.values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h header) has(name string) bool { return len(h.values(name)) > 0 }

func (h *header) add(name, value string) { *h = append(*h, newField(name, value)) }

// without returns a copy of h without the fields named name.
func (h header) without(name string) header {
	out := make(header, 0, len(h))
	for _, f := range h {
		if !strings.EqualFold(f.name, name) {
			out = append(out, f)
		}
	}
	return out
}

// splitHeader splits b (CRLF line ends) into its header fields and body.
// A message without a blank line is all header.
func splitHeader(b []byte) (header, []byte) {
	var h header
	rest := b
	for len(rest) > 0 {
		line, after, found := bytes.Cut(rest, []byte("\r\n"))
		if len(line) == 0 && found {
			return h, after
		}
		l := string(line) + "\r\n"
		if (line[0] == ' ' || line[0] == '\t') && len(h) > 0 {
			h[len(h)-1].raw += l
		} else if name, _, ok := strings.Cut(string(line), ":"); ok && !strings.ContainsAny(name, " \t") {
			h = append(h, field{name: name, raw: l})
		} else {
			// Not a header line: the header ended without a blank line.
			return h, rest
		}
		rest = after
	}
	return h, nil
}

// toCRLF makes every line end CRLF.
func toCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}
