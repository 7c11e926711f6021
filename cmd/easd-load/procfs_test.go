package main

import (
	"net"
	"os"
	"testing"
)

func TestParseStat(t *testing.T) {
	line := "4242 (imap (x) y) S 17 4242 4242 0 -1 4194560 500 0 0 0 150 50 0 0 20 0 1 0 100 123456 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if st.pid != 4242 || st.ppid != 17 || st.comm != "imap (x) y" || st.cpu != 2 || st.rss != 300*float64(os.Getpagesize()) {
		t.Fatalf("parsed %+v", st)
	}
	if _, err := parseStat("garbage"); err == nil {
		t.Fatal("garbage parsed")
	}
	self, err := readStat(os.Getpid())
	if err != nil || self.rss <= 0 {
		t.Fatalf("own stat: %+v %v", self, err)
	}
}

func TestListenInodes(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:4750 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0
   1: 0100007F:4750 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0 20 4 30 10 -1
   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0 100 0 0 10 0
`
	got := listenInodes(table, 0x4750)
	if len(got) != 1 || got[0] != "1111" {
		t.Fatalf("inodes %v, want [1111]", got)
	}
}

// Phones share a source address phonesPerSource at a time, and the
// addresses stay in 127.0.0.0/8, clear of 127.0.0.x and the set-up ones.
func TestSourceAddr(t *testing.T) {
	seen := map[string]int{}
	for i := range 100_000 {
		ip := sourceAddr(i)
		if !ip.IsLoopback() || ip.To4()[1] == 0 || ip.To4()[1] == 2 || ip.To4()[3] == 0 || ip.To4()[3] == 255 {
			t.Fatalf("phone %d: address %v", i, ip)
		}
		seen[ip.String()]++
	}
	for a, n := range seen {
		if n > phonesPerSource {
			t.Fatalf("%s carries %d phones", a, n)
		}
	}
	if len(seen) != sourceAddrCount(100_000) {
		t.Fatalf("%d addresses, want %d", len(seen), sourceAddrCount(100_000))
	}
	if !sourceAddr(0).Equal(net.IPv4(127, 1, 0, 2)) {
		t.Fatalf("first address %v", sourceAddr(0))
	}
}
