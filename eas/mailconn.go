package eas

import (
	"context"
	"errors"
)

// mailConn is a request's session with the mail server: opened on first
// use and shared by every folder the request touches, dropped after a
// failure (the connection may be broken; the next use logs in afresh), and
// closed when the request ends.
type mailConn struct {
	k    *call
	ctx  context.Context // the session's context; nil: the request's
	sess MailSession
}

// session returns the open session, logging in on first use.
func (m *mailConn) session() (MailSession, error) {
	if m.sess != nil {
		return m.sess, nil
	}
	if m.k.s.opts.MailSync == nil {
		return nil, errors.New("no mail store configured")
	}
	ctx := m.ctx
	if ctx == nil {
		ctx = m.k.ctx()
	}
	s, err := m.k.s.opts.MailSync.OpenMail(ctx, m.k.creds.Login, m.k.creds.Password)
	if err != nil {
		return nil, err
	}
	m.sess = s
	return s, nil
}

// drop closes the session, if any.
func (m *mailConn) drop() {
	if m.sess != nil {
		_ = m.sess.Close()
		m.sess = nil
	}
}
