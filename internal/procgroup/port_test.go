package procgroup

import (
	"strings"
	"testing"
)

// Ports picked together are distinct, and given ports stay as they are.
func TestResolveAddrsDistinct(t *testing.T) {
	addrs := make([]string, 64)
	ptrs := make([]*string, len(addrs))
	for i := range addrs {
		addrs[i] = "127.0.0.1:0"
		ptrs[i] = &addrs[i]
	}
	fixed := "127.0.0.1:12345"
	ptrs = append(ptrs, &fixed)
	if err := ResolveAddrs(ptrs...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if strings.HasSuffix(a, ":0") || seen[a] {
			t.Fatalf("port not picked or picked twice: %s in %v", a, addrs)
		}
		seen[a] = true
	}
	if fixed != "127.0.0.1:12345" {
		t.Errorf("a given port changed: %s", fixed)
	}
	bad := "no-port"
	if err := ResolveAddrs(&bad); err == nil {
		t.Error("an address without a port was accepted")
	}
}
