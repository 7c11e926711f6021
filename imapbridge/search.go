package imapbridge

import (
	"context"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Search runs one UID SEARCH on mailbox: TEXT for the phone's free text
// (headers and body, as a phone's search box means it), SINCE and BEFORE
// for a date range, then one FETCH of the hits' INTERNALDATE, by which
// the caller orders the results of several mailboxes newest first.
// A range's bounds are days in IMAP; the caller filters the exact times.
func (m *MailSession) Search(ctx context.Context, mailbox, text string, since, before time.Time) (_ []uint32, _ []time.Time, err error) {
	defer m.track(&err)()
	if _, err := m.selectBox(mailbox, false); err != nil {
		return nil, nil, err
	}
	c := &imap.SearchCriteria{}
	if text != "" {
		c.Text = []string{text}
	}
	if !since.IsZero() {
		c.Since = since.UTC().Truncate(24 * time.Hour)
	}
	if !before.IsZero() {
		// BEFORE excludes its day: the next day keeps the bound's own.
		c.Before = before.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	uids, err := m.search(c)
	if err != nil || len(uids) == 0 {
		return nil, nil, err
	}
	dates := map[uint32]time.Time{}
	m.commands++
	cmd := m.c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, InternalDate: true})
	err = eachMessage(cmd, func(msg *imapclient.FetchMessageData) error {
		buf, err := msg.Collect()
		if err == nil {
			dates[uint32(buf.UID)] = buf.InternalDate
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("imap: fetch dates %s: %w", mailbox, err)
	}
	outU := make([]uint32, 0, len(uids))
	outD := make([]time.Time, 0, len(uids))
	for _, uid := range uids {
		d, ok := dates[uid]
		if !ok {
			continue // expunged meanwhile
		}
		if (!since.IsZero() && d.Before(since)) || (!before.IsZero() && !d.Before(before)) {
			continue
		}
		outU, outD = append(outU, uid), append(outD, d)
	}
	return outU, outD, nil
}
