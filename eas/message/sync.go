package message

import "github.com/easd/easd/wbxml"

// SyncRequest asks for the changes of one or more collections and carries
// the client's own changes (MS-ASCMD 2.2.1.21). A request without
// Collections (or without a body) is an empty Sync (12.1+): the client asks
// the server to reuse what it sent last time; with Partial, the collections
// it lists replace those of last time and the others stay. Wait and
// HeartbeatInterval (one of them, never both) make a hanging Sync.
type SyncRequest struct {
	WBXMLName         Tag              `wbxml:"AirSync:Sync"`
	Collections       *SyncCollections `wbxml:"Collections"`
	Wait              int              `wbxml:"Wait,omitempty"`              // minutes, 12.1-14.x hanging Sync
	HeartbeatInterval int              `wbxml:"HeartbeatInterval,omitempty"` // seconds, 14.0+
	WindowSize        int              `wbxml:"WindowSize,omitempty"`        // across all collections, 12.1+
	Partial           bool             `wbxml:"Partial,empty"`
}

// SyncCollections holds the collections of a Sync request.
type SyncCollections struct {
	Collection []SyncCollection `wbxml:"Collection"`
}

// SyncCollection is one collection in a request; the element order is
// the strict one MS-ASCMD 2.2.3.29.2 prescribes (Class only before 14.0).
type SyncCollection struct {
	Class        string `wbxml:"Class,omitempty"`
	SyncKey      string `wbxml:"SyncKey"`
	CollectionID string `wbxml:"CollectionId"`
	// Supported lists the contact/calendar properties the client handles;
	// kept raw until a PIM class needs it.
	Supported *wbxml.Element `wbxml:"Supported"`
	// DeletesAsMoves and GetChanges are tri-state: absent means true
	// (GetChanges: true unless the key is 0).
	DeletesAsMoves   *bool               `wbxml:"DeletesAsMoves"`
	GetChanges       *bool               `wbxml:"GetChanges"`
	WindowSize       int                 `wbxml:"WindowSize,omitempty"`
	ConversationMode *bool               `wbxml:"ConversationMode"`
	Options          []SyncOptions       `wbxml:"Options"`
	Commands         *SyncClientCommands `wbxml:"Commands"`
}

// SyncOptions are a collection's options; a mail collection may carry two,
// one for Email and one for SMS (Class). FilterType values: 0 all, 1 one
// day, 2 three days, 3 one week, 4 two weeks, 5 one month, 6 three months,
// 7 six months, 8 incomplete tasks.
type SyncOptions struct {
	FilterType     *int                 `wbxml:"FilterType"`
	Class          string               `wbxml:"Class,omitempty"`
	BodyPreference []BodyPreference     `wbxml:"AirSyncBase:BodyPreference"`
	BodyPart       []BodyPartPreference `wbxml:"AirSyncBase:BodyPartPreference"`
	// Truncation (2.5) is a code for the size of a plain-text body
	// (MS-ASCMD 2.2.3.185); RTFTruncation is its RTF twin, which easd
	// reads and ignores since it never sends RTF.
	Truncation              *int  `wbxml:"AirSync:Truncation"`
	RTFTruncation           *int  `wbxml:"AirSync:RTFTruncation"`
	Conflict                *int  `wbxml:"AirSync:Conflict"`
	MIMESupport             int   `wbxml:"AirSync:MIMESupport,omitempty"`
	MIMETruncation          *int  `wbxml:"AirSync:MIMETruncation"`
	MaxItems                int   `wbxml:"AirSync:MaxItems,omitempty"`
	RightsManagementSupport *bool `wbxml:"RightsManagement:RightsManagementSupport"`
}

// SyncClientCommands are the client's changes in a request, plus Fetch of
// single items.
type SyncClientCommands struct {
	Change []SyncClientChange `wbxml:"Change"`
	Delete []SyncClientDelete `wbxml:"Delete"`
	Add    []SyncClientAdd    `wbxml:"Add"`
	Fetch  []SyncClientFetch  `wbxml:"Fetch"`
}

// SyncClientAdd creates an item (a draft, a contact ...). ApplicationData
// is decoded as a raw *wbxml.Element unless a struct pointer is placed
// there first; a client encoding an Add puts its item struct there.
type SyncClientAdd struct {
	Class           string `wbxml:"Class,omitempty"`
	ClientID        string `wbxml:"ClientId"`
	ApplicationData any    `wbxml:"ApplicationData"`
}

// SyncClientChange modifies an item the client holds.
type SyncClientChange struct {
	Class    string `wbxml:"Class,omitempty"`
	ServerID string `wbxml:"ServerId"`
	// InstanceID names one occurrence of a recurring event (16.x): its
	// original start, an MS-ASDTYPE dateTime.
	InstanceID      string `wbxml:"AirSyncBase:InstanceId,omitempty"`
	ApplicationData any    `wbxml:"ApplicationData"`
}

// SyncClientDelete removes an item.
type SyncClientDelete struct {
	Class      string `wbxml:"Class,omitempty"`
	ServerID   string `wbxml:"ServerId"`
	InstanceID string `wbxml:"AirSyncBase:InstanceId,omitempty"` // one occurrence (16.x)
}

// SyncClientFetch asks for one item in full.
type SyncClientFetch struct {
	ServerID string `wbxml:"ServerId"`
}

// SyncResponse answers SyncRequest. Status is present only when the whole
// request failed (or to say that an empty request found nothing cached);
// Limit answers an out-of-range Wait or HeartbeatInterval.
type SyncResponse struct {
	WBXMLName   Tag                      `wbxml:"AirSync:Sync"`
	Status      int                      `wbxml:"Status,omitempty"`
	Limit       int                      `wbxml:"Limit,omitempty"`
	Collections *SyncResponseCollections `wbxml:"Collections"`
}

// SyncResponseCollections holds the collections of a Sync response.
type SyncResponseCollections struct {
	Collection []SyncResponseCollection `wbxml:"Collection"`
}

// SyncResponseCollection is one collection's answer, in the element order
// of MS-ASCMD 2.2.3.29.2.
type SyncResponseCollection struct {
	Class         string         `wbxml:"Class,omitempty"`
	SyncKey       string         `wbxml:"SyncKey"`
	CollectionID  string         `wbxml:"CollectionId"`
	Status        int            `wbxml:"Status"`
	MoreAvailable bool           `wbxml:"MoreAvailable,empty"`
	Commands      *SyncCommands  `wbxml:"Commands"`
	Responses     *SyncResponses `wbxml:"Responses"`
}

// SyncCommands are the server's changes to a collection. SoftDelete removes
// an item from the client that still exists on the server but left the
// FilterType window.
type SyncCommands struct {
	Add        []SyncItem `wbxml:"Add"`
	Change     []SyncItem `wbxml:"Change"`
	Delete     []SyncItem `wbxml:"Delete"`
	SoftDelete []SyncItem `wbxml:"SoftDelete"`
}

// SyncItem is one changed item. ApplicationData holds the class's item
// struct (for mail an *Email, with only Read, Flag and Categories in a Change) when encoding, and a
// *wbxml.Element when decoding unless a struct pointer is placed there.
type SyncItem struct {
	ServerID        string `wbxml:"ServerId"`
	ApplicationData any    `wbxml:"ApplicationData"`
}

// SyncResponses answers the client's commands: an Add always (with the new
// ServerId), a Change or Delete only when it failed, and every Fetch.
type SyncResponses struct {
	Add    []SyncResponseAdd    `wbxml:"Add"`
	Change []SyncResponseChange `wbxml:"Change"`
	Delete []SyncResponseDelete `wbxml:"Delete"`
	Fetch  []SyncResponseFetch  `wbxml:"Fetch"`
}

// SyncResponseAdd answers a client Add.
type SyncResponseAdd struct {
	Class    string `wbxml:"Class,omitempty"`
	ClientID string `wbxml:"ClientId"`
	ServerID string `wbxml:"ServerId,omitempty"`
	Status   int    `wbxml:"Status"`
	// ApplicationData carries what the server made of the item that the
	// client needs (16.x calendar: the UID).
	ApplicationData any `wbxml:"ApplicationData"`
}

// SyncResponseChange reports a failed client Change.
type SyncResponseChange struct {
	Class    string `wbxml:"Class,omitempty"`
	ServerID string `wbxml:"ServerId"`
	Status   int    `wbxml:"Status"`
}

// SyncResponseDelete reports a failed client Delete.
type SyncResponseDelete struct {
	Class    string `wbxml:"Class,omitempty"`
	ServerID string `wbxml:"ServerId"`
	Status   int    `wbxml:"Status"`
}

// SyncResponseFetch answers a client Fetch: the item in full, or a Status
// saying why not.
type SyncResponseFetch struct {
	ServerID        string `wbxml:"ServerId"`
	Status          int    `wbxml:"Status"`
	ApplicationData any    `wbxml:"ApplicationData"`
}
