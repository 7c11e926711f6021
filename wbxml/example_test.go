package wbxml_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/easd/easd/wbxml"
)

// FolderSyncRequest and FolderSyncResponse show the struct mapping as a
// command handler uses it.
type FolderSyncRequest struct {
	WBXMLName wbxml.Tag `wbxml:"FolderHierarchy:FolderSync"`
	SyncKey   string
}

type FolderSyncResponse struct {
	WBXMLName wbxml.Tag `wbxml:"FolderHierarchy:FolderSync"`
	Status    int
	SyncKey   string
	Changes   *FolderChanges `wbxml:",omitempty"`
}

type FolderChanges struct {
	Count int
	Add   []Folder
}

type Folder struct {
	ServerId    string
	ParentId    string
	DisplayName string
	Type        int
}

func Example() {
	// A phone's first FolderSync: 03 01 6a 00 00 07 56 52 03 30 00 01 01.
	body := []byte{0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01}
	var req FolderSyncRequest
	if err := wbxml.Unmarshal(body, &req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("SyncKey %q\n", req.SyncKey)

	resp := FolderSyncResponse{Status: 1, SyncKey: "1", Changes: &FolderChanges{
		Count: 1,
		Add:   []Folder{{ServerId: "1", ParentId: "0", DisplayName: "Inbox", Type: 2}},
	}}
	out, err := wbxml.Marshal(&resp)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The XML rendering, as written to a protocol trace.
	if err := wbxml.WriteXML(os.Stdout, bytes.NewReader(out)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SyncKey "0"
	// <?xml version="1.0" encoding="utf-8"?>
	// <!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">
	// <FolderSync xmlns="FolderHierarchy:">
	//   <Status>1</Status>
	//   <SyncKey>1</SyncKey>
	//   <Changes>
	//     <Count>1</Count>
	//     <Add>
	//       <ServerId>1</ServerId>
	//       <ParentId>0</ParentId>
	//       <DisplayName>Inbox</DisplayName>
	//       <Type>2</Type>
	//     </Add>
	//   </Changes>
	// </FolderSync>
}

// ExampleDecoder streams a document token by token; a large body would be
// read from Content in pieces instead of with Text.
func ExampleDecoder() {
	body := []byte{0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01}
	d := wbxml.NewDecoder(bytes.NewReader(body), wbxml.Limits{})
	for {
		tok, err := d.Next()
		if err != nil {
			break // io.EOF at the end of the document
		}
		switch tok.Kind {
		case wbxml.StartTag:
			fmt.Println("start", tok.Tag)
		case wbxml.String:
			s, _ := d.Text()
			fmt.Printf("text %q\n", s)
		case wbxml.EndTag:
			fmt.Println("end", tok.Tag.Name())
		}
	}
	// Output:
	// start FolderHierarchy:FolderSync
	// start FolderHierarchy:SyncKey
	// text "0"
	// end SyncKey
	// end FolderSync
}
