package message

import "github.com/easd/easd/wbxml"

// SyncRequest asks for the changes of one or more collections
// (MS-ASCMD 2.2.1.21). Only what a client needs to page through a folder
// is modelled so far; client-side changes and Options come with the Sync
// command itself.
type SyncRequest struct {
	WBXMLName   Tag              `wbxml:"AirSync:Sync"`
	Collections *SyncCollections `wbxml:"Collections"`
}

// SyncCollections holds the collections of a Sync request or response.
type SyncCollections struct {
	Collection []SyncCollection `wbxml:"Collection"`
}

// SyncCollection is one collection in a request; the element order is
// the strict one MS-ASCMD 2.2.3.29.2 prescribes.
type SyncCollection struct {
	SyncKey      string `wbxml:"SyncKey"`
	CollectionID string `wbxml:"CollectionId"`
	GetChanges   bool   `wbxml:"GetChanges,empty"`
	WindowSize   int    `wbxml:"WindowSize,omitempty"`
}

// SyncResponse answers SyncRequest. Status is present only when the whole
// request failed.
type SyncResponse struct {
	WBXMLName   Tag                      `wbxml:"AirSync:Sync"`
	Status      int                      `wbxml:"Status,omitempty"`
	Collections *SyncResponseCollections `wbxml:"Collections"`
}

// SyncResponseCollections holds the collections of a Sync response.
type SyncResponseCollections struct {
	Collection []SyncResponseCollection `wbxml:"Collection"`
}

// SyncResponseCollection is one collection's answer.
type SyncResponseCollection struct {
	SyncKey       string        `wbxml:"SyncKey"`
	CollectionID  string        `wbxml:"CollectionId"`
	Status        int           `wbxml:"Status"`
	MoreAvailable bool          `wbxml:"MoreAvailable,empty"`
	Commands      *SyncCommands `wbxml:"Commands"`
}

// SyncCommands are the server's changes to a collection.
type SyncCommands struct {
	Add    []SyncItem `wbxml:"Add"`
	Change []SyncItem `wbxml:"Change"`
	Delete []SyncItem `wbxml:"Delete"`
}

// SyncItem is one changed item; ApplicationData is left to the class's
// mapping.
type SyncItem struct {
	ServerID        string         `wbxml:"ServerId"`
	ApplicationData *wbxml.Element `wbxml:"ApplicationData"`
}
