package eas

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/easd/easd/eas/folders"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/mailconv"
)

func init() {
	addCommand("MeetingResponse", &commandSpec{root: "MeetingResponse:MeetingResponse", run: meetingResponse})
}

// MeetingResponse statuses (MS-ASCMD 2.2.3.177.9).
const (
	mrOK             Status = 1
	mrInvalidRequest Status = 2 // not a meeting request of the user's, or a malformed Request
	mrMailboxError   Status = 3 // the mail server failed
	mrServerError    Status = 4
)

// meetingResponseMax bounds the answers of one request.
const meetingResponseMax = 100

// meetingResponse answers meeting requests (MS-ASCMD 2.2.1.11): accept,
// tentative or decline, for a meeting mail (RequestId its ServerId, or a
// Search LongId) or a calendar item (16.x; Outlook does so at every
// version, see quirks.go). The calendar item is updated (PARTSTAT, busy
// status; a declined meeting leaves the calendar) in one transaction per
// answer, and its ServerId returned as CalendarId. The request's mail
// then moves to Deleted Items, as Exchange files answered requests.
//
// Who tells the organizer: up to 14.1 the phone sends the reply mail
// itself (through SendMail), so the server sends nothing; from 16.0 the
// server sends the iMIP REPLY when the request has SendResponse (with the
// user's text, and as a COUNTER when it proposes a new time), queued with
// the answer and submitted after the commit, once per (meeting, answer).
func meetingResponse(k *call) error {
	var req message.MeetingResponseRequest
	if err := k.decodeRequired(&req, StatusInvalidContent); err != nil {
		return err
	}
	m := k.s.opts.Meetings
	if m == nil {
		return statusErr(StatusCommandNotSupported, "no calendar configured")
	}
	if len(req.Request) == 0 || len(req.Request) > meetingResponseMax {
		return statusErr(StatusInvalidContent, "%d requests", len(req.Request))
	}
	self, err := k.userAddress()
	if err != nil {
		return err
	}
	list, err := k.s.folders.List(k.ctx(), k.dev.UserID)
	if err != nil {
		return err
	}
	resp := message.MeetingResponseResponse{}
	replies := false
	conn := mailConn{k: k}
	defer conn.drop()
	for _, r := range req.Request {
		res := message.MeetingResponseResult{RequestID: r.RequestID, LongID: r.LongID}
		a, mail, st, err := k.meetingAnswer(r, self, list)
		if err == nil {
			res.CalendarID, err = k.answerMeeting(m, a)
			st = statusOfAnswer(err)
			replies = replies || (a.Reply && err == nil)
		}
		if err == nil && mail != nil {
			k.trashRequest(&conn, mail, folders.Trash(list))
		}
		if err != nil {
			k.log.Info("meetingresponse: request refused", "request", r.RequestID, "status", int(st), "err", err)
		}
		res.Status = int(st)
		resp.Result = append(resp.Result, res)
	}
	if replies {
		k.flushMeetings()
	}
	return k.respond(&resp)
}

// meetingAnswer reads one Request into an answer: where the meeting is
// and what the user says.
func (k *call) meetingAnswer(r message.MeetingResponseRequestItem, self string, list []folders.Folder) (model.MeetingAnswer, *requestMail, Status, error) {
	a := model.MeetingAnswer{Self: self, Response: r.UserResponse, Zone: k.s.opts.Zone}
	if r.UserResponse < message.MeetingAccept || r.UserResponse > message.MeetingDecline {
		return a, nil, mrInvalidRequest, fmt.Errorf("UserResponse %d", r.UserResponse)
	}
	if r.InstanceID != "" {
		t, err := model.ParseDateTime(r.InstanceID)
		if err != nil {
			return a, nil, mrInvalidRequest, fmt.Errorf("InstanceId %q", r.InstanceID)
		}
		a.Instance = t
	}
	if k.version >= 160 && r.SendResponse != nil {
		a.Reply = true
		if b := r.SendResponse.Body; b != nil {
			a.Comment = strings.TrimSpace(b.Data)
			if b.Type == message.BodyHTML {
				a.Comment = strings.TrimSpace(mailconv.HTMLText(b.Data))
			}
		}
		if s := r.SendResponse.ProposedStartTime; s != "" {
			a.ProposedStart, _ = model.ParseDateTime(s)
		}
		if s := r.SendResponse.ProposedEndTime; s != "" {
			a.ProposedEnd, _ = model.ParseDateTime(s)
		}
	}
	id := r.RequestID
	if r.LongID != "" {
		id = r.LongID
	}
	// The item is found by its own id's folder, whatever CollectionId
	// says: Outlook names the calendar folder for a mail's request.
	folderID, _, ok := strings.Cut(id, ":")
	if !ok {
		return a, nil, mrInvalidRequest, fmt.Errorf("request id %q", id)
	}
	var f *folders.Folder
	for i := range list {
		if list[i].ServerID == folderID {
			f = &list[i]
		}
	}
	switch {
	case f == nil:
		return a, nil, mrInvalidRequest, fmt.Errorf("no folder %q", folderID)
	case f.Type.Class() == model.ClassCalendar:
		a.FolderID, a.ServerID = f.ServerID, id
		return a, nil, mrOK, nil
	case !k.s.isMail(*f):
		return a, nil, mrInvalidRequest, fmt.Errorf("folder %q holds no meeting requests", folderID)
	}
	if !a.Instance.IsZero() {
		// MS-ASCMD 2.2.3.177.9: an InstanceId names an occurrence of a
		// calendar item, never of a mail's request.
		return a, nil, mrInvalidRequest, fmt.Errorf("InstanceId with the mail %s", id)
	}
	mid, err := model.ParseMailID(id)
	if err != nil {
		return a, nil, mrInvalidRequest, err
	}
	if k.s.opts.Submitter == nil {
		return a, nil, mrMailboxError, errors.New("no mail access configured")
	}
	req := &requestMail{id: id, folder: *f, uid: mid.UID}
	raw, err := k.s.opts.Submitter.FetchMessage(k.ctx(), k.creds.Login, k.creds.Password, f.IMAPName, mid.UID)
	if err == nil && raw == nil {
		// Answered before (a re-sent request, or the user changing their
		// mind): the answer moved the mail to Deleted Items and recorded
		// where.
		raw, req, err = k.answeredRequest(id, list)
	}
	if err != nil {
		return a, nil, mrMailboxError, err
	}
	if raw == nil {
		return a, nil, mrInvalidRequest, fmt.Errorf("message %s not found", id)
	}
	if a.ICS = mailconv.CalendarObject(raw); a.ICS == nil {
		return a, nil, mrInvalidRequest, fmt.Errorf("message %s is not a meeting request", id)
	}
	return a, req, mrOK, nil
}

// requestMail is the mail of an answered meeting request; moved: it is in
// Deleted Items already, put there by an earlier answer.
type requestMail struct {
	id     string
	folder folders.Folder
	uid    uint32
	moved  bool
}

// answeredRequest finds the mail of a request answered before, in the
// folder the answer moved it to; nil when there is none.
func (k *call) answeredRequest(id string, list []folders.Folder) ([]byte, *requestMail, error) {
	dstID, found, err := lookupMove(k.ctx(), k.s.opts.Pool, k.dev.ID, id, "")
	if err != nil || !found {
		return nil, nil, err
	}
	mid, err := model.ParseMailID(dstID)
	if err != nil {
		return nil, nil, nil
	}
	for _, f := range list {
		if f.ServerID == mid.FolderID && k.s.isMail(f) {
			raw, err := k.s.opts.Submitter.FetchMessage(k.ctx(), k.creds.Login, k.creds.Password, f.IMAPName, mid.UID)
			return raw, &requestMail{id: id, folder: f, uid: mid.UID, moved: true}, err
		}
	}
	return nil, nil, nil
}

// trashRequest moves an answered request's mail to Deleted Items, as
// Exchange does: the answer is in the calendar, and the invitation no
// longer waits in the Inbox. The move is recorded as MoveItems records
// its moves, so that a re-sent MeetingResponse (or a later change of
// mind) still finds the request. The answer stands whatever happens
// here: a failure leaves the mail where it was, and is logged.
//
// The move and its record run on a context detached from the request's:
// a phone hanging up between the IMAP MOVE and the record would leave
// the mail moved but unrecorded, and the phone's re-sent request would
// find it nowhere and be refused, though its answer was kept.
func (k *call) trashRequest(conn *mailConn, req *requestMail, trash folders.Folder) {
	if req.moved || trash.IMAPName == "" || req.folder.ServerID == trash.ServerID {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx()), moveFinishTimeout)
	defer cancel()
	sess, err := conn.session()
	if err == nil {
		var moved model.MailMoved
		moved, err = sess.Delete(ctx, req.folder.IMAPName, []uint32{req.uid}, trash.IMAPName)
		if newUID, ok := moved.UIDs[req.uid]; err == nil && ok {
			dst := model.MailID{FolderID: trash.ServerID, UID: newUID}.String()
			err = recordMove(ctx, k.s.opts.Pool, k.dev.ID, req.id, trash.ServerID, dst)
		}
	}
	if err != nil {
		conn.drop()
		k.log.Warn("meetingresponse: the answered request stays where it was", "request", req.id, "err", err)
	}
}

// answerMeeting records one answer in its own transaction.
func (k *call) answerMeeting(m Meetings, a model.MeetingAnswer) (string, error) {
	ctx := k.ctx()
	tx, err := k.s.opts.Pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	id, err := m.Answer(ctx, tx, k.dev.UserID, a)
	if err != nil {
		return "", err
	}
	return id, tx.Commit(ctx)
}

func statusOfAnswer(err error) Status {
	switch {
	case err == nil:
		return mrOK
	case errors.Is(err, model.ErrItemInvalid), errors.Is(err, model.ErrItemNotFound):
		return mrInvalidRequest
	}
	return mrServerError
}
