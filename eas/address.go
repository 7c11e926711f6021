package eas

import (
	"context"
	"fmt"
	"strings"
)

// userAddress is the user's primary SMTP address, the one Settings
// UserInformation reports and mail is sent from: the address recorded for
// the user, else the login when it is an address, else login@domain.
func (k *call) userAddress() (string, error) { return k.userAddressIn(k.ctx()) }

// userAddressIn is userAddress on ctx: a send finishing on a context of
// its own asks on that.
func (k *call) userAddressIn(ctx context.Context) (string, error) {
	var email string
	err := k.s.opts.Pool.QueryRow(ctx, `SELECT email FROM users WHERE id = $1`, k.dev.UserID).Scan(&email)
	if err != nil {
		return "", fmt.Errorf("user address: %w", err)
	}
	login := k.creds.Login
	switch {
	case email != "":
		return email, nil
	case strings.Contains(login, "@") || k.s.opts.Domain == "":
		return login, nil
	default:
		return login + "@" + k.s.opts.Domain, nil
	}
}
