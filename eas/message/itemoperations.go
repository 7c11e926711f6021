package message

// ItemOperationsRequest is an ItemOperations request (MS-ASCMD 2.2.1.10):
// fetches of items and attachments, emptying of folders, conversation
// moves. Decoded into this type, operations are grouped by kind; the
// server reads them in the client's order and answers in that order.
type ItemOperationsRequest struct {
	WBXMLName           Tag                      `wbxml:"ItemOperations:ItemOperations"`
	EmptyFolderContents []EmptyFolderContents    `wbxml:"EmptyFolderContents"`
	Fetch               []ItemOperationsFetch    `wbxml:"Fetch"`
	Move                []ItemOperationsMoveConv `wbxml:"Move"`
}

// ItemOperationsFetch asks for one item (ServerId with CollectionId, or
// the LongId of a Search result) or one attachment (FileReference).
type ItemOperationsFetch struct {
	Store         string                 `wbxml:"Store"` // "Mailbox"
	ServerID      string                 `wbxml:"AirSync:ServerId,omitempty"`
	CollectionID  string                 `wbxml:"AirSync:CollectionId,omitempty"`
	LongID        string                 `wbxml:"Search:LongId,omitempty"`
	LinkID        string                 `wbxml:"DocumentLibrary:LinkId,omitempty"`
	FileReference string                 `wbxml:"AirSyncBase:FileReference,omitempty"`
	Options       *ItemOperationsOptions `wbxml:"Options"`
}

// ItemOperationsOptions shape a fetch. Range ("0-999", inclusive) asks
// for part of an attachment; Schema limits the properties returned
// (easd returns them all, which the protocol allows); UserName and
// Password are for document libraries and ignored.
type ItemOperationsOptions struct {
	Schema             any                  `wbxml:"Schema"`
	Range              string               `wbxml:"Range,omitempty"`
	UserName           string               `wbxml:"UserName,omitempty"`
	Password           string               `wbxml:"Password,omitempty"`
	MIMESupport        *int                 `wbxml:"AirSync:MIMESupport"`
	BodyPreference     []BodyPreference     `wbxml:"AirSyncBase:BodyPreference"`
	BodyPartPreference []BodyPartPreference `wbxml:"AirSyncBase:BodyPartPreference"`
}

// EmptyFolderContents deletes every item of a folder, and with
// DeleteSubFolders its subfolders too.
type EmptyFolderContents struct {
	CollectionID string                      `wbxml:"AirSync:CollectionId"`
	Options      *EmptyFolderContentsOptions `wbxml:"Options"`
}

// EmptyFolderContentsOptions holds the DeleteSubFolders flag.
type EmptyFolderContentsOptions struct {
	DeleteSubFolders bool `wbxml:"DeleteSubFolders,empty"`
}

// ItemOperationsMoveConv moves a conversation (14.0+).
type ItemOperationsMoveConv struct {
	ConversationID []byte `wbxml:"ConversationId"`
	DstFldID       string `wbxml:"DstFldId"`
	Options        any    `wbxml:"Options"`
}

// ItemOperationsResponse is the answer; Status is global (1 unless the
// whole request failed), each operation has its own.
type ItemOperationsResponse struct {
	WBXMLName Tag                      `wbxml:"ItemOperations:ItemOperations"`
	Status    int                      `wbxml:"Status"`
	Response  *ItemOperationsResponses `wbxml:"Response"`
}

// ItemOperationsResponses holds the answers of the operations.
type ItemOperationsResponses struct {
	EmptyFolderContents []EmptyFolderContentsResult `wbxml:"EmptyFolderContents"`
	Fetch               []ItemOperationsFetchResult `wbxml:"Fetch"`
	Move                []ItemOperationsMoveResult  `wbxml:"Move"`
}

// EmptyFolderContentsResult answers one EmptyFolderContents.
type EmptyFolderContentsResult struct {
	Status       int    `wbxml:"Status"`
	CollectionID string `wbxml:"AirSync:CollectionId"`
}

// ItemOperationsFetchResult answers one fetch. Properties holds the
// item's properties (the Email fields, or an attachment's ContentType,
// Range, Total and Data or Part); easd writes it with a streaming encoder,
// the Go client reads it as an element tree.
type ItemOperationsFetchResult struct {
	Status        int    `wbxml:"Status"`
	ServerID      string `wbxml:"AirSync:ServerId,omitempty"`
	CollectionID  string `wbxml:"AirSync:CollectionId,omitempty"`
	LongID        string `wbxml:"Search:LongId,omitempty"`
	FileReference string `wbxml:"AirSyncBase:FileReference,omitempty"`
	Class         string `wbxml:"AirSync:Class,omitempty"`
	Properties    any    `wbxml:"Properties"`
}

// ItemOperationsMoveResult answers a conversation move.
type ItemOperationsMoveResult struct {
	Status         int    `wbxml:"Status"`
	ConversationID []byte `wbxml:"ConversationId"`
}
