package eas

import (
	"errors"
	"fmt"
	"strings"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

func init() {
	addCommand("Search", &commandSpec{root: "Search:Search", run: searchCmd})
}

// Search statuses: of the command (MS-ASCMD 2.2.3.177.12) and of the
// store (2.2.3.177.13).
const (
	searchOK          Status = 1
	searchBadRequest  Status = 2
	searchServerError Status = 3
	searchTooComplex  Status = 8
)

// searchCmd answers Search (MS-ASCMD 2.2.1.16). Store "Mailbox" runs an
// IMAP SEARCH per folder (runMailSearch): FreeText is IMAP TEXT (headers
// and body), a date range is SINCE/BEFORE refined by INTERNALDATE,
// ConversationId is matched on the converted items. Results are newest
// first and are whole items rendered with the request's BodyPreference;
// LongId is the message's ServerId, which ItemOperations fetches. Every
// search is run afresh, so RebuildResults changes nothing. Store "GAL"
// searches the directory (searchGAL); any other store (such as
// DocumentLibrary) is answered with Store Status 2.
func searchCmd(k *call) error {
	var req message.SearchRequest
	if err := k.decodeRequired(&req, StatusInvalidWBXML); err != nil {
		return err
	}
	store := searchStore(k, req.Store)
	return k.respond(&message.SearchResponse{Status: int(searchOK),
		Response: &message.SearchResponseContent{Store: store}})
}

// searchStore answers the request's one store.
func searchStore(k *call, s message.SearchStore) message.SearchResponseStore {
	empty := message.SearchResponseStore{Status: int(searchOK), Result: []message.SearchResult{{}}, Total: new(0)}
	switch strings.ToLower(strings.TrimSpace(s.Name)) {
	case "gal":
		return searchGAL(k, s)
	case "mailbox":
	default:
		return message.SearchResponseStore{Status: int(searchBadRequest)}
	}
	q := mailQuery{}
	opts := s.Options
	if opts == nil {
		opts = &message.SearchOptions{}
	}
	var err error
	if q.first, q.last, err = parseRange(opts.Range); err != nil {
		k.log.Info("search: bad request", "err", err)
		return message.SearchResponseStore{Status: int(searchBadRequest)}
	}
	q.deep = opts.DeepTraversal
	noMail, err := parseMailQuery(s.Query, &q)
	if err != nil {
		k.log.Info("search: query not supported", "err", err)
		return message.SearchResponseStore{Status: int(searchTooComplex)}
	}
	if noMail {
		return empty
	}
	fetch := model.MailFetchOptions{Version: k.version, BodyPreferences: opts.BodyPreference, MIMESupport: opts.MIMESupport}
	res, err := searchMail(k, q, fetch, true)
	switch {
	case errors.Is(err, errSearchFolder):
		// An unknown folder: the client's hierarchy is stale.
		k.log.Info("search: folder", "err", err)
		return message.SearchResponseStore{Status: int(searchFolderSyncRequired)}
	case err != nil:
		k.log.Warn("search failed", "err", err)
		return message.SearchResponseStore{Status: int(searchServerError)}
	}
	out := message.SearchResponseStore{Status: int(searchOK), Total: new(res.total), Range: res.rangeString()}
	for _, h := range res.hits {
		out.Result = append(out.Result, message.SearchResult{Class: string(model.ClassEmail),
			LongID: model.MailID{FolderID: h.folder.ServerID, UID: h.uid}.String(), CollectionID: h.folder.ServerID,
			Properties: h.item})
	}
	if len(out.Result) == 0 {
		out.Result = []message.SearchResult{{}}
	}
	return out
}

// searchFolderSyncRequired: Store Status 11 (MS-ASCMD 2.2.3.177.13).
const searchFolderSyncRequired Status = 11

// errSearchFolder: the query names a folder that is not a mail folder
// of the user.
var errSearchFolder = errors.New("no such mail folder")

// searchMail runs a mail query for the call's user on a session of its
// own; with flags, the hits' Flags carry the stored flag details (Find's
// summary has no Flag).
func searchMail(k *call, q mailQuery, fetch model.MailFetchOptions, flags bool) (*mailSearch, error) {
	list, err := k.s.folders.List(k.ctx(), k.dev.UserID)
	if err != nil {
		return nil, fmt.Errorf("folders: %w", err)
	}
	fs, ok := searchFolders(list, q, k.s.isMail)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errSearchFolder, q.collection)
	}
	if k.s.opts.MailSync == nil {
		return nil, errors.New("no mail store configured")
	}
	sess, err := k.s.opts.MailSync.OpenMail(k.ctx(), k.creds.Login, k.creds.Password)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	res, err := runMailSearch(k.ctx(), sess, fs, q, fetch)
	if err != nil || !flags {
		return res, err
	}
	return res, hitFlags(k, sess, res.hits)
}

// hitFlags renders the Flags of hits with their stored details, one
// query per folder with hits.
func hitFlags(k *call, sess MailSession, hits []mailHit) error {
	for _, idx := range hitsByFolder(hits) {
		items := make([]model.MailItem, len(idx))
		for j, i := range idx {
			items[j] = model.MailItem{UID: hits[i].uid, Data: hits[i].item}
		}
		if err := applyStoredFlags(k.ctx(), k.s.opts.Pool, k.dev.UserID, sess, hits[idx[0]].folder, items); err != nil {
			return err
		}
		for j, i := range idx {
			hits[i].item = items[j].Data
		}
	}
	return nil
}

// emailOf is the Email of a rendered item.
func emailOf(item any) (*message.Email, bool) {
	e, ok := item.(*message.Email)
	return e, ok && e != nil
}
