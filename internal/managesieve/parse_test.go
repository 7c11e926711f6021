package managesieve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serve answers the client's lines on the other end of a pipe with the
// canned responses, in order, and records what the client sent.
func serve(t *testing.T, greeting string, answers ...string) (*Client, *strings.Builder) {
	t.Helper()
	cc, sc := net.Pipe()
	t.Cleanup(func() { cc.Close(); sc.Close() })
	sent := &strings.Builder{}
	go func() {
		sc.Write([]byte(greeting))
		r := bufio.NewReader(sc)
		for _, a := range answers {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			sent.WriteString(line)
			if i := strings.LastIndexByte(line, '{'); i >= 0 && strings.HasSuffix(line, "+}\r\n") {
				// A non-synchronising literal follows the line, then
				// the rest of the command line.
				n, _ := strconv.Atoi(line[i+1 : len(line)-4])
				lit := make([]byte, n)
				io.ReadFull(r, lit)
				rest, _ := r.ReadString('\n')
				sent.WriteString(string(lit) + rest)
			}
			sc.Write([]byte(a))
		}
	}()
	c := &Client{conn: cc, r: bufio.NewReader(cc), timeout: 2 * time.Second, ctx: context.Background()}
	if err := c.readCapabilities(); err != nil {
		t.Fatal(err)
	}
	return c, sent
}

// The response grammar of RFC 5804: capabilities, quoted strings with
// escapes, literals (also in the middle of a line), response codes with
// arguments, NO and BYE.
func TestResponses(t *testing.T) {
	greeting := "\"IMPLEMENTATION\" \"Example\"\r\n\"SIEVE\" \"fileinto vacation\"\r\n\"SASL\" \"PLAIN\"\r\n\"STARTTLS\"\r\nOK \"ready\"\r\n"
	c, sent := serve(t, greeting,
		"{9}\r\nmy \"list\" ACTIVE\r\n\"other\\\\name\"\r\nOK\r\n",
		"{12}\r\nkeep;\r\nstop;\r\nOK \"got it\"\r\n",
		"NO (NONEXISTENT) \"There is no script by that name\"\r\n",
		"NO (QUOTA/MAXSIZE) {14}\r\nScript too big\r\n",
		"OK (WARNINGS) \"line 2: unused\"\r\n",
		"BYE (REFERRAL \"sieve://other\") \"go away\"\r\n",
	)
	if v, ok := c.Capability("implementation"); !ok || v != "Example" {
		t.Errorf("IMPLEMENTATION %q %v", v, ok)
	}
	if _, ok := c.Capability("STARTTLS"); !ok {
		t.Error("STARTTLS (no value) not read")
	}
	if ext := c.Extensions(); len(ext) != 2 || ext[1] != "vacation" {
		t.Errorf("extensions %v", ext)
	}
	list, err := c.ListScripts()
	if err != nil || len(list) != 2 || list[0] != (Script{`my "list"`, true}) || list[1] != (Script{`other\name`, false}) {
		t.Fatalf("LISTSCRIPTS: %+v, %v", list, err)
	}
	if s, err := c.GetScript("x"); err != nil || s != "keep;\r\nstop;" {
		t.Errorf("GETSCRIPT: %q, %v", s, err)
	}
	if _, err := c.GetScript("y"); !IsCode(err, "NONEXISTENT") {
		t.Errorf("NO with code: %v", err)
	}
	err = c.PutScript("big", "keep;\r\n")
	var e *Error
	if !errors.As(err, &e) || e.Code != "QUOTA/MAXSIZE" || e.Msg != "Script too big" || !IsCode(err, "quota") {
		t.Errorf("NO with a literal message: %#v", err)
	}
	if err := c.CheckScript("keep;"); err != nil {
		t.Errorf("OK with WARNINGS is success: %v", err)
	}
	if err := c.SetActive("x"); !errors.As(err, &e) || e.Kind != "BYE" || e.Code != "REFERRAL sieve://other" {
		t.Errorf("BYE: %#v", err)
	}
	want := "LISTSCRIPTS\r\nGETSCRIPT \"x\"\r\nGETSCRIPT \"y\"\r\nPUTSCRIPT \"big\" {7+}\r\nkeep;\r\n\r\nCHECKSCRIPT {5+}\r\nkeep;\r\nSETACTIVE \"x\"\r\n"
	if sent.String() != want {
		t.Errorf("sent:\n%q\nwant:\n%q", sent.String(), want)
	}
}

// A broken response is an error, not a hang or a panic.
func TestBrokenResponses(t *testing.T) {
	for _, bad := range []string{
		"{99999999999}\r\n",
		"{-1}\r\n",
		"\"unterminated\r\n",
		"(UNTERMINATED\r\n",
		"{5}x\r\nabcde\r\nOK\r\n",
	} {
		c, _ := serve(t, "OK\r\n", bad)
		if _, err := c.ListScripts(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// A name with a line break goes as a literal; quotes and backslashes are
// escaped in quoted strings.
func TestQuote(t *testing.T) {
	if got := quote(`a"b\c`); got != `"a\"b\\c"` {
		t.Errorf("quote: %s", got)
	}
	if got := quote("a\nb"); got != "{3+}\r\na\nb" {
		t.Errorf("quote with a line break: %q", got)
	}
}
