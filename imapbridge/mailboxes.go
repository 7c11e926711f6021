package imapbridge

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/easd/easd/eas/model"
)

// fallbackNames maps well-known mailbox names to EAS types for servers
// without SPECIAL-USE (compared case-insensitively on the top level).
var fallbackNames = map[string]model.FolderType{
	"drafts": model.FolderDrafts, "entwürfe": model.FolderDrafts,
	"sent": model.FolderSentItems, "sent items": model.FolderSentItems, "sent messages": model.FolderSentItems, "gesendet": model.FolderSentItems,
	"trash": model.FolderDeletedItems, "deleted items": model.FolderDeletedItems, "deleted messages": model.FolderDeletedItems, "papierkorb": model.FolderDeletedItems,
	"outbox": model.FolderOutbox,
}

// listMailboxes returns every mailbox of the logged-in user with its EAS
// type, INBOX first. Operator-configured names (exact mailbox name ->
// type) win over SPECIAL-USE attributes, which win over well-known names.
// Each type 3-6 is given to at most one mailbox.
func listMailboxes(ctx context.Context, c *imapclient.Client, configured map[string]model.FolderType) ([]model.Mailbox, error) {
	caps := c.Caps()
	opts := &imap.ListOptions{}
	if caps.Has(imap.CapSpecialUse) {
		opts.ReturnSpecialUse = true
	}
	if caps.Has(imap.CapListStatus) || caps.Has(imap.CapIMAP4rev2) {
		opts.ReturnStatus = &imap.StatusOptions{UIDValidity: true}
	}
	list, err := c.List("", "*", opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("imap: list: %w", err)
	}
	out := make([]model.Mailbox, 0, len(list))
	taken := map[model.FolderType]bool{}
	for _, d := range list {
		if hasAttr(d.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		m := model.Mailbox{Name: d.Mailbox, Delim: d.Delim, Type: model.FolderUserMail,
			NoSelect: hasAttr(d.Attrs, imap.MailboxAttrNoSelect)}
		if d.Status != nil {
			m.UIDValidity = d.Status.UIDValidity
		}
		switch {
		case strings.EqualFold(m.Name, "INBOX"):
			m.Type = model.FolderInbox
		case hasAttr(d.Attrs, imap.MailboxAttrDrafts):
			m.Type = model.FolderDrafts
		case hasAttr(d.Attrs, imap.MailboxAttrSent):
			m.Type = model.FolderSentItems
		case hasAttr(d.Attrs, imap.MailboxAttrTrash):
			m.Type = model.FolderDeletedItems
		}
		if taken[m.Type] && m.Type != model.FolderUserMail {
			m.Type = model.FolderUserMail
		}
		taken[m.Type] = true
		out = append(out, m)
	}
	if len(configured) > 0 {
		for i := range out {
			if t, ok := configured[out[i].Name]; ok {
				for j := range out { // the type moves to the configured mailbox
					if out[j].Type == t {
						out[j].Type = model.FolderUserMail
					}
				}
				out[i].Type = t
				taken[t] = true
			}
		}
	}
	// Name fallback only for types SPECIAL-USE did not assign.
	for i := range out {
		if out[i].Type != model.FolderUserMail || out[i].Parent() != "" {
			continue
		}
		if t, ok := fallbackNames[strings.ToLower(out[i].Name)]; ok && !taken[t] {
			out[i].Type = t
			taken[t] = true
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].Type == model.FolderInbox) != (out[j].Type == model.FolderInbox) {
			return out[i].Type == model.FolderInbox
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}
