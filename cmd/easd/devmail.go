package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/smtpsink"
)

// seedOnce puts a few sample messages into demo's INBOX on the first run,
// so a phone has something to show; marker records that it happened.
func seedOnce(ctx context.Context, marker, imapAddr string) error {
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	now := time.Now()
	for i, m := range sampleMessages {
		date := now.Add(-time.Duration(len(sampleMessages)-i) * 3 * time.Hour)
		msg := fmt.Sprintf("From: %s\r\nTo: Demo User <demo@%s>\r\nSubject: %s\r\nDate: %s\r\n"+
			"Message-ID: <sample-%d@%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			m.from, devDomain, m.subject, date.Format(time.RFC1123Z), i+1, devDomain,
			strings.ReplaceAll(m.body, "\n", "\r\n"))
		if _, err := dovecot.Append(ctx, imapAddr, "demo", "demo", "INBOX", []byte(msg)); err != nil {
			return fmt.Errorf("sample messages: %w", err)
		}
	}
	return os.WriteFile(marker, []byte(now.Format(time.RFC3339)+"\n"), 0o644)
}

var sampleMessages = []struct{ from, subject, body string }{
	{"Alice <alice@example.test>", "Welcome to easd", "Hello!\n\nThis mailbox lives in a private Dovecot started by `easd dev`.\nAdd it to a phone as an Exchange account and it syncs over ActiveSync."},
	{"Bob Builder <bob@example.test>", "Lunch on Friday?", "Shall we try the new place on the corner?\n\nBob"},
	{"Carol <carol@example.test>", "Quarterly figures", "The numbers are in. Summary: up 4 % on last quarter.\n\n-- Carol"},
	{"Dave <dave@example.test>", "Grüße aus München", "Ein Test mit Umlauten: äöü ß, and a euro sign: €."},
	{"Eve <eve@example.test>", "Meeting notes", "1. Ship the dev mode\n2. Test on a real phone\n3. Celebrate"},
}

// devDelivery delivers mail sent through easd dev: recipients that are dev
// users get it in their INBOX (so demo can write to alice and read the
// reply); anything else is appended to a log file instead of leaving the
// machine.
func devDelivery(lmtpAddr, logPath string, users map[string]string, log *slog.Logger) func(smtpsink.Message) error {
	// Every user of the dev Dovecot (the load users too) gets its mail.
	local := map[string]bool{}
	for u := range users {
		local[u] = true
	}
	return func(m smtpsink.Message) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, rcpt := range m.To {
			user, domain, _ := strings.Cut(strings.ToLower(rcpt), "@")
			if local[user] && (domain == "" || domain == devDomain) {
				// Through LMTP, as a mail server delivers: the user's
				// Sieve script (out-of-office) runs.
				if err := dovecot.Deliver(ctx, lmtpAddr, m.From, user+"@"+devDomain, m.Data); err != nil {
					return fmt.Errorf("deliver to %s: %w", user, err)
				}
				log.Info("dev mail delivered", "from", m.From, "to", rcpt)
				continue
			}
			f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(f, "=== %s from %s to %s\n%s\n", m.At.Format(time.RFC3339), m.From, rcpt, m.Data)
			f.Close()
			if err != nil {
				return err
			}
			log.Info("dev mail kept in outbound log", "from", m.From, "to", rcpt, "log", logPath)
		}
		return nil
	}
}

// devSievePorts picks the ManageSieve and LMTP ports of the dev Dovecot,
// kept in the data directory like the others; a kept port that is now
// taken is replaced by a free one (no flag names them).
func devSievePorts(ports *devPorts, smtpAddr string) (*dovecot.SieveConfig, error) {
	sc := &dovecot.SieveConfig{SubmissionHost: smtpAddr}
	for _, p := range []struct {
		name string
		addr *string
	}{{"managesieve", &sc.ManageSieveAddr}, {"lmtp", &sc.LMTPAddr}} {
		addr, err := ports.pick(p.name, "")
		if err == nil && checkPortFree(addr) != nil {
			delete(ports.addrs, p.name)
			addr, err = ports.pick(p.name, "")
		}
		if err != nil {
			return nil, err
		}
		*p.addr = addr
	}
	return sc, ports.save()
}
