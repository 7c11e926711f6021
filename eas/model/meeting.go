package model

import "time"

// MeetingAnswer is a user's answer to a meeting (MeetingResponse), as the
// protocol hands it to the calendar.
type MeetingAnswer struct {
	Self     string // the user's mail address
	Response int    // 1 accept, 2 tentative, 3 decline
	// ICS is the invitation's iCalendar object when the phone answers a
	// meeting mail; otherwise FolderID and ServerID name the calendar
	// item.
	ICS                []byte
	FolderID, ServerID string
	// Instance, when not zero, is the original start of the one
	// occurrence answered (InstanceId).
	Instance time.Time
	// Reply asks the server to send the answer to the organizer (16.x
	// SendResponse), with Comment as the user's text and, when both are
	// set, a proposed new time.
	Reply                      bool
	Comment                    string
	ProposedStart, ProposedEnd time.Time
	// Zone is the users' zone, for floating times.
	Zone *time.Location
	// Now stamps the answer; zero: time.Now.
	Now time.Time
}
