// Package oof applies users' out-of-office settings as a Sieve vacation
// script on the mail server, through ManageSieve (RFC 5804), so the mail
// server answers mail while no phone is connected. The script holds the
// settings it was written from, so reading them back reads what is in
// force; nothing is kept in PostgreSQL.
//
// A script the user made elsewhere is never overwritten: easd writes only
// its own scripts (ScriptName, WrapperName). When the user has an active
// script of their own, switching out-of-office on activates WrapperName,
// which includes easd's rules and the user's script; switching it off
// makes the user's script active again. See docs/decisions.md.
package oof

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/managesieve"
)

// Store talks to the ManageSieve server at Addr with each user's own
// credentials, as the IMAP side does.
type Store struct {
	Addr    string
	Options managesieve.Options
	Log     *slog.Logger
}

var _ model.OutOfOffice = (*Store)(nil)

// session opens an authenticated ManageSieve session; any failure is
// ErrOofUnavailable (wrapping the cause).
func (s *Store) session(ctx context.Context, a model.OofAccount) (*managesieve.Client, error) {
	c, err := managesieve.Dial(ctx, s.Addr, s.Options)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", model.ErrOofUnavailable, err)
	}
	if err := c.AuthenticatePlain("", a.Login, a.Password); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w: sign-in: %w", model.ErrOofUnavailable, err)
	}
	return c, nil
}

// state is what the server holds for the user.
type state struct {
	active  string          // the active script, "" for none
	scripts map[string]bool // the user's scripts by name
	own     settings        // from ScriptName; zero when there is none
	ownText string          // ScriptName as stored
}

func (s *Store) read(c *managesieve.Client) (state, error) {
	list, err := c.ListScripts()
	if err != nil {
		return state{}, err
	}
	st := state{scripts: map[string]bool{}}
	for _, sc := range list {
		st.scripts[sc.Name] = true
		if sc.Active {
			st.active = sc.Name
		}
	}
	if st.scripts[ScriptName] {
		text, err := c.GetScript(ScriptName)
		if err != nil {
			return state{}, err
		}
		st.own, _ = parseSettings(text)
		st.ownText = text
	}
	return st, nil
}

// GetOof reads back the settings in force: easd's script when it (or the
// wrapper) is active; off with easd's last messages when not; what can be
// read of a user's own vacation rule when that is what is active.
func (s *Store) GetOof(ctx context.Context, a model.OofAccount) (model.OofReport, error) {
	c, err := s.session(ctx, a)
	if err != nil {
		return model.OofReport{}, err
	}
	defer c.Logout()
	st, err := s.read(c)
	if err != nil {
		return model.OofReport{}, fmt.Errorf("%w: %w", model.ErrOofUnavailable, err)
	}
	own := st.own
	switch st.active {
	case ScriptName, WrapperName:
		if st.ownText != own.script() {
			// Someone changed easd's script by hand: its rules may say
			// otherwise than its first line, which is what is reported.
			s.log().Warn("out-of-office: easd's Sieve script was changed elsewhere; the next Oof Set replaces it",
				"user", a.Login, "script", ScriptName)
		}
		return model.OofReport{Oof: own.oof()}, nil
	case "":
	default:
		text, err := c.GetScript(st.active)
		if err != nil {
			return model.OofReport{}, fmt.Errorf("%w: %w", model.ErrOofUnavailable, err)
		}
		if found, reason := foreignVacation(text); found {
			// The user's own rule answers; who it answers and when is
			// beyond what easd can read, so it is reported as on for
			// everyone, with its text when that is a plain string.
			on := settings{State: 1, Messages: map[string]reply{}}
			for _, aud := range audiences {
				on.Messages[aud] = reply{Enabled: true, BodyType: "Text", Text: reason}
			}
			return model.OofReport{Oof: on.oof(), Foreign: st.active}, nil
		}
	}
	// Not in force: off, with the messages kept for the next time.
	own.State, own.Start, own.End = 0, "", ""
	return model.OofReport{Oof: own.oof()}, nil
}

// SetOof writes easd's script with the merged settings and activates it
// (on) or the user's own script again (off).
func (s *Store) SetOof(ctx context.Context, a model.OofAccount, set *message.Oof) error {
	if len(a.Addresses) == 0 {
		return errors.New("oof: the user has no address")
	}
	c, err := s.session(ctx, a)
	if err != nil {
		return err
	}
	defer c.Logout()
	if err := s.apply(c, a, set); err != nil {
		if errors.Is(err, model.ErrOofConflict) {
			return err
		}
		return fmt.Errorf("%w: %w", model.ErrOofUnavailable, err)
	}
	return nil
}

func (s *Store) apply(c *managesieve.Client, a model.OofAccount, set *message.Oof) error {
	st, err := s.read(c)
	if err != nil {
		return err
	}
	next := st.own
	next.merge(set, a)
	user := "" // the user's own active script
	switch st.active {
	case "", ScriptName:
	case WrapperName:
		text, err := c.GetScript(WrapperName)
		if err != nil {
			return err
		}
		if u, ok := parseWrapper(text); ok && st.scripts[u] {
			user = u
		}
	default:
		user = st.active
	}
	if user != "" && user == st.active {
		// Two vacation actions in one delivery are an error (RFC 5230
		// section 4.7), and the user's rule is theirs to change.
		text, err := c.GetScript(user)
		if err != nil {
			return err
		}
		if found, _ := foreignVacation(text); found {
			return fmt.Errorf("%w (script %q)", model.ErrOofConflict, user)
		}
	}
	if err := c.PutScript(ScriptName, next.script()); err != nil {
		return fmt.Errorf("store %s: %w", ScriptName, err)
	}
	if next.State == 0 {
		switch {
		case st.active == ScriptName:
			return c.SetActive("")
		case st.active == WrapperName:
			// The user's script is active again, as before; the wrapper
			// goes with out-of-office.
			if err := c.SetActive(user); err != nil {
				return err
			}
			// Out-of-office is off already; a wrapper left behind is
			// inactive and rewritten next time.
			if err := c.DeleteScript(WrapperName); err != nil {
				s.log().Warn("out-of-office: could not delete the inactive wrapper script", "user", a.Login, "err", err)
			}
			return nil
		}
		return nil
	}
	if user == "" {
		if st.active == ScriptName {
			return nil
		}
		return c.SetActive(ScriptName)
	}
	if err := c.PutScript(WrapperName, wrapper(user)); err != nil {
		return fmt.Errorf("store %s: %w", WrapperName, err)
	}
	if st.active == WrapperName {
		return nil
	}
	if err := c.SetActive(WrapperName); err != nil {
		return err
	}
	s.log().Info("out-of-office: the user's own active Sieve script runs inside easd's", "user", a.Login, "script", user)
	return nil
}

func (s *Store) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}
