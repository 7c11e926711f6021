package eas

import (
	"slices"
	"strings"
	"time"
)

// Quirks collects, in one place, what easd does differently for particular
// clients. Each rule names the client and the symptom it avoids; handlers
// ask the profile and never test DeviceType themselves.
type Quirks struct {
	rules []quirkRule
}

type quirkRule struct {
	// match is a case-insensitive prefix of DeviceType or User-Agent.
	deviceType string
	userAgent  string
	why        string
	apply      func(*Profile)
}

// Profile is what the quirks say about one client.
//
// Some known quirks need no rule because easd's general behaviour already
// avoids them: a Sync response never carries an empty <Collections/> (iOS
// crashes on it; a Sync with nothing to answer gets Status 13 or an empty
// body), and the Outbox, which Android clients sync, is answered as an
// empty folder for every client. Outlook sends MeetingResponse with the
// calendar folder as CollectionId also when it answers a meeting mail:
// MeetingResponse finds the item by the folder its own id names, never by
// CollectionId, which serves every client.
type Profile struct {
	// MaxVersion caps the protocol version advertised to the client (0:
	// no cap), e.g. 141 when a client's 16.x support is broken.
	MaxVersion int
	// MaxHeartbeat caps how long a Ping or hanging Sync is held (0: the
	// client's own heartbeat), for clients whose HTTP time-out is shorter
	// than the heartbeats they ask for: answering before the time-out
	// costs one request, a time-out costs the client an error and a
	// back-off during which it gets no push at all.
	MaxHeartbeat time.Duration
	// KeepWhenEmpty lists item elements (local names) that the client
	// sends empty in a Change when it means "unchanged": the stored value
	// is kept, as for a ghosted element.
	KeepWhenEmpty []string
}

// DefaultQuirks returns the built-in rules.
func DefaultQuirks() *Quirks {
	return &Quirks{rules: []quirkRule{
		{deviceType: "SAMSUNG", why: "Samsung mail gives up on a request after about 85 s, a Ping with a " +
			"longer heartbeat too, and retries after a back-off without push: answer before",
			apply: func(p *Profile) { p.MaxHeartbeat = 80 * time.Second }},
		// iOS 8.2 and later send an empty <Picture/> in every Change of
		// a contact whose photo was not made on the phone: taken at its
		// word, each edit of such a contact on an iPhone would delete the
		// photo for every other device.
		{deviceType: "iPhone", why: "iOS sends an empty Picture when editing a contact whose photo it did not make",
			apply: keepEmptyPicture},
		{deviceType: "iPad", why: "iOS sends an empty Picture when editing a contact whose photo it did not make",
			apply: keepEmptyPicture},
		{userAgent: "Apple-", why: "iOS sends an empty Picture when editing a contact whose photo it did not make",
			apply: keepEmptyPicture},
	}}
}

func keepEmptyPicture(p *Profile) {
	if !slices.Contains(p.KeepWhenEmpty, "Picture") {
		p.KeepWhenEmpty = append(p.KeepWhenEmpty, "Picture")
	}
}

// AddVersionCap caps the version offered to clients whose DeviceType
// starts with deviceType (an operator setting: one server had to switch 16.x
// off for a buggy Android client).
func (q *Quirks) AddVersionCap(deviceType string, version int) {
	q.rules = append(q.rules, quirkRule{deviceType: deviceType, why: "operator version cap",
		apply: func(p *Profile) { p.MaxVersion = version }})
}

// For returns the profile of a client.
func (q *Quirks) For(deviceType, userAgent string) Profile {
	var p Profile
	for _, r := range q.rules {
		if (r.deviceType != "" && hasPrefixFold(deviceType, r.deviceType)) ||
			(r.userAgent != "" && hasPrefixFold(userAgent, r.userAgent)) {
			r.apply(&p)
		}
	}
	return p
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
