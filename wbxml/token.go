package wbxml

// Global WBXML 1.3 tokens (WAP-192 section 7.1).
const (
	tokSwitchPage = 0x00
	tokEnd        = 0x01
	tokEntity     = 0x02
	tokStrI       = 0x03
	tokLiteral    = 0x04
	tokExtI0      = 0x40
	tokExtI1      = 0x41
	tokExtI2      = 0x42
	tokPI         = 0x43
	tokLiteralC   = 0x44
	tokExtT0      = 0x80
	tokExtT1      = 0x81
	tokExtT2      = 0x82
	tokStrT       = 0x83
	tokLiteralA   = 0x84
	tokExt0       = 0xC0
	tokExt1       = 0xC1
	tokExt2       = 0xC2
	tokOpaque     = 0xC3
	tokLiteralAC  = 0xC4

	flagContent = 0x40
	flagAttrs   = 0x80

	headerVersion  = 0x03 // WBXML 1.3
	headerPublicID = 0x01 // unknown public identifier, as EAS sends it
	headerCharset  = 0x6A // IANA MIBenum 106: UTF-8
)

// Kind tells what a Token is.
type Kind uint8

const (
	// StartTag opens an element. Token.HasContent is false for an element
	// encoded without content; its EndTag follows at once.
	StartTag Kind = iota + 1
	// EndTag closes the element named by Token.Tag.
	EndTag
	// String is inline string content (STR_I); read it with Decoder.Bytes,
	// Decoder.Text or Decoder.Content.
	String
	// Opaque is binary content (OPAQUE) of Token.Length bytes, read the same
	// way as String.
	Opaque
)

func (k Kind) String() string {
	switch k {
	case StartTag:
		return "StartTag"
	case EndTag:
		return "EndTag"
	case String:
		return "String"
	case Opaque:
		return "Opaque"
	}
	return "Kind(?)"
}

// Token is one item of a WBXML document as returned by Decoder.Next. It is
// a small value type, so reading tokens does not allocate.
type Token struct {
	Kind       Kind
	Tag        Tag   // StartTag, EndTag
	HasContent bool  // StartTag
	Length     int64 // Opaque: content length in bytes
	Offset     int64 // byte offset of the token in the document
}
