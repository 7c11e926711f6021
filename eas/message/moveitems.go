package message

// MoveItemsRequest moves items between folders (MS-ASCMD 2.2.1.12): one
// Move per item, each answered on its own.
type MoveItemsRequest struct {
	WBXMLName Tag        `wbxml:"Move:MoveItems"`
	Move      []MoveItem `wbxml:"Move"`
}

// MoveItem is one item to move: its ServerId, its folder and the folder
// to move it to.
type MoveItem struct {
	SrcMsgID string `wbxml:"SrcMsgId"`
	SrcFldID string `wbxml:"SrcFldId"`
	DstFldID string `wbxml:"DstFldId"`
}

// MoveItemsResponse answers each Move. Status (MS-ASCMD 2.2.3.177.9):
// 1 invalid source, 2 invalid destination, 3 success, 4 source and
// destination are the same, 5 other failure, 7 the item is locked.
// The top-level Status carries only global failures.
type MoveItemsResponse struct {
	WBXMLName Tag               `wbxml:"Move:MoveItems"`
	Status    int               `wbxml:"Status,omitempty"`
	Response  []MoveItemsResult `wbxml:"Response"`
}

// MoveItemsResult is the answer to one Move; DstMsgId is the item's new
// ServerId, present on success.
type MoveItemsResult struct {
	SrcMsgID string `wbxml:"SrcMsgId"`
	Status   int    `wbxml:"Status"`
	DstMsgID string `wbxml:"DstMsgId,omitempty"`
}
