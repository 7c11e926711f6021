package oof

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
)

// Script names easd owns on the mail server. ScriptName holds the
// out-of-office rules; WrapperName, active only while out-of-office is on
// and the user has an active script of their own, runs both.
const (
	ScriptName  = "easd-oof"
	WrapperName = "easd-oof-and-rules"
)

// Audiences of out-of-office replies, in the order Get answers them.
const (
	Internal        = "internal"
	ExternalKnown   = "external_known"
	ExternalUnknown = "external_unknown"
)

var audiences = []string{Internal, ExternalKnown, ExternalUnknown}

// settings are what the script was written from. They travel in the
// script's first line, so that Get reads back exactly what is on the mail
// server, with nothing kept elsewhere.
type settings struct {
	State    int              `json:"state"`
	Start    string           `json:"start,omitempty"` // RFC 3339, UTC, state 2 only
	End      string           `json:"end,omitempty"`
	Messages map[string]reply `json:"messages,omitempty"`
	For      recipient        `json:"for"`
}

// reply is one audience's message, as the client sent it.
type reply struct {
	Enabled  bool   `json:"enabled"`
	BodyType string `json:"body_type,omitempty"` // Text or HTML
	Text     string `json:"text,omitempty"`
}

// recipient is what the rules were written for: the user's addresses
// (primary first), domains and contacts' addresses.
type recipient struct {
	Addresses []string `json:"addresses"`
	Domains   []string `json:"domains"`
	Known     []string `json:"known,omitempty"`
}

// The first line of easd's scripts.
const (
	settingsPrefix = "# easd-oof "
	wrapperPrefix  = "# easd-oof-wrapper "
)

// timeLayout is how the script compares times: Pigeonhole's currentdate
// "iso8601" part in zone +0000 reads 2030-07-01T08:00:00Z, and strings of
// one layout compare in time order.
const timeLayout = "2006-01-02T15:04:05Z"

// merge applies an Oof Set to s. The caller has validated it, and
// writes its times in RFC 3339.
func (s *settings) merge(set *message.Oof, a model.OofAccount) {
	if set.OofState != nil {
		s.State, s.Start, s.End = *set.OofState, "", ""
		if s.State == 2 {
			start, _ := time.Parse(time.RFC3339Nano, set.StartTime)
			end, _ := time.Parse(time.RFC3339Nano, set.EndTime)
			s.Start, s.End = start.UTC().Format(timeLayout), end.UTC().Format(timeLayout)
		}
	}
	if s.Messages == nil {
		s.Messages = map[string]reply{}
	}
	for _, m := range set.OofMessage {
		aud := audienceOf(m)
		bodyType := "Text"
		if strings.EqualFold(m.BodyType, "HTML") {
			bodyType = "HTML"
		}
		s.Messages[aud] = reply{Enabled: m.Enabled, BodyType: bodyType, Text: m.ReplyMessage}
	}
	s.For = recipient{Addresses: a.Addresses, Domains: a.Domains, Known: a.Known}
}

func audienceOf(m message.OofMessage) string {
	switch {
	case m.AppliesToInternal:
		return Internal
	case m.AppliesToExternalKnown:
		return ExternalKnown
	default:
		return ExternalUnknown
	}
}

// oof turns settings into the Get answer (messages as stored; the caller
// converts body types).
func (s *settings) oof() *message.Oof {
	state := s.State
	o := &message.Oof{OofState: &state}
	if state == 2 {
		o.StartTime, o.EndTime = wireTime(s.Start), wireTime(s.End)
	}
	for _, aud := range audiences {
		r := s.Messages[aud]
		o.OofMessage = append(o.OofMessage, message.OofMessage{
			AppliesToInternal: aud == Internal, AppliesToExternalKnown: aud == ExternalKnown,
			AppliesToExternalUnknown: aud == ExternalUnknown,
			Enabled:                  r.Enabled, ReplyMessage: r.Text, BodyType: r.BodyType,
		})
	}
	return o
}

// wireTime writes a script time as EAS writes times (with milliseconds).
func wireTime(s string) string {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return s
	}
	return t.Format("2006-01-02T15:04:05.000Z")
}

// text returns the plain text an audience is answered with, "" for none.
// Replies are sent as text/plain: an HTML message becomes its text.
func (s *settings) text(aud string) string {
	r, ok := s.Messages[aud]
	if !ok || !r.Enabled {
		return ""
	}
	t := r.Text
	if r.BodyType == "HTML" {
		t = model.TextOfHTML(t)
	}
	return strings.TrimSpace(t)
}

// script writes the Sieve script for s.
//
// A sender is told apart by the envelope sender, to whom the vacation
// reply goes: internal when it is in one of the user's domains, external
// known when it is one of the user's contacts' addresses (as listed at the
// Set), external unknown otherwise. Without a contact list, contacts are
// answered as strangers. Each sender is answered at most once a day
// (:days 1; Pigeonhole keeps the record), and never for lists, bounces or
// automatic mail (RFC 5230).
func (s *settings) script() string {
	meta, _ := json.Marshal(s)
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	line("%s%s", settingsPrefix, meta)
	line("# Written by easd from the out-of-office settings of an Exchange")
	line("# ActiveSync device; the next change from a device replaces it.")
	internal, known, unknown := s.text(Internal), s.text(ExternalKnown), s.text(ExternalUnknown)
	if s.State == 0 || (internal == "" && known == "" && unknown == "") {
		line("# No reply is sent.")
		return b.String()
	}
	req := []string{"vacation", "envelope", "variables"}
	if s.State == 2 {
		req = append(req, "date", "relational")
	}
	line("require [%s];", strings.Join(quoteAll(req), ", "))
	line("")
	// "${" in the messages must not expand: each becomes "${dollar}{",
	// which expands once to the literal "${" (RFC 5229 section 3).
	line(`set "dollar" "$";`)
	line(`set "subject" "";`)
	line(`if header :matches "subject" "*" { set "subject" "${1}"; }`)
	cond := "true"
	if s.State == 2 {
		cond = fmt.Sprintf(`allof(currentdate :zone "+0000" :value "ge" "iso8601" %s,`+"\r\n"+
			`      currentdate :zone "+0000" :value "lt" "iso8601" %s)`, quote(s.Start), quote(s.End))
	}
	reply := func(text string) {
		if text == "" {
			line("    # No reply.")
			return
		}
		line("    vacation :days 1 :from %s :addresses [%s] :subject %s",
			quote(s.For.Addresses[0]), strings.Join(quoteAll(s.For.Addresses), ", "), `"Automatic reply: ${subject}"`)
		line("      %s;", quoteVar(text))
	}
	isInternal := "false"
	if len(s.For.Domains) > 0 {
		isInternal = fmt.Sprintf(`envelope :domain :is "from" [%s]`, strings.Join(quoteAll(s.For.Domains), ", "))
	}
	line("if %s {", cond)
	line("  if %s {", isInternal)
	reply(internal)
	if len(s.For.Known) > 0 {
		line("  } elsif envelope :is \"from\" [%s] {", strings.Join(quoteAll(s.For.Known), ", "))
		reply(known)
	}
	line("  } else {")
	reply(unknown)
	line("  }")
	line("}")
	return b.String()
}

// wrapper writes the script that runs easd's rules and then the user's
// own active script userScript.
func wrapper(userScript string) string {
	meta, _ := json.Marshal(struct {
		User string `json:"user"`
	}{userScript})
	return wrapperPrefix + string(meta) + "\r\n" +
		"# Written by easd while out-of-office is on: it runs the out-of-office\r\n" +
		"# rules, then the user's own script, which is active again once\r\n" +
		"# out-of-office is switched off.\r\n" +
		"require [\"include\"];\r\n" +
		"include :personal " + quote(ScriptName) + ";\r\n" +
		"include :personal " + quote(userScript) + ";\r\n"
}

// parseSettings reads the settings from the first line of an easd script.
func parseSettings(script string) (settings, bool) {
	first, _, _ := strings.Cut(script, "\n")
	meta, ok := strings.CutPrefix(strings.TrimRight(first, "\r"), settingsPrefix)
	var s settings
	if !ok || json.Unmarshal([]byte(meta), &s) != nil || len(s.For.Addresses) == 0 && s.State != 0 {
		return settings{}, false
	}
	return s, true
}

// parseWrapper returns the user's script a wrapper runs.
func parseWrapper(script string) (string, bool) {
	first, _, _ := strings.Cut(script, "\n")
	meta, ok := strings.CutPrefix(strings.TrimRight(first, "\r"), wrapperPrefix)
	var w struct {
		User string `json:"user"`
	}
	if !ok || json.Unmarshal([]byte(meta), &w) != nil || w.User == "" {
		return "", false
	}
	return w.User, true
}

// quote writes s as a Sieve quoted string (RFC 5228 section 2.4.2): only
// '"' and '\' are escaped; line breaks are allowed and written as CRLF.
func quote(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	s = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", "\r\n").Replace(s)
	return `"` + s + `"`
}

// quoteVar is quote for a string in a script that uses variables: "${"
// is kept literal.
func quoteVar(s string) string {
	return quote(strings.ReplaceAll(s, "${", "${dollar}{"))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return out
}

// foreignVacation reports whether a script the user made has a vacation
// command, and the reason of the first one when it is a plain string.
func foreignVacation(script string) (found bool, reason string) {
	toks := lex(script)
	for i, t := range toks {
		if t.kind != tokIdent || !strings.EqualFold(t.v, "vacation") {
			continue
		}
		// The reason is the string that is no tag's argument.
		for j := i + 1; j < len(toks) && toks[j].v != ";"; j++ {
			switch {
			case toks[j].kind == tokTag && vacationArgTags[strings.ToLower(toks[j].v)]:
				j++ // skip the tag's argument, a string, number or list
				if j < len(toks) && toks[j].v == "[" {
					for j < len(toks) && toks[j].v != "]" {
						j++
					}
				}
			case toks[j].kind == tokString:
				reason = toks[j].v
			}
		}
		return true, reason
	}
	return false, ""
}

// vacationArgTags are the vacation tags that take an argument (RFC 5230,
// RFC 6131).
var vacationArgTags = map[string]bool{":days": true, ":seconds": true, ":subject": true, ":from": true, ":addresses": true, ":handle": true}

type tokKind int

const (
	tokIdent tokKind = iota
	tokTag
	tokString
	tokOther
)

type tok struct {
	kind tokKind
	v    string
}

// lex splits a Sieve script into identifiers, tags, strings and other
// characters, skipping comments (RFC 5228 section 2.3). It is lenient: it
// only needs to find commands in scripts a server accepted.
func lex(s string) []tok {
	var out []tok
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '#':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return out
			}
			i += j + 1
		case strings.HasPrefix(s[i:], "/*"):
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return out
			}
			i += j + 4
		case c == '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			out = append(out, tok{tokString, b.String()})
		case strings.HasPrefix(strings.ToLower(s[i:]), "text:"):
			// text: to the end of the line, then lines up to a lone ".",
			// with leading dots doubled.
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return out
			}
			i += j + 1
			var lines []string
			for i < len(s) {
				k := strings.IndexByte(s[i:], '\n')
				l := s[i:]
				if k >= 0 {
					l = s[i : i+k]
					i += k + 1
				} else {
					i = len(s)
				}
				l = strings.TrimSuffix(l, "\r")
				if l == "." {
					break
				}
				lines = append(lines, strings.TrimPrefix(l, "."))
			}
			out = append(out, tok{tokString, strings.Join(lines, "\n")})
		case c == ':' || isIdentChar(c):
			j := i + 1
			for j < len(s) && isIdentChar(s[j]) {
				j++
			}
			kind := tokIdent
			if c == ':' {
				kind = tokTag
			}
			out = append(out, tok{kind, s[i:j]})
			i = j
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		default:
			out = append(out, tok{tokOther, string(c)})
			i++
		}
	}
	return out
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
