package message

// PingRequest asks to be told when one of the folders changes
// (MS-ASCMD 2.2.1.13). Both fields may be absent: the server then reuses
// the device's previous Ping.
type PingRequest struct {
	WBXMLName         Tag          `wbxml:"Ping:Ping"`
	HeartbeatInterval int          `wbxml:"HeartbeatInterval,omitempty"`
	Folders           *PingFolders `wbxml:"Folders"`
}

// PingFolders lists the folders a Ping watches.
type PingFolders struct {
	Folder []PingFolder `wbxml:"Folder"`
}

// PingFolder is one watched folder: its id and class (Email, Calendar,
// Contacts, Tasks, Notes).
type PingFolder struct {
	ID    string `wbxml:"Id"`
	Class string `wbxml:"Class"`
}

// PingResponse answers PingRequest: Status 1 the interval passed without
// change, 2 the listed folders changed, 5 the interval is out of bounds
// (HeartbeatInterval gives the limit), 6 too many folders (MaxFolders).
type PingResponse struct {
	WBXMLName         Tag                 `wbxml:"Ping:Ping"`
	Status            int                 `wbxml:"Status"`
	Folders           *PingChangedFolders `wbxml:"Folders"`
	MaxFolders        int                 `wbxml:"MaxFolders,omitempty"`
	HeartbeatInterval int                 `wbxml:"HeartbeatInterval,omitempty"`
}

// PingChangedFolders names the folders that changed.
type PingChangedFolders struct {
	Folder []string `wbxml:"Folder"`
}
