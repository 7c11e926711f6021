package model

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/easd/easd/eas/message"
)

func TestCategoryKeywordRoundTrip(t *testing.T) {
	for _, c := range []string{"Work", "Red Category", "a_b", "$money", `back\slash`, "Grüße (privat)"} {
		kw := CategoryKeyword(c)
		if !IsCategoryKeyword(kw) {
			t.Errorf("%q -> %q is not a category keyword", c, kw)
		}
		for _, bad := range " ()\"{%*\\]" {
			for _, r := range kw {
				if r == bad {
					t.Errorf("%q -> %q contains %q", c, kw, bad)
				}
			}
		}
		if back := KeywordCategory(kw); back != c {
			t.Errorf("%q -> %q -> %q", c, kw, back)
		}
	}
}

// The escapes are fixed: keywords written by one version are read by the
// next, and other mail clients show them.
func TestCategoryKeywordForms(t *testing.T) {
	for _, tc := range []struct{ category, keyword string }{
		{"Work", "Work"},
		{"Red Category", "Red_20Category"},
		{"snake_case", "snake_5Fcase"},
		{"$money", "_24money"},
		{`a(b)"c"%*`, "a_28b_29_22c_22_25_2A"},
		{"Grün", "Gr_C3_BCn"},
	} {
		if kw := CategoryKeyword(tc.category); kw != tc.keyword {
			t.Errorf("CategoryKeyword(%q) = %q, want %q", tc.category, kw, tc.keyword)
		}
		if c := KeywordCategory(tc.keyword); c != tc.category {
			t.Errorf("KeywordCategory(%q) = %q, want %q", tc.keyword, c, tc.category)
		}
	}
}

// The converter and the store read flags the same way: escaped keywords
// come back as the category the phone set.
func TestParseMailFlags(t *testing.T) {
	got := ParseMailFlags([]string{`\Seen`, `\Draft`, "$Forwarded", "$label2", "Red_20Category", "$Junk", "NonJunk", `\Recent`})
	want := MailFlags{Seen: true, Draft: true, Forwarded: true, Keywords: []string{"Work", "Red Category"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// The Flag shown follows IMAP for flagged or not; details only add to a
// state they agree with.
func TestEmailFlag(t *testing.T) {
	due := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	done := time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)
	active := &FlagDetails{FlagType: "Follow up", DueDate: due, ReminderSet: new(true)}
	complete := &FlagDetails{Complete: true, DueDate: due, CompleteTime: done, DateCompleted: done}
	def := message.Flag{Status: 2, FlagType: "Flag for follow up"}
	for _, c := range []struct {
		flagged bool
		d       *FlagDetails
		want    message.Flag
	}{
		{true, nil, def},
		{true, active, message.Flag{Status: 2, FlagType: "Follow up", DueDate: "2026-03-06T00:00:00.000Z", ReminderSet: new(true)}},
		{true, complete, def}, // flagged again elsewhere after completion
		{false, nil, message.Flag{}},
		{false, active, message.Flag{}}, // cleared elsewhere
		{false, complete, message.Flag{Status: 1, FlagType: "Flag for follow up", DueDate: "2026-03-06T00:00:00.000Z",
			CompleteTime: "2026-03-04T09:30:00.000Z", DateCompleted: "2026-03-04T09:30:00.000Z"}},
	} {
		if got := EmailFlag(c.flagged, c.d); !reflect.DeepEqual(*got, c.want) {
			t.Errorf("EmailFlag(%v, %+v) = %+v, want %+v", c.flagged, c.d, *got, c.want)
		}
		if c.d != nil && c.d.Agrees(c.flagged) != (c.flagged != c.d.Complete) {
			t.Errorf("Agrees(%v) of %+v", c.flagged, c.d)
		}
	}
}

func TestParseClientFlag(t *testing.T) {
	now := time.Date(2026, 3, 4, 9, 30, 0, 123456789, time.UTC)
	if fl, d, err := ParseClientFlag(message.Flag{}, now); fl || d != nil || err != nil {
		t.Errorf("empty Flag: %v %+v %v", fl, d, err)
	}
	fl, d, err := ParseClientFlag(message.Flag{Status: 2, StartDate: "2026-03-02T00:00:00Z",
		DueDate: "20260306T000000Z", UtcDueDate: "not a date", SubOrdinalDate: "5555555"}, now)
	if !fl || err != nil || d.Complete || !d.StartDate.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) ||
		!d.DueDate.Equal(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)) || !d.UtcDueDate.IsZero() || d.SubOrdinalDate != "5555555" {
		t.Errorf("active: %v %+v %v", fl, d, err)
	}
	fl, d, err = ParseClientFlag(message.Flag{Status: 1}, now)
	if fl || err != nil || !d.Complete || !d.CompleteTime.Equal(now.Truncate(time.Millisecond)) || !d.DateCompleted.Equal(d.CompleteTime) {
		t.Errorf("complete without dates: %v %+v %v", fl, d, err)
	}
	if _, _, err := ParseClientFlag(message.Flag{Status: 3}, now); !errors.Is(err, ErrFlagStatus) {
		t.Errorf("Status 3: %v", err)
	}
}
