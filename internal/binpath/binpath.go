// Package binpath locates the external programs easd drives in development
// and tests (postgres, initdb, dovecot, ...) and, when one is missing, says
// which Debian package provides it.
package binpath

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// MissingError reports a program that is neither in PATH nor in any of the
// extra directories searched.
type MissingError struct {
	Binary        string
	DebianPackage string
}

func (e *MissingError) Error() string {
	if e.DebianPackage == "" {
		return fmt.Sprintf("%s not found in PATH", e.Binary)
	}
	return fmt.Sprintf("%s not found: install it with \"apt-get install %s\"", e.Binary, e.DebianPackage)
}

// IsMissing reports whether err (or an error it wraps) is a *MissingError.
func IsMissing(err error) bool {
	var me *MissingError
	return errors.As(err, &me)
}

// Find returns the path of the executable name. It looks in PATH first, then
// in the directories matched by extraGlobs (for example
// "/usr/lib/postgresql/*/bin" or "/usr/sbin"), trying for each glob the
// highest version first. A missing program yields a *MissingError naming
// debianPackage.
func Find(name, debianPackage string, extraGlobs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, g := range extraGlobs {
		dirs, err := filepath.Glob(g)
		if err != nil {
			return "", fmt.Errorf("binpath: bad pattern %q: %w", g, err)
		}
		sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if isExecutable(p) {
				return p, nil
			}
		}
	}
	return "", &MissingError{Binary: name, DebianPackage: debianPackage}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
