package eas

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/eas/syncstate"
)

func init() {
	addCommand("MoveItems", &commandSpec{root: "Move:MoveItems", run: moveItemsCmd})
}

// MoveItems statuses (MS-ASCMD 2.2.3.177.9).
const (
	moveBadSource Status = 1
	moveBadDest   Status = 2
	moveOK        Status = 3
	moveSameDir   Status = 4
	moveFailed    Status = 5
	moveLocked    Status = 7
)

// moveItemsCmd answers MoveItems (MS-ASCMD 2.2.1.12) for mail: each Move
// is one IMAP MOVE (COPY and expunge where the server lacks MOVE), and
// the new ServerId comes from the server's COPYUID answer or, on a server
// without UIDPLUS, from finding the message in the destination by its
// Message-ID (imapbridge Move).
//
// The client has already moved the item in its own view: it holds it in
// the destination under the new ServerId. So, in the same transaction
// that records the move, this device's sync states of both folders are
// amended (source UID out, destination UID in with its flags version):
// its next Sync of either folder reports nothing for the move, while
// other devices see a Delete and an Add as usual. The collections' rows
// are locked across the IMAP MOVE, so a Sync of the same device on either
// folder waits and never reports half of the move.
//
// A re-sent MoveItems (the response was lost) finds the message gone from
// the source; the move recorded for this device (table mail_moves)
// answers it with the same new ServerId, so the client neither shows the
// message twice nor loses it. Without such a record a missing source is
// Status 1, as the spec has it.
//
// The moves run on a context of their own, not the request's: a phone
// that hangs up (its time limit, a lost network) after the mail server
// moved a message must not roll back the record of that move, or its
// re-sent request finds the message gone and no record, and answers 1.
// moveFinishTimeout bounds that work.
func moveItemsCmd(k *call) error {
	var req message.MoveItemsRequest
	if err := k.decodeRequired(&req, StatusInvalidWBXML); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx()), moveFinishTimeout)
	defer cancel()
	list, err := k.s.folders.List(ctx, k.dev.UserID)
	if err != nil {
		return fmt.Errorf("moveitems: folders: %w", err)
	}
	mv := &mover{k: k, ctx: ctx, conn: mailConn{k: k, ctx: ctx}, byID: folders.ByID(list)}
	defer mv.conn.drop()
	resp := &message.MoveItemsResponse{}
	for _, m := range req.Move {
		resp.Response = append(resp.Response, mv.move(m))
	}
	return k.respond(resp)
}

// moveFinishTimeout bounds the moves of one request once they no longer
// depend on the phone.
const moveFinishTimeout = 2 * time.Minute

// mover runs the Moves of one request on one mail session.
type mover struct {
	k    *call
	ctx  context.Context // detached from the request (see moveItemsCmd)
	byID map[string]folders.Folder
	conn mailConn
}

// move answers one Move through the folders' class: items move only
// between folders of one class (mail to mail, contacts to contacts).
func (mv *mover) move(m message.MoveItem) message.MoveItemsResult {
	r := message.MoveItemsResult{SrcMsgID: m.SrcMsgID}
	src, okSrc := mv.byID[m.SrcFldID]
	dst, okDst := mv.byID[m.DstFldID]
	var cls itemMoverClass
	if okSrc {
		cls, okSrc = mv.k.s.classOf(src).(itemMoverClass)
	}
	switch {
	case !okSrc:
		r.Status = int(moveBadSource)
	case !okDst || !mv.sameClass(src, dst):
		r.Status = int(moveBadDest)
	case src.ServerID == dst.ServerID:
		r.Status = int(moveSameDir)
	default:
		return cls.moveItem(mv, m, src, dst)
	}
	return r
}

// sameClass reports whether dst holds items of src's class in the same
// backend: mail to mail (not to the Outbox), contacts to contacts. It
// compares kinds, never the classes' values, which hold interfaces a
// store may implement with an incomparable type.
func (mv *mover) sameClass(src, dst folders.Folder) bool {
	if src.Type.Class() != dst.Type.Class() {
		return false
	}
	_, moves := mv.k.s.classOf(dst).(itemMoverClass)
	return moves
}

// moveMail moves one message between mail folders.
func (mv *mover) moveMail(m message.MoveItem, src, dst folders.Folder) message.MoveItemsResult {
	r := message.MoveItemsResult{SrcMsgID: m.SrcMsgID}
	id, err := model.ParseMailID(m.SrcMsgID)
	if err != nil || id.FolderID != src.ServerID {
		r.Status = int(moveBadSource)
		return r
	}
	newID, st, err := mv.run(id, src, dst)
	return mv.result(m, newID, st, err)
}

// result is the answer to one Move that was tried; a failure is logged.
func (mv *mover) result(m message.MoveItem, newID string, st Status, err error) message.MoveItemsResult {
	r := message.MoveItemsResult{SrcMsgID: m.SrcMsgID, Status: int(st)}
	if st == moveOK {
		r.DstMsgID = newID
	}
	if err != nil {
		mv.k.log.Warn("moveitems failed", "src", m.SrcMsgID, "dst_folder", m.DstFldID, "status", st, "err", err)
	}
	return r
}

// run moves one message and amends this device's sync states, or finds
// the record of an earlier identical move.
func (mv *mover) run(id model.MailID, src, dst folders.Folder) (string, Status, error) {
	ctx := mv.ctx
	release, err := mv.k.dbSlot(ctx)
	if err != nil {
		return "", moveFailed, err
	}
	defer release()
	tx, err := beginMoveTx(ctx, mv.k.s.opts.Pool, mv.k.dev.ID, src.ServerID, dst.ServerID)
	if err != nil {
		if errors.Is(err, syncstate.ErrBusy) {
			return "", moveLocked, err
		}
		return "", moveFailed, err
	}
	defer tx.rollback(ctx)
	sess, err := mv.conn.session()
	if err != nil {
		return "", moveFailed, err
	}
	newUID, flags, ok, err := sess.Move(ctx, src.IMAPName, id.UID, dst.IMAPName)
	if err != nil {
		st := moveFailed
		if errors.Is(err, model.ErrMailboxGone) {
			st = mv.goneStatus(ctx, src)
		} else {
			mv.conn.drop()
		}
		return "", st, err
	}
	if !ok {
		prev, found, err := tx.lookup(ctx, id.String(), dst.ServerID)
		switch {
		case err != nil:
			return "", moveFailed, err
		case found:
			return prev, moveOK, nil // a re-sent request
		}
		return "", moveBadSource, nil
	}
	newID := model.MailID{FolderID: dst.ServerID, UID: newUID}.String()
	// From here on the message has moved: a failure leaves the states as
	// they were, and the next Sync reports a Delete and an Add, which is
	// right for a client that was told the move failed.
	if err := tx.amend(ctx, src.ServerID, func(s *mailState) { delete(s.items, uidKey(id.UID)) }); err != nil {
		return "", moveFailed, err
	}
	if err := tx.amend(ctx, dst.ServerID, func(s *mailState) { s.items[uidKey(newUID)] = flags.Version() }); err != nil {
		return "", moveFailed, err
	}
	if err := tx.record(ctx, id.String(), dst.ServerID, newID); err != nil {
		return "", moveFailed, err
	}
	if err := mv.moveFlagDetails(ctx, tx, sess, id.UID, src, dst, newUID); err != nil {
		return "", moveFailed, err
	}
	if err := tx.commit(ctx); err != nil {
		return "", moveFailed, err
	}
	return newID, moveOK, nil
}

// goneStatus tells which mailbox of a failed move is gone: the source
// (Status 1) or else the destination (2). It costs a STATUS, on the error
// path only.
func (mv *mover) goneStatus(ctx context.Context, src folders.Folder) Status {
	sess, err := mv.conn.session()
	if err != nil {
		return moveFailed
	}
	if _, err := sess.Status(ctx, src.IMAPName); errors.Is(err, model.ErrMailboxGone) {
		return moveBadSource
	}
	return moveBadDest
}

// moveFlagDetails makes the stored flag details of a moved message follow
// it to its new ServerId, in the move's transaction (a re-sent request
// finds them moved already). Only a message with details costs more: the
// UIDVALIDITYs of both mailboxes name its old and new row, the source's
// known from the SELECT the move made, the destination's one STATUS.
// Should the mail server not answer, the move stands and the message
// shows the default flag in its new folder.
func (mv *mover) moveFlagDetails(ctx context.Context, tx *moveTx, sess MailSession, uid uint32, src, dst folders.Folder, newUID uint32) error {
	user := mv.k.dev.UserID
	rows, err := readMessageFlags(ctx, tx.tx, user, src.ServerID, []uint32{uid})
	if err != nil || len(rows) == 0 {
		return err
	}
	var srcUV, dstUV uint32
	if srcUV, err = sess.UIDValidity(ctx, src.IMAPName); err == nil {
		dstUV, err = sess.UIDValidity(ctx, dst.IMAPName)
	}
	if err == nil {
		var w flagWrites
		w.move(mailboxKey{user: user, folder: src.ServerID, uidValidity: srcUV},
			mailboxKey{user: user, folder: dst.ServerID, uidValidity: dstUV}, map[uint32]uint32{uid: newUID})
		return w.send(ctx, tx.tx)
	}
	mv.k.log.Warn("moveitems: flag details not moved", "src", model.MailID{FolderID: src.ServerID, UID: uid}.String(), "err", err)
	return nil
}

// moveStoreItem moves one item between folders of a store class (two
// address books), amending this device's states of both folders in the
// move's transaction as for mail, and recording the move, so a re-sent
// request gets the same new ServerId.
func (mv *mover) moveStoreItem(store model.ItemStore, m message.MoveItem, src, dst folders.Folder) message.MoveItemsResult {
	st, newID, err := mv.runStoreMove(store, m.SrcMsgID, src, dst)
	return mv.result(m, newID, st, err)
}

func (mv *mover) runStoreMove(store model.ItemStore, srcID string, src, dst folders.Folder) (Status, string, error) {
	im, ok := store.(model.ItemMover)
	if !ok {
		return moveBadDest, "", nil
	}
	ctx, k := mv.ctx, mv.k
	tx, err := beginMoveTx(ctx, k.s.opts.Pool, k.dev.ID, src.ServerID, dst.ServerID)
	if err != nil {
		if errors.Is(err, syncstate.ErrBusy) {
			return moveLocked, "", err
		}
		return moveFailed, "", err
	}
	defer tx.rollback(ctx)
	it, err := im.Move(ctx, tx.tx, k.dev.UserID, src.ServerID, srcID, dst.ServerID)
	if errors.Is(err, model.ErrItemNotFound) {
		prev, found, err := tx.lookup(ctx, srcID, dst.ServerID)
		switch {
		case err != nil:
			return moveFailed, "", err
		case found:
			return moveOK, prev, nil // a re-sent request
		}
		return moveBadSource, "", nil
	}
	if err != nil {
		return moveFailed, "", err
	}
	version := strconv.FormatInt(it.Version, 10)
	dev := []int64{k.dev.ID}
	if err := amendItemStates(ctx, tx.tx, dev, src.ServerID, func(s *itemState) { delete(s.items, srcID) }); err != nil {
		return moveFailed, "", err
	}
	if err := amendItemStates(ctx, tx.tx, dev, dst.ServerID, func(s *itemState) { s.items[it.ServerID] = version }); err != nil {
		return moveFailed, "", err
	}
	if err := tx.record(ctx, srcID, dst.ServerID, it.ServerID); err != nil {
		return moveFailed, "", err
	}
	if err := tx.commit(ctx); err != nil {
		return moveFailed, "", err
	}
	return moveOK, it.ServerID, nil
}
