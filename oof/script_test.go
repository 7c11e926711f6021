package oof

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/managesieve"
	"github.com/easd/easd/internal/testenv"
)

var alice = model.OofAccount{Login: "alice", Password: "alice",
	Addresses: []string{"alice@example.test", "a.smith@example.test"}, Domains: []string{"example.test"}}

func msg(aud string, enabled bool, text, bodyType string) message.OofMessage {
	return message.OofMessage{AppliesToInternal: aud == Internal, AppliesToExternalKnown: aud == ExternalKnown,
		AppliesToExternalUnknown: aud == ExternalUnknown, Enabled: enabled, ReplyMessage: text, BodyType: bodyType}
}

// TestScriptsCompile: every shape of script easd writes is accepted by
// Pigeonhole (CHECKSCRIPT), whatever the messages hold, and its first line
// gives back the settings it was written from.
func TestScriptsCompile(t *testing.T) {
	sink := testenv.SMTP(t)
	srv := testenv.DovecotWith(t, dovecot.Config{Users: map[string]string{"alice": "alice"},
		Sieve: &dovecot.SieveConfig{SubmissionHost: sink.Addr()}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := managesieve.Dial(ctx, srv.ManageSieveAddr(), managesieve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.AuthenticatePlain("", "alice", "alice"); err != nil {
		t.Fatal(err)
	}
	nasty := "Line one\r\n.\r\n..dots\n\"quotes\" \\ back\\\\slashes ${1} ${subject} $${x} {\n# not a comment */ /* \ntext:\nGrüße 🌴"
	cases := []struct {
		name string
		set  message.Oof
		acct model.OofAccount
	}{
		{"timed, both audiences", message.Oof{OofState: new(2), StartTime: "2030-07-01T08:00:00.000Z", EndTime: "2030-07-15T18:30:00.000Z",
			OofMessage: []message.OofMessage{msg(Internal, true, nasty, "Text"), msg(ExternalUnknown, true, "<p>Away &amp; <b>out</b></p>", "HTML")}}, alice},
		{"on, internal only", message.Oof{OofState: new(1), OofMessage: []message.OofMessage{msg(Internal, true, "In.", "")}}, alice},
		{"on, external only", message.Oof{OofState: new(1), OofMessage: []message.OofMessage{msg(ExternalUnknown, true, nasty, "Text")}}, alice},
		{"on, no domains", message.Oof{OofState: new(1), OofMessage: []message.OofMessage{msg(Internal, true, "In.", ""), msg(ExternalUnknown, true, "Out.", "")}},
			model.OofAccount{Addresses: []string{"bob@x.test"}}},
		{"on, contacts", message.Oof{OofState: new(1), OofMessage: []message.OofMessage{msg(ExternalKnown, true, "Known.", ""), msg(ExternalUnknown, true, "Stranger.", "")}},
			model.OofAccount{Addresses: alice.Addresses, Domains: alice.Domains, Known: []string{"kim@partner.test", "o'neil@x.test"}}},
		{"on, known only", message.Oof{OofState: new(1), OofMessage: []message.OofMessage{msg(ExternalKnown, true, "Known.", "")}}, alice},
		{"off", message.Oof{OofState: new(0), OofMessage: []message.OofMessage{msg(Internal, true, nasty, "")}}, alice},
	}
	for _, tc := range cases {
		var s settings
		s.merge(&tc.set, tc.acct)
		script := s.script()
		if err := c.CheckScript(script); err != nil {
			t.Errorf("%s: %v\n%s", tc.name, err, script)
			continue
		}
		back, ok := parseSettings(script)
		if !ok || back.State != s.State || back.Start != s.Start || back.End != s.End || len(back.Messages) != len(s.Messages) {
			t.Errorf("%s: settings read back %+v, want %+v", tc.name, back, s)
		}
		if back.script() != script {
			t.Errorf("%s: the settings read back write another script", tc.name)
		}
		for aud, r := range s.Messages {
			if back.Messages[aud] != r {
				t.Errorf("%s: %s read back %+v, want %+v", tc.name, aud, back.Messages[aud], r)
			}
		}
		if tc.name == "on, known only" && strings.Contains(script, "vacation :days") {
			t.Errorf("a message for known senders only answers strangers:\n%s", script)
		}
	}
	if err := c.PutScript(`my "rules"`, "keep;\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := c.PutScript(ScriptName, (&settings{}).script()); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckScript(wrapper(`my "rules"`)); err != nil {
		t.Errorf("wrapper: %v\n%s", err, wrapper(`my "rules"`))
	}
	if u, ok := parseWrapper(wrapper(`my "rules"`)); !ok || u != `my "rules"` {
		t.Errorf("wrapper names %q, %v", u, ok)
	}
}

// TestMergeKeepsWhatSetDoesNotName: a Set without a state keeps the
// state and times; messages not named keep theirs.
func TestMergeKeepsWhatSetDoesNotName(t *testing.T) {
	var s settings
	s.merge(&message.Oof{OofState: new(2), StartTime: "2030-07-01T08:00:00.000Z", EndTime: "2030-07-02T08:00:00.000Z",
		OofMessage: []message.OofMessage{msg(Internal, true, "In.", "Text"), msg(ExternalUnknown, true, "Out.", "Text")}}, alice)
	s.merge(&message.Oof{OofMessage: []message.OofMessage{msg(ExternalUnknown, false, "Gone.", "HTML")}}, alice)
	if s.State != 2 || s.Start != "2030-07-01T08:00:00Z" || s.End != "2030-07-02T08:00:00Z" {
		t.Errorf("state: %+v", s)
	}
	if s.Messages[Internal].Text != "In." || s.Messages[ExternalUnknown] != (reply{Enabled: false, BodyType: "HTML", Text: "Gone."}) {
		t.Errorf("messages: %+v", s.Messages)
	}
	o := s.oof()
	if *o.OofState != 2 || o.StartTime != "2030-07-01T08:00:00.000Z" || len(o.OofMessage) != 3 || !o.OofMessage[0].AppliesToInternal {
		t.Errorf("Get form: %+v", o)
	}
}

// TestForeignVacation finds a user's own vacation rule and its text, and
// is not fooled by the word in comments, strings or the require list.
func TestForeignVacation(t *testing.T) {
	cases := []struct {
		script string
		found  bool
		reason string
	}{
		{"require \"vacation\";\r\nvacation :days 3 \"Gone fishing.\";\r\n", true, "Gone fishing."},
		{"require [\"vacation\"];\nif true {\n  vacation :subject \"Away\" :addresses [\"a@b\"] text:\nBack on\n..Monday.\n.\n;\n}\n", true, "Back on\n.Monday."},
		{"require \"fileinto\";\n# vacation \"no\";\n/* vacation \"no\"; */\nif header :contains \"subject\" \"vacation\" { fileinto \"x\"; }\n", false, ""},
		{"require \"vacation\";\nvacation :subject \"Only a subject\" :mime text:\nContent-Type: text/plain\n\nHi\n.\n;\n", true, "Content-Type: text/plain\n\nHi"},
	}
	for i, tc := range cases {
		found, reason := foreignVacation(tc.script)
		if found != tc.found || reason != tc.reason {
			t.Errorf("%d: %v %q, want %v %q", i, found, reason, tc.found, tc.reason)
		}
	}
}
