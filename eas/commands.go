package eas

// commandSpec describes one EAS command.
type commandSpec struct {
	// root is the response's root element ("Namespace:Name"), which carries
	// a global Status from 14.0 on; "" for commands answered without a
	// body (SendMail and friends before 14.0).
	root string
	run  func(*call) error
	// beforeProvision: the command is allowed before the device has
	// provisioned (it is how a device provisions or describes itself).
	beforeProvision bool
}

// commandTable lists the commands easd implements, one file each. A
// command missing here is answered 501 Not Implemented.
var commandTable = map[string]*commandSpec{}

// addCommand registers a command. Command files call it from init so the
// table and the handlers cannot drift apart.
func addCommand(name string, spec *commandSpec) { commandTable[name] = spec }
