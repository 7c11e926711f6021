package message

import "github.com/easd/easd/wbxml"

// MeetingRequest is Email:MeetingRequest (MS-ASEMAIL 2.2.2.48): the
// meeting a meeting mail (IPM.Schedule.Meeting.*) is about, so that the
// phone can show it and answer it with MeetingResponse. Times are
// MS-ASDTYPE dateTime in UTC with dashes ("2026-01-14T09:00:00.000Z"),
// unlike the Calendar class's compact form. Reminder is in seconds.
// Elements are in the order of the specification's list.
type MeetingRequest struct {
	AllDayEvent       string              `wbxml:"Email:AllDayEvent,omitempty"`
	StartTime         string              `wbxml:"Email:StartTime,omitempty"`
	DtStamp           string              `wbxml:"Email:DtStamp"`
	EndTime           string              `wbxml:"Email:EndTime,omitempty"`
	InstanceType      string              `wbxml:"Email:InstanceType,omitempty"` // 0 single, 1 master, 2 instance, 3 exception
	Location          string              `wbxml:"Email:Location,omitempty"`     // before 16.0
	Location16        *Location           `wbxml:"AirSyncBase:Location"`         // 16.0+
	Organizer         string              `wbxml:"Email:Organizer,omitempty"`
	RecurrenceID      string              `wbxml:"Email:RecurrenceId,omitempty"`
	Reminder          string              `wbxml:"Email:Reminder,omitempty"`
	ResponseRequested string              `wbxml:"Email:ResponseRequested,omitempty"`
	Recurrences       *MeetingRecurrences `wbxml:"Email:Recurrences"`
	Sensitivity       string              `wbxml:"Email:Sensitivity,omitempty"`
	BusyStatus        string              `wbxml:"Email:BusyStatus,omitempty"`
	TimeZone          string              `wbxml:"Email:TimeZone,omitempty"`
	GlobalObjID       string              `wbxml:"Email:GlobalObjId,omitempty"` // base64, MS-ASEMAIL 2.2.2.37
	// 14.0+.
	DisallowNewTimeProposal string `wbxml:"Email:DisallowNewTimeProposal,omitempty"`
	// 14.1+: 1 initial request, 2 full update, 3 informational update,
	// 4 outdated, 5 delegator's copy, 6 delegated (MS-ASEMAIL 2.2.2.50).
	MeetingMessageType string `wbxml:"Email2:MeetingMessageType,omitempty"`
}

// MeetingRecurrences holds the series pattern of a meeting request.
type MeetingRecurrences struct {
	Recurrence []MeetingRecurrence `wbxml:"Email:Recurrence"`
}

// MeetingRecurrence is Email:Recurrence: the Calendar class's Recurrence
// in the Email namespaces, Until as a dashed dateTime.
type MeetingRecurrence struct {
	Type           string `wbxml:"Email:Type"`
	Interval       string `wbxml:"Email:Interval,omitempty"`
	Until          string `wbxml:"Email:Until,omitempty"`
	Occurrences    string `wbxml:"Email:Occurrences,omitempty"`
	WeekOfMonth    string `wbxml:"Email:WeekOfMonth,omitempty"`
	DayOfMonth     string `wbxml:"Email:DayOfMonth,omitempty"`
	DayOfWeek      string `wbxml:"Email:DayOfWeek,omitempty"`
	MonthOfYear    string `wbxml:"Email:MonthOfYear,omitempty"`
	CalendarType   string `wbxml:"Email2:CalendarType,omitempty"`   // 14.0+
	IsLeapMonth    string `wbxml:"Email2:IsLeapMonth,omitempty"`    // 14.0+
	FirstDayOfWeek string `wbxml:"Email2:FirstDayOfWeek,omitempty"` // 14.1+
}

// MeetingResponseRequest is the MeetingResponse command (MS-ASCMD
// 2.2.1.11): answers to one or more meeting requests.
type MeetingResponseRequest struct {
	WBXMLName wbxml.Tag                    `wbxml:"MeetingResponse:MeetingResponse"`
	Request   []MeetingResponseRequestItem `wbxml:"MeetingResponse:Request"`
}

// User responses.
const (
	MeetingAccept    = 1
	MeetingTentative = 2
	MeetingDecline   = 3
)

// MeetingResponseRequestItem answers one meeting request: a mail in
// CollectionId (RequestId its ServerId, or a Search LongId), or, from
// 16.0 on, a calendar item. InstanceId (14.1+) names one occurrence.
type MeetingResponseRequestItem struct {
	UserResponse int                  `wbxml:"MeetingResponse:UserResponse"`
	CollectionID string               `wbxml:"MeetingResponse:CollectionId,omitempty"`
	RequestID    string               `wbxml:"MeetingResponse:RequestId,omitempty"`
	LongID       string               `wbxml:"Search:LongId,omitempty"`
	InstanceID   string               `wbxml:"MeetingResponse:InstanceId,omitempty"`
	SendResponse *MeetingSendResponse `wbxml:"MeetingResponse:SendResponse"`
}

// MeetingSendResponse (16.0+) asks the server to send the response to
// the organizer, with the user's text and (16.1) a proposed new time.
type MeetingSendResponse struct {
	Body              *MeetingResponseBody `wbxml:"AirSyncBase:Body"`
	ProposedStartTime string               `wbxml:"MeetingResponse:ProposedStartTime,omitempty"`
	ProposedEndTime   string               `wbxml:"MeetingResponse:ProposedEndTime,omitempty"`
}

// MeetingResponseBody is the body a client sends with SendResponse.
type MeetingResponseBody struct {
	Type int    `wbxml:"AirSyncBase:Type"`
	Data string `wbxml:"AirSyncBase:Data,omitempty"`
}

// MeetingResponseResponse answers MeetingResponse, one Result per Request.
type MeetingResponseResponse struct {
	WBXMLName wbxml.Tag               `wbxml:"MeetingResponse:MeetingResponse"`
	Result    []MeetingResponseResult `wbxml:"MeetingResponse:Result"`
}

// MeetingResponseResult is one request's outcome; CalendarId names the
// calendar item unless the meeting was declined.
type MeetingResponseResult struct {
	RequestID  string `wbxml:"MeetingResponse:RequestId,omitempty"`
	LongID     string `wbxml:"Search:LongId,omitempty"`
	Status     int    `wbxml:"MeetingResponse:Status"`
	CalendarID string `wbxml:"MeetingResponse:CalendarId,omitempty"`
}
