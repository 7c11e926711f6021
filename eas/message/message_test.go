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
	&SyncRequest{Collections: &SyncCollections{Collection: []SyncCollection{
		{SyncKey: "{s}1", CollectionID: "5", GetChanges: new(true), WindowSize: 25}}}},
	&SyncRequest{WindowSize: 200, HeartbeatInterval: 300, Collections: &SyncCollections{Collection: []SyncCollection{
		{Class: "Email", SyncKey: "{s}2", CollectionID: "5", DeletesAsMoves: new(false), GetChanges: new(false), WindowSize: 512,
			ConversationMode: new(true),
			Options: []SyncOptions{{FilterType: new(3), BodyPreference: []BodyPreference{{Type: 1, TruncationSize: new(uint32(5120)), AllOrNone: true, Preview: 255}},
				BodyPart: []BodyPartPreference{{Type: 2}}, Conflict: new(1), MIMESupport: 2, MIMETruncation: new(8), MaxItems: 10,
				RightsManagementSupport: new(true)}},
			Commands: &SyncClientCommands{
				Change: []SyncClientChange{{ServerID: "5:1", ApplicationData: wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"),
					wbxml.TextElement(wbxml.MustTag("Email:Read"), "1"))}},
				Delete: []SyncClientDelete{{ServerID: "5:2"}},
				Add:    []SyncClientAdd{{ClientID: "c1", ApplicationData: wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"))}},
				Fetch:  []SyncClientFetch{{ServerID: "5:3"}}}}}}},
	&SyncResponse{Collections: &SyncResponseCollections{Collection: []SyncResponseCollection{
		{Class: "Email", SyncKey: "{s}3", CollectionID: "5", Status: 1, Commands: &SyncCommands{
			Change:     []SyncItem{{ServerID: "5:1", ApplicationData: wbxml.NewElement(wbxml.MustTag("AirSync:ApplicationData"), wbxml.TextElement(wbxml.MustTag("Email:Read"), "0"))}},
			SoftDelete: []SyncItem{{ServerID: "5:4"}}},
			Responses: &SyncResponses{
				Add:    []SyncResponseAdd{{ClientID: "c1", ServerID: "3:9", Status: 1}},
				Change: []SyncResponseChange{{ServerID: "5:7", Status: 8}},
				Delete: []SyncResponseDelete{{ServerID: "5:8", Status: 8}},
				Fetch:  []SyncResponseFetch{{ServerID: "5:3", Status: 8}}}}}}},
	&SyncResponse{Status: 14, Limit: 3540},
	&GetItemEstimateRequest{Collections: &GetItemEstimateCollections{Collection: []GetItemEstimateCollection{
		{CollectionID: "5", SyncKey: "{s}2", ConversationMode: new(true), Options: []SyncOptions{{FilterType: new(4), Class: "Email"}}},
		{Class: "Email", CollectionID: "6", FilterType: new(0), SyncKey: "{s}3"}}}},
	&GetItemEstimateResponse{Response: []GetItemEstimateResult{
		{Status: 1, Collection: &GetItemEstimateCount{CollectionID: "5", Estimate: 42}},
		{Status: 2}}},
	&GetItemEstimateResponse{Status: 2},
	&SyncResponse{Collections: &SyncResponseCollections{Collection: []SyncResponseCollection{
		{SyncKey: "{s}2", CollectionID: "5", Status: 1, MoreAvailable: true, Commands: &SyncCommands{
			Add: []SyncItem{{ServerID: "5:1"}}, Delete: []SyncItem{{ServerID: "5:0"}}}}}}},
	&SyncResponse{Status: 4},
	&PingRequest{HeartbeatInterval: 60, Folders: &PingFolders{Folder: []PingFolder{{ID: "5", Class: "Email"}}}},
	&PingResponse{Status: 2, Folders: &PingChangedFolders{Folder: []string{"5"}}},
	&PingResponse{Status: 5, HeartbeatInterval: 60},
	&ProvisionRequest{
		DeviceInformation: &DeviceInformation{Set: &DeviceInformationSet{Model: "Pixel", IMEI: "35", FriendlyName: "Phone",
			OS: "Android 15", OSLanguage: "en", PhoneNumber: "+1", UserAgent: "UA", EnableOutboundSMS: true, MobileOperator: "Op"}},
		Policies: &PoliciesRequest{Policy: PolicyRequest{PolicyType: PolicyTypeWBXML}}},
	&ProvisionRequest{Policies: &PoliciesRequest{Policy: PolicyRequest{PolicyType: PolicyTypeWBXML, PolicyKey: "123", Status: 1}}},
	&ProvisionRequest{RemoteWipe: &WipeAck{Status: 1}},
	&ProvisionRequest{AccountOnlyRemoteWipe: &WipeAck{Status: 1}},
	&ProvisionResponse{DeviceInformation: &DeviceInformationStatus{Status: 1}, Status: 1,
		Policies: &PoliciesResponse{Policy: PolicyResponse{PolicyType: PolicyTypeWBXML, Status: 1, PolicyKey: 4242,
			Data: &PolicyData{EASProvisionDoc: EASProvisionDoc{DevicePasswordEnabled: true, MinDevicePasswordLength: 6,
				MaxAttachmentSize: "", AllowBluetooth: 2, MaxEmailBodyTruncationSize: -1,
				UnapprovedInROMApplicationList: &AppNames{ApplicationName: []string{"game"}},
				ApprovedApplicationList:        &AppHashes{Hash: []string{"abcd"}}}}}}},
	&ProvisionResponse{Status: 1, RemoteWipe: true},
	&ProvisionResponse{Status: 1, AccountOnlyRemoteWipe: true},
	&ProvisionResponseXML{Status: 1, Policies: &PoliciesResponseXML{Policy: PolicyResponseXML{
		PolicyType: PolicyTypeXML, Status: 1, PolicyKey: 7, Data: "<wap-provisioningdoc></wap-provisioningdoc>"}}},
	&SettingsRequest{
		RightsManagementInformation: &GetRequest{Get: true},
		Oof:                         &OofRequest{Get: &OofGetRequest{BodyType: "Text"}},
		DevicePassword:              &DevicePasswordRequest{Set: &DevicePasswordSet{Password: "secret"}},
		DeviceInformation:           &DeviceInformation{Set: &DeviceInformationSet{Model: "iPhone"}},
		UserInformation:             &GetRequest{Get: true}},
	&SettingsRequest{Oof: &OofRequest{Set: &Oof{OofState: new(2), StartTime: "2025-01-01T00:00:00.000Z",
		EndTime: "2025-01-02T00:00:00.000Z", OofMessage: []OofMessage{
			{AppliesToInternal: true, Enabled: true, ReplyMessage: "away", BodyType: "Text"},
			{AppliesToExternalUnknown: true}}}}},
	&SettingsResponse{Status: 1,
		RightsManagementInformation: &RightsManagementInformation{Status: 1, Get: &RightsManagementGet{Templates: &RightsManagementTemplates{}}},
		Oof: &OofResponse{Status: 1, Get: &Oof{OofState: new(1), OofMessage: []OofMessage{
			{AppliesToExternalKnown: true, Enabled: true, ReplyMessage: "<p>away</p>", BodyType: "HTML"}}}},
		DevicePassword:    &SettingsStatus{Status: 1},
		DeviceInformation: &SettingsStatus{Status: 1},
		UserInformation: &UserInformationResponse{Status: 1, Get: &UserInformation{
			Accounts: &Accounts{Account: []Account{{UserDisplayName: "alice", EmailAddresses: &EmailAddresses{
				SmtpAddress: []string{"alice@example.test"}, PrimarySmtpAddress: "alice@example.test"}}}}}}},
	&SettingsResponse{Status: 1, UserInformation: &UserInformationResponse{Status: 1, Get: &UserInformation{
		EmailAddresses: &EmailAddresses{SmtpAddress: []string{"bob@example.test"}}}}},
	&emailAdd{ServerID: "5:7", ApplicationData: &Email{To: `"Bob" <bob@example.test>`, Cc: "c@example.test",
		From: `"Alice" <alice@example.test>`, Subject: "Hi", ReplyTo: "r@example.test", DateReceived: "2025-01-02T03:04:05.000Z",
		DisplayTo: "Bob", ThreadTopic: "Hi", Importance: new(1), Read: new(true),
		Attachments: &Attachments{Attachment: []Attachment{{DisplayName: "a.png", FileReference: "5:7:2", Method: AttachByValue,
			EstimatedDataSize: 10, ContentID: "img1", ContentLocation: "a.png", IsInline: true}}},
		Body:         &Body{Type: BodyHTML, EstimatedDataSize: 100, Truncated: true, Data: "<p>Hi</p>", Preview: "Hi"},
		BodyPart:     &BodyPart{Status: 1, Type: BodyHTML, EstimatedDataSize: 9, Data: "<p>Hi</p>"},
		MessageClass: "IPM.Note", InternetCPID: "65001", ContentClass: "urn:content-classes:message", NativeBodyType: BodyHTML,
		Flag: &Flag{Subject: "Hi", Status: FlagActive, FlagType: "Flag for follow up", StartDate: "2025-01-02T00:00:00.000Z",
			DueDate: "2025-01-03T00:00:00.000Z", UtcStartDate: "2025-01-02T00:00:00.000Z", UtcDueDate: "2025-01-03T00:00:00.000Z",
			ReminderSet: new(false), DateCompleted: "", CompleteTime: ""},
		Categories: &Categories{Category: []string{"Work", "Urgent"}}, ConversationID: []byte{1, 2, 3}, ConversationIndex: []byte{4, 5},
		LastVerbExecuted: 3, LastVerbExecutionTime: "2025-01-02T03:04:05.000Z", ReceivedAsBcc: true, Sender: "s@example.test",
		IsDraft: new(false), Bcc: "x@example.test"}},
	&emailAdd{ServerID: "5:8", ApplicationData: &Email{Subject: "old", Read: new(false),
		Attachments25: &Attachments25{Attachment: []Attachment25{{AttMethod: 1, AttSize: 3, DisplayName: "a.txt", AttName: "5:8:2"}}},
		MIMETruncated: true, MIMEData: "Subject: old\r\n\r\nbody", MIMESize: 99, BodyTruncated: new(true), BodySize: 40, Body25: "body",
		Flag: &Flag{}, Categories: &Categories{}}},
	&bodyOptions{BodyPreference: []BodyPreference{{Type: BodyHTML, TruncationSize: new(uint32(5120)), AllOrNone: true, Preview: 255},
		{Type: BodyMIME, TruncationSize: new(uint32(0))}},
		BodyPartPreference: []BodyPartPreference{{Type: BodyHTML, TruncationSize: new(uint32(100))}}, MIMESupport: 2},
	&MoveItemsRequest{Move: []MoveItem{{SrcMsgID: "5:1", SrcFldID: "5", DstFldID: "7"}, {SrcMsgID: "5:2", SrcFldID: "5", DstFldID: "8"}}},
	&MoveItemsResponse{Response: []MoveItemsResult{{SrcMsgID: "5:1", Status: 3, DstMsgID: "7:9"}, {SrcMsgID: "5:2", Status: 1}}},
	&SearchRequest{Store: SearchStore{Name: "Mailbox", Query: wbxml.NewElement(wbxml.MustTag("Search:Query"),
		wbxml.NewElement(wbxml.MustTag("Search:And"), wbxml.TextElement(wbxml.MustTag("AirSync:CollectionId"), "5"),
			wbxml.TextElement(wbxml.MustTag("Search:FreeText"), "hello"))),
		Options: &SearchOptions{Range: "0-9", DeepTraversal: true, RebuildResults: true,
			BodyPreference: []BodyPreference{{Type: 2, TruncationSize: new(uint32(5120))}}, MIMESupport: 2,
			Picture: &SearchPicture{MaxSize: 100, MaxPictures: 3}}}},
	&SearchRequest{Store: SearchStore{Name: "GAL", Query: wbxml.TextElement(wbxml.MustTag("Search:Query"), "bo"),
		Options: &SearchOptions{Range: "0-4", Picture: &SearchPicture{}}}},
	&SearchResponse{Status: 1, Response: &SearchResponseContent{Store: SearchResponseStore{Status: 1,
		Result: []SearchResult{{Class: "Email", LongID: "5:1", CollectionID: "5",
			Properties: wbxml.NewElement(wbxml.MustTag("Search:Properties"), wbxml.TextElement(wbxml.MustTag("Email:Subject"), "Hi"))}},
		Range: "0-0", Total: new(1)}}},
	&SearchResponse{Status: 1, Response: &SearchResponseContent{Store: SearchResponseStore{Status: 1, Result: []SearchResult{{}}, Total: new(0)}}},
	&FindRequest{SearchID: "0b2c5f1e-0000-4000-8000-000000000001", ExecuteSearch: FindExecuteSearch{
		MailBoxSearchCriterion: &FindCriterion{Query: FindQuery{Class: "Email", CollectionID: "5", FreeText: "hello"},
			Options: &FindOptions{Range: "0-99", DeepTraversal: true, Picture: &SearchPicture{MaxPictures: 1}}}}},
	&FindRequest{SearchID: "x", ExecuteSearch: FindExecuteSearch{GalSearchCriterion: &FindCriterion{Query: FindQuery{FreeText: "bo"}}}},
	// Properties decode as an element; TestFindPropertiesRoundTrip checks
	// the typed forms.
	&FindResponse{Status: 1, Response: &FindResponseResult{Store: "Mailbox", Status: 1, Result: []FindResult{{Class: "Email",
		ServerID: "5:1", CollectionID: "5", Properties: wbxml.NewElement(wbxml.MustTag("Find:Properties"),
			wbxml.TextElement(wbxml.MustTag("Email:Subject"), "Hi"), wbxml.TextElement(wbxml.MustTag("Find:Preview"), "Hi there"))}},
		Range: "0-0", Total: new(1)}},
	&FindResponse{Status: 2},
	&SendMailRequest{ClientID: "c1", AccountID: "a", SaveInSentItems: true, Mime: []byte("To: a@b\r\n\r\nhi")},
	&SmartReplyRequest{ClientID: "c2", Source: &ComposeItem{FolderID: "5", ItemID: "5:7"}, SaveInSentItems: true, Mime: []byte("x")},
	&SmartForwardRequest{ClientID: "c3", Source: &ComposeItem{LongID: "5:8", InstanceID: "2025-01-01T00:00:00.000Z"}, ReplaceMime: true, Mime: []byte("y")},
	&SendMailResponse{Status: 120},
	&SmartReplyResponse{Status: 150},
	&SmartForwardResponse{Status: 119},
	&ItemOperationsRequest{
		EmptyFolderContents: []EmptyFolderContents{{CollectionID: "7", Options: &EmptyFolderContentsOptions{DeleteSubFolders: true}}},
		Fetch: []ItemOperationsFetch{
			{Store: "Mailbox", FileReference: "5:9:2", Options: &ItemOperationsOptions{Range: "0-999"}},
			{Store: "Mailbox", ServerID: "5:9", CollectionID: "5", Options: &ItemOperationsOptions{MIMESupport: new(2),
				BodyPreference: []BodyPreference{{Type: BodyMIME}}}},
			{Store: "Mailbox", LongID: "5:9"}},
		Move: []ItemOperationsMoveConv{{ConversationID: []byte{1, 2}, DstFldID: "6"}}},
	&ItemOperationsResponse{Status: 1, Response: &ItemOperationsResponses{
		EmptyFolderContents: []EmptyFolderContentsResult{{Status: 1, CollectionID: "7"}},
		Fetch:               []ItemOperationsFetchResult{{Status: 6, FileReference: "5:9:3"}, {Status: 1, ServerID: "5:9", CollectionID: "5", Class: "Email"}},
		Move:                []ItemOperationsMoveResult{{Status: 156, ConversationID: []byte{1, 2}}}}},
}
