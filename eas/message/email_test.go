package message

// The Email item has no element of its own: a Sync Add carries it in
// AirSync:ApplicationData. These wrappers give the round-trip test a
// document root for the item and for the body options of a request.

type emailAdd struct {
	WBXMLName       Tag    `wbxml:"AirSync:Add"`
	ServerID        string `wbxml:"ServerId"`
	ApplicationData *Email `wbxml:"ApplicationData"`
}

type bodyOptions struct {
	WBXMLName          Tag                  `wbxml:"AirSync:Options"`
	BodyPreference     []BodyPreference     `wbxml:"AirSyncBase:BodyPreference"`
	BodyPartPreference []BodyPartPreference `wbxml:"AirSyncBase:BodyPartPreference"`
	MIMESupport        int                  `wbxml:"AirSync:MIMESupport,omitempty"`
}
