package syncstate

import (
	"strings"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	gen, err := newGeneration()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{1, 2, 99, 1 << 62} {
		k := key{generation: gen, counter: n}
		s := k.String()
		if len(s) > MaxKeyLen {
			t.Errorf("key %q longer than %d", s, MaxKeyLen)
		}
		got, ok := parseKey(s)
		if !ok || got != k {
			t.Errorf("parseKey(%q) = %v, %v; want %v", s, got, ok, k)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	const gen = "0f8fad5b-d9cb-469f-a165-70867728950e"
	for _, s := range []string{
		"", "0", "1", "{}1", "{" + gen + "}", "{" + gen + "}0", "{" + gen + "}01",
		"{" + gen + "}-1", "{" + gen + "}+1", "{" + gen + "}1x", "{" + gen + "}99999999999999999999",
		"{" + strings.ToUpper(gen) + "}1", "{" + gen[:35] + "}1", gen + "1",
		"{0f8fad5b-d9cb-469f-a165x70867728950e}1", "{" + gen + "}1" + strings.Repeat("1", 64),
	} {
		if k, ok := parseKey(s); ok {
			t.Errorf("parseKey(%q) = %v, want rejection", s, k)
		}
	}
}

func TestNewGenerationIsRandomUUID(t *testing.T) {
	a, _ := newGeneration()
	b, _ := newGeneration()
	if a == b || !isUUID(a) || !isUUID(b) || a[14] != '4' {
		t.Errorf("generations %q, %q: want two different v4 UUIDs", a, b)
	}
}
