package message

// Contact is an item of the Contact class (MS-ASCNTC) as it appears inside
// AirSync:ApplicationData: a Sync Add, Change or Fetch, an ItemOperations
// Fetch, a Search result. Like Email it has no WBXMLName, so a response
// carries it as the dynamic value of an interface field, and every tag
// names its namespace.
//
// Every element is a plain value with omitempty: an empty string is not
// written. Whether a client sent an element (and sent it empty, e.g. iOS's
// <Picture/>) cannot be told from the struct; a store that must know reads
// the raw ApplicationData element first (see contacts.SentNames). Values
// that a client may send are strings, so that an empty element decodes
// without error; the integers are server-only.
//
// Versions (MS-ASCNTC 2.2.2, each element's table): everything in the
// Contacts page except the ones noted, and the whole Contacts2 page, is
// 2.5 through 16.1. The 2.5 body forms (Contacts:Body, BodySize,
// BodyTruncated, Rtf) exist only in 2.5; AirSyncBase:Body replaces them
// from 12.0. Alias and WeightedRank (14.0+) appear only in recipient
// information cache responses. A producer fills what the request's
// version knows.
//
// The order is the token order of code page 1, then AirSyncBase:Body,
// then code page 12: the order of the MS-ASCNTC schema (Contacts.xsd,
// Contacts2.xsd), which Exchange follows. Decoding accepts any order.
type Contact struct {
	Anniversary          string `wbxml:"Contacts:Anniversary,omitempty"` // MS-ASDTYPE dateTime, a date in practice
	AssistantName        string `wbxml:"Contacts:AssistantName,omitempty"`
	AssistantPhoneNumber string `wbxml:"Contacts:AssistantPhoneNumber,omitempty"`
	Birthday             string `wbxml:"Contacts:Birthday,omitempty"` // MS-ASDTYPE dateTime, a date in practice

	// Protocol 2.5 only: the notes as plain text. BodySize is the full
	// size when BodyTruncated is true.
	Body25        string `wbxml:"Contacts:Body,omitempty"`
	BodySize      int64  `wbxml:"Contacts:BodySize,omitempty"`
	BodyTruncated *bool  `wbxml:"Contacts:BodyTruncated"`

	Business2PhoneNumber      string             `wbxml:"Contacts:Business2PhoneNumber,omitempty"`
	BusinessAddressCity       string             `wbxml:"Contacts:BusinessAddressCity,omitempty"`
	BusinessAddressCountry    string             `wbxml:"Contacts:BusinessAddressCountry,omitempty"`
	BusinessAddressPostalCode string             `wbxml:"Contacts:BusinessAddressPostalCode,omitempty"`
	BusinessAddressState      string             `wbxml:"Contacts:BusinessAddressState,omitempty"`
	BusinessAddressStreet     string             `wbxml:"Contacts:BusinessAddressStreet,omitempty"`
	BusinessFaxNumber         string             `wbxml:"Contacts:BusinessFaxNumber,omitempty"`
	BusinessPhoneNumber       string             `wbxml:"Contacts:BusinessPhoneNumber,omitempty"`
	CarPhoneNumber            string             `wbxml:"Contacts:CarPhoneNumber,omitempty"`
	Categories                *ContactCategories `wbxml:"Contacts:Categories"` // empty: no categories
	Children                  *ContactChildren   `wbxml:"Contacts:Children"`   // empty: no children
	CompanyName               string             `wbxml:"Contacts:CompanyName,omitempty"`
	Department                string             `wbxml:"Contacts:Department,omitempty"`
	Email1Address             string             `wbxml:"Contacts:Email1Address,omitempty"`
	Email2Address             string             `wbxml:"Contacts:Email2Address,omitempty"`
	Email3Address             string             `wbxml:"Contacts:Email3Address,omitempty"`
	FileAs                    string             `wbxml:"Contacts:FileAs,omitempty"`
	FirstName                 string             `wbxml:"Contacts:FirstName,omitempty"`
	Home2PhoneNumber          string             `wbxml:"Contacts:Home2PhoneNumber,omitempty"`
	HomeAddressCity           string             `wbxml:"Contacts:HomeAddressCity,omitempty"`
	HomeAddressCountry        string             `wbxml:"Contacts:HomeAddressCountry,omitempty"`
	HomeAddressPostalCode     string             `wbxml:"Contacts:HomeAddressPostalCode,omitempty"`
	HomeAddressState          string             `wbxml:"Contacts:HomeAddressState,omitempty"`
	HomeAddressStreet         string             `wbxml:"Contacts:HomeAddressStreet,omitempty"`
	HomeFaxNumber             string             `wbxml:"Contacts:HomeFaxNumber,omitempty"`
	HomePhoneNumber           string             `wbxml:"Contacts:HomePhoneNumber,omitempty"`
	JobTitle                  string             `wbxml:"Contacts:JobTitle,omitempty"`
	LastName                  string             `wbxml:"Contacts:LastName,omitempty"`
	MiddleName                string             `wbxml:"Contacts:MiddleName,omitempty"`
	MobilePhoneNumber         string             `wbxml:"Contacts:MobilePhoneNumber,omitempty"`
	OfficeLocation            string             `wbxml:"Contacts:OfficeLocation,omitempty"`
	OtherAddressCity          string             `wbxml:"Contacts:OtherAddressCity,omitempty"`
	OtherAddressCountry       string             `wbxml:"Contacts:OtherAddressCountry,omitempty"`
	OtherAddressPostalCode    string             `wbxml:"Contacts:OtherAddressPostalCode,omitempty"`
	OtherAddressState         string             `wbxml:"Contacts:OtherAddressState,omitempty"`
	OtherAddressStreet        string             `wbxml:"Contacts:OtherAddressStreet,omitempty"`
	PagerNumber               string             `wbxml:"Contacts:PagerNumber,omitempty"`
	RadioPhoneNumber          string             `wbxml:"Contacts:RadioPhoneNumber,omitempty"`
	Spouse                    string             `wbxml:"Contacts:Spouse,omitempty"`
	Suffix                    string             `wbxml:"Contacts:Suffix,omitempty"`
	Title                     string             `wbxml:"Contacts:Title,omitempty"`
	WebPage                   string             `wbxml:"Contacts:WebPage,omitempty"`
	YomiCompanyName           string             `wbxml:"Contacts:YomiCompanyName,omitempty"`
	YomiFirstName             string             `wbxml:"Contacts:YomiFirstName,omitempty"`
	YomiLastName              string             `wbxml:"Contacts:YomiLastName,omitempty"`

	// Rtf is the 2.5 notes as base64 compressed RTF (MS-ASCNTC Rtf; the
	// token is called CompressedRTF in MS-ASWBXML). Protocol 2.5 only.
	Rtf string `wbxml:"Contacts:CompressedRTF,omitempty"`

	// Picture is the photo, base64, at most 48 KB of base64 text
	// (MS-ASCNTC 2.2.2.58). A client sends <Picture/> to remove it, or
	// (iOS) when editing a contact whose photo it did not make.
	Picture string `wbxml:"Contacts:Picture,omitempty"`

	// Protocol 14.0 and later, recipient information cache only.
	Alias        string `wbxml:"Contacts:Alias,omitempty"`
	WeightedRank int    `wbxml:"Contacts:WeightedRank,omitempty"`

	// Protocol 12.0 and later: the notes.
	Body *Body `wbxml:"AirSyncBase:Body"`

	// Contacts2 (code page 12).
	CustomerID       string `wbxml:"Contacts2:CustomerId,omitempty"`
	GovernmentID     string `wbxml:"Contacts2:GovernmentId,omitempty"`
	IMAddress        string `wbxml:"Contacts2:IMAddress,omitempty"`
	IMAddress2       string `wbxml:"Contacts2:IMAddress2,omitempty"`
	IMAddress3       string `wbxml:"Contacts2:IMAddress3,omitempty"`
	ManagerName      string `wbxml:"Contacts2:ManagerName,omitempty"`
	CompanyMainPhone string `wbxml:"Contacts2:CompanyMainPhone,omitempty"`
	AccountName      string `wbxml:"Contacts2:AccountName,omitempty"`
	NickName         string `wbxml:"Contacts2:NickName,omitempty"`
	MMS              string `wbxml:"Contacts2:MMS,omitempty"`
}

// ContactCategories are a contact's categories; in a Change an empty
// element clears them (MS-ASCNTC 2.2.2.14).
type ContactCategories struct {
	Category []string `wbxml:"Contacts:Category"`
}

// ContactChildren are the names of a contact's children (MS-ASCNTC
// 2.2.2.16: at most 8 Child elements).
type ContactChildren struct {
	Child []string `wbxml:"Contacts:Child"`
}
