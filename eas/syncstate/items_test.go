package syncstate

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"testing"
)

func TestItemsEncodeRoundTrip(t *testing.T) {
	cases := []Items{
		{},
		{"a": "1"},
		{"1": "v", "10": "v", "100": "w", "2": "", "20": "x", "": "empty id"},
		{"5:100": "17", "5:101": "17", "5:99": "123456789", "é": "ü"},
	}
	big := Items{}
	for i := range 5000 {
		big[fmt.Sprintf("7:%d", i*3)] = fmt.Sprintf("%d", 1000000+i%17)
	}
	cases = append(cases, big)
	for i, it := range cases {
		enc := it.Encode()
		got, err := DecodeItems(enc)
		if err != nil {
			t.Fatalf("case %d: decode: %v", i, err)
		}
		if !maps.Equal(got, it) {
			t.Errorf("case %d: round trip changed the items", i)
		}
		if again := maps.Clone(it).Encode(); !bytes.Equal(again, enc) {
			t.Errorf("case %d: encoding is not deterministic", i)
		}
	}
}

// MergeEncoded gives exactly the encoding of the merged map, and refuses
// what DecodeItems refuses.
func TestMergeEncoded(t *testing.T) {
	big, adds := Items{}, Items{}
	for i := range 3000 {
		big[fmt.Sprintf("%010d", i*3)] = fmt.Sprintf("%d", 1000000+i%17)
	}
	for i := range 300 {
		adds[fmt.Sprintf("%010d", i*31)] = "?" // some new, some replacing
	}
	cases := []struct{ base, add Items }{
		{Items{}, Items{}},
		{Items{}, Items{"a": "1"}},
		{Items{"a": "1"}, Items{}},
		{Items{"b": "1", "d": "2"}, Items{"a": "x", "c": "y", "e": "z", "d": "new"}},
		{Items{"1": "v", "10": "v", "100": "w", "2": "", "": "empty id"}, Items{"11": "", "3": "q"}},
		{big, adds},
	}
	for i, c := range cases {
		want := maps.Clone(c.base)
		maps.Copy(want, c.add)
		for _, base := range [][]byte{c.base.Encode(), nil} {
			if base == nil && len(c.base) > 0 {
				continue
			}
			got, err := MergeEncoded(base, c.add)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			if !bytes.Equal(got, want.Encode()) {
				t.Errorf("case %d: merged encoding differs from encoding the merged items", i)
			}
		}
	}
	good := Items{"a": "1", "b": "2"}.Encode()
	for i, b := range [][]byte{{2, 0}, good[:len(good)-1], append(bytes.Clone(good), 0),
		{itemsFormat, 2, 0, 1, 'b', 0, 0, 0, 1, 'a', 0, 0}, {itemsFormat, 2, 0, 1, 'a', 0, 0, 0, 1, 'a', 0, 0}} {
		if _, err := MergeEncoded(b, Items{"c": "3"}); !errors.Is(err, errCorrupt) {
			t.Errorf("corrupt case %d: err = %v", i, err)
		}
	}
}

func TestDecodeItemsEmptyIsInitial(t *testing.T) {
	for _, b := range [][]byte{nil, {}} {
		it, err := DecodeItems(b)
		if err != nil || it == nil || len(it) != 0 {
			t.Errorf("DecodeItems(%v) = %v, %v; want empty items", b, it, err)
		}
	}
}

func TestDecodeItemsRejectsCorrupt(t *testing.T) {
	good := Items{"a": "1", "b": "2"}.Encode()
	bad := [][]byte{
		{2, 0},                                 // unknown format
		{itemsFormat},                          // no count
		{itemsFormat, 200, 200, 200, 1},        // count larger than the input
		good[:len(good)-1],                     // truncated
		append(bytes.Clone(good), 0),           // trailing byte
		{itemsFormat, 1, 1, 1, 'a', 0, 1, '1'}, // shares more than the previous id has
		{itemsFormat, 2, 0, 1, 'b', 0, 0, 0, 1, 'a', 0, 0},         // ids out of order
		{itemsFormat, 2, 0, 1, 'a', 0, 0, 0, 1, 'a', 0, 0},         // duplicate id
		{itemsFormat, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},    // bad varint
		{itemsFormat, 1, 0, 5, 'a', 0, 0},                          // suffix longer than input
		{itemsFormat, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff}, // trailing garbage after item
	}
	for i, b := range bad {
		if _, err := DecodeItems(b); !errors.Is(err, errCorrupt) {
			t.Errorf("case %d (% x): err = %v, want corrupt", i, b, err)
		}
	}
}

// TestItemsEncodeSize prints the size of typical large states: the design
// asks for a few MB at most for 100,000 mail items.
func TestItemsEncodeSize(t *testing.T) {
	mail := Items{}
	for i := range 100000 {
		// folder-qualified UID, CONDSTORE modseq-like version
		mail[fmt.Sprintf("12:%d", 1000+i)] = fmt.Sprintf("%d", 4000000+i*7%100000)
	}
	pim := Items{}
	for i := range 100000 {
		// random-looking ids and hashes: the worst case for prefix sharing
		pim[fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)] = fmt.Sprintf("%08x", uint32(i)*2654435761)
	}
	for _, c := range []struct {
		name string
		it   Items
	}{{"mail uid/modseq", mail}, {"pim hash ids", pim}} {
		n := len(c.it.Encode())
		t.Logf("%s: 100000 items encode to %d bytes (%.1f bytes/item)", c.name, n, float64(n)/100000)
		if n > 4<<20 {
			t.Errorf("%s: %d bytes for 100000 items, want a few MB at most", c.name, n)
		}
	}
}
