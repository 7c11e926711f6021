// Package wbxml encodes and decodes WAP Binary XML 1.3 as Exchange
// ActiveSync uses it (MS-ASWBXML), with the code pages 0–25 of the
// specification, 16.0 and 16.1 additions included.
//
// It knows nothing of HTTP, IMAP or SQL. There are four ways in:
//
//   - Decoder reads a document token by token (StartTag, EndTag, String,
//     Opaque) without allocating per token. String and opaque content is
//     read on demand with Bytes, Text or, for large content such as a MIME
//     body, Content, an io.Reader that streams straight from the input.
//   - Encoder writes tokens straight to an io.Writer; OpaqueFrom copies a
//     body of known length from an io.Reader without holding it.
//   - Element is a small in-memory tree (Parse, Encode, Child, Path,
//     ChildText) for handlers of small commands and for tests.
//   - Marshal and Unmarshal (and Encoder.Encode, Decoder.Decode and
//     DecodeElement for use mid-stream) map documents to Go structs, in
//     the manner of encoding/xml.
//
// # Struct mapping
//
// A struct that is a document root names its element with a field
// WBXMLName of type Tag:
//
//	type PingRequest struct {
//		WBXMLName         wbxml.Tag `wbxml:"Ping:Ping"`
//		HeartbeatInterval int       `wbxml:",omitempty"`
//		Folders           struct {
//			Folder []struct {
//				Id    string
//				Class string
//			}
//		}
//	}
//
// Each exported field is a child element named by its tag, or by the field
// name when the tag has none. A name without namespace lives in the
// namespace of the enclosing element; "AirSyncBase:Body" switches to
// another one, and the fields of a nested struct then default to it.
// Supported field types: string, []byte (always OPAQUE), signed and
// unsigned integers, bool, structs, pointers to all of these (nil means
// absent), slices of them (repeated elements) and *Element (the raw
// subtree, e.g. an item's ApplicationData that a store interprets), and
// interfaces: encoding writes the dynamic value (a pointer to a struct, so
// one document type can carry the item data of any class), decoding fills
// a struct pointer placed there beforehand or else stores the *Element.
// Options after the name:
//
//	omitempty  leave the element out when the value is zero
//	empty      for bool: write <Tag/> when true and nothing when false;
//	           reading accepts <Tag/>, <Tag>1</Tag> and <Tag>0</Tag>
//	opaque     write a string as OPAQUE instead of an inline string
//	any        for []*Element: collect the children no other field takes
//
// Decoding skips children that no field takes, so new protocol elements do
// not break old handlers; values that do not parse (an integer field
// holding "abc", an element inside a value) are errors.
//
// # Errors and limits
//
// Malformed input yields a *SyntaxError with the byte offset and one of the
// classes ErrTruncated, ErrMalformed, ErrUnknownPage, ErrUnknownTag,
// ErrUnsupported (attributes, entities, extensions, LITERAL, string table
// references, which EAS does not use), ErrInvalidUTF8 or ErrLimit. Limits
// caps nesting depth, token count and document size, so hostile input
// costs bounded memory and time. A string table in the header is legal
// WBXML and is skipped.
//
// # XML form
//
// WriteXML and ReadXML convert to and from the XML form used in logs and by
// the `easd wbxml` subcommand; libwbxml's xml2wbxml and wbxml2xml read and
// write the same form, up to a few names that libwbxml 0.11.8 spells
// differently. For every document in which SWITCH_PAGE appears only where
// the page changes and lengths are minimally encoded (the form Encoder and
// libwbxml write), WBXML -> XML -> WBXML gives the same bytes; for others
// it gives the same tokens. See xml.go for the
// markers that make this possible.
package wbxml
