// Package dovecot holds the files easd ships for a Dovecot mail server, so
// that the private Dovecot of the tests and `easd dev` runs the very script
// deployments install.
package dovecot

import _ "embed"

// PushLua is easd-push.lua: the push-notification Lua script that posts
// Dovecot's mailbox events to easd (docs/decisions.md, push events).
//
//go:embed easd-push.lua
var PushLua []byte
