package eas

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// mailQuery is a mailbox search as Search and Find ask for it.
type mailQuery struct {
	text         string    // free text, "" for any
	collection   string    // folder id; "" for every mail folder
	deep         bool      // the folder's subfolders too
	since        time.Time // received after (zero: unbounded)
	before       time.Time // received before (zero: unbounded)
	conversation []byte    // Email2:ConversationId to match, nil for any
	first, last  int       // the range of results wanted, inclusive
}

// Bounds of a mail search: results per request (MS-ASCMD allows a client
// to ask for more, but the answer carries whole items), and messages
// whose conversation id is computed for one EqualTo ConversationId.
const (
	maxSearchResults       = 100
	maxConversationScanned = 1000
)

// errSearchRange: a malformed Range.
var errSearchRange = errors.New("malformed Range")

// parseRange reads "first-last" (zero-based, inclusive); "" is "0-9".
// A range longer than maxSearchResults is cut.
func parseRange(s string) (first, last int, err error) {
	if s == "" {
		return 0, 9, nil
	}
	a, b, ok := strings.Cut(s, "-")
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, fmt.Errorf("%w %q", errSearchRange, s)
	}
	return first, min(last, first+maxSearchResults-1), nil
}

// mailHit is one found message.
type mailHit struct {
	folder folders.Folder
	uid    uint32
	when   time.Time
	item   any // the rendered item, for the hits of the range
}

// mailSearch is the outcome: the hits of the range, in order, and how
// many there are in all.
type mailSearch struct {
	hits  []mailHit
	total int
	first int
}

// rangeString is the Range of the answer: the results actually sent.
func (r *mailSearch) rangeString() string {
	if len(r.hits) == 0 {
		return ""
	}
	return fmt.Sprintf("%d-%d", r.first, r.first+len(r.hits)-1)
}

// searchFolders picks the folders a query covers: every mail folder
// (Android sends no CollectionId, Outlook sends 0), or one folder and,
// with DeepTraversal, its subfolders. ok is false for an unknown
// folder; a folder of another class holds no mail.
func searchFolders(list []folders.Folder, q mailQuery, isMail func(folders.Folder) bool) (out []folders.Folder, ok bool) {
	if q.collection == "" || q.collection == "0" {
		for _, f := range list {
			if isMail(f) {
				out = append(out, f)
			}
		}
		return out, true
	}
	byID := folders.ByID(list)
	if f, ok := byID[q.collection]; ok && !isMail(f) {
		return nil, true // a contacts or calendar folder: no mail
	}
	for _, f := range list {
		if isMail(f) && (f.ServerID == q.collection ||
			q.deep && isDescendant(byID, f.ServerID, q.collection)) {
			out = append(out, f)
		}
	}
	return out, len(out) > 0
}

// runMailSearch searches the folders with one IMAP SEARCH each, orders
// the hits newest first and renders the hits of the range with fetch.
// A folder whose mailbox is gone or cannot be opened is skipped: the
// client's hierarchy is stale there, and the rest still answers.
func runMailSearch(ctx context.Context, sess MailSession, fs []folders.Folder, q mailQuery,
	fetch model.MailFetchOptions) (*mailSearch, error) {
	var hits []mailHit
	for _, f := range fs {
		uids, dates, err := sess.Search(ctx, f.IMAPName, q.text, q.since, q.before)
		if errors.Is(err, model.ErrMailboxGone) || errors.Is(err, model.ErrNotSelectable) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for i, uid := range uids {
			hits = append(hits, mailHit{folder: f, uid: uid, when: dates[i]})
		}
	}
	slices.SortFunc(hits, func(a, b mailHit) int {
		if c := b.when.Compare(a.when); c != 0 {
			return c
		}
		if c := cmp.Compare(a.folder.ServerID, b.folder.ServerID); c != 0 {
			return c
		}
		return cmp.Compare(b.uid, a.uid)
	})
	if q.conversation != nil {
		var err error
		if hits, err = sameConversation(ctx, sess, hits, q.conversation, fetch.Version); err != nil {
			return nil, err
		}
	}
	res := &mailSearch{total: len(hits), first: q.first}
	if q.first >= len(hits) {
		return res, nil
	}
	window := hits[q.first:min(q.last+1, len(hits))]
	if err := renderHits(ctx, sess, window, fetch); err != nil {
		return nil, err
	}
	for _, h := range window {
		if h.item != nil { // nil: expunged since the SEARCH
			res.hits = append(res.hits, h)
		}
	}
	return res, nil
}

// renderHits fetches the items of hits, one FETCH per folder.
func renderHits(ctx context.Context, sess MailSession, hits []mailHit, fetch model.MailFetchOptions) error {
	for _, idx := range hitsByFolder(hits) {
		f := hits[idx[0]].folder
		uids := make([]uint32, len(idx))
		at := map[uint32]int{}
		for j, i := range idx {
			uids[j], at[hits[i].uid] = hits[i].uid, i
		}
		opts := fetch
		opts.FolderID = f.ServerID
		items, err := sess.Fetch(ctx, f.IMAPName, uids, opts)
		if err != nil {
			return err
		}
		for _, it := range items {
			hits[at[it.UID]].item = it.Data
		}
	}
	return nil
}

// hitsByFolder groups the indexes of hits by folder id.
func hitsByFolder(hits []mailHit) map[string][]int {
	out := map[string][]int{}
	for i, h := range hits {
		out[h.folder.ServerID] = append(out[h.folder.ServerID], i)
	}
	return out
}

// sameConversation keeps the hits whose Email2:ConversationId is id. IMAP
// cannot search for it (it is derived from the thread headers, see
// package mailconv), so the newest maxConversationScanned hits are
// converted and compared; phones ask for it with a text or a folder that
// makes the candidates few.
func sameConversation(ctx context.Context, sess MailSession, hits []mailHit, id []byte, version int) ([]mailHit, error) {
	cand := hits[:min(len(hits), maxConversationScanned)]
	// The id comes from the headers: ask for the smallest body.
	fetch := model.MailFetchOptions{Version: max(version, 140),
		BodyPreferences: []message.BodyPreference{{Type: message.BodyPlain, TruncationSize: new(uint32(1))}}}
	if err := renderHits(ctx, sess, cand, fetch); err != nil {
		return nil, err
	}
	var out []mailHit
	for _, h := range cand {
		if e, ok := emailOf(h.item); ok && bytes.Equal(e.ConversationID, id) {
			h.item = nil // rendered again with the client's options
			out = append(out, h)
		}
	}
	return out, nil
}
