package eas

import (
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
// answer, and its ServerId returned as CalendarId.
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
	for _, r := range req.Request {
		res := message.MeetingResponseResult{RequestID: r.RequestID, LongID: r.LongID}
		a, st, err := k.meetingAnswer(r, self, list)
		if err == nil {
			res.CalendarID, err = k.answerMeeting(m, a)
			st = statusOfAnswer(err)
			replies = replies || (a.Reply && err == nil)
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
func (k *call) meetingAnswer(r message.MeetingResponseRequestItem, self string, list []folders.Folder) (model.MeetingAnswer, Status, error) {
	a := model.MeetingAnswer{Self: self, Response: r.UserResponse, Zone: k.s.opts.Zone}
	if r.UserResponse < message.MeetingAccept || r.UserResponse > message.MeetingDecline {
		return a, mrInvalidRequest, fmt.Errorf("UserResponse %d", r.UserResponse)
	}
	if r.InstanceID != "" {
		t, err := model.ParseDateTime(r.InstanceID)
		if err != nil {
			return a, mrInvalidRequest, fmt.Errorf("InstanceId %q", r.InstanceID)
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
		return a, mrInvalidRequest, fmt.Errorf("request id %q", id)
	}
	var f *folders.Folder
	for i := range list {
		if list[i].ServerID == folderID {
			f = &list[i]
		}
	}
	switch {
	case f == nil:
		return a, mrInvalidRequest, fmt.Errorf("no folder %q", folderID)
	case f.Type.Class() == model.ClassCalendar:
		a.FolderID, a.ServerID = f.ServerID, id
		return a, mrOK, nil
	case !k.s.isMail(*f):
		return a, mrInvalidRequest, fmt.Errorf("folder %q holds no meeting requests", folderID)
	}
	if !a.Instance.IsZero() {
		// MS-ASCMD 2.2.3.177.9: an InstanceId names an occurrence of a
		// calendar item, never of a mail's request.
		return a, mrInvalidRequest, fmt.Errorf("InstanceId with the mail %s", id)
	}
	mid, err := model.ParseMailID(id)
	if err != nil {
		return a, mrInvalidRequest, err
	}
	if k.s.opts.Submitter == nil {
		return a, mrMailboxError, errors.New("no mail access configured")
	}
	raw, err := k.s.opts.Submitter.FetchMessage(k.ctx(), k.creds.Login, k.creds.Password, f.IMAPName, mid.UID)
	if err != nil {
		return a, mrMailboxError, err
	}
	if raw == nil {
		return a, mrInvalidRequest, fmt.Errorf("message %s not found", id)
	}
	if a.ICS = mailconv.CalendarObject(raw); a.ICS == nil {
		return a, mrInvalidRequest, fmt.Errorf("message %s is not a meeting request", id)
	}
	return a, mrOK, nil
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
