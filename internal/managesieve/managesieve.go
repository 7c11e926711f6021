// Package managesieve is a client of the ManageSieve protocol (RFC 5804),
// through which a mail server's users upload and activate their Sieve
// scripts: what the commands need of it, no more. It knows nothing of
// out-of-office; package oof writes the scripts.
//
// It is written here rather than taken from a library: no maintained Go
// ManageSieve client exists, and the protocol is a dozen lines of grammar
// (IMAP-like strings and literals, OK/NO/BYE responses).
package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// TLS modes of a connection, as the IMAP settings name them.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "implicit"
)

// Options configure Dial.
type Options struct {
	// TLS is TLSNone, TLSStartTLS (required: a server that does not offer
	// STARTTLS is refused) or TLSImplicit; "" is TLSNone.
	TLS       string
	TLSConfig *tls.Config // nil: verify against the system roots with the address's host
	// Timeout bounds the connection and greeting, and every command
	// after it; 0 means 10 s.
	Timeout time.Duration
}

// Client is one ManageSieve connection; it is not safe for concurrent use.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
	ctx     context.Context
	caps    map[string]string
}

// Error is a NO or BYE response: the server understood and refused.
type Error struct {
	Kind string // NO or BYE
	Code string // response code, e.g. QUOTA/MAXSIZE, NONEXISTENT; may be empty
	Msg  string // the server's human-readable text
}

func (e *Error) Error() string {
	s := "managesieve: " + e.Kind
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Msg != "" {
		s += " " + e.Msg
	}
	return s
}

// IsCode reports whether err is a refusal with response code code (its
// first word, case-insensitive; e.g. NONEXISTENT).
func IsCode(err error, code string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	first, _, _ := strings.Cut(e.Code, " ")
	first, _, _ = strings.Cut(first, "/")
	return strings.EqualFold(first, code)
}

// Dial connects to addr (host:port), reads the capabilities and, in
// TLSStartTLS mode, upgrades the connection. ctx bounds the dial and the
// commands of the returned client.
func Dial(ctx context.Context, addr string, o Options) (*Client, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("managesieve: address %q: %w", addr, err)
	}
	tlsConf := o.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{}
	}
	tlsConf = tlsConf.Clone()
	if tlsConf.ServerName == "" {
		tlsConf.ServerName = host
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("managesieve: connect %s: %w", addr, err)
	}
	c := &Client{conn: conn, timeout: timeout, ctx: ctx}
	if o.TLS == TLSImplicit {
		tc := tls.Client(conn, tlsConf)
		c.setDeadline()
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("managesieve: TLS handshake with %s: %w", addr, err)
		}
		c.conn = tc
	}
	c.r = bufio.NewReader(c.conn)
	c.setDeadline()
	if err := c.readCapabilities(); err != nil {
		c.conn.Close()
		return nil, fmt.Errorf("managesieve: greeting from %s: %w", addr, err)
	}
	if o.TLS == TLSStartTLS {
		if err := c.startTLS(tlsConf); err != nil {
			c.conn.Close()
			return nil, fmt.Errorf("managesieve: STARTTLS with %s: %w", addr, err)
		}
	}
	return c, nil
}

// Capability returns a capability's value and whether the server has it
// (names are upper case: SIEVE, SASL, STARTTLS, IMPLEMENTATION, ...).
func (c *Client) Capability(name string) (string, bool) {
	v, ok := c.caps[strings.ToUpper(name)]
	return v, ok
}

// Extensions returns the Sieve extensions the server supports.
func (c *Client) Extensions() []string { return strings.Fields(c.caps["SIEVE"]) }

// Close drops the connection without LOGOUT.
func (c *Client) Close() error { return c.conn.Close() }

// Logout ends the session politely and closes the connection.
func (c *Client) Logout() error {
	_, err := c.command("LOGOUT")
	c.conn.Close()
	var e *Error
	if errors.As(err, &e) && e.Kind == "BYE" {
		return nil
	}
	return err
}

func (c *Client) startTLS(conf *tls.Config) error {
	if _, ok := c.caps["STARTTLS"]; !ok {
		return errors.New("the server does not offer STARTTLS")
	}
	if _, err := c.command("STARTTLS"); err != nil {
		return err
	}
	tc := tls.Client(c.conn, conf)
	c.setDeadline()
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return err
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
	// The server sends its capabilities again after the handshake (RFC
	// 5804 section 2.2); the ones before it are not to be trusted.
	return c.readCapabilities()
}

// AuthenticatePlain signs in with SASL PLAIN (RFC 4616): authcid logs in
// for authzid ("" for itself).
func (c *Client) AuthenticatePlain(authzid, authcid, password string) error {
	resp := base64.StdEncoding.EncodeToString([]byte(authzid + "\x00" + authcid + "\x00" + password))
	_, err := c.command("AUTHENTICATE", quote("PLAIN"), quote(resp))
	if err != nil {
		return err
	}
	// Some servers send new capabilities after authentication; Dovecot
	// does not. Either way the response was OK.
	return nil
}

// Script is one of the user's scripts.
type Script struct {
	Name   string
	Active bool
}

// ListScripts lists the user's scripts; at most one is active.
func (c *Client) ListScripts() ([]Script, error) {
	lines, err := c.command("LISTSCRIPTS")
	if err != nil {
		return nil, err
	}
	var out []Script
	for _, l := range lines {
		if len(l) == 0 || !l[0].str {
			return nil, fmt.Errorf("managesieve: LISTSCRIPTS: unexpected line %v", l)
		}
		s := Script{Name: l[0].v}
		if len(l) > 1 && strings.EqualFold(l[1].v, "ACTIVE") {
			s.Active = true
		}
		out = append(out, s)
	}
	return out, nil
}

// Active returns the name of the active script, "" when none is.
func (c *Client) Active() (string, error) {
	list, err := c.ListScripts()
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if s.Active {
			return s.Name, nil
		}
	}
	return "", nil
}

// GetScript returns a script's content; a missing one is an *Error with
// code NONEXISTENT.
func (c *Client) GetScript(name string) (string, error) {
	lines, err := c.command("GETSCRIPT", quote(name))
	if err != nil {
		return "", err
	}
	if len(lines) != 1 || len(lines[0]) != 1 || !lines[0][0].str {
		return "", errors.New("managesieve: GETSCRIPT: no script in the response")
	}
	return lines[0][0].v, nil
}

// PutScript stores (creates or replaces) a script; the server checks it
// first and refuses a script that does not compile, with its errors.
func (c *Client) PutScript(name, content string) error {
	_, err := c.command("PUTSCRIPT", quote(name), literal(content))
	return err
}

// CheckScript asks the server to compile a script without storing it.
func (c *Client) CheckScript(content string) error {
	_, err := c.command("CHECKSCRIPT", literal(content))
	return err
}

// SetActive makes name the active script; "" deactivates all.
func (c *Client) SetActive(name string) error {
	_, err := c.command("SETACTIVE", quote(name))
	return err
}

// DeleteScript removes a script (not the active one: servers refuse).
func (c *Client) DeleteScript(name string) error {
	_, err := c.command("DELETESCRIPT", quote(name))
	return err
}

// setDeadline bounds the next exchange by the timeout and the context.
func (c *Client) setDeadline() {
	dl := time.Now().Add(c.timeout)
	if cd, ok := c.ctx.Deadline(); ok && cd.Before(dl) {
		dl = cd
	}
	_ = c.conn.SetDeadline(dl)
}

// command sends one command line and reads the response: the data lines
// before it, each as its tokens, and nil or the *Error of a NO/BYE.
func (c *Client) command(name string, args ...string) ([][]token, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	c.setDeadline()
	var b strings.Builder
	b.WriteString(name)
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	b.WriteString("\r\n")
	if _, err := c.conn.Write([]byte(b.String())); err != nil {
		return nil, fmt.Errorf("managesieve: %s: %w", name, err)
	}
	lines, err := c.readResponse()
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, fmt.Errorf("managesieve: %s: %w", name, err)
	}
	return lines, nil
}

// readCapabilities reads the capability lines and the OK ending them.
func (c *Client) readCapabilities() error {
	lines, err := c.readResponse()
	if err != nil {
		return err
	}
	c.caps = map[string]string{}
	for _, l := range lines {
		if len(l) == 0 || !l[0].str {
			return fmt.Errorf("unexpected capability line %v", l)
		}
		v := ""
		if len(l) > 1 {
			v = l[1].v
		}
		c.caps[strings.ToUpper(l[0].v)] = v
	}
	return nil
}

// readResponse reads lines until an OK, NO or BYE line.
func (c *Client) readResponse() ([][]token, error) {
	var lines [][]token
	for {
		l, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if len(l) > 0 && !l[0].str {
			switch kind := strings.ToUpper(l[0].v); kind {
			case "OK":
				return lines, nil
			case "NO", "BYE":
				e := &Error{Kind: kind}
				for _, t := range l[1:] {
					if t.code {
						e.Code = t.v
					} else {
						e.Msg = t.v
					}
				}
				return nil, e
			}
		}
		lines = append(lines, l)
	}
}

// token is one item of a response line: an atom, a string (quoted or
// literal) or a parenthesised response code.
type token struct {
	v    string
	str  bool
	code bool
}

// maxLiteral bounds a literal the server may send: Sieve scripts are
// small (Dovecot's default limit is 1 MB).
const maxLiteral = 4 << 20

// readLine reads one response line into tokens.
func (c *Client) readLine() ([]token, error) {
	var out []token
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch {
		case b == ' ':
		case b == '\r':
		case b == '\n':
			return out, nil
		case b == '"':
			s, err := c.readQuoted()
			if err != nil {
				return nil, err
			}
			out = append(out, token{v: s, str: true})
		case b == '{':
			s, err := c.readLiteral()
			if err != nil {
				return nil, err
			}
			out = append(out, token{v: s, str: true})
		case b == '(':
			s, err := c.readCode()
			if err != nil {
				return nil, err
			}
			out = append(out, token{v: s, code: true})
		default:
			atom := []byte{b}
			for {
				p, err := c.r.Peek(1)
				if err != nil {
					return nil, err
				}
				if p[0] == ' ' || p[0] == '\r' || p[0] == '\n' || p[0] == '(' || p[0] == '"' {
					break
				}
				c.r.ReadByte()
				atom = append(atom, p[0])
			}
			out = append(out, token{v: string(atom)})
		}
	}
}

func (c *Client) readQuoted() (string, error) {
	var b strings.Builder
	for {
		ch, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		switch ch {
		case '"':
			return b.String(), nil
		case '\\':
			if ch, err = c.r.ReadByte(); err != nil {
				return "", err
			}
		case '\r', '\n':
			return "", errors.New("line break in a quoted string")
		}
		b.WriteByte(ch)
	}
}

// readLiteral reads "{n}" or "{n+}" CRLF and n bytes (the '{' is read).
func (c *Client) readLiteral() (string, error) {
	head, err := c.r.ReadString('}')
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(head, "}"), "+"))
	if err != nil || n < 0 || n > maxLiteral {
		return "", fmt.Errorf("bad literal {%s", head)
	}
	if crlf, err := c.r.ReadString('\n'); err != nil || strings.TrimRight(crlf, "\r\n") != "" {
		return "", fmt.Errorf("bad literal {%s", head)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// readCode reads a response code up to its ')' (the '(' is read);
// quoted strings inside keep their content.
func (c *Client) readCode() (string, error) {
	var b strings.Builder
	for {
		ch, err := c.r.ReadByte()
		if err != nil {
			return "", err
		}
		switch ch {
		case ')':
			return b.String(), nil
		case '"':
			s, err := c.readQuoted()
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		case '\r', '\n':
			return "", errors.New("line break in a response code")
		default:
			b.WriteByte(ch)
		}
	}
}

// quote writes s as a quoted string, or as a literal when it has line
// breaks (which a quoted string cannot carry).
func quote(s string) string {
	if strings.ContainsAny(s, "\r\n\x00") || len(s) > 1024 {
		return literal(s)
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// literal writes s as a non-synchronising literal ({n+}, RFC 5804 section
// 4): the server does not answer before the content.
func literal(s string) string {
	return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s
}
