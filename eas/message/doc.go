// Package message holds the request and response documents of each EAS
// command as Go structs mapped to WBXML with struct tags (package wbxml).
// The server's command handlers and the Go EAS client share them, so the
// two sides cannot disagree about a document's shape.
//
// One file per command family; element names and order follow MS-ASCMD.
// Pointer fields are optional elements (nil: absent).
package message

import "github.com/easd/easd/wbxml"

// Tag is the type of every WBXMLName field.
type Tag = wbxml.Tag
