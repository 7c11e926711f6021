package eas

import (
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
type Profile struct {
	// MaxResponseTime is the client's HTTP time-out for ordinary requests:
	// work that may take longer (a large initial Sync) is cut into pages
	// that each arrive before it. Ping and hanging Sync use the heartbeat
	// the client asked for instead.
	MaxResponseTime time.Duration
	// MaxVersion caps the protocol version advertised to the client (0:
	// no cap), e.g. 141 when a client's 16.x support is broken.
	MaxVersion int
	// NoEmptyCollections: never send an empty <Collections/> in a Sync
	// response.
	NoEmptyCollections bool
	// IgnoreOutboxSync: the client syncs its Outbox, which holds nothing.
	IgnoreOutboxSync bool
	// MaxHeartbeat caps how long a Ping is held (0: the client's own
	// HeartbeatInterval), for clients whose HTTP time-out is shorter than
	// the heartbeats they ask for: answering Status 1 before the time-out
	// costs one request, a time-out costs the client an error and a
	// back-off during which it gets no push at all.
	MaxHeartbeat time.Duration
}

// DefaultQuirks returns the built-in rules.
func DefaultQuirks() *Quirks {
	return &Quirks{rules: []quirkRule{
		{deviceType: "iPhone", why: "iOS waits up to 210 s; crashes on an empty <Collections/> in Sync",
			apply: func(p *Profile) { p.MaxResponseTime = 200 * time.Second; p.NoEmptyCollections = true }},
		{deviceType: "iPad", why: "as iPhone",
			apply: func(p *Profile) { p.MaxResponseTime = 200 * time.Second; p.NoEmptyCollections = true }},
		{userAgent: "Apple-", why: "as iPhone (other Apple device types)",
			apply: func(p *Profile) { p.MaxResponseTime = 200 * time.Second; p.NoEmptyCollections = true }},
		{deviceType: "SAMSUNG", why: "Samsung mail waits about 85 s; syncs its Outbox",
			apply: func(p *Profile) { p.MaxResponseTime = 80 * time.Second; p.IgnoreOutboxSync = true }},
		{deviceType: "SAMSUNG", why: "Samsung mail gives up on a request after about 85 s, a Ping with a " +
			"longer heartbeat too, and retries after a back-off without push: answer before",
			apply: func(p *Profile) { p.MaxHeartbeat = 80 * time.Second }},
		{deviceType: "Android", why: "stock Android and Gmail app: syncs its Outbox",
			apply: func(p *Profile) { p.IgnoreOutboxSync = true }},
		{deviceType: "Outlook", why: "Outlook waits up to 210 s",
			apply: func(p *Profile) { p.MaxResponseTime = 200 * time.Second }},
		{deviceType: "WindowsOutlook", why: "as Outlook",
			apply: func(p *Profile) { p.MaxResponseTime = 200 * time.Second }},
	}}
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
	p := Profile{MaxResponseTime: 28 * time.Second} // the common default of EAS clients
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
