package mailconv

import (
	"time"

	"github.com/easd/easd/eas/message"
)

// Meta is what IMAP knows about a message besides its bytes.
type Meta struct {
	FolderID     string    // EAS folder id of the mailbox, for FileReferences
	UID          uint32    // IMAP UID
	Flags        []string  // system flags and keywords, e.g. `\Seen`, `$Forwarded`, "Work"
	InternalDate time.Time // INTERNALDATE: DateReceived; zero falls back to the Date header
	Size         int64     // RFC822.SIZE; 0 when unknown (the bytes read are counted then)

	// UserAddresses are the user's own addresses, lower case; with them
	// ReceivedAsBcc is set when none is in To or Cc. Optional.
	UserAddresses []string
}

// MIMESupport values of a Sync request's Options (MS-ASCMD 2.2.3.100.3).
const (
	MIMENever     = 0
	MIMESMIMEOnly = 1
	MIMEAlways    = 2
)

// Options are the client's wishes for one conversion.
type Options struct {
	// Version is the protocol version as a number: 25, 120, 121, 140,
	// 141, 160, 161.
	Version int

	// BodyPreferences in the client's order (12.0+).
	BodyPreferences []message.BodyPreference
	// BodyPartPreferences (14.1+): when present, a BodyPart with the
	// HTML body is added.
	BodyPartPreferences []message.BodyPartPreference

	// MIMESupport is 0 (never), 1 (S/MIME only) or 2 (always).
	MIMESupport int

	// 2.5 only: truncation in bytes of Email:Body and Email:MIMEData; a
	// negative value means none. TruncationSize converts the request's
	// Truncation and MIMETruncation codes.
	BodyTruncation int
	MIMETruncation int

	// MaxText caps the decoded text kept per body part; beyond it the
	// text is counted, not kept, and the body counts as truncated.
	// 0 means DefaultMaxText.
	MaxText int
}

// DefaultMaxText is the default Options.MaxText: 16 MiB of text.
const DefaultMaxText = 16 << 20

// truncation25 maps the 2.5 Truncation code (MS-ASCMD 2.2.3.185) to bytes.
var truncation25 = [...]int{0, 512, 1024, 2048, 5120, 10240, 20480, 51200, 102400, -1}

// mimeTruncation maps the MIMETruncation code (MS-ASCMD 2.2.3.111) to bytes.
var mimeTruncation = [...]int{0, 4096, 5120, 7168, 10240, 20480, 51200, 102400, -1}

// TruncationSize converts a 2.5 Truncation code (mime false) or a
// MIMETruncation code (mime true) to a size in bytes, -1 for "do not
// truncate". An absent element (code < 0) or an unknown code means -1.
func TruncationSize(code int, mime bool) int {
	table := truncation25[:]
	if mime {
		table = mimeTruncation[:]
	}
	if code < 0 || code >= len(table) {
		return -1
	}
	return table[code]
}
