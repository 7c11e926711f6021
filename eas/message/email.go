package message

// Email is an item of the Email class (MS-ASEMAIL) as it appears inside
// AirSync:ApplicationData: a Sync Add or Change, an ItemOperations Fetch,
// a Search or Find result. It has no WBXMLName, so a response document
// carries it as the dynamic value of an interface field; every tag names
// its namespace for the same reason.
//
// Fields that a Change may leave out (Read, Flag, Categories, ...) are
// pointers or omitempty, so one type serves full items and flag-only
// changes. The 2.5 forms (Email:Body, Email:MIMEData, Email:Attachments)
// and the 12.0+ forms (AirSyncBase:Body, AirSyncBase:Attachments) are
// both here; a producer fills the ones of the request's version. The
// order follows the one Exchange writes.
type Email struct {
	To           string `wbxml:"Email:To,omitempty"`
	Cc           string `wbxml:"Email:Cc,omitempty"`
	From         string `wbxml:"Email:From,omitempty"`
	Subject      string `wbxml:"Email:Subject,omitempty"`
	ReplyTo      string `wbxml:"Email:ReplyTo,omitempty"`
	DateReceived string `wbxml:"Email:DateReceived,omitempty"` // MS-ASDTYPE dateTime, UTC
	DisplayTo    string `wbxml:"Email:DisplayTo,omitempty"`
	ThreadTopic  string `wbxml:"Email:ThreadTopic,omitempty"`
	Importance   *int   `wbxml:"Email:Importance"` // 0 low, 1 normal, 2 high
	Read         *bool  `wbxml:"Email:Read"`

	// Protocol 2.5 only.
	Attachments25 *Attachments25 `wbxml:"Email:Attachments"`
	MIMETruncated bool           `wbxml:"Email:MIMETruncated,omitempty"`
	MIMEData      string         `wbxml:"Email:MIMEData,omitempty"`
	MIMESize      int64          `wbxml:"Email:MIMESize,omitempty"`
	BodyTruncated *bool          `wbxml:"Email:BodyTruncated"`
	BodySize      int64          `wbxml:"Email:BodySize,omitempty"`
	Body25        string         `wbxml:"Email:Body,omitempty"`

	// Protocol 12.0 and later.
	Attachments  *Attachments `wbxml:"AirSyncBase:Attachments"`
	Body         *Body        `wbxml:"AirSyncBase:Body"`
	BodyPart     *BodyPart    `wbxml:"AirSyncBase:BodyPart"` // 14.1+
	MessageClass string       `wbxml:"Email:MessageClass,omitempty"`
	// MeetingRequest details a meeting mail (IPM.Schedule.Meeting.*).
	MeetingRequest *MeetingRequest `wbxml:"Email:MeetingRequest"`
	InternetCPID   string          `wbxml:"Email:InternetCPID,omitempty"` // code page of the original, "65001" for UTF-8
	Flag           *Flag           `wbxml:"Email:Flag"`                   // <Flag/> when not flagged
	ContentClass   string          `wbxml:"Email:ContentClass,omitempty"`
	NativeBodyType int             `wbxml:"AirSyncBase:NativeBodyType,omitempty"`

	// Protocol 14.0 and later.
	Categories            *Categories `wbxml:"Email:Categories"`
	ConversationID        []byte      `wbxml:"Email2:ConversationId,omitempty"`
	ConversationIndex     []byte      `wbxml:"Email2:ConversationIndex,omitempty"`
	LastVerbExecuted      int         `wbxml:"Email2:LastVerbExecuted,omitempty"` // 1 reply, 2 reply all, 3 forward
	LastVerbExecutionTime string      `wbxml:"Email2:LastVerbExecutionTime,omitempty"`
	ReceivedAsBcc         bool        `wbxml:"Email2:ReceivedAsBcc,omitempty"`
	Sender                string      `wbxml:"Email2:Sender,omitempty"`

	// Protocol 16.0 and later: drafts.
	IsDraft *bool  `wbxml:"Email2:IsDraft"`
	Bcc     string `wbxml:"Email2:Bcc,omitempty"`

	// Meeting is not on the wire: the iCalendar object of a meeting mail
	// (METHOD REQUEST, CANCEL or REPLY), for the server to file in the
	// user's calendar when the mail is synced.
	Meeting []byte `wbxml:"-"`
}

// Body types of AirSyncBase:Type (MS-ASAIRS 2.2.2.41).
const (
	BodyPlain = 1
	BodyHTML  = 2
	BodyRTF   = 3
	BodyMIME  = 4
)

// Body is AirSyncBase:Body in a response (MS-ASAIRS 2.2.2.9): the item's
// body in the type the server chose. Data is absent when AllOrNone kept a
// too large body back; EstimatedDataSize is the size of the whole body in
// that type, Preview (14.0+) a short plain-text excerpt.
type Body struct {
	Type              int    `wbxml:"AirSyncBase:Type"`
	EstimatedDataSize int64  `wbxml:"AirSyncBase:EstimatedDataSize"`
	Truncated         bool   `wbxml:"AirSyncBase:Truncated,omitempty"`
	Data              string `wbxml:"AirSyncBase:Data,omitempty"`
	Preview           string `wbxml:"AirSyncBase:Preview,omitempty"`
}

// BodyPart is AirSyncBase:BodyPart (14.1+, MS-ASAIRS 2.2.2.10): the
// message part answering a BodyPartPreference, always HTML.
type BodyPart struct {
	Status            int    `wbxml:"AirSyncBase:Status"`
	Type              int    `wbxml:"AirSyncBase:Type"`
	EstimatedDataSize int64  `wbxml:"AirSyncBase:EstimatedDataSize"`
	Truncated         bool   `wbxml:"AirSyncBase:Truncated,omitempty"`
	Data              string `wbxml:"AirSyncBase:Data,omitempty"`
	Preview           string `wbxml:"AirSyncBase:Preview,omitempty"`
}

// Attachments lists an item's attachments (12.0+).
type Attachments struct {
	Attachment []Attachment `wbxml:"AirSyncBase:Attachment"`
}

// Attachment methods (MS-ASAIRS 2.2.2.31); 2 to 4 are reserved.
const (
	AttachByValue  = 1 // a regular attachment
	AttachEmbedded = 5 // an embedded message (message/rfc822)
	AttachOLE      = 6
)

// Attachment is one AirSyncBase:Attachment. FileReference is what
// ItemOperations Fetch gets back to download it.
type Attachment struct {
	DisplayName       string `wbxml:"AirSyncBase:DisplayName"`
	FileReference     string `wbxml:"AirSyncBase:FileReference"`
	Method            int    `wbxml:"AirSyncBase:Method"`
	EstimatedDataSize int64  `wbxml:"AirSyncBase:EstimatedDataSize"`
	ContentID         string `wbxml:"AirSyncBase:ContentId,omitempty"`
	ContentLocation   string `wbxml:"AirSyncBase:ContentLocation,omitempty"`
	IsInline          bool   `wbxml:"AirSyncBase:IsInline,omitempty"`
}

// Attachments25 lists an item's attachments in protocol 2.5.
type Attachments25 struct {
	Attachment []Attachment25 `wbxml:"Email:Attachment"`
}

// Attachment25 is one 2.5 Email:Attachment; AttName is the reference the
// GetAttachment command takes.
type Attachment25 struct {
	AttMethod   int    `wbxml:"Email:AttMethod"`
	AttSize     int64  `wbxml:"Email:AttSize"`
	DisplayName string `wbxml:"Email:DisplayName,omitempty"`
	AttName     string `wbxml:"Email:AttName"`
}

// Categories are the item's categories (14.0+); an empty Categories
// clears them in a Change.
type Categories struct {
	Category []string `wbxml:"Email:Category"`
}

// Flag is the follow-up flag of a message (MS-ASEMAIL 2.2.2.34). An
// empty Flag (<Flag/>) means "not flagged". Dates are MS-ASDTYPE
// dateTime strings.
type Flag struct {
	Subject        string `wbxml:"Tasks:Subject,omitempty"`
	Status         int    `wbxml:"Email:Status,omitempty"` // 1 complete, 2 active
	FlagType       string `wbxml:"Email:FlagType,omitempty"`
	DateCompleted  string `wbxml:"Tasks:DateCompleted,omitempty"`
	CompleteTime   string `wbxml:"Email:CompleteTime,omitempty"`
	StartDate      string `wbxml:"Tasks:StartDate,omitempty"`
	DueDate        string `wbxml:"Tasks:DueDate,omitempty"`
	UtcStartDate   string `wbxml:"Tasks:UtcStartDate,omitempty"`
	UtcDueDate     string `wbxml:"Tasks:UtcDueDate,omitempty"`
	ReminderSet    *bool  `wbxml:"Tasks:ReminderSet"`
	ReminderTime   string `wbxml:"Tasks:ReminderTime,omitempty"`
	OrdinalDate    string `wbxml:"Tasks:OrdinalDate,omitempty"`
	SubOrdinalDate string `wbxml:"Tasks:SubOrdinalDate,omitempty"`
}

// Flag status values.
const (
	FlagCleared  = 0
	FlagComplete = 1
	FlagActive   = 2
)

// BodyPreference is one AirSyncBase:BodyPreference of a request's Options
// (Sync, ItemOperations, Search, Find): a body type the client accepts,
// in the client's order of preference. TruncationSize nil means the whole
// body; AllOrNone asks for nothing rather than a truncated body; Preview
// (14.0+) asks for a plain-text preview of up to that many characters.
type BodyPreference struct {
	Type           int     `wbxml:"AirSyncBase:Type"`
	TruncationSize *uint32 `wbxml:"AirSyncBase:TruncationSize"`
	AllOrNone      bool    `wbxml:"AirSyncBase:AllOrNone,omitempty"`
	Preview        int     `wbxml:"AirSyncBase:Preview,omitempty"`
}

// BodyPartPreference (14.1+) has the shape of BodyPreference and asks for
// the message part (AirSyncBase:BodyPart) of a conversation item.
type BodyPartPreference BodyPreference
