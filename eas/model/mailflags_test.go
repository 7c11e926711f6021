package model

import (
	"reflect"
	"testing"
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

// The converter and the store read flags the same way: escaped keywords
// come back as the category the phone set.
func TestParseMailFlags(t *testing.T) {
	got := ParseMailFlags([]string{`\Seen`, `\Draft`, "$Forwarded", "$label2", "Red_20Category", "$Junk", "NonJunk", `\Recent`})
	want := MailFlags{Seen: true, Draft: true, Forwarded: true, Keywords: []string{"Work", "Red Category"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}
