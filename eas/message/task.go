package message

// Task is an item of the Tasks class (MS-ASTASK, code page 9) inside
// AirSync:ApplicationData. Like Contact it has no WBXMLName, so every tag
// names its namespace.
//
// Every value a client may send is a string (or a pointer to a
// structure), so that an empty element decodes without error and a store
// can tell "0" from absent; numbers and booleans are their decimal text
// ("0", "1"). Dates are MS-ASDTYPE dateTime strings: StartDate and
// DueDate are local wall-clock times written with a Z that does not mean
// UTC (a due date is the local midnight of the due day); UtcStartDate,
// UtcDueDate, DateCompleted and ReminderTime are UTC.
//
// Versions (MS-ASTASK 2.2.2): the Tasks page is 2.5 through 16.1; the 2.5
// body forms (Tasks:Body, BodySize, BodyTruncated, CompressedRTF) exist
// only in 2.5, AirSyncBase:Body replaces them from 12.0. Recurrence
// CalendarType and IsLeapMonth are 14.0+, FirstDayOfWeek 14.1+. A
// producer fills what the request's version knows.
//
// The order is AirSyncBase:Body, then the Tasks page in token order (the
// 2.5 body forms where their tokens are). Decoding accepts any order.
type Task struct {
	Body *Body `wbxml:"AirSyncBase:Body"`

	// Protocol 2.5 only: the body as plain text.
	Body25        string `wbxml:"Tasks:Body,omitempty"`
	BodySize      int64  `wbxml:"Tasks:BodySize,omitempty"`
	BodyTruncated *bool  `wbxml:"Tasks:BodyTruncated"`

	Categories     *TaskCategories `wbxml:"Tasks:Categories"` // empty: no categories
	Complete       string          `wbxml:"Tasks:Complete,omitempty"`
	DateCompleted  string          `wbxml:"Tasks:DateCompleted,omitempty"`
	DueDate        string          `wbxml:"Tasks:DueDate,omitempty"`
	UtcDueDate     string          `wbxml:"Tasks:UtcDueDate,omitempty"`
	Importance     string          `wbxml:"Tasks:Importance,omitempty"` // 0 low, 1 normal, 2 high
	Recurrence     *TaskRecurrence `wbxml:"Tasks:Recurrence"`
	ReminderSet    string          `wbxml:"Tasks:ReminderSet,omitempty"`
	ReminderTime   string          `wbxml:"Tasks:ReminderTime,omitempty"`
	Sensitivity    string          `wbxml:"Tasks:Sensitivity,omitempty"` // 0 normal, 1 personal, 2 private, 3 confidential
	StartDate      string          `wbxml:"Tasks:StartDate,omitempty"`
	UtcStartDate   string          `wbxml:"Tasks:UtcStartDate,omitempty"`
	Subject        string          `wbxml:"Tasks:Subject,omitempty"`
	Rtf            string          `wbxml:"Tasks:CompressedRTF,omitempty"` // 2.5 only: base64 compressed RTF
	OrdinalDate    string          `wbxml:"Tasks:OrdinalDate,omitempty"`
	SubOrdinalDate string          `wbxml:"Tasks:SubOrdinalDate,omitempty"`
}

// TaskCategories are a task's categories.
type TaskCategories struct {
	Category []string `wbxml:"Tasks:Category"`
}

// TaskRecurrence is Tasks:Recurrence (MS-ASTASK 2.2.2.18): the pattern of
// a recurring task. Type: 0 daily, 1 weekly, 2 monthly on a day, 3
// monthly on the Nth weekday, 5 yearly on a date, 6 yearly on the Nth
// weekday. Start is the start of the series; Regenerate 1 makes the next
// task Interval units after the previous one is completed; DeadOccur is
// the number of occurrences already completed.
type TaskRecurrence struct {
	Type           string `wbxml:"Tasks:Type,omitempty"`
	Start          string `wbxml:"Tasks:Start,omitempty"`
	Until          string `wbxml:"Tasks:Until,omitempty"`
	Occurrences    string `wbxml:"Tasks:Occurrences,omitempty"`
	Interval       string `wbxml:"Tasks:Interval,omitempty"`
	DayOfMonth     string `wbxml:"Tasks:DayOfMonth,omitempty"`
	DayOfWeek      string `wbxml:"Tasks:DayOfWeek,omitempty"`
	WeekOfMonth    string `wbxml:"Tasks:WeekOfMonth,omitempty"`
	MonthOfYear    string `wbxml:"Tasks:MonthOfYear,omitempty"`
	Regenerate     string `wbxml:"Tasks:Regenerate,omitempty"`
	DeadOccur      string `wbxml:"Tasks:DeadOccur,omitempty"`
	CalendarType   string `wbxml:"Tasks:CalendarType,omitempty"`   // 14.0+
	IsLeapMonth    string `wbxml:"Tasks:IsLeapMonth,omitempty"`    // 14.0+
	FirstDayOfWeek string `wbxml:"Tasks:FirstDayOfWeek,omitempty"` // 14.1+
}
