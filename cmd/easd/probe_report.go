package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// probeSchema is the version of the --json document. It changes only
// when a field is removed or changes its meaning; new fields may appear
// without a change, so monitoring must ignore fields it does not know.
const probeSchema = 1

// probeReport is the --json document, described in the README. Field
// names and the values of result, id and method are part of the schema.
type probeReport struct {
	Schema   int         `json:"schema"`
	Target   string      `json:"target"`  // the probed base URL
	EASURL   string      `json:"eas_url"` // target + the EAS path
	User     string      `json:"user"`
	Email    string      `json:"email"`
	DeviceID string      `json:"device_id"`
	Started  time.Time   `json:"started"`
	Result   string      `json:"result"` // ok, warn or fail
	Failed   []string    `json:"failed"` // ids of failed steps
	Warnings int         `json:"warnings"`
	TotalMS  int64       `json:"total_ms"`
	Steps    []probeStep `json:"steps"`
}

// probeStep is one step of the probe.
type probeStep struct {
	ID       string         `json:"id"`   // connect, autodiscover, discover, options, provision, foldersync, sync, ping
	Name     string         `json:"name"` // as printed
	Result   string         `json:"result"`
	MS       int64          `json:"ms"`
	Detail   string         `json:"detail"`
	TLS      *probeTLS      `json:"tls,omitempty"`
	Attempts []probeAttempt `json:"attempts,omitempty"`
	Ping     *probePing     `json:"ping,omitempty"`
}

// probeAttempt is one of the ways a phone looks for its server.
type probeAttempt struct {
	Method string `json:"method"` // domain, autodiscover_host, redirect, srv
	URL    string `json:"url"`    // what was asked (for srv: the record's name)
	Result string `json:"result"` // ok, none (nothing there), fail (there but broken), skip
	MS     int64  `json:"ms"`
	Detail string `json:"detail"`
	Found  string `json:"found,omitempty"` // the EAS URL it names
}

// probeTLS is what the server's certificate looks like to a phone.
type probeTLS struct {
	Host     string      `json:"host"`
	Version  string      `json:"version"`
	Trusted  bool        `json:"trusted"` // a phone with the usual roots accepts it
	Names    []string    `json:"names"`
	NotAfter time.Time   `json:"not_after"`
	DaysLeft int         `json:"days_left"`
	Chain    []probeCert `json:"chain"`    // as the server sent it, leaf first
	Problems []string    `json:"problems"` // why a phone refuses it
	Warnings []string    `json:"warnings"`
}

type probeCert struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
}

// probePing is what the Ping's hold showed.
type probePing struct {
	HeartbeatS int   `json:"heartbeat_s"` // asked for (after the server's bounds)
	HeldMS     int64 `json:"held_ms"`     // until the answer or the cut
	Cut        bool  `json:"cut"`         // something between probe and server ended it early
}

// printStep writes one step, and its attempts, in the text form.
func printStep(w io.Writer, s *probeStep) {
	ms := fmt.Sprintf("%5d ms", s.MS)
	if s.Result == "skip" {
		ms = strings.Repeat(" ", 8)
	}
	fmt.Fprintf(w, "  %-4s  %-12s %s  %s\n", levelText(s.Result), s.Name, ms, s.Detail)
	for _, a := range s.Attempts {
		ms := fmt.Sprintf("%5d ms", a.MS)
		if a.Result == "skip" {
			ms = strings.Repeat(" ", 8)
		}
		fmt.Fprintf(w, "        %-4s %s  %s: %s\n", levelText(a.Result), ms, a.URL, a.Detail)
	}
}

// levelText keeps the text form's "FAIL" loud while JSON says "fail".
func levelText(r string) string {
	if r == "fail" {
		return "FAIL"
	}
	return r
}

func writeJSON(w io.Writer, r *probeReport) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r)
}
