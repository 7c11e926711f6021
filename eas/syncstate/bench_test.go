package syncstate

import (
	"context"
	"fmt"
	"testing"

	"github.com/easd/easd/internal/testenv"
)

// mailItems is a folder of n messages: UID ServerIds, modseq-like versions.
func mailItems(n int) Items {
	it := make(Items, n)
	for i := range n {
		it[fmt.Sprintf("12:%d", 1000+i)] = fmt.Sprintf("%d", 4000000+i*7%100000)
	}
	return it
}

// changedCopy returns it with every 100th item changed, every 1000th
// deleted and n/1000 new ones.
func changedCopy(it Items, n int) Items {
	now := make(Items, len(it))
	i := 0
	for id, v := range it {
		switch {
		case i%1000 == 0:
		case i%100 == 0:
			now[id] = v + "x"
		default:
			now[id] = v
		}
		i++
	}
	for j := range n / 1000 {
		now[fmt.Sprintf("12:%d", 900000+j)] = "1"
	}
	return now
}

func BenchmarkDiff(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		known := mailItems(n)
		now := changedCopy(known, n)
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			for b.Loop() {
				Diff(known, now)
			}
		})
	}
}

func BenchmarkItemsEncodeDecode(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		it := mailItems(n)
		enc := it.Encode()
		b.Run(fmt.Sprintf("encode/items=%d", n), func(b *testing.B) {
			for b.Loop() {
				it.Encode()
			}
			b.ReportMetric(float64(len(enc)), "state-bytes")
		})
		b.Run(fmt.Sprintf("merge-window/items=%d", n), func(b *testing.B) {
			window := Items{}
			for i := range 100 {
				window[fmt.Sprintf("%010d", 2*n+i)] = "?"
			}
			for b.Loop() {
				if _, err := MergeEncoded(enc, window); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("decode/items=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := DecodeItems(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkExchange is the CPU side of one Sync of a large folder with a
// window of 100: decode the state, diff, encode the new state.
func BenchmarkExchange(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		known := mailItems(n)
		now := changedCopy(known, n)
		enc := known.Encode()
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			for b.Loop() {
				k, err := DecodeItems(enc)
				if err != nil {
					b.Fatal(err)
				}
				Exchange{Known: k, Now: now, Window: 100}.Run().State.Encode()
			}
		})
	}
}

// BenchmarkBeginCommit is one request's round trip through PostgreSQL:
// Begin (lock, read state), Commit (new key, prune), for an empty state and
// for the state of a 10,000- and 100,000-message folder.
func BenchmarkBeginCommit(b *testing.B) {
	db := testenv.PG(b)
	eng := New(db.Pool, Options{})
	dev := newDevice(b, db.Pool, newUser(b, db.Pool))
	ctx := context.Background()
	for _, n := range []int{0, 10000, 100000} {
		state := mailItems(n).Encode()
		coll := fmt.Sprintf("c%d", n)
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			k := InitialKey
			for b.Loop() {
				tx, err := eng.Begin(ctx, dev, coll, k)
				if err != nil {
					b.Fatal(err)
				}
				if k, err = tx.Commit(ctx, state); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(state)), "state-bytes")
		})
	}
}
