package message

// Note is an item of the Notes class (MS-ASNOTE, code page 23, protocol
// 14.0 and later) inside AirSync:ApplicationData: a Sync Add, Change or
// Fetch, an ItemOperations Fetch. Like Contact it has no WBXMLName, so
// every tag names its namespace.
//
// The order is the one of MS-ASNOTE's examples, which Exchange sends:
// the body, then the Notes page in token order. Decoding accepts any
// order. Every value a client may send is a string or a pointer, so an
// empty element decodes without error; a store that must know whether an
// element was sent at all reads the raw ApplicationData first.
type Note struct {
	// Body is the note's text (AirSyncBase:Body): plain text or HTML.
	Body    *Body  `wbxml:"AirSyncBase:Body"`
	Subject string `wbxml:"Notes:Subject,omitempty"`
	// MessageClass is IPM.StickyNote, or a class derived from it
	// (IPM.StickyNote.Something); a server answers IPM.StickyNote when it
	// has nothing else.
	MessageClass string `wbxml:"Notes:MessageClass,omitempty"`
	// LastModifiedDate is an MS-ASDTYPE dateTime in UTC
	// ("2026-03-01T09:30:00.000Z").
	LastModifiedDate string `wbxml:"Notes:LastModifiedDate,omitempty"`
	// Categories: in a Change an empty element clears them. Outlook's
	// colours travel here as categories ("Blue Category").
	Categories *NoteCategories `wbxml:"Notes:Categories"`
}

// NoteCategories are a note's categories.
type NoteCategories struct {
	Category []string `wbxml:"Notes:Category"`
}

// NoteMessageClass is the class of every note a phone makes
// (MS-ASNOTE 2.2.2.5).
const NoteMessageClass = "IPM.StickyNote"
