package message

import "github.com/easd/easd/wbxml"

// SearchRequest searches one store (MS-ASCMD 2.2.1.16): "Mailbox" (mail),
// "GAL" (the address book) or "DocumentLibrary".
type SearchRequest struct {
	WBXMLName Tag         `wbxml:"Search:Search"`
	Store     SearchStore `wbxml:"Store"`
}

// SearchStore names the store, the query and the options. The Query of a
// GAL search is text; of a mailbox search a tree of And, FreeText,
// airsync:CollectionId, airsync:Class, EqualTo, GreaterThan, LessThan,
// kept as elements because it nests.
type SearchStore struct {
	Name    string         `wbxml:"Name"`
	Query   *wbxml.Element `wbxml:"Query"`
	Options *SearchOptions `wbxml:"Options"`
}

// SearchOptions are the options of a Search. Range is "first-last",
// zero-based and inclusive ("0-9" when absent). Elements easd does not
// use (Schema, UserName, Password, rm:RightsManagementSupport) land in
// Other, so a request carrying them still decodes.
type SearchOptions struct {
	Range              string               `wbxml:"Range,omitempty"`
	DeepTraversal      bool                 `wbxml:"DeepTraversal,empty"`
	RebuildResults     bool                 `wbxml:"RebuildResults,empty"`
	BodyPreference     []BodyPreference     `wbxml:"AirSyncBase:BodyPreference"`
	BodyPartPreference []BodyPartPreference `wbxml:"AirSyncBase:BodyPartPreference"`
	MIMESupport        int                  `wbxml:"AirSync:MIMESupport,omitempty"`
	// Picture asks for contact photos in GAL results; iOS sends it
	// empty.
	Picture *SearchPicture   `wbxml:"Picture"`
	Other   []*wbxml.Element `wbxml:",any"`
}

// SearchPicture limits the photos of GAL results.
type SearchPicture struct {
	MaxSize     int `wbxml:"MaxSize,omitempty"`
	MaxPictures int `wbxml:"MaxPictures,omitempty"`
}

// SearchResponse answers a Search. Status (MS-ASCMD 2.2.3.177.16): 1
// success, 2 invalid request, 3 server error; the Store's Status says how
// the search itself went.
type SearchResponse struct {
	WBXMLName Tag                    `wbxml:"Search:Search"`
	Status    int                    `wbxml:"Status"`
	Response  *SearchResponseContent `wbxml:"Response"`
}

// SearchResponseContent holds the store's answer.
type SearchResponseContent struct {
	Store SearchResponseStore `wbxml:"Store"`
}

// SearchResponseStore is the result of a search: Range is the part of
// the results sent, Total how many there are. An empty search has one
// empty Result.
type SearchResponseStore struct {
	Status int            `wbxml:"Status"`
	Result []SearchResult `wbxml:"Result"`
	Range  string         `wbxml:"Range,omitempty"`
	Total  *int           `wbxml:"Total"`
}

// SearchResult is one found item. For mail, LongId is what ItemOperations
// fetches it by and Properties is the item (*Email).
type SearchResult struct {
	Class        string `wbxml:"AirSync:Class,omitempty"`
	LongID       string `wbxml:"LongId,omitempty"`
	CollectionID string `wbxml:"AirSync:CollectionId,omitempty"`
	Properties   any    `wbxml:"Properties"`
}
