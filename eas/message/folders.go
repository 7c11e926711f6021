package message

// FolderSyncRequest asks for the folder hierarchy's changes since SyncKey
// (MS-ASCMD 2.2.1.5).
type FolderSyncRequest struct {
	WBXMLName Tag    `wbxml:"FolderHierarchy:FolderSync"`
	SyncKey   string `wbxml:"SyncKey"`
}

// FolderSyncResponse answers FolderSyncRequest.
type FolderSyncResponse struct {
	WBXMLName Tag            `wbxml:"FolderHierarchy:FolderSync"`
	Status    int            `wbxml:"Status"`
	SyncKey   string         `wbxml:"SyncKey,omitempty"`
	Changes   *FolderChanges `wbxml:"Changes"`
}

// FolderChanges lists hierarchy changes.
type FolderChanges struct {
	Count  int            `wbxml:"Count"`
	Update []Folder       `wbxml:"Update"`
	Delete []FolderDelete `wbxml:"Delete"`
	Add    []Folder       `wbxml:"Add"`
}

// Folder is an added or updated folder.
type Folder struct {
	ServerID    string `wbxml:"ServerId"`
	ParentID    string `wbxml:"ParentId"`
	DisplayName string `wbxml:"DisplayName"`
	Type        int    `wbxml:"Type"`
}

// FolderDelete names a deleted folder.
type FolderDelete struct {
	ServerID string `wbxml:"ServerId"`
}

// FolderCreateRequest creates a folder (MS-ASCMD 2.2.1.3).
type FolderCreateRequest struct {
	WBXMLName   Tag    `wbxml:"FolderHierarchy:FolderCreate"`
	SyncKey     string `wbxml:"SyncKey"`
	ParentID    string `wbxml:"ParentId"`
	DisplayName string `wbxml:"DisplayName"`
	Type        int    `wbxml:"Type"`
}

// FolderCreateResponse answers FolderCreateRequest.
type FolderCreateResponse struct {
	WBXMLName Tag    `wbxml:"FolderHierarchy:FolderCreate"`
	Status    int    `wbxml:"Status"`
	SyncKey   string `wbxml:"SyncKey,omitempty"`
	ServerID  string `wbxml:"ServerId,omitempty"`
}

// FolderUpdateRequest renames or moves a folder (MS-ASCMD 2.2.1.6).
type FolderUpdateRequest struct {
	WBXMLName   Tag    `wbxml:"FolderHierarchy:FolderUpdate"`
	SyncKey     string `wbxml:"SyncKey"`
	ServerID    string `wbxml:"ServerId"`
	ParentID    string `wbxml:"ParentId"`
	DisplayName string `wbxml:"DisplayName"`
}

// FolderUpdateResponse answers FolderUpdateRequest.
type FolderUpdateResponse struct {
	WBXMLName Tag    `wbxml:"FolderHierarchy:FolderUpdate"`
	Status    int    `wbxml:"Status"`
	SyncKey   string `wbxml:"SyncKey,omitempty"`
}

// FolderDeleteRequest deletes a folder (MS-ASCMD 2.2.1.4).
type FolderDeleteRequest struct {
	WBXMLName Tag    `wbxml:"FolderHierarchy:FolderDelete"`
	SyncKey   string `wbxml:"SyncKey"`
	ServerID  string `wbxml:"ServerId"`
}

// FolderDeleteResponse answers FolderDeleteRequest.
type FolderDeleteResponse struct {
	WBXMLName Tag    `wbxml:"FolderHierarchy:FolderDelete"`
	Status    int    `wbxml:"Status"`
	SyncKey   string `wbxml:"SyncKey,omitempty"`
}
