package message

// GALProperties is one directory entry in a Search Store=GAL or a Find
// GAL result (MS-ASCMD 2.2.1.16, 2.2.1.2; the GAL code page, 16). Absent
// values are left out; Picture only when the request asked for pictures.
type GALProperties struct {
	DisplayName  string      `wbxml:"GAL:DisplayName,omitempty"`
	Phone        string      `wbxml:"GAL:Phone,omitempty"`
	Office       string      `wbxml:"GAL:Office,omitempty"`
	Title        string      `wbxml:"GAL:Title,omitempty"`
	Company      string      `wbxml:"GAL:Company,omitempty"`
	Alias        string      `wbxml:"GAL:Alias,omitempty"`
	FirstName    string      `wbxml:"GAL:FirstName,omitempty"`
	LastName     string      `wbxml:"GAL:LastName,omitempty"`
	HomePhone    string      `wbxml:"GAL:HomePhone,omitempty"`
	MobilePhone  string      `wbxml:"GAL:MobilePhone,omitempty"`
	EmailAddress string      `wbxml:"GAL:EmailAddress,omitempty"`
	Picture      *GALPicture `wbxml:"GAL:Picture"`
}

// GALPicture is an entry's photo, or why it is not sent: Status 1 with
// Data, 173 no photo, 174 larger than MaxSize, 175 MaxPictures already
// sent (MS-ASCMD 2.2.3.177.13 as GAL's Picture uses them).
type GALPicture struct {
	Status int    `wbxml:"GAL:Status"`
	Data   []byte `wbxml:"GAL:Data,omitempty"`
}

// Picture statuses shared by Search, Find and ResolveRecipients.
const (
	PictureOK       = 1
	PictureNone     = 173
	PictureTooLarge = 174
	PictureTooMany  = 175
)
