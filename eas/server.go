package eas

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

// MailStore is what the protocol needs of the mail server for the folder
// hierarchy. login and password are the verified credentials of the
// request; implementations must not keep the password beyond the call.
type MailStore interface {
	Mailboxes(ctx context.Context, login, password string) ([]model.Mailbox, error)
	CreateMailbox(ctx context.Context, login, password, name string) error
	RenameMailbox(ctx context.Context, login, password, from, to string) error
	DeleteMailbox(ctx context.Context, login, password, name string) error
}

// Limits bound what one request may ask for.
type Limits struct {
	MaxWBXMLDepth  int
	MaxWindowSize  int
	HeartbeatMin   time.Duration
	HeartbeatMax   time.Duration
	MaxPingFolders int
	// MailRecheck is how long a STATUS that found a mailbox unchanged
	// stands for the next windows of an initial sync taken from a stream
	// (sync_prefetch.go); 0: every window asks.
	MailRecheck time.Duration
}

// Options are the dependencies and settings of a Server.
type Options struct {
	Log  *slog.Logger
	Pool *pgxpool.Pool
	// DBConnsPerUser is how many pooled connections one user's requests
	// may hold across mail server round trips (0: no limit).
	DBConnsPerUser int
	Auth           *Authenticator
	Mail           MailStore
	// Submitter sends mail (SendMail, SmartReply, SmartForward); nil:
	// those commands answer 137 (CommandNotSupported).
	Submitter MailSubmitter
	Limits    Limits
	Quirks    *Quirks
	Policy    PolicyOptions
	Domain    string          // users' mail domain, for the primary SMTP address
	Drain     <-chan struct{} // closed when the process shuts down
	Version   string          // easd's version, for logs and Autodiscover

	// PublicURL is the base URL phones use, for Autodiscover; empty: taken
	// from each request.
	PublicURL string
	// PublicIMAP and PublicSMTP are the mail servers users' desktop
	// clients should use; with both set, Autodiscover answers Outlook's
	// own schema with an IMAP account (autodiscover.go).
	PublicIMAP, PublicSMTP *MailEndpoint

	// MailSync serves Sync and GetItemEstimate on mail folders; nil:
	// mail collections answer Status 16 (retry).
	MailSync MailSync

	// Items are the stores of the item classes kept in PostgreSQL
	// (contacts, calendar, tasks, notes), by class. A class without a
	// store reads as empty and refuses the client's items (collection.go).
	Items map[model.Class]model.ItemStore
	// Zone is the users' time zone, for dates that clients send as
	// instants (a contact's birthday); nil: UTC.
	Zone *time.Location

	// Directory is the Global Address List (Search Store=GAL, Find,
	// ResolveRecipients); nil: GAL searches find nothing.
	Directory model.Directory
	// Contacts finds a user's own contacts for ResolveRecipients; nil:
	// only the directory resolves.
	Contacts model.ContactSearcher
	// FreeBusy answers ResolveRecipients Availability for local users;
	// nil: every recipient's availability is answered "no data" (163).
	FreeBusy model.FreeBusy
	// Meetings files meeting mails in the calendar, answers
	// MeetingResponse and sends iMIP messages; nil: meeting mails are
	// plain mail and MeetingResponse answers 137.
	Meetings Meetings

	// Oof applies out-of-office settings on the mail server (Settings
	// Oof); nil: Oof Set answers Status 4 and Get reports off.
	Oof model.OutOfOffice

	// HoldNewDevices quarantines devices that register until an
	// administrator approves them, unless an access rule decides
	// (`--new-devices=approve`; quarantine.go).
	HoldNewDevices bool

	// Push lets Ping wait for changes without polling (mail watchers and
	// the LISTEN/NOTIFY hub); its zero value makes Ping wait out the
	// heartbeat unless a folder had changed when it arrived.
	Push Push
}

// PolicyOptions configure provisioning.
type PolicyOptions struct {
	// Enforce makes devices provision before they sync (449 / Status 142).
	Enforce bool
}

// Server answers EAS requests.
type Server struct {
	opts    Options
	log     *slog.Logger
	devices *device.Store
	folders *folders.Store
	sync    *syncstate.Engine
	slots   *userSlots // one user's share of the database pool (dbslots.go)
	// prefetch holds the streams fetching initial mail syncs ahead.
	prefetch *mailPrefetch
	// verified is what Pings' first checks verified, for the next Ping
	// of the device (ping_verified.go).
	verified verifiedChecks
	// statusRounds shares a mailbox's STATUS among quiet Syncs asking at
	// once (sync_mailstatus.go).
	statusRounds statusRounds
	// heartbeats ends waiting requests at their heartbeat (heartbeats.go).
	heartbeats heartbeats
}

// newDeviceStore is the device registry with the new-device setting.
func newDeviceStore(opts Options, maxDevices int) *device.Store {
	s := device.NewStore(opts.Pool, maxDevices)
	s.HoldNewDevices(opts.HoldNewDevices)
	return s
}

// NewServer builds a Server from opts.
func NewServer(opts Options, maxDevices int) *Server {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Quirks == nil {
		opts.Quirks = DefaultQuirks()
	}
	return &Server{
		opts:    opts,
		log:     opts.Log,
		devices: newDeviceStore(opts, maxDevices),
		// Every hierarchy change made or found through easd wakes the
		// user's other devices (NotifyHierarchyChanged).
		folders: folders.NewStore(opts.Pool).Announcing(NotifyHierarchyChanged),
		sync:    syncstate.New(opts.Pool, syncstate.Options{}),
		slots:   newUserSlots(opts.DBConnsPerUser),

		prefetch: newMailPrefetch(),
	}
}

// Devices is the device registry the server uses.
func (s *Server) Devices() *device.Store { return s.devices }
