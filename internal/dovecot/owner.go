package dovecot

import (
	"fmt"
	"os"

	"github.com/easd/easd/internal/procgroup"
)

// mailOwner says which accounts the instance uses.
type mailOwner struct {
	root bool
	// mail owns the maildirs and runs the imap processes: nobody:nogroup
	// as root (Dovecot refuses uid 0 for mail), else the current user.
	mail procgroup.Owner
	// internal is the account of Dovecot's own services (auth, ...): it
	// must read the passwd files.
	internal procgroup.Owner
}

func chooseOwner() (mailOwner, error) {
	if os.Geteuid() != 0 {
		cur, err := procgroup.Current()
		if err != nil {
			return mailOwner{}, fmt.Errorf("dovecot: %w", err)
		}
		return mailOwner{mail: cur, internal: cur}, nil
	}
	mail, err := procgroup.Lookup("nobody", "nogroup")
	if err != nil {
		return mailOwner{}, fmt.Errorf("dovecot: %w", err)
	}
	internal, err := procgroup.Lookup("dovecot", "")
	if err != nil {
		return mailOwner{}, fmt.Errorf("dovecot: the dovecot system user is missing (apt-get install dovecot-core): %w", err)
	}
	if _, err := procgroup.Lookup("dovenull", ""); err != nil {
		return mailOwner{}, fmt.Errorf("dovecot: the dovenull system user is missing (apt-get install dovecot-core): %w", err)
	}
	return mailOwner{root: true, mail: mail, internal: internal}, nil
}
