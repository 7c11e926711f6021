// Package pushevents receives the mail server's own change events (Dovecot's
// push-notification plugin running deploy/dovecot/easd-push.lua) and wakes
// the requests waiting on the changed folders, on every easd instance,
// through the folders:<user> notification (eas.NotifyFolderChanged), and
// tells them when a mailbox was made, deleted or renamed
// (eas.NotifyHierarchyChanged), so that phones run FolderSync. With
// it, a waiting phone costs the mail server nothing: no IDLE connection,
// no imap process (docs/decisions.md).
package pushevents

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/easd/easd/eas/folders"
)

// Path is where Dovecot posts its events, on the phones' listener.
const Path = "/push-events/dovecot"

// Limits of a posted body. easd-push.lua posts one body per mailbox
// transaction, with each event and mailbox once: a few hundred bytes.
const (
	MaxBody      = 64 << 10
	maxEvents    = 1000
	maxUserBytes = 320 // as eas.Authenticator: no address is longer
	maxNameBytes = 1024
)

// Folders finds the user and folders an event names (folders.Store).
type Folders interface {
	FindMailboxes(ctx context.Context, logins, mailboxes []string) (folders.MailboxFolders, bool, error)
}

// Handler serves Path. Set every field except Logins and Log.
type Handler struct {
	// Secret is the shared secret Dovecot sends as "Authorization:
	// Bearer <secret>".
	Secret  string
	Folders Folders
	// Notify wakes the requests waiting on folderID of userID, on every
	// instance (eas.NotifyFolderChanged on the pool).
	Notify func(ctx context.Context, userID int64, folderID string) error
	// Hierarchy tells the requests waiting for userID, on every instance,
	// that a mailbox was made, deleted or renamed
	// (eas.NotifyHierarchyChanged on the pool); nil: they are not told.
	Hierarchy func(ctx context.Context, userID int64) error
	// Logins turns the mail server's user name into the logins easd may
	// store it under, in order (eas.Authenticator.Logins); nil: as given.
	Logins func(user string) []string
	Log    *slog.Logger // nil: slog.Default()
	// Observe, when set, is told each post's outcome (metrics).
	Observe func(outcome Outcome)
}

// Outcome is how a post ended.
type Outcome string

const (
	Woken       Outcome = "woken"        // folders or the hierarchy of a known user were announced
	NoFolder    Outcome = "no_folder"    // a known user, but no folder of easd changed
	UnknownUser Outcome = "unknown_user" // the user has never used easd: ignored
	Refused     Outcome = "refused"      // wrong or missing secret
	Malformed   Outcome = "malformed"    // not a body easd-push.lua sends
	Failed      Outcome = "failed"       // database unavailable
)

// Outcomes lists every Outcome, for metrics that show each from the start.
var Outcomes = []Outcome{Woken, NoFolder, UnknownUser, Refused, Malformed, Failed}

// body is what easd-push.lua posts.
type body struct {
	User   string  `json:"user"`
	Events []event `json:"events"`
}

type event struct {
	Event   string `json:"event"`
	Mailbox string `json:"mailbox"`
	Old     string `json:"old"` // MailboxRename: the name before
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !h.authorized(r.Header.Get("Authorization")) {
		log.Warn("push events: wrong or missing secret", "remote", r.RemoteAddr)
		h.observe(Refused)
		w.Header().Set("WWW-Authenticate", `Bearer realm="easd push events"`)
		http.Error(w, "wrong or missing secret", http.StatusUnauthorized)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		status := http.StatusBadRequest
		if errors.As(err, &tooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		h.malformed(w, status, fmt.Errorf("reading body: %w", err), r)
		return
	}
	var in body
	if err := json.Unmarshal(b, &in); err != nil {
		h.malformed(w, http.StatusBadRequest, fmt.Errorf("not JSON: %w", err), r)
		return
	}
	if err := in.check(); err != nil {
		h.malformed(w, http.StatusBadRequest, err, r)
		return
	}
	// The event is in hand: wake the waiting requests even if Dovecot
	// stops waiting for the answer (it gives up after a second, under
	// load), or the event is lost until the STATUS sweep.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), wakeTimeout)
	outcome, err := h.wake(ctx, in)
	cancel()
	if err != nil {
		log.Error("push events: could not wake the waiting requests", "user", in.User, "err", err)
		h.observe(Failed)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	h.observe(outcome)
	if outcome == UnknownUser {
		// Most mail users may never use easd: quiet, but visible.
		log.Debug("push events: event for a user easd does not know, ignored", "user", in.User)
	}
	w.WriteHeader(http.StatusNoContent)
}

// authorized compares the secret in constant time (hashes first, so that
// not even its length shows in the timing).
func (h *Handler) authorized(header string) bool {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || h.Secret == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(h.Secret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func (h *Handler) malformed(w http.ResponseWriter, status int, err error, r *http.Request) {
	h.log().Warn("push events: refused a malformed post", "remote", r.RemoteAddr, "err", err)
	h.observe(Malformed)
	http.Error(w, err.Error(), status)
}

// check refuses what easd-push.lua never sends.
func (b body) check() error {
	if err := checkName("user", b.User, maxUserBytes); err != nil {
		return err
	}
	if len(b.Events) == 0 || len(b.Events) > maxEvents {
		return fmt.Errorf("%d events (1 to %d)", len(b.Events), maxEvents)
	}
	for _, ev := range b.Events {
		if ev.Event == "" {
			return errors.New("event without a name")
		}
		if err := checkName("mailbox", ev.Mailbox, maxNameBytes); err != nil {
			return err
		}
		if ev.Old != "" {
			if err := checkName("old mailbox", ev.Old, maxNameBytes); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkName(what, s string, limit int) error {
	switch {
	case s == "":
		return fmt.Errorf("empty %s", what)
	case len(s) > limit:
		return fmt.Errorf("%s longer than %d bytes", what, limit)
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("%s %q is not printable UTF-8", what, s)
	}
	return nil
}

// wakeTimeout bounds the work of one event once its sender has hung up.
const wakeTimeout = 10 * time.Second

// hierarchyEvents change the user's folder hierarchy. easd lists every
// mailbox, subscribed or not (imapbridge.listMailboxes), so subscriptions
// do not.
var hierarchyEvents = map[string]bool{"MailboxCreate": true, "MailboxDelete": true, "MailboxRename": true}

// wake announces every folder of the user an event names. Which event it
// was does not matter for that: any change of a folder (new, flags,
// expunge) is for the phone to sync. A mailbox made, deleted or renamed
// changes the hierarchy: that is announced first, whether or not easd
// knows a folder for the mailbox yet (a made one is no folder of easd's
// until a FolderSync lists it), and sends the user's waiting phones to
// FolderSync.
func (h *Handler) wake(ctx context.Context, in body) (Outcome, error) {
	var mailboxes []string
	hierarchy := false
	for _, ev := range in.Events {
		mailboxes = append(mailboxes, ev.Mailbox)
		if ev.Old != "" {
			mailboxes = append(mailboxes, ev.Old)
		}
		hierarchy = hierarchy || hierarchyEvents[ev.Event]
	}
	logins := []string{in.User}
	if h.Logins != nil {
		for _, l := range h.Logins(in.User) {
			if l != in.User {
				logins = append(logins, l)
			}
		}
	}
	found, ok, err := h.Folders.FindMailboxes(ctx, logins, mailboxes)
	if err != nil {
		return Failed, err
	}
	if !ok {
		return UnknownUser, nil
	}
	if hierarchy && h.Hierarchy != nil {
		if err := h.Hierarchy(ctx, found.UserID); err != nil {
			return Failed, err
		}
	} else if len(found.IDs) == 0 {
		return NoFolder, nil
	}
	for _, id := range found.IDs {
		if err := h.Notify(ctx, found.UserID, id); err != nil {
			return Failed, err
		}
	}
	return Woken, nil
}

func (h *Handler) observe(o Outcome) {
	if h.Observe != nil {
		h.Observe(o)
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
