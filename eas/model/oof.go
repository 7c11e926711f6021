package model

import (
	"context"
	"errors"

	"github.com/easd/easd/eas/message"
)

// OutOfOffice keeps users' out-of-office settings where the mail server
// applies them, so replies go out while no phone is connected.
type OutOfOffice interface {
	// GetOof reads back the settings in force.
	GetOof(ctx context.Context, a OofAccount) (OofReport, error)
	// SetOof applies an Oof Set (validated): the state and times when
	// given, each message given; what it does not name keeps its value.
	SetOof(ctx context.Context, a OofAccount, set *message.Oof) error
}

// OofAccount is whose settings: the mail server login and password of the
// request, and what the replies need to know of the user.
type OofAccount struct {
	Login, Password string
	// Addresses are the user's addresses, the primary one first: the
	// replies come from it, and mail to any of them is answered.
	Addresses []string
	// Domains are the user's mail domains: a sender in one is internal.
	Domains []string
	// Known are the addresses of the user's contacts ("external known"
	// senders), for SetOof; nil when they cannot be listed.
	Known []string
}

// ContactAddresser lists the addresses of a user's contacts; a
// ContactSearcher that is one lets out-of-office tell contacts from
// strangers.
type ContactAddresser interface {
	ContactAddresses(ctx context.Context, userID int64, limit int) ([]string, error)
}

// OofReport is what GetOof found.
type OofReport struct {
	Oof *message.Oof
	// Foreign, when set, says the settings in force are not easd's (a
	// script the user made elsewhere, named here): Oof reports what could
	// be read from it.
	Foreign string
}

var (
	// ErrOofUnavailable: the mail server's out-of-office service could not
	// be reached or refused the change; nothing was applied.
	ErrOofUnavailable = errors.New("out-of-office: the mail server's Sieve service is unavailable")
	// ErrOofConflict: the user's own active Sieve script has a vacation
	// rule of its own, which easd does not overwrite.
	ErrOofConflict = errors.New("out-of-office: the user's own active Sieve script has a vacation rule")
)
