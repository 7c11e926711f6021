package eas

import "slices"

// commandSpec describes one EAS command.
type commandSpec struct {
	// root is the response's root element ("Namespace:Name"), which carries
	// a global Status from 14.0 on; "" for commands answered without a
	// body (SendMail and friends before 14.0, GetAttachment).
	root string
	run  func(*call) error
	// beforeProvision: the command is allowed before the device has
	// provisioned (it is how a device provisions or describes itself).
	beforeProvision bool
	// minVersion and maxVersion bound the protocol versions that define
	// the command (MS-ASCMD 2.2.1, "Protocol Versions"); 0 is no bound.
	minVersion, maxVersion int
}

// inVersion reports whether the command exists in protocol version v.
func (s *commandSpec) inVersion(v int) bool {
	return (s.minVersion == 0 || v >= s.minVersion) && (s.maxVersion == 0 || v <= s.maxVersion)
}

// commandTable lists the commands easd implements, one file each. A
// command missing here is answered 501 Not Implemented; MS-ASProtocolCommands
// is made from it, so what is advertised is what is implemented.
var commandTable = map[string]*commandSpec{}

// addCommand registers a command. Command files call it from init so the
// table and the handlers cannot drift apart.
func addCommand(name string, spec *commandSpec) { commandTable[name] = spec }

// protocolCommandOrder is the order of MS-ASHTTP 2.2.4's list of commands,
// which MS-ASProtocolCommands follows; it says nothing of what easd does.
var protocolCommandOrder = []string{
	"Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment",
	"GetHierarchy", "CreateCollection", "DeleteCollection", "MoveCollection",
	"FolderSync", "FolderCreate", "FolderDelete", "FolderUpdate", "MoveItems",
	"GetItemEstimate", "MeetingResponse", "Search", "Settings", "Ping",
	"ItemOperations", "Provision", "ResolveRecipients", "ValidateCert", "Find",
}

// advertisedCommands lists the implemented commands that exist in at
// least one of versions, in the order of MS-ASHTTP.
func advertisedCommands(versions []string) []string {
	var out []string
	for _, name := range protocolCommandOrder {
		spec, ok := commandTable[name]
		if !ok {
			continue
		}
		if slices.ContainsFunc(versions, func(v string) bool { return spec.inVersion(parseVersion(v)) }) {
			out = append(out, name)
		}
	}
	return out
}
