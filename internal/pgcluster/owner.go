package pgcluster

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/easd/easd/internal/procgroup"
)

// serverOwner picks the account initdb and postgres run as: initdb refuses
// to run as root, so root hands the cluster to the "postgres" system user.
func serverOwner() (procgroup.Owner, error) {
	if os.Geteuid() != 0 {
		o, err := procgroup.Current()
		if err != nil {
			return o, fmt.Errorf("pgcluster: %w", err)
		}
		return o, nil
	}
	o, err := procgroup.Lookup("postgres", "")
	if err != nil {
		return o, fmt.Errorf("pgcluster: running as root needs the postgres system user (apt-get install postgresql): %w", err)
	}
	return o, nil
}

// prepareDir creates Dir, hands it to the server account and makes sure that
// account can reach it.
func (c *Cluster) prepareDir() error {
	if err := os.MkdirAll(c.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.owner.CheckTraversable(c.cfg.Dir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := c.owner.Chown(c.cfg.Dir); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	// A data directory created by another account (for example a
	// previous run as a different user) must be handed over whole.
	if fi, err := os.Stat(c.dataDir); err == nil && !ownedBy(fi, c.owner) {
		err := filepath.Walk(c.dataDir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return c.owner.Chown(p)
		})
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	}
	return nil
}
