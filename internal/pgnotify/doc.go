// Package pgnotify carries wake-ups between easd instances over PostgreSQL
// LISTEN/NOTIFY: one LISTEN connection per instance (a Hub), fanned out to
// any number of in-process subscribers by topic.
//
// # Wire format
//
// Every notification goes to the single PostgreSQL channel "easd" (see
// Channel), so an instance LISTENs once whatever the number of topics. The
// NOTIFY payload is the topic, one space, then the data:
//
//	device:123 ping
//	user:45:folder:7
//
// A topic is non-empty and contains no space (nor other white space); the
// data may be empty and may contain anything PostgreSQL accepts in a text
// payload. Topic, space and data together must stay below 8000 bytes,
// PostgreSQL's payload limit (Publish checks it). Payloads that do not parse
// are logged and dropped.
//
// # Delivery contract
//
// A notification is a hint that something changed, never the change itself.
// NOTIFY is delivered only to sessions listening at commit time: one sent
// while a Hub is reconnecting (PostgreSQL restart, network failure) is lost.
// After every reconnect the Hub therefore sends a Payload with Resync set to
// every subscriber, which must then re-check the state it waits on in the
// database, as if it had been notified of everything. Likewise, a subscriber
// that falls behind (its buffer is full) loses further payloads while the
// ones it has not read still wake it. Correctness always rests on the stored
// state; notifications only make waiting cheap.
//
// Publish inside a transaction is delivered at commit and dropped on
// rollback, which is usually what a writer wants. The publishing instance
// receives its own notifications through its Hub like every other one:
// there is no local shortcut, so ordering is the same for everyone.
package pgnotify
