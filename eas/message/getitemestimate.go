package message

// GetItemEstimateRequest asks how many changes a Sync of each collection
// would bring (MS-ASCMD 2.2.1.9). Before 14.0 the filter and class sit in
// the collection itself (after CollectionId, SyncKey last); from 14.0 on
// in AirSync Options, with SyncKey first. Decoding takes either order;
// encoding (the Go client) writes the 14.0 one.
type GetItemEstimateRequest struct {
	WBXMLName   Tag                         `wbxml:"GetItemEstimate:GetItemEstimate"`
	Collections *GetItemEstimateCollections `wbxml:"Collections"`
}

// GetItemEstimateCollections holds the collections of a request.
type GetItemEstimateCollections struct {
	Collection []GetItemEstimateCollection `wbxml:"Collection"`
}

// GetItemEstimateCollection is one collection to estimate.
type GetItemEstimateCollection struct {
	SyncKey          string        `wbxml:"AirSync:SyncKey"` // first from 14.0 on
	Class            string        `wbxml:"Class,omitempty"` // before 14.0
	CollectionID     string        `wbxml:"CollectionId"`
	FilterType       *int          `wbxml:"AirSync:FilterType"` // before 14.0
	ConversationMode *bool         `wbxml:"AirSync:ConversationMode"`
	Options          []SyncOptions `wbxml:"AirSync:Options"`
}

// GetItemEstimateResponse answers with one Response per collection.
// Status (MS-ASCMD 2.2.3.177.7): 1 success, 2 invalid collection, 3 sync
// state not primed (Sync with key 0 first), 4 invalid SyncKey.
type GetItemEstimateResponse struct {
	WBXMLName Tag                     `wbxml:"GetItemEstimate:GetItemEstimate"`
	Status    int                     `wbxml:"Status,omitempty"` // global failures only
	Response  []GetItemEstimateResult `wbxml:"Response"`
}

// GetItemEstimateResult is the answer for one collection.
type GetItemEstimateResult struct {
	Status     int                   `wbxml:"Status"`
	Collection *GetItemEstimateCount `wbxml:"Collection"`
}

// GetItemEstimateCount carries the estimate of one collection.
type GetItemEstimateCount struct {
	Class        string `wbxml:"Class,omitempty"`
	CollectionID string `wbxml:"CollectionId"`
	Estimate     int    `wbxml:"Estimate"`
}
