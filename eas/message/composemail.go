package message

// SendMailRequest sends a new message (MS-ASCMD 2.2.1.17), 14.0 and later.
// Before 14.0 the request body is the raw MIME itself.
type SendMailRequest struct {
	WBXMLName       Tag    `wbxml:"ComposeMail:SendMail"`
	ClientID        string `wbxml:"ClientId"`
	AccountID       string `wbxml:"AccountId,omitempty"`
	SaveInSentItems bool   `wbxml:"SaveInSentItems,empty"`
	Mime            []byte `wbxml:"Mime"`
}

// SmartReplyRequest replies to the message Source names (MS-ASCMD
// 2.2.1.20), 14.0 and later. Unless ReplaceMime is set, the server adds
// the original below the client's text.
type SmartReplyRequest struct {
	WBXMLName       Tag          `wbxml:"ComposeMail:SmartReply"`
	ClientID        string       `wbxml:"ClientId"`
	Source          *ComposeItem `wbxml:"Source"`
	AccountID       string       `wbxml:"AccountId,omitempty"`
	SaveInSentItems bool         `wbxml:"SaveInSentItems,empty"`
	ReplaceMime     bool         `wbxml:"ReplaceMime,empty"`
	Mime            []byte       `wbxml:"Mime"`
}

// SmartForwardRequest forwards the message Source names (MS-ASCMD
// 2.2.1.19). It has the elements of SmartReplyRequest, so one converts to
// the other.
type SmartForwardRequest struct {
	WBXMLName       Tag          `wbxml:"ComposeMail:SmartForward"`
	ClientID        string       `wbxml:"ClientId"`
	Source          *ComposeItem `wbxml:"Source"`
	AccountID       string       `wbxml:"AccountId,omitempty"`
	SaveInSentItems bool         `wbxml:"SaveInSentItems,empty"`
	ReplaceMime     bool         `wbxml:"ReplaceMime,empty"`
	Mime            []byte       `wbxml:"Mime"`
}

// ComposeItem names the message replied to or forwarded: a mail item
// (FolderId + ItemId), a search result (LongId), or a meeting occurrence
// (InstanceId).
type ComposeItem struct {
	FolderID   string `wbxml:"FolderId,omitempty"`
	ItemID     string `wbxml:"ItemId,omitempty"`
	LongID     string `wbxml:"LongId,omitempty"`
	InstanceID string `wbxml:"InstanceId,omitempty"`
}

// SendMailResponse carries the failure status of a SendMail; success is an
// empty 200 response.
type SendMailResponse struct {
	WBXMLName Tag `wbxml:"ComposeMail:SendMail"`
	Status    int `wbxml:"Status"`
}

// SmartReplyResponse carries the failure status of a SmartReply.
type SmartReplyResponse struct {
	WBXMLName Tag `wbxml:"ComposeMail:SmartReply"`
	Status    int `wbxml:"Status"`
}

// SmartForwardResponse carries the failure status of a SmartForward.
type SmartForwardResponse struct {
	WBXMLName Tag `wbxml:"ComposeMail:SmartForward"`
	Status    int `wbxml:"Status"`
}
