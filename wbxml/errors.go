package wbxml

import (
	"errors"
	"fmt"
)

// Error classes, usable with errors.Is on any error of this package. A
// command handler maps them to EAS status 102 (invalid WBXML) or 103
// (invalid XML structure).
var (
	ErrTruncated   = errors.New("truncated document")
	ErrMalformed   = errors.New("malformed document")
	ErrUnknownPage = errors.New("unknown code page")
	ErrUnknownTag  = errors.New("unknown tag")
	ErrUnsupported = errors.New("token not used by EAS")
	ErrInvalidUTF8 = errors.New("invalid UTF-8 in string")
	ErrLimit       = errors.New("limit exceeded")
	ErrUsage       = errors.New("API misuse")
)

// SyntaxError reports malformed WBXML input at a byte offset from the start
// of the document. Err is one of the Err* classes above.
type SyntaxError struct {
	Offset int64
	Msg    string
	Err    error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("wbxml: %s at byte %d: %s", e.Err, e.Offset, e.Msg)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Limits bound the resources a single document may use. A zero field means
// the default from DefaultLimits.
type Limits struct {
	MaxDepth  int   // nesting of elements
	MaxTokens int   // tags, ends, strings and opaque blocks together
	MaxSize   int64 // bytes of the whole document, header included
}

// DefaultLimits are generous for every EAS command: the deepest documents
// (Sync with calendar exceptions, Find) nest about 12 levels, a Sync
// response window of 512 items stays well below a million tokens, and 64 MiB
// covers a SendMail carrying a large attachment.
var DefaultLimits = Limits{MaxDepth: 64, MaxTokens: 1 << 20, MaxSize: 64 << 20}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxTokens <= 0 {
		l.MaxTokens = DefaultLimits.MaxTokens
	}
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultLimits.MaxSize
	}
	return l
}
