package eas

import "strings"

// ProtocolVersions are the EAS versions easd speaks, oldest first, as
// advertised in MS-ASProtocolVersions.
var ProtocolVersions = []string{"2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1"}

// ProtocolCommands are the commands advertised in MS-ASProtocolCommands
// (MS-ASHTTP 2.2.4): every command of PROTOCOL.md, so that clients enable
// the corresponding features.
var ProtocolCommands = []string{
	"Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment",
	"GetHierarchy", "CreateCollection", "DeleteCollection", "MoveCollection",
	"FolderSync", "FolderCreate", "FolderDelete", "FolderUpdate", "MoveItems",
	"GetItemEstimate", "MeetingResponse", "Search", "Settings", "Ping",
	"ItemOperations", "Provision", "ResolveRecipients", "ValidateCert", "Find",
}

func joinComma(s []string) string { return strings.Join(s, ",") }
