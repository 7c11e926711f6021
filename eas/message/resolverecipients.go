package message

// ResolveRecipientsRequest asks the server to resolve names or addresses
// against the directory and the user's contacts (MS-ASCMD 2.2.1.15), with
// certificates, availability and pictures on request.
type ResolveRecipientsRequest struct {
	WBXMLName Tag                       `wbxml:"ResolveRecipients:ResolveRecipients"`
	To        []string                  `wbxml:"To"`
	Options   *ResolveRecipientsOptions `wbxml:"Options"`
}

// ResolveRecipientsOptions: CertificateRetrieval 1 none, 2 full
// certificates, 3 mini certificates; MaxCertificates bounds the
// certificates of the whole response; MaxAmbiguousRecipients the
// suggestions per ambiguous To; Availability asks for free/busy between
// two instants; Picture for photos.
type ResolveRecipientsOptions struct {
	CertificateRetrieval   *int                     `wbxml:"CertificateRetrieval"`
	MaxCertificates        *int                     `wbxml:"MaxCertificates"`
	MaxAmbiguousRecipients *int                     `wbxml:"MaxAmbiguousRecipients"`
	Availability           *ResolveRecipientsWindow `wbxml:"Availability"`
	Picture                *SearchPicture           `wbxml:"Picture"`
}

// ResolveRecipientsWindow is the free/busy time span, each instant as
// "2006-01-02T15:04:05.000Z".
type ResolveRecipientsWindow struct {
	StartTime string `wbxml:"StartTime"`
	EndTime   string `wbxml:"EndTime"`
}

// ResolveRecipientsResponse answers with one Response per To. Status
// (MS-ASCMD 2.2.3.177.12): 1 success, 5 protocol error, 6 server error.
type ResolveRecipientsResponse struct {
	WBXMLName Tag                  `wbxml:"ResolveRecipients:ResolveRecipients"`
	Status    int                  `wbxml:"Status"`
	Response  []RecipientsResponse `wbxml:"Response"`
}

// RecipientsResponse is the answer for one To. Status: 1 resolved, 2
// ambiguous (all suggestions sent), 3 ambiguous (a part of them sent),
// 4 not resolved. RecipientCount is how many recipients were found.
type RecipientsResponse struct {
	To             string      `wbxml:"To"`
	Status         int         `wbxml:"Status"`
	RecipientCount *int        `wbxml:"RecipientCount"`
	Recipient      []Recipient `wbxml:"Recipient"`
}

// Recipient is one match: Type 1 from the directory (GAL), 2 from the
// user's contacts.
type Recipient struct {
	Type         int                    `wbxml:"Type"`
	DisplayName  string                 `wbxml:"DisplayName"`
	EmailAddress string                 `wbxml:"EmailAddress"`
	Availability *RecipientAvailability `wbxml:"Availability"`
	Certificates *RecipientCertificates `wbxml:"Certificates"`
	Picture      *RecipientPicture      `wbxml:"Picture"`
}

// RecipientAvailability: Status 1 with MergedFreeBusy, 160 too many
// recipients, 161 a list too large, 162 try again later, 163 no
// free/busy data for this recipient.
type RecipientAvailability struct {
	Status         int    `wbxml:"Status"`
	MergedFreeBusy string `wbxml:"MergedFreeBusy,omitempty"`
}

// RecipientCertificates: Status 1, 7 no valid certificate, 8 the
// response's MaxCertificates reached. Certificate and MiniCertificate
// are base64 text.
type RecipientCertificates struct {
	Status           int      `wbxml:"Status"`
	CertificateCount *int     `wbxml:"CertificateCount"`
	RecipientCount   *int     `wbxml:"RecipientCount"`
	Certificate      []string `wbxml:"Certificate"`
	MiniCertificate  []string `wbxml:"MiniCertificate"`
}

// RecipientPicture is the recipient's photo or why it is not sent (the
// statuses of GALPicture).
type RecipientPicture struct {
	Status int    `wbxml:"Status"`
	Data   []byte `wbxml:"Data,omitempty"`
}

// ResolveRecipients types.
const (
	RecipientGAL     = 1
	RecipientContact = 2
)
