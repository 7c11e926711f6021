package message

// FindRequest is the 16.1 search (MS-ASCMD 2.2.1.2), which iOS uses for
// mail: one criterion, mailbox or GAL.
type FindRequest struct {
	WBXMLName     Tag               `wbxml:"Find:Find"`
	SearchID      string            `wbxml:"SearchId"`
	ExecuteSearch FindExecuteSearch `wbxml:"ExecuteSearch"`
}

// FindExecuteSearch holds the criterion.
type FindExecuteSearch struct {
	MailBoxSearchCriterion *FindCriterion `wbxml:"MailBoxSearchCriterion"`
	GalSearchCriterion     *FindCriterion `wbxml:"GalSearchCriterion"`
}

// FindCriterion is a query and its options.
type FindCriterion struct {
	Query   FindQuery    `wbxml:"Query"`
	Options *FindOptions `wbxml:"Options"`
}

// FindQuery is what to look for and where: no CollectionId means every
// mail folder.
type FindQuery struct {
	Class        string `wbxml:"AirSync:Class,omitempty"`
	CollectionID string `wbxml:"AirSync:CollectionId,omitempty"`
	FreeText     string `wbxml:"FreeText,omitempty"`
}

// FindOptions: Range "first-last" (zero-based, inclusive), DeepTraversal
// (subfolders too), Picture (GAL photos).
type FindOptions struct {
	Range         string         `wbxml:"Range,omitempty"`
	DeepTraversal bool           `wbxml:"DeepTraversal,empty"`
	Picture       *SearchPicture `wbxml:"Picture"`
}

// FindResponse answers a Find. Status (MS-ASCMD 2.2.3.177.5): 1 success,
// 2 invalid request, 3 FolderSync required, 4 the range is too large.
type FindResponse struct {
	WBXMLName Tag                 `wbxml:"Find:Find"`
	Status    int                 `wbxml:"Status"`
	Response  *FindResponseResult `wbxml:"Response"`
}

// FindResponseResult is the store's answer: the results of Range, and
// how many there are in all.
type FindResponseResult struct {
	Store  string       `wbxml:"ItemOperations:Store"`
	Status int          `wbxml:"Status"`
	Result []FindResult `wbxml:"Result"`
	Range  string       `wbxml:"Range,omitempty"`
	Total  *int         `wbxml:"Total"`
}

// FindResult is one found message or directory entry. Properties is a
// *FindProperties for mail, a *GALProperties (with no Class, ServerId or
// CollectionId) for the GAL; the client decodes it by the response's
// Store.
type FindResult struct {
	Class        string `wbxml:"AirSync:Class,omitempty"`
	ServerID     string `wbxml:"AirSync:ServerId,omitempty"`
	CollectionID string `wbxml:"AirSync:CollectionId,omitempty"`
	Properties   any    `wbxml:"Properties"`
}

// FindProperties is the summary of a found message that a result list
// shows; the whole message comes by ItemOperations or Sync.
type FindProperties struct {
	Subject        string `wbxml:"Email:Subject,omitempty"`
	DateReceived   string `wbxml:"Email:DateReceived,omitempty"`
	DisplayTo      string `wbxml:"Email:DisplayTo,omitempty"`
	DisplayCc      string `wbxml:"DisplayCc,omitempty"`
	DisplayBcc     string `wbxml:"DisplayBcc,omitempty"`
	Importance     *int   `wbxml:"Email:Importance"`
	Read           *bool  `wbxml:"Email:Read"`
	IsDraft        *bool  `wbxml:"Email2:IsDraft"`
	Preview        string `wbxml:"Preview,omitempty"`
	HasAttachments *bool  `wbxml:"HasAttachments"`
	From           string `wbxml:"Email:From,omitempty"`
}
