package eas

import (
	"fmt"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/syncstate"
)

func init() {
	addCommand("GetItemEstimate", &commandSpec{root: "GetItemEstimate:GetItemEstimate", run: getItemEstimate})
}

// GetItemEstimate statuses (MS-ASCMD 2.2.3.177.7).
const (
	estimateOK             Status = 1
	estimateBadCollection  Status = 2
	estimateNotPrimed      Status = 3
	estimateBadKey         Status = 4
	estimateServerProblems Status = 111
)

// getItemEstimate tells how many changes (adds, changes, deletes) the
// next Sync of each collection would bring, honouring its FilterType. It
// changes no state. Each folder's class counts its own (collection.go);
// the Outbox holds nothing: 0.
func getItemEstimate(k *call) error {
	var req message.GetItemEstimateRequest
	if err := k.decodeRequired(&req, StatusInvalidWBXML); err != nil {
		return err
	}
	if req.Collections == nil || len(req.Collections.Collection) == 0 {
		return statusErr(estimateBadCollection, "GetItemEstimate without collections")
	}
	list, err := k.s.folders.List(k.ctx(), k.dev.UserID)
	if err != nil {
		return fmt.Errorf("getitemestimate: folders: %w", err)
	}
	sc := &syncRun{k: k, conn: mailConn{k: k}, byID: folders.ByID(list)}
	defer sc.conn.drop()
	resp := &message.GetItemEstimateResponse{}
	for _, c := range req.Collections.Collection {
		n, st := sc.estimate(c)
		if !statusInBody(st, k.version) {
			// 111 is a global status: a client before 14.0 knows only
			// GetItemEstimate's 1-4 and learns "try later" from HTTP 503.
			return statusErr(StatusServerErrorRetryLater, "getitemestimate: collection %s: server problems", c.CollectionID)
		}
		r := message.GetItemEstimateResult{Status: int(st)}
		if st == estimateOK {
			r.Collection = &message.GetItemEstimateCount{CollectionID: c.CollectionID, Estimate: n}
			if k.version < 140 {
				r.Collection.Class = c.Class
			}
		}
		resp.Response = append(resp.Response, r)
	}
	return k.respond(resp)
}

// estimate counts the pending changes of one collection.
func (sc *syncRun) estimate(c message.GetItemEstimateCollection) (int, Status) {
	k := sc.k
	f, ok := sc.byID[c.CollectionID]
	if !ok {
		return 0, estimateBadCollection
	}
	ctx := k.ctx()
	release, err := k.dbSlot(ctx)
	if err != nil {
		k.log.Warn("getitemestimate: no database slot", "collection", c.CollectionID, "err", err)
		return 0, estimateServerProblems
	}
	defer release()
	tx, err := k.s.sync.Begin(ctx, k.dev.ID, c.CollectionID, c.SyncKey)
	if err != nil {
		k.log.Warn("getitemestimate: sync state", "collection", c.CollectionID, "err", err)
		return 0, estimateServerProblems
	}
	defer tx.Rollback(ctx) // read only
	switch tx.KeyStatus() {
	case syncstate.KeyUnknown:
		return 0, estimateBadKey
	case syncstate.KeyInitial:
		return 0, estimateNotPrimed
	}
	return k.s.classOf(f).estimate(sc, c, f, tx)
}

// estimateMail counts the pending changes of a mail collection.
func (sc *syncRun) estimateMail(c message.GetItemEstimateCollection, f folders.Folder, tx *syncstate.Tx) (int, Status) {
	k := sc.k
	var err error
	col := message.SyncCollection{SyncKey: c.SyncKey, CollectionID: c.CollectionID, Options: c.Options}
	if c.FilterType != nil {
		col.Options = append(col.Options, message.SyncOptions{FilterType: c.FilterType})
	}
	m := &mailSync{sc: sc, col: col, f: f, tx: tx}
	if m.st, err = decodeMailState(tx.State()); err != nil {
		return 0, estimateBadKey
	}
	if err := m.options(); err != nil {
		return 0, estimateBadCollection
	}
	n, err := m.pending()
	if err != nil {
		sc.conn.drop()
		k.log.Warn("getitemestimate: mail", "collection", c.CollectionID, "err", err)
		return 0, estimateServerProblems
	}
	return n, estimateOK
}

// pending counts the server changes a Sync would send now: 0 after one
// STATUS when nothing changed, else from a listing (no message is read).
func (m *mailSync) pending() (int, error) {
	sess, err := m.sc.conn.session()
	if err != nil {
		return 0, err
	}
	m.sess = sess
	ctx := m.sc.k.ctx()
	if !m.st.pending && m.st.filterDay == m.filterDay() && m.st.status.HighestModSeq != 0 {
		st, err := sess.Status(ctx, m.f.IMAPName)
		if err != nil {
			return 0, err
		}
		if st == m.st.status {
			return 0, nil
		}
	}
	if err := m.st.decodeItems(); err != nil {
		return 0, err
	}
	listing, err := sess.List(ctx, m.f.IMAPName, m.listOptions())
	if err != nil {
		return 0, err
	}
	adds, changes, deletes := syncstate.Diff(m.st.items, m.nowItems(listing))
	return len(adds) + len(changes) + len(deletes), nil
}
