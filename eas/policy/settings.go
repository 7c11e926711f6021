package policy

// Settings are the device settings of a policy: every element of the
// MS-ASPROV EASProvisionDoc (2.2.2.28), named as there. They are stored as
// JSON (policies.settings); a field missing there takes its value from
// Defaults, so adding a field never needs a data migration.
type Settings struct {
	DevicePasswordEnabled                    bool
	AlphanumericDevicePasswordRequired       bool
	PasswordRecoveryEnabled                  bool
	RequireStorageCardEncryption             bool
	AttachmentsEnabled                       bool
	MinDevicePasswordLength                  int
	MaxInactivityTimeDeviceLock              int // seconds
	MaxDevicePasswordFailedAttempts          int
	MaxAttachmentSize                        int // bytes; 0: no limit
	AllowSimpleDevicePassword                bool
	DevicePasswordExpiration                 int // days; 0: never
	DevicePasswordHistory                    int
	AllowStorageCard                         bool
	AllowCamera                              bool
	RequireDeviceEncryption                  bool
	AllowUnsignedApplications                bool
	AllowUnsignedInstallationPackages        bool
	MinDevicePasswordComplexCharacters       int
	AllowWiFi                                bool
	AllowTextMessaging                       bool
	AllowPOPIMAPEmail                        bool
	AllowBluetooth                           int // 0 no, 1 hands-free only, 2 yes
	AllowIrDA                                bool
	RequireManualSyncWhenRoaming             bool
	AllowDesktopSync                         bool
	MaxCalendarAgeFilter                     int // 0 all, 4 two weeks, 5 a month, 6 three months, 7 six months
	AllowHTMLEmail                           bool
	MaxEmailAgeFilter                        int // 0 all, 1 a day ... 5 a month
	MaxEmailBodyTruncationSize               int // bytes; -1: no truncation
	MaxEmailHTMLBodyTruncationSize           int // bytes; -1: no truncation
	RequireSignedSMIMEMessages               bool
	RequireEncryptedSMIMEMessages            bool
	RequireSignedSMIMEAlgorithm              int // 0 SHA1, 1 MD5
	RequireEncryptionSMIMEAlgorithm          int // 0 TripleDES, 1 DES, 2 RC2 128, 3 RC2 64, 4 RC2 40
	AllowSMIMEEncryptionAlgorithmNegotiation int // 0 no, 1 strong only, 2 any
	AllowSMIMESoftCerts                      bool
	AllowBrowser                             bool
	AllowConsumerEmail                       bool
	AllowRemoteDesktop                       bool
	AllowInternetSharing                     bool
	UnapprovedInROMApplicationList           []string // application names
	ApprovedApplicationList                  []string // SHA-1 hashes of application binaries
}

// Defaults are permissive but sane: no device password required, every
// device feature allowed, no sync limits. The migration creates the default
// policy with these values.
func Defaults() Settings {
	return Settings{
		AttachmentsEnabled:                       true,
		MinDevicePasswordLength:                  4,
		MaxInactivityTimeDeviceLock:              900,
		MaxDevicePasswordFailedAttempts:          8,
		AllowSimpleDevicePassword:                true,
		AllowStorageCard:                         true,
		AllowCamera:                              true,
		AllowUnsignedApplications:                true,
		AllowUnsignedInstallationPackages:        true,
		MinDevicePasswordComplexCharacters:       1,
		AllowWiFi:                                true,
		AllowTextMessaging:                       true,
		AllowPOPIMAPEmail:                        true,
		AllowBluetooth:                           2,
		AllowIrDA:                                true,
		AllowDesktopSync:                         true,
		AllowHTMLEmail:                           true,
		MaxEmailBodyTruncationSize:               -1,
		MaxEmailHTMLBodyTruncationSize:           -1,
		AllowSMIMEEncryptionAlgorithmNegotiation: 2,
		AllowSMIMESoftCerts:                      true,
		AllowBrowser:                             true,
		AllowConsumerEmail:                       true,
		AllowRemoteDesktop:                       true,
		AllowInternetSharing:                     true,
	}
}
