package message

import (
	"reflect"
	"testing"

	"github.com/easd/easd/wbxml"
)

// Every document type must be accepted by the codec (a wrong element name
// in a struct tag fails here, not in a handler at run time) and survive a
// round trip.
func TestDocumentsRoundTrip(t *testing.T) {
	for _, doc := range allDocuments {
		b, err := wbxml.Marshal(doc)
		if err != nil {
			t.Errorf("%T: marshal: %v", doc, err)
			continue
		}
		back := reflect.New(reflect.TypeOf(doc).Elem()).Interface()
		if err := wbxml.Unmarshal(b, back); err != nil {
			t.Errorf("%T: unmarshal: %v", doc, err)
			continue
		}
		// Unmarshal fills in WBXMLName; compare the rest.
		reflect.ValueOf(back).Elem().FieldByName("WBXMLName").SetZero()
		if !reflect.DeepEqual(doc, back) {
			t.Errorf("%T: round trip changed it:\n got %+v\nwant %+v", doc, back, doc)
		}
	}
}

// allDocuments has one filled-in value of every document type.
var allDocuments = []any{
	&FolderSyncRequest{SyncKey: "0"},
	&FolderSyncResponse{Status: 1, SyncKey: "{k}1", Changes: &FolderChanges{Count: 2,
		Add:    []Folder{{ServerID: "1", ParentID: "0", DisplayName: "Inbox", Type: 2}},
		Delete: []FolderDelete{{ServerID: "7"}}}},
	&FolderCreateRequest{SyncKey: "{k}1", ParentID: "0", DisplayName: "New", Type: 12},
	&FolderCreateResponse{Status: 1, SyncKey: "{k}2", ServerID: "9"},
	&FolderUpdateRequest{SyncKey: "{k}2", ServerID: "9", ParentID: "0", DisplayName: "Newer"},
	&FolderUpdateResponse{Status: 1, SyncKey: "{k}3"},
	&FolderDeleteRequest{SyncKey: "{k}3", ServerID: "9"},
	&FolderDeleteResponse{Status: 1, SyncKey: "{k}4"},
}
