package message

// Policy types (MS-ASPROV 2.2.2.43): the WBXML document of 12.0 and later,
// the XML provisioning document of 2.5.
const (
	PolicyTypeWBXML = "MS-EAS-Provisioning-WBXML"
	PolicyTypeXML   = "MS-WAP-Provisioning-XML"
)

// ProvisionRequest is either phase of provisioning or a wipe
// acknowledgement (MS-ASPROV 3.1.5.1): phase 1 names the PolicyType (and,
// from 14.1, describes the device); phase 2 acknowledges the temporary key
// with PolicyKey and Status; a device told to wipe itself answers with
// RemoteWipe or AccountOnlyRemoteWipe.
type ProvisionRequest struct {
	WBXMLName             Tag                `wbxml:"Provision:Provision"`
	DeviceInformation     *DeviceInformation `wbxml:"Settings:DeviceInformation"`
	Policies              *PoliciesRequest   `wbxml:"Provision:Policies"`
	RemoteWipe            *WipeAck           `wbxml:"RemoteWipe"`
	AccountOnlyRemoteWipe *WipeAck           `wbxml:"AccountOnlyRemoteWipe"`
}

// PoliciesRequest holds the policy asked for or acknowledged.
type PoliciesRequest struct {
	Policy PolicyRequest `wbxml:"Policy"`
}

// PolicyRequest asks for a policy (PolicyType only) or acknowledges one.
type PolicyRequest struct {
	PolicyType string `wbxml:"PolicyType"`
	// PolicyKey is a string so that a malformed key is answered as a
	// wrong one (Policy Status 5), not as undecodable WBXML.
	PolicyKey string `wbxml:"PolicyKey,omitempty"`
	// Status says whether the device applied the policy: 1 fully, 2 partly,
	// 3 not at all, 4 provisioned by a third party.
	Status int `wbxml:"Status,omitempty"`
}

// WipeAck confirms a wipe directive: Status 1 wiped, 2 failed.
type WipeAck struct {
	Status int `wbxml:"Status"`
}

// ProvisionResponse answers ProvisionRequest in 12.0 and later.
type ProvisionResponse struct {
	WBXMLName         Tag                      `wbxml:"Provision:Provision"`
	DeviceInformation *DeviceInformationStatus `wbxml:"Settings:DeviceInformation"`
	Status            int                      `wbxml:"Provision:Status"`
	Policies          *PoliciesResponse        `wbxml:"Policies"`
	// RemoteWipe tells the device to wipe itself, AccountOnlyRemoteWipe
	// (16.1) to remove only this account's data.
	RemoteWipe            bool `wbxml:"RemoteWipe,empty"`
	AccountOnlyRemoteWipe bool `wbxml:"AccountOnlyRemoteWipe,empty"`
}

// PoliciesResponse holds the policy sent or confirmed.
type PoliciesResponse struct {
	Policy PolicyResponse `wbxml:"Policy"`
}

// PolicyResponse is the policy of phase 1 (with Data and a temporary key)
// or the confirmation of phase 2 (with the final key).
type PolicyResponse struct {
	PolicyType string      `wbxml:"PolicyType"`
	Status     int         `wbxml:"Status"`
	PolicyKey  uint32      `wbxml:"PolicyKey,omitempty"`
	Data       *PolicyData `wbxml:"Data"`
}

// PolicyData carries the settings.
type PolicyData struct {
	EASProvisionDoc EASProvisionDoc `wbxml:"EASProvisionDoc"`
}

// ProvisionResponseXML answers ProvisionRequest in protocol 2.5, whose
// policy is an XML document in a string (MS-ASPROV 2.2.2.24.2).
type ProvisionResponseXML struct {
	WBXMLName  Tag                  `wbxml:"Provision:Provision"`
	Status     int                  `wbxml:"Status"`
	Policies   *PoliciesResponseXML `wbxml:"Policies"`
	RemoteWipe bool                 `wbxml:"RemoteWipe,empty"`
}

// PoliciesResponseXML holds the 2.5 policy.
type PoliciesResponseXML struct {
	Policy PolicyResponseXML `wbxml:"Policy"`
}

// PolicyResponseXML is a 2.5 policy; Data is the wap-provisioningdoc.
type PolicyResponseXML struct {
	PolicyType string `wbxml:"PolicyType"`
	Status     int    `wbxml:"Status"`
	PolicyKey  uint32 `wbxml:"PolicyKey,omitempty"`
	Data       string `wbxml:"Data,omitempty"`
}

// EASProvisionDoc is the policy's settings (MS-ASPROV 2.2.2.28), in code
// page order, which is the order Exchange sends them in.
type EASProvisionDoc struct {
	DevicePasswordEnabled              bool `wbxml:"DevicePasswordEnabled"`
	AlphanumericDevicePasswordRequired bool `wbxml:"AlphanumericDevicePasswordRequired"`
	RequireStorageCardEncryption       bool `wbxml:"RequireStorageCardEncryption"`
	PasswordRecoveryEnabled            bool `wbxml:"PasswordRecoveryEnabled"`
	AttachmentsEnabled                 bool `wbxml:"AttachmentsEnabled"`
	MinDevicePasswordLength            int  `wbxml:"MinDevicePasswordLength"`
	MaxInactivityTimeDeviceLock        int  `wbxml:"MaxInactivityTimeDeviceLock"`
	MaxDevicePasswordFailedAttempts    int  `wbxml:"MaxDevicePasswordFailedAttempts"`
	// MaxAttachmentSize is a number of bytes, or empty for no limit.
	MaxAttachmentSize                        string     `wbxml:"MaxAttachmentSize"`
	AllowSimpleDevicePassword                bool       `wbxml:"AllowSimpleDevicePassword"`
	DevicePasswordExpiration                 int        `wbxml:"DevicePasswordExpiration"`
	DevicePasswordHistory                    int        `wbxml:"DevicePasswordHistory"`
	AllowStorageCard                         bool       `wbxml:"AllowStorageCard"`
	AllowCamera                              bool       `wbxml:"AllowCamera"`
	RequireDeviceEncryption                  bool       `wbxml:"RequireDeviceEncryption"`
	AllowUnsignedApplications                bool       `wbxml:"AllowUnsignedApplications"`
	AllowUnsignedInstallationPackages        bool       `wbxml:"AllowUnsignedInstallationPackages"`
	MinDevicePasswordComplexCharacters       int        `wbxml:"MinDevicePasswordComplexCharacters"`
	AllowWiFi                                bool       `wbxml:"AllowWiFi"`
	AllowTextMessaging                       bool       `wbxml:"AllowTextMessaging"`
	AllowPOPIMAPEmail                        bool       `wbxml:"AllowPOPIMAPEmail"`
	AllowBluetooth                           int        `wbxml:"AllowBluetooth"`
	AllowIrDA                                bool       `wbxml:"AllowIrDA"`
	RequireManualSyncWhenRoaming             bool       `wbxml:"RequireManualSyncWhenRoaming"`
	AllowDesktopSync                         bool       `wbxml:"AllowDesktopSync"`
	MaxCalendarAgeFilter                     int        `wbxml:"MaxCalendarAgeFilter"`
	AllowHTMLEmail                           bool       `wbxml:"AllowHTMLEmail"`
	MaxEmailAgeFilter                        int        `wbxml:"MaxEmailAgeFilter"`
	MaxEmailBodyTruncationSize               int        `wbxml:"MaxEmailBodyTruncationSize"`
	MaxEmailHTMLBodyTruncationSize           int        `wbxml:"MaxEmailHTMLBodyTruncationSize"`
	RequireSignedSMIMEMessages               bool       `wbxml:"RequireSignedSMIMEMessages"`
	RequireEncryptedSMIMEMessages            bool       `wbxml:"RequireEncryptedSMIMEMessages"`
	RequireSignedSMIMEAlgorithm              int        `wbxml:"RequireSignedSMIMEAlgorithm"`
	RequireEncryptionSMIMEAlgorithm          int        `wbxml:"RequireEncryptionSMIMEAlgorithm"`
	AllowSMIMEEncryptionAlgorithmNegotiation int        `wbxml:"AllowSMIMEEncryptionAlgorithmNegotiation"`
	AllowSMIMESoftCerts                      bool       `wbxml:"AllowSMIMESoftCerts"`
	AllowBrowser                             bool       `wbxml:"AllowBrowser"`
	AllowConsumerEmail                       bool       `wbxml:"AllowConsumerEmail"`
	AllowRemoteDesktop                       bool       `wbxml:"AllowRemoteDesktop"`
	AllowInternetSharing                     bool       `wbxml:"AllowInternetSharing"`
	UnapprovedInROMApplicationList           *AppNames  `wbxml:"UnapprovedInROMApplicationList"`
	ApprovedApplicationList                  *AppHashes `wbxml:"ApprovedApplicationList"`
}

// AppNames lists in-ROM applications that may not run.
type AppNames struct {
	ApplicationName []string `wbxml:"ApplicationName"`
}

// AppHashes lists the SHA-1 hashes of applications that may run.
type AppHashes struct {
	Hash []string `wbxml:"Hash"`
}
