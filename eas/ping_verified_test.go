package eas

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/easd/easd/eas/model"
)

// TestVerifiedChecks: a verification vouches only for the status it saw,
// for VerifiedTTL; an older one does not replace a newer; entries past
// the TTL are pruned by a later record.
func TestVerifiedChecks(t *testing.T) {
	var v verifiedChecks
	st := model.MailboxStatus{UIDValidity: 1, UIDNext: 5, Messages: 4, HighestModSeq: 9}
	now := time.Now()
	v.record(1, "INBOX", st, now)
	if at, ok := v.lookup(1, "INBOX", st); !ok || !at.Equal(now) {
		t.Errorf("lookup = %v %v, want %v", at, ok, now)
	}
	other := st
	other.UIDNext++
	if _, ok := v.lookup(1, "INBOX", other); ok {
		t.Error("vouched for another status (the device synced since)")
	}
	if _, ok := v.lookup(2, "INBOX", st); ok {
		t.Error("vouched for another device")
	}
	v.record(1, "INBOX", st, now.Add(-time.Second))
	if at, _ := v.lookup(1, "INBOX", st); !at.Equal(now) {
		t.Error("an older verification replaced a newer one")
	}
	v.forget(1, "INBOX")
	if _, ok := v.lookup(1, "INBOX", st); ok {
		t.Error("vouched after forget")
	}

	old := time.Now().Add(-VerifiedTTL)
	v.record(3, "INBOX", st, old)
	if _, ok := v.lookup(3, "INBOX", st); ok {
		t.Error("vouched for a verification older than the TTL")
	}
	v.pruned = time.Time{} // the next record walks
	v.record(4, "INBOX", st, time.Now())
	if n := v.len(); n != 1 {
		t.Errorf("%d entries after pruning, want 1", n)
	}
}

// BenchmarkVerifiedChecks reports the live heap per entry of the record:
// one per watched mail folder of a device whose Ping verified it. The
// mailbox names are shared with the folder list, as in a Ping.
func BenchmarkVerifiedChecks(b *testing.B) {
	const n = 100000
	names := []string{"INBOX"}
	for range b.N {
		var v verifiedChecks
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		now := time.Now()
		for i := range n {
			v.record(int64(i), names[0], model.MailboxStatus{UIDValidity: 1, UIDNext: uint32(i)}, now)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/n, "B/entry")
		if v.len() != n {
			b.Fatal("entries lost: " + strconv.Itoa(v.len()))
		}
	}
}

// len is the number of entries (tests, memory figures).
func (v *verifiedChecks) len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.m)
}
