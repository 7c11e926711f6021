package message

// ValidateCertRequest asks the server to validate S/MIME certificates
// (MS-ASCMD 2.2.1.22). Each Certificate is the base64 of a DER X.509
// certificate; CertificateChain holds intermediates that help build the
// chains; CheckCRL 1 asks for revocation checking too.
type ValidateCertRequest struct {
	WBXMLName        Tag                   `wbxml:"ValidateCert:ValidateCert"`
	CertificateChain *ValidateCertificates `wbxml:"CertificateChain"`
	Certificates     *ValidateCertificates `wbxml:"Certificates"`
	CheckCRL         string                `wbxml:"CheckCRL,omitempty"`
}

// ValidateCertificates is a list of base64 DER certificates.
type ValidateCertificates struct {
	Certificate []string `wbxml:"Certificate"`
}

// ValidateCertResponse answers with a Status for the command and one
// Certificate (holding a Status) per certificate of the request, in order.
type ValidateCertResponse struct {
	WBXMLName   Tag                  `wbxml:"ValidateCert:ValidateCert"`
	Status      int                  `wbxml:"Status"`
	Certificate []ValidateCertResult `wbxml:"Certificate"`
}

// ValidateCertResult is the validation status of one certificate
// (MS-ASCMD 2.2.3.177.18).
type ValidateCertResult struct {
	Status int `wbxml:"Status"`
}
