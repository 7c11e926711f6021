package smtpsink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

type backend struct{ sink *Sink }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{sink: b.sink}, nil
}

// session collects one connection's envelope; it implements
// smtp.AuthSession so that clients may AUTH PLAIN.
type session struct {
	sink     *Sink
	authUser string
	from     string
	to       []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if identity != "" && identity != user {
			return errors.New("authorization identity differs from user")
		}
		if s.sink.checkAuth != nil && !s.sink.checkAuth(user, password) {
			return smtp.ErrAuthFailed
		}
		s.authUser = user
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.requireAuth && s.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.sink.rejectRcpt != nil && s.sink.rejectRcpt(to) {
		return s.sink.rejectErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return fmt.Errorf("smtpsink: read message: %w", err)
	}
	m := Message{
		From: s.from, To: s.to, Data: buf.Bytes(),
		AuthUser: s.authUser, At: time.Now(),
	}
	if hook := s.sink.hook(); hook != nil {
		if err := hook(m); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) {
				return se
			}
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: err.Error()}
		}
	}
	s.sink.record(m)
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }
