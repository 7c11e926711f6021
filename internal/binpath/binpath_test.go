package binpath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPrefersHighestVersion(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9", "15", "13"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "easd-fake-tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Find("easd-fake-tool", "fake", filepath.Join(root, "*", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "15", "bin", "easd-fake-tool"); got != want {
		t.Fatalf("Find = %q, want %q", got, want)
	}
}

func TestFindMissing(t *testing.T) {
	_, err := Find("easd-no-such-tool", "easd-tools", t.TempDir())
	if !IsMissing(err) {
		t.Fatalf("err = %v, want *MissingError", err)
	}
	want := `easd-no-such-tool not found: install it with "apt-get install easd-tools"`
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestFindInPath(t *testing.T) {
	p, err := Find("sh", "dash")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(p, "/sh") {
		t.Fatalf("Find(sh) = %q", p)
	}
}

func TestVersionLess(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"/pg/9/bin", "/pg/15/bin", true},
		{"/pg/15/bin", "/pg/9/bin", false},
		{"/pg/15/bin", "/pg/15/bin", false},
		{"/x/1.10", "/x/1.9", false},
		{"/x/a", "/x/b", true},
	}
	for _, c := range cases {
		if got := versionLess(c.a, c.b); got != c.want {
			t.Errorf("versionLess(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
