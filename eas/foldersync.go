package eas

import (
	"errors"
	"fmt"
	"sort"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/syncstate"
)

func init() {
	addCommand("FolderSync", &commandSpec{root: "FolderHierarchy:FolderSync", run: folderSync})
}

// FolderSync statuses (MS-ASCMD 2.2.3.177.5).
const (
	folderSyncServerError Status = 6
	folderSyncBadKey      Status = 9
	folderSyncBadRequest  Status = 10
)

// folderSync sends the hierarchy changes since the client's key
// (MS-ASCMD 2.2.1.5). The hierarchy is the user's, shared by all devices,
// so a device starting over with key 0 gets the same folder ids back and
// need not download its mail again.
func folderSync(k *call) error {
	var req message.FolderSyncRequest
	if err := k.decodeRequired(&req, folderSyncBadRequest); err != nil {
		return err
	}
	if req.SyncKey == "" {
		return statusErr(folderSyncBadRequest, "FolderSync without SyncKey")
	}
	list, _, err := k.hierarchy()
	if err != nil {
		return mailServerDown(err, folderSyncServerError)
	}
	tx, err := k.s.sync.Begin(k.ctx(), k.dev.ID, syncstate.HierarchyID, req.SyncKey)
	if err != nil {
		return k.syncStateErr(err, folderSyncServerError)
	}
	defer tx.Rollback(k.ctx())
	if tx.KeyStatus() == syncstate.KeyUnknown {
		return statusErr(folderSyncBadKey, "unknown hierarchy key %q", req.SyncKey)
	}
	known, err := syncstate.DecodeItems(tx.State())
	if err != nil {
		return fmt.Errorf("hierarchy state: %w", err)
	}
	now, byID := hierarchyItems(list)
	adds, changes, deletes := syncstate.Diff(known, now)

	changesDoc := &message.FolderChanges{Count: len(adds) + len(changes) + len(deletes)}
	for _, id := range deletes {
		changesDoc.Delete = append(changesDoc.Delete, message.FolderDelete{ServerID: id})
	}
	for _, id := range changes {
		changesDoc.Update = append(changesDoc.Update, folderDoc(byID[id]))
	}
	for _, id := range parentsFirst(adds, byID) {
		changesDoc.Add = append(changesDoc.Add, folderDoc(byID[id]))
	}
	newKey, err := tx.Commit(k.ctx(), now.Encode())
	if err != nil {
		return k.syncStateErr(err, folderSyncServerError)
	}
	return k.respond(&message.FolderSyncResponse{Status: int(StatusOK), SyncKey: newKey, Changes: changesDoc})
}

// hierarchy reconciles and returns the user's folders (the mail server's
// mailboxes, easd's PIM folders and the Outbox) and the mail server's
// hierarchy separator.
func (k *call) hierarchy() ([]folders.Folder, rune, error) {
	mailboxes, err := k.s.opts.Mail.Mailboxes(k.ctx(), k.creds.Login, k.creds.Password)
	if err != nil {
		return nil, 0, &StatusError{Status: StatusMailboxServerOffline, Err: fmt.Errorf("list mailboxes: %w", err)}
	}
	var delim rune = '/'
	for _, m := range mailboxes {
		if m.Delim != 0 {
			delim = m.Delim
			break
		}
	}
	list, err := k.s.folders.Reconcile(k.ctx(), k.dev.UserID, mailboxes)
	if err != nil {
		return nil, 0, fmt.Errorf("reconcile folders: %w", err)
	}
	return list, delim, nil
}

// hierarchyItems is the hierarchy as sync-state items: folder id -> what a
// client shows of it, so a rename or move is an Update.
func hierarchyItems(list []folders.Folder) (syncstate.Items, map[string]folders.Folder) {
	items := make(syncstate.Items, len(list))
	for _, f := range list {
		items[f.ServerID] = folderVersion(f)
	}
	return items, folders.ByID(list)
}

// folderVersion is what a client shows of a folder.
func folderVersion(f folders.Folder) string {
	return fmt.Sprintf("%s/%d/%s", f.ParentID, f.Type, f.DisplayName)
}

func folderDoc(f folders.Folder) message.Folder {
	return message.Folder{ServerID: f.ServerID, ParentID: f.ParentID, DisplayName: f.DisplayName, Type: int(f.Type)}
}

// parentsFirst orders added folders so that a parent is added before its
// children; clients reject an Add whose ParentId they do not know.
func parentsFirst(ids []string, byID map[string]folders.Folder) []string {
	depth := func(id string) int { return len(ancestors(byID, id)) }
	out := append([]string(nil), ids...)
	sort.SliceStable(out, func(i, j int) bool { return depth(out[i]) < depth(out[j]) })
	return out
}

// syncStateErr maps sync-engine failures: a collection held too long by
// another request of the same device is a transient server error.
func (k *call) syncStateErr(err error, busy Status) error {
	if errors.Is(err, syncstate.ErrBusy) {
		return &StatusError{Status: busy, Err: err}
	}
	return err
}

// mailServerDown turns "mail server unreachable" into the command's own
// retryable status: clients know "server error, try again" for FolderSync
// and the folder commands better than the global 114.
func mailServerDown(err error, retry Status) error {
	var se *StatusError
	if errors.As(err, &se) && se.Status == StatusMailboxServerOffline {
		return &StatusError{Status: retry, Err: se.Err}
	}
	return err
}
