package eas_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/easd/easd/contacts"
	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/easdtest"
)

// fillContacts imports n contacts into alice's Contacts folder: names,
// two emails, three phones, an address, a note (a typical address book;
// no photos).
func fillContacts(tb testing.TB, env *easdtest.Env, folder string, n int) {
	tb.Helper()
	var vcf strings.Builder
	for i := range n {
		fmt.Fprintf(&vcf, "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:bench-%d\r\nFN:Person %d Example\r\nN:Example;Person %d;;;\r\n"+
			"EMAIL;TYPE=work:p%d@example.test\r\nEMAIL;TYPE=home:p%d@home.example.test\r\nTEL;TYPE=cell:+1 555 %07d\r\n"+
			"TEL;TYPE=work,voice:+1 555 %07d\r\nTEL;TYPE=home,voice:+1 556 %07d\r\nORG:Company %d;Sales\r\nTITLE:Manager\r\n"+
			"ADR;TYPE=work:;;%d Main Street;Springfield;IL;12345;USA\r\nNOTE:Met at the trade fair in spring; call back about the order.\r\n"+
			"END:VCARD\r\n", i, i, i, i, i, i, i, i, i%50, i)
	}
	var userID int64
	ctx := context.Background()
	if err := env.DB.Pool.QueryRow(ctx, `SELECT id FROM users WHERE login = 'alice'`).Scan(&userID); err != nil {
		tb.Fatal(err)
	}
	store := contacts.NewStore(env.DB.Pool, eas.NotifyFolderChanged)
	if _, err := store.Import(ctx, userID, folder, strings.NewReader(vcf.String()), contacts.ImportOptions{}); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSyncContactsInitial: the initial sync of 5,000 contacts in
// windows of 100 and 512, as a phone does it. Figures only.
func BenchmarkSyncContactsInitial(b *testing.B) {
	const n = 5000
	env := easdtest.Start(b, noPolicy)
	first := env.Client("alice", "bench-fill")
	ids := syncFolderIDs(b, first)
	fillContacts(b, env, ids["Contacts"], n)
	for _, window := range []int{100, 512} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			var total time.Duration
			for i := range b.N {
				c := env.Client("alice", fmt.Sprintf("bench-%d-%d", window, i))
				got, d := initialSync(b, &syncEnv{env: env, c: c, ids: syncFolderIDs(b, c)}, "Contacts", window, textBody32K())
				total += d
				if got != n {
					b.Fatalf("got %d contacts, want %d", got, n)
				}
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/initial-sync")
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "contacts/s")
		})
	}
}

// textBody32K is the collection Options a phone sends for PIM items: a
// plain text body up to 32 KB.
func textBody32K() []message.SyncOptions {
	return []message.SyncOptions{{BodyPreference: []message.BodyPreference{{Type: 1, TruncationSize: ptr(uint32(32768))}}}}
}

// initialSync runs a phone's initial sync of folder (a display name) in
// windows of window, from key 0; it returns the items added and the time
// from the first Sync after key 0 to the last window.
func initialSync(b *testing.B, s *syncEnv, folder string, window int, opts []message.SyncOptions) (int, time.Duration) {
	id := s.ids[folder]
	rc := s.sync(b, message.SyncCollection{SyncKey: "0", CollectionID: id, Options: opts})
	key := rc.SyncKey
	start := time.Now()
	got := 0
	for more := true; more; {
		rc := s.sync(b, message.SyncCollection{SyncKey: key, CollectionID: id, WindowSize: window, Options: opts})
		if rc.Status != 1 {
			b.Fatalf("sync: %+v", rc)
		}
		got += len(commands(rc).Add)
		key, more = rc.SyncKey, rc.MoreAvailable
	}
	return got, time.Since(start)
}

// BenchmarkSyncContactsQuiet: a no-change Sync of a 5,000-contact folder
// from 100 devices at once, for 5 s. Figures only.
func BenchmarkSyncContactsQuiet(b *testing.B) {
	const n, devices = 5000, 100
	env := easdtest.Start(b, noPolicy)
	first := env.Client("alice", "quiet-0")
	ids := syncFolderIDs(b, first)
	folder := ids["Contacts"]
	fillContacts(b, env, folder, n)
	clients, key := quietFleet(b, env, first, ids, folder, devices)
	wal := func() (lsn int64) {
		// The WAL a request writes: 0 when a quiet Sync is a read only.
		if err := env.DB.Pool.QueryRow(context.Background(),
			`SELECT pg_current_wal_lsn() - '0/0'`).Scan(&lsn); err != nil {
			b.Fatal(err)
		}
		return lsn
	}
	b.ResetTimer()
	before := wal()
	proc0, pg0 := benchCPU(b, env)
	done, elapsed := quietSyncs(b, clients, key, folder)
	proc1, pg1 := benchCPU(b, env)
	b.ReportMetric(float64(done)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(wal()-before)/float64(done), "WAL-B/req")
	// What a request costs, whatever else the machine runs.
	b.ReportMetric(float64((proc1-proc0).Microseconds())/float64(done), "go-CPU-µs/req")
	b.ReportMetric(float64((pg1-pg0).Microseconds())/float64(done), "pg-CPU-µs/req")
}

// copyStates gives every quiet-N device the state quiet-0 holds for
// collection, so that all of them send the same current key.
func copyStates(b *testing.B, env *easdtest.Env, collection string) {
	b.Helper()
	for _, q := range []string{`
		INSERT INTO sync_collections (device_id, collection_id, generation, counter, cur_key, prev_key, cur_initial)
		SELECT d.id, s.collection_id, s.generation, s.counter, s.cur_key, s.prev_key, s.cur_initial
		FROM sync_collections s, devices d JOIN devices d0 ON d0.device_id = 'quiet-0'
		WHERE s.device_id = d0.id AND s.collection_id = $1 AND d.device_id LIKE 'quiet-%' AND d.id <> d0.id`, `
		INSERT INTO sync_states (device_id, collection_id, sync_key, state)
		SELECT d.id, st.collection_id, st.sync_key, st.state
		FROM sync_states st, devices d JOIN devices d0 ON d0.device_id = 'quiet-0'
		WHERE st.device_id = d0.id AND st.collection_id = $1 AND d.device_id LIKE 'quiet-%' AND d.id <> d0.id`} {
		if _, err := env.DB.Pool.Exec(context.Background(), q, collection); err != nil {
			b.Fatal(err)
		}
	}
}
