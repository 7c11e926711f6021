package message

// Calendar is an item of the Calendar class (MS-ASCAL) as it appears
// inside AirSync:ApplicationData: a Sync Add, Change or Fetch, an
// ItemOperations Fetch. Like Contact it has no WBXMLName, so a response
// carries it as the dynamic value of an interface field, and every tag
// names its namespace.
//
// Values a client may send are strings (numbers and booleans too, "0" and
// "1"), so that an empty element decodes without error and "0" is still
// written (omitempty drops only ""). Whether a client sent an element, and
// sent it empty, cannot be told from the struct; a store that must know
// (ghosting) reads the raw ApplicationData first.
//
// Versions (MS-ASCAL 2.2.2, each element's table):
//   - 2.5 only: Calendar:Body, BodyTruncated, CompressedRTF (from 12.0
//     AirSyncBase:Body replaces them).
//   - 14.0+: DisallowNewTimeProposal, ResponseRequested,
//     AppointmentReplyTime, ResponseType; Recurrence CalendarType,
//     IsLeapMonth. 14.1+: FirstDayOfWeek, OnlineMeetingConfLink,
//     OnlineMeetingExternalLink.
//   - 16.0+: ClientUid, AirSyncBase:Location (structured, replacing
//     Calendar:Location), AirSyncBase:InstanceId in an Exception (replacing
//     ExceptionStartTime); a 16.x client sends no UID, DtStamp,
//     OrganizerName/Email, and no Exceptions of its own (it changes an
//     instance with a Sync Change carrying InstanceId).
//
// A producer fills what the request's version knows. Elements are written
// in the token order of code page 4, then the AirSyncBase ones; MS-ASCAL
// imposes no order on ApplicationData's children and decoding accepts any.
type Calendar struct {
	// Timezone is the MS-ASDTYPE 2.7.6 TIME_ZONE_INFORMATION blob, base64.
	Timezone    string        `wbxml:"Calendar:Timezone,omitempty"`
	AllDayEvent string        `wbxml:"Calendar:AllDayEvent,omitempty"` // "0" or "1"
	Attendees   *Attendees    `wbxml:"Calendar:Attendees"`             // empty: none
	Body25      string        `wbxml:"Calendar:Body,omitempty"`        // 2.5 only: plain text
	BodyTrunc25 *bool         `wbxml:"Calendar:BodyTruncated"`         // 2.5 only
	BusyStatus  string        `wbxml:"Calendar:BusyStatus,omitempty"`  // 0 free, 1 tentative, 2 busy, 3 OOF, 4 working elsewhere
	Categories  *CalendarCats `wbxml:"Calendar:Categories"`            // empty: none
	Rtf         string        `wbxml:"Calendar:CompressedRTF,omitempty"`
	// DtStamp, StartTime, EndTime, ExceptionStartTime and Until are
	// MS-ASDTYPE compact dateTime in UTC ("20260114T090000Z").
	DtStamp        string      `wbxml:"Calendar:DtStamp,omitempty"`
	EndTime        string      `wbxml:"Calendar:EndTime,omitempty"`
	Exceptions     *Exceptions `wbxml:"Calendar:Exceptions"`
	Location       string      `wbxml:"Calendar:Location,omitempty"`      // before 16.0
	MeetingStatus  string      `wbxml:"Calendar:MeetingStatus,omitempty"` // 0 appointment, 1 meeting, 3 received, 5/7 cancelled ...
	OrganizerEmail string      `wbxml:"Calendar:OrganizerEmail,omitempty"`
	OrganizerName  string      `wbxml:"Calendar:OrganizerName,omitempty"`
	Recurrence     *Recurrence `wbxml:"Calendar:Recurrence"`
	Reminder       string      `wbxml:"Calendar:Reminder,omitempty"`    // minutes before the start
	Sensitivity    string      `wbxml:"Calendar:Sensitivity,omitempty"` // 0 normal, 1 personal, 2 private, 3 confidential
	Subject        string      `wbxml:"Calendar:Subject,omitempty"`
	StartTime      string      `wbxml:"Calendar:StartTime,omitempty"`
	UID            string      `wbxml:"Calendar:UID,omitempty"`

	DisallowNewTimeProposal   string `wbxml:"Calendar:DisallowNewTimeProposal,omitempty"`
	ResponseRequested         string `wbxml:"Calendar:ResponseRequested,omitempty"`
	AppointmentReplyTime      string `wbxml:"Calendar:AppointmentReplyTime,omitempty"`
	ResponseType              string `wbxml:"Calendar:ResponseType,omitempty"` // 0 none, 1 organizer, 2 tentative, 3 accepted, 4 declined, 5 not responded
	OnlineMeetingConfLink     string `wbxml:"Calendar:OnlineMeetingConfLink,omitempty"`
	OnlineMeetingExternalLink string `wbxml:"Calendar:OnlineMeetingExternalLink,omitempty"`
	// ClientUid (16.0+) is the client's id of a new event; the server
	// makes the UID from it and returns both.
	ClientUID string `wbxml:"Calendar:ClientUid,omitempty"`

	// 12.0+: the notes.
	Body           *Body `wbxml:"AirSyncBase:Body"`
	NativeBodyType int   `wbxml:"AirSyncBase:NativeBodyType,omitempty"` // server only
	// 16.0+: the structured location.
	Location16 *Location `wbxml:"AirSyncBase:Location"`
}

// Attendees lists a meeting's attendees (MS-ASCAL 2.2.2.4).
type Attendees struct {
	Attendee []Attendee `wbxml:"Calendar:Attendee"`
}

// Attendee is one attendee. AttendeeStatus (0 unknown, 2 tentative, 3
// accept, 4 decline, 5 not responded) and AttendeeType (1 required, 2
// optional, 3 resource) are 12.0+.
type Attendee struct {
	Email          string `wbxml:"Calendar:Email"`
	Name           string `wbxml:"Calendar:Name"`
	AttendeeStatus string `wbxml:"Calendar:AttendeeStatus,omitempty"`
	AttendeeType   string `wbxml:"Calendar:AttendeeType,omitempty"`
}

// CalendarCats are an event's categories; in a Change an empty element
// clears them.
type CalendarCats struct {
	Category []string `wbxml:"Calendar:Category"`
}

// Recurrence is a series' pattern (MS-ASCAL 2.2.2.39): Type 0 daily, 1
// weekly, 2 monthly by day, 3 monthly by Nth weekday, 5 yearly by date,
// 6 yearly by Nth weekday. Elements in schema order.
type Recurrence struct {
	Type           string `wbxml:"Calendar:Type"`
	Occurrences    string `wbxml:"Calendar:Occurrences,omitempty"`
	Interval       string `wbxml:"Calendar:Interval,omitempty"`
	WeekOfMonth    string `wbxml:"Calendar:WeekOfMonth,omitempty"`
	DayOfWeek      string `wbxml:"Calendar:DayOfWeek,omitempty"`
	MonthOfYear    string `wbxml:"Calendar:MonthOfYear,omitempty"`
	Until          string `wbxml:"Calendar:Until,omitempty"`
	DayOfMonth     string `wbxml:"Calendar:DayOfMonth,omitempty"`
	CalendarType   string `wbxml:"Calendar:CalendarType,omitempty"`   // 14.0+
	IsLeapMonth    string `wbxml:"Calendar:IsLeapMonth,omitempty"`    // 14.0+
	FirstDayOfWeek string `wbxml:"Calendar:FirstDayOfWeek,omitempty"` // 14.1+
}

// Exceptions are the changed and deleted occurrences of a series
// (MS-ASCAL 2.2.2.22).
type Exceptions struct {
	Exception []Exception `wbxml:"Calendar:Exception"`
}

// Exception is one changed or deleted occurrence. An element left out
// means "as the series" (MS-ASCAL 2.2.2.21). The occurrence is named by
// ExceptionStartTime (before 16.0) or AirSyncBase:InstanceId (16.x), both
// its original start in UTC.
type Exception struct {
	Deleted                   string        `wbxml:"Calendar:Deleted,omitempty"`
	ExceptionStartTime        string        `wbxml:"Calendar:ExceptionStartTime,omitempty"`
	Subject                   string        `wbxml:"Calendar:Subject,omitempty"`
	StartTime                 string        `wbxml:"Calendar:StartTime,omitempty"`
	EndTime                   string        `wbxml:"Calendar:EndTime,omitempty"`
	Body25                    string        `wbxml:"Calendar:Body,omitempty"`
	Location                  string        `wbxml:"Calendar:Location,omitempty"`
	Categories                *CalendarCats `wbxml:"Calendar:Categories"`
	Sensitivity               string        `wbxml:"Calendar:Sensitivity,omitempty"`
	BusyStatus                string        `wbxml:"Calendar:BusyStatus,omitempty"`
	AllDayEvent               string        `wbxml:"Calendar:AllDayEvent,omitempty"`
	Reminder                  string        `wbxml:"Calendar:Reminder,omitempty"`
	DtStamp                   string        `wbxml:"Calendar:DtStamp,omitempty"`
	MeetingStatus             string        `wbxml:"Calendar:MeetingStatus,omitempty"`
	Attendees                 *Attendees    `wbxml:"Calendar:Attendees"`
	AppointmentReplyTime      string        `wbxml:"Calendar:AppointmentReplyTime,omitempty"`
	ResponseType              string        `wbxml:"Calendar:ResponseType,omitempty"`
	OnlineMeetingConfLink     string        `wbxml:"Calendar:OnlineMeetingConfLink,omitempty"`
	OnlineMeetingExternalLink string        `wbxml:"Calendar:OnlineMeetingExternalLink,omitempty"`
	Body                      *Body         `wbxml:"AirSyncBase:Body"`
	Location16                *Location     `wbxml:"AirSyncBase:Location"`
	InstanceID                string        `wbxml:"AirSyncBase:InstanceId,omitempty"` // 16.0+
}

// Location is the structured location of 16.x (MS-ASAIRS 2.2.2.27).
type Location struct {
	DisplayName      string `wbxml:"AirSyncBase:DisplayName,omitempty"`
	Annotation       string `wbxml:"AirSyncBase:Annotation,omitempty"`
	Street           string `wbxml:"AirSyncBase:Street,omitempty"`
	City             string `wbxml:"AirSyncBase:City,omitempty"`
	State            string `wbxml:"AirSyncBase:State,omitempty"`
	Country          string `wbxml:"AirSyncBase:Country,omitempty"`
	PostalCode       string `wbxml:"AirSyncBase:PostalCode,omitempty"`
	Latitude         string `wbxml:"AirSyncBase:Latitude,omitempty"`
	Longitude        string `wbxml:"AirSyncBase:Longitude,omitempty"`
	Accuracy         string `wbxml:"AirSyncBase:Accuracy,omitempty"`
	Altitude         string `wbxml:"AirSyncBase:Altitude,omitempty"`
	AltitudeAccuracy string `wbxml:"AirSyncBase:AltitudeAccuracy,omitempty"`
	LocationURI      string `wbxml:"AirSyncBase:LocationUri,omitempty"`
}
