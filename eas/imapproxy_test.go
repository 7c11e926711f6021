package eas_test

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strconv"
	"sync"
	"testing"
)

// imapProxy stands between easd and the test's real Dovecot and changes
// what easd sees in two ways Dovecot itself cannot be configured for in a
// test: it can hide UIDPLUS (a server without it gives no COPYUID after a
// MOVE), and it can cut the connection when easd sends a given command,
// as a server dying in the middle of a request would. Everything else
// passes through byte for byte.
type imapProxy struct {
	ln     net.Listener
	target string

	noUIDPlus bool

	mu     sync.Mutex
	cutOn  func(cmd string) bool // under mu
	wg     sync.WaitGroup
	closed chan struct{}
}

// startIMAPProxy proxies to target until the test ends.
func startIMAPProxy(t testing.TB, target string, noUIDPlus bool) *imapProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &imapProxy{ln: ln, target: target, noUIDPlus: noUIDPlus, closed: make(chan struct{})}
	go p.serve()
	t.Cleanup(func() {
		close(p.closed)
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *imapProxy) Addr() string { return p.ln.Addr().String() }

// CutOn makes the proxy drop the connection, without forwarding, when the
// client sends a command line for which match is true; nil cuts nothing.
func (p *imapProxy) CutOn(match func(cmd string) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOn = match
}

// cut calls the match outside the lock, so that it may call CutOn.
func (p *imapProxy) cut(line string) bool {
	p.mu.Lock()
	match := p.cutOn
	p.mu.Unlock()
	return match != nil && match(line)
}

func (p *imapProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			p.pipe(c, s, p.fromClient)
		}()
		go func() {
			defer p.wg.Done()
			p.pipe(s, c, p.fromServer)
		}()
		go func() {
			<-p.closed
			c.Close()
			s.Close()
		}()
	}
}

var (
	reLiteral = regexp.MustCompile(`\{(\d+)\+?\}\r\n$`)
	reCopyUID = regexp.MustCompile(`\[COPYUID [^\]]*\] ?`)
	reUIDPlus = regexp.MustCompile(` UIDPLUS\b`)
)

// pipe copies IMAP lines from src to dst through filter, and literals
// (the bytes announced by {n} at a line's end) unchanged. A filter that
// returns ok false ends the connection in both directions.
func (p *imapProxy) pipe(src, dst net.Conn, filter func(string) (string, bool)) {
	defer src.Close()
	defer dst.Close()
	r := bufio.NewReader(src)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line, ok := filter(line)
		if !ok {
			return
		}
		if _, err := io.WriteString(dst, line); err != nil {
			return
		}
		if m := reLiteral.FindStringSubmatch(line); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			if _, err := io.CopyN(dst, r, n); err != nil {
				return
			}
		}
	}
}

func (p *imapProxy) fromClient(line string) (string, bool) {
	return line, !p.cut(line)
}

func (p *imapProxy) fromServer(line string) (string, bool) {
	if p.noUIDPlus {
		line = reCopyUID.ReplaceAllString(line, "")
		line = reUIDPlus.ReplaceAllString(line, "")
	}
	return line, true
}
