package eas

import (
	"slices"
	"testing"

	"github.com/easd/easd/eas/folders"
)

func TestSearchFoldersAndRange(t *testing.T) {
	list := []folders.Folder{
		{ServerID: "4", ParentID: "3", Source: folders.SourceIMAP},
		{ServerID: "1", ParentID: "0", Source: folders.SourceIMAP},
		{ServerID: "3", ParentID: "1", Source: folders.SourceIMAP},
		{ServerID: "2", ParentID: "0", Source: folders.SourceIMAP},
		{ServerID: "9", ParentID: "0", Source: folders.SourcePIM},
		{ServerID: "8", ParentID: "0", Source: folders.SourceVirtual},
	}
	ids := func(fs []folders.Folder) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ServerID)
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		q    mailQuery
		want []string
		ok   bool
	}{
		{mailQuery{}, []string{"1", "2", "3", "4"}, true},
		{mailQuery{collection: "0"}, []string{"1", "2", "3", "4"}, true},
		{mailQuery{collection: "1"}, []string{"1"}, true},
		{mailQuery{collection: "1", deep: true}, []string{"1", "3", "4"}, true},
		{mailQuery{collection: "9"}, nil, true},
		{mailQuery{collection: "77"}, nil, false},
	} {
		got, ok := searchFolders(list, tc.q, (&Server{}).isMail)
		if ok != tc.ok || !slices.Equal(ids(got), tc.want) {
			t.Errorf("%+v: %v %v, want %v %v", tc.q, ids(got), ok, tc.want, tc.ok)
		}
	}
	for in, want := range map[string][2]int{"": {0, 9}, "0-4": {0, 4}, "5-5": {5, 5}, "0-999": {0, maxSearchResults - 1}} {
		if a, b, err := parseRange(in); err != nil || a != want[0] || b != want[1] {
			t.Errorf("range %q: %d-%d %v", in, a, b, err)
		}
	}
	for _, bad := range []string{"x", "3-1", "-1-2", "1"} {
		if _, _, err := parseRange(bad); err == nil {
			t.Errorf("range %q accepted", bad)
		}
	}
}
