package imapbridge

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/mailconv"
)

// A server may answer a body section with NIL instead of an empty string
// (for a message without text, or a section it cannot produce): the
// message is read as empty there and converted, not a panic that would
// take the process down with the stream that fetched it.
func TestFetchNilSections(t *testing.T) {
	header := "Subject: nothing inside\r\n\r\n"
	c := scriptedIMAP(t, fmt.Sprintf(`* 1 FETCH (UID 7 FLAGS (\Seen) INTERNALDATE "02-Jan-2026 10:00:00 +0000" RFC822.SIZE %d `+
		"BODY[HEADER] {%d}\r\n%s BODY[TEXT]<0> NIL)\r\n", len(header), len(header), header)+
		`* 2 FETCH (UID 8 FLAGS () INTERNALDATE "02-Jan-2026 10:00:00 +0000" RFC822.SIZE 0 BODY[HEADER] NIL BODY[TEXT]<0> NIL)`+"\r\n")
	m := &MailSession{c: c, sparseAbove: sparseAbove}
	conv := mailconv.Options{Version: 161, BodyPreferences: []message.BodyPreference{{Type: 1, TruncationSize: new(uint32(5120))}},
		BodyTruncation: -1, MIMETruncation: -1}
	jobs := make(chan rawMessage, 4)
	var set imap.UIDSet
	set.AddRange(7, 8)
	if err := m.readWhole(set, mailconv.PrefixSize(conv), jobs, func(raw rawMessage) { t.Errorf("UID %d read in part", raw.meta.UID) }); err != nil {
		t.Fatal(err)
	}
	close(jobs)
	got := map[uint32]string{}
	for raw := range jobs {
		it := convertRaw(raw, conv)
		got[it.UID] = it.Data.(*message.Email).Subject
	}
	if got[7] != "nothing inside" || len(got) != 2 {
		t.Errorf("items %v, want UIDs 7 (subject kept) and 8", got)
	}
}

// An attachment's section answered NIL is a part that does not exist.
func TestFetchNilPart(t *testing.T) {
	c := scriptedIMAP(t, "* 1 FETCH (UID 7 BODY[2] NIL)\r\n")
	m := &MailSession{c: c}
	var out strings.Builder
	if _, err := m.copyDecoded(7, []int{2}, "base64", 0, -1, &out); !errors.Is(err, errNoPart) {
		t.Errorf("NIL part: %v, want errNoPart", err)
	}
}

// scriptedIMAP is a client of a fake server that greets and answers every
// command with the untagged lines given, then OK.
func scriptedIMAP(t *testing.T, untagged string) *imapclient.Client {
	t.Helper()
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		r := bufio.NewReader(server)
		server.Write([]byte("* OK [CAPABILITY IMAP4rev1] ready\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			server.Write([]byte(untagged + tag + " OK done\r\n"))
		}
	}()
	c := imapclient.New(client, nil)
	t.Cleanup(func() { c.Close() })
	if err := c.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	return c
}
