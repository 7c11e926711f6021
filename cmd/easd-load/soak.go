package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// soak runs a mixed load for o.duration: one mail device per user that
// syncs its Inbox, sends mail to the next user (some of it as a slow
// phone that gives up 5 ms into the request and re-sends), and moves
// messages between Inbox and Junk; devices holding Pings; and a stream of
// bad logins. Every send is retried with its ClientId until the server
// says it went out, as a phone does. At the end it checks over IMAP that
// every acknowledged message is in its recipient's mailbox and its
// sender's Sent Items exactly once, and over PostgreSQL that every send
// is recorded once and finished.
func soak(ctx context.Context, o options, stdout, log io.Writer) error {
	before, err := scrape(ctx, o.url)
	if err != nil {
		return err
	}
	rep := &report{samples: map[string][]time.Duration{}, errors: map[string]int{}}
	end := time.Now().Add(o.duration)
	var sent sync.Map // subject -> [sender, recipient]
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i, user := range o.users {
		wg.Go(func() {
			if err := mailDevice(ctx, o, i, user, end, rep, &sent); err != nil {
				failed.Add(1)
				fmt.Fprintf(log, "device %s: %v\n", user, err)
			}
		})
	}
	for i := range o.pingers {
		wg.Go(func() { pinger(ctx, o, i, end, rep) })
	}
	wg.Go(func() { badLogins(ctx, o, end, rep) })
	t0 := time.Now()
	wg.Wait()
	rep.wall = time.Since(t0)
	time.Sleep(5 * time.Second) // let deliveries settle
	after, err := scrape(ctx, o.url)
	if err != nil {
		return err
	}
	rep.print(stdout, o)
	fmt.Fprintf(stdout, "\nserver at start: RSS %.1f MB, heap in use %.1f MB, %0.f goroutines\n", before.rss/1e6, before.heapInuse/1e6, before.goroutines)
	fmt.Fprintf(stdout, "server at end:   RSS %.1f MB, heap in use %.1f MB, %0.f goroutines\n", after.rss/1e6, after.heapInuse/1e6, after.goroutines)
	var total int
	for _, s := range rep.samples {
		total += len(s)
	}
	fmt.Fprintf(stdout, "requests answered: %d\n", total)
	if err := checkDelivered(ctx, o, &sent, stdout); err != nil {
		return err
	}
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d mail devices stopped early", n)
	}
	return nil
}

// mailDevice is one user's phone until end.
func mailDevice(ctx context.Context, o options, i int, user string, end time.Time, rep *report, sent *sync.Map) error {
	c := &client.Client{BaseURL: o.url, User: user, Password: o.passwordOf(user), Version: o.version,
		DeviceID: fmt.Sprintf("soak%05d", i), DeviceType: "LoadTest", UserAgent: "easd-load/1"}
	var inbox, junk, key string
	var err error
	for try := 0; ; try++ { // the servers may be restarting: retry set-up too
		if err = rep.timed("Provision", func() error { return c.Provision(ctx) }); err == nil {
			if inbox, err = prepare(ctx, c); err == nil {
				junk, err = folderOfType(ctx, c, 12, "Junk")
			}
		}
		if err == nil || try == 10 || time.Now().After(end) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if err != nil {
		return err
	}
	key = "0"
	next := o.users[(i+1)%len(o.users)]
	for n := 0; time.Now().Before(end); n++ {
		switch r := rand.IntN(10); {
		case r < 5: // Sync the Inbox
			err := rep.timed("Sync", func() error {
				var err error
				key, err = syncOnce(ctx, c, inbox, key)
				return err
			})
			if err != nil {
				time.Sleep(time.Second)
			}
		case r < 8: // send, sometimes as a phone that gives up and retries
			subject := fmt.Sprintf("soak %s %d", user, n)
			id := fmt.Sprintf("soak-%d", n)
			msg := fmt.Appendf(nil, "To: %s@example.test\r\nSubject: %s\r\n\r\nsoak message\r\n", next, subject)
			if rand.IntN(4) == 0 {
				gctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
				_, _ = c.SendMail(gctx, id, msg, true)
				cancel()
				rep.add("SendMail (given up)", 0, nil)
			}
			for try := 0; time.Now().Before(end.Add(2 * time.Minute)); try++ {
				var st int
				err := rep.timed("SendMail", func() error {
					var err error
					st, err = c.SendMail(ctx, id, msg, true)
					if err == nil && st != 1 {
						err = fmt.Errorf("status %d", st)
					}
					return err
				})
				if err == nil {
					sent.Store(subject, [2]string{user, next})
					break
				}
				time.Sleep(time.Second)
			}
		default: // move a message of the Inbox to Junk or back
			if err := rep.timed("MoveItems", func() error { return moveSome(ctx, o, c, user, inbox, junk) }); err != nil {
				time.Sleep(time.Second)
			}
		}
	}
	return nil
}

// syncOnce sends one Sync of folder and returns the next key; a key the
// server no longer knows starts over.
func syncOnce(ctx context.Context, c *client.Client, folder, key string) (string, error) {
	r, err := c.SyncFolder(ctx, folder, key, 100)
	if err != nil {
		return key, err
	}
	if r.Collections == nil || len(r.Collections.Collection) == 0 {
		return key, nil
	}
	col := r.Collections.Collection[0]
	switch col.Status {
	case 1:
		return col.SyncKey, nil
	case 3:
		return "0", fmt.Errorf("status 3")
	}
	return key, fmt.Errorf("status %d", col.Status)
}

// folderOfType finds a folder by type and name in a fresh FolderSync.
func folderOfType(ctx context.Context, c *client.Client, typ int, name string) (string, error) {
	fs, err := c.FolderSync(ctx, "0")
	if err != nil {
		return "", err
	}
	for _, f := range fs.Changes.Add {
		if f.Type == typ && f.DisplayName == name {
			return f.ServerID, nil
		}
	}
	return "", fmt.Errorf("no folder %s", name)
}

// moveSome moves the newest message of the Inbox to Junk (or of Junk back),
// by its UID read over IMAP.
func moveSome(ctx context.Context, o options, c *client.Client, user, inbox, junk string) error {
	src, dst, box := inbox, junk, "INBOX"
	if rand.IntN(2) == 0 {
		src, dst, box = junk, inbox, "Junk"
	}
	ic, err := imapclient.DialInsecure(o.imap, nil)
	if err != nil {
		return err
	}
	defer ic.Close()
	if err := ic.Login(user, o.passwordOf(user)).Wait(); err != nil {
		return err
	}
	sel, err := ic.Select(box, nil).Wait()
	if err != nil || sel.NumMessages == 0 {
		return err
	}
	uid := uint32(sel.UIDNext) - 1
	r, err := c.MoveItems(ctx, message.MoveItem{SrcMsgID: model.MailID{FolderID: src, UID: uid}.String(), SrcFldID: src, DstFldID: dst})
	if err != nil {
		return err
	}
	if len(r.Response) == 1 && r.Response[0].Status != 3 && r.Response[0].Status != 1 {
		return fmt.Errorf("status %d", r.Response[0].Status)
	}
	return nil
}

// pinger holds Pings on its user's Inbox until end.
func pinger(ctx context.Context, o options, i int, end time.Time, rep *report) {
	user := o.users[i%len(o.users)]
	c := &client.Client{BaseURL: o.url, User: user, Password: o.passwordOf(user), Version: o.version,
		DeviceID: fmt.Sprintf("soakping%03d", i), DeviceType: "LoadTest", UserAgent: "easd-load/1"}
	var inbox string
	for time.Now().Before(end) {
		if inbox == "" {
			var err error
			if err = c.Provision(ctx); err == nil {
				inbox, err = prepare(ctx, c)
			}
			if err != nil {
				time.Sleep(2 * time.Second)
				continue
			}
		}
		pctx, cancel := context.WithDeadline(ctx, end.Add(90*time.Second))
		err := rep.timed("Ping", func() error {
			_, err := c.Ping(pctx, 60*time.Second, message.PingFolder{ID: inbox, Class: "Email"})
			return err
		})
		cancel()
		if err != nil {
			time.Sleep(time.Second) // as a phone backs off
		}
	}
}

// badLogins sends a FolderSync with a wrong password every 200 ms; each
// must be refused, with 401 or, once the throttle holds, 503. They come
// from another address (o.badFrom), as an attacker's would: the throttle
// delays every login from an address with failures, and the soak
// measures the phones.
func badLogins(ctx context.Context, o options, end time.Time, rep *report) {
	hc := http.DefaultClient
	if o.badFrom != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(o.badFrom)}}
		hc = &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	}
	for i := 0; time.Now().Before(end); i++ {
		user := o.users[i%len(o.users)]
		c := &client.Client{BaseURL: o.url, User: user, Password: "wrong", Version: o.version, HTTP: hc,
			DeviceID: fmt.Sprintf("soakbad%03d", i%50), DeviceType: "LoadTest", UserAgent: "easd-load/1"}
		t0 := time.Now()
		_, err := c.FolderSync(ctx, "0")
		var he *client.HTTPError
		if errors.As(err, &he) && (he.Code == 401 || he.Code == 503 || he.Code == 429) {
			rep.add("bad login (refused)", time.Since(t0), nil)
		} else {
			rep.add("bad login (refused)", 0, fmt.Errorf("want 401 or 503, got %v", err))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkDelivered checks each acknowledged message over IMAP (once in the
// recipient's Inbox or Junk, once in the sender's Sent) and the send
// records in PostgreSQL.
func checkDelivered(ctx context.Context, o options, sent *sync.Map, w io.Writer) error {
	counts := map[string]map[string]int{} // user -> subject -> copies
	for _, user := range o.users {
		counts[user] = map[string]int{}
		for _, box := range []string{"INBOX", "Junk", "Sent"} {
			if err := countSubjects(o, user, box, counts[user], box == "Sent"); err != nil {
				return err
			}
		}
	}
	var acked, missing, dup, sentBad int
	sent.Range(func(k, v any) bool {
		acked++
		subject, who := k.(string), v.([2]string)
		switch n := counts[who[1]][subject]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
		if counts[who[0]]["sent:"+subject] != 1 {
			sentBad++
		}
		return true
	})
	fmt.Fprintf(w, "IMAP check: %d sends acknowledged; %d missing at the recipient, %d delivered more than once, %d without exactly one Sent copy\n",
		acked, missing, dup, sentBad)
	var rows, notDone, dupRows int
	if o.db != "" {
		conn, err := pgx.Connect(ctx, o.db)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE s.state <> 'done'),
			count(*) - count(DISTINCT (s.device_id, s.client_id))
			FROM sent_mail s JOIN devices d ON d.id = s.device_id WHERE d.device_id LIKE 'soak%'`).Scan(&rows, &notDone, &dupRows)
		if err != nil {
			return fmt.Errorf("sent_mail: %w", err)
		}
		fmt.Fprintf(w, "PostgreSQL check: %d send records of the soak devices, %d not finished, %d duplicated\n", rows, notDone, dupRows)
	}
	if missing+dup+sentBad+notDone+dupRows > 0 {
		return fmt.Errorf("lost or duplicated mail")
	}
	return nil
}

// countSubjects counts the messages of user's mailbox by Subject ("sent:"
// prefixed for Sent).
func countSubjects(o options, user, box string, into map[string]int, isSent bool) error {
	ic, err := imapclient.DialInsecure(o.imap, nil)
	if err != nil {
		return err
	}
	defer ic.Close()
	if err := ic.Login(user, o.passwordOf(user)).Wait(); err != nil {
		return err
	}
	sel, err := ic.Select(box, nil).Wait()
	if err != nil {
		return fmt.Errorf("%s %s: %w", user, box, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	msgs, err := ic.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return err
	}
	for _, m := range msgs {
		h, err := mail.ReadMessage(bytes.NewReader(append(m.FindBodySection(section), '\r', '\n')))
		if err != nil {
			continue
		}
		s := h.Header.Get("Subject")
		if !strings.HasPrefix(s, "soak ") {
			continue
		}
		if isSent {
			s = "sent:" + s
		}
		into[s]++
	}
	return nil
}
