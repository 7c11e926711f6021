// Package eas is the Exchange ActiveSync protocol: the HTTP endpoint, request
// parsing, authentication, devices and provisioning, the sync-state engine
// and one file per command. It reaches mail, contacts and calendars only
// through interfaces it defines; cmd/easd wires the implementations in.
package eas
