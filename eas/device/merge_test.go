package device_test

import (
	"context"
	"testing"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/testenv"
)

// Rows an earlier easd stored under several spellings of one mailbox
// become one user: devices move, a device known under two spellings keeps
// the stricter access and a pending wipe, moved devices start over, and a
// second run changes nothing.
func TestMergeLogins(t *testing.T) {
	db := testenv.PG(t)
	ctx := context.Background()
	s := device.NewStore(db.Pool, 0)
	touch := func(login, dev string) *device.Device {
		d, err := s.Touch(ctx, device.Seen{Login: login, DeviceID: dev, DeviceType: "iPhone"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	exec := func(q string, args ...any) {
		if _, err := db.Pool.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	touch("demo", "phone")
	old := touch("DEMO", "phone") // the same phone under another spelling
	if err := s.SetAccess(ctx, "DEMO", "phone", device.Blocked); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestWipe(ctx, "DEMO", "phone", false); err != nil {
		t.Fatal(err)
	}
	tablet := touch("Demo", "tablet")
	exec(`INSERT INTO sync_collections (device_id, collection_id) VALUES ($1, '5')`, tablet.ID)
	touch("demo@example.test", "laptop")
	touch("Carol@Example.Test", "c1") // only the address form: stays an address
	touch("bob", "b1")

	a := eas.NewAuthenticator(nil, eas.AuthOptions{Form: config.LoginAuto, Case: config.CaseLower, Domain: "example.test"})
	n, err := device.MergeLogins(ctx, db.Pool, a.CanonicalStored, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 { // DEMO, Demo, demo@example.test merged; Carol@Example.Test renamed
		t.Errorf("%d rows changed, want 4", n)
	}
	var logins []string
	rows, _ := db.Pool.Query(ctx, `SELECT login FROM users ORDER BY login`)
	for rows.Next() {
		var l string
		_ = rows.Scan(&l)
		logins = append(logins, l)
	}
	if rows.Err() != nil || len(logins) != 3 || logins[0] != "bob" || logins[1] != "carol@example.test" || logins[2] != "demo" {
		t.Fatalf("users after the merge: %v %v", logins, rows.Err())
	}
	devs, err := s.List(ctx, "demo")
	if err != nil || len(devs) != 3 {
		t.Fatalf("demo's devices: %d %v", len(devs), err)
	}
	for _, d := range devs {
		switch d.DeviceID {
		case "phone":
			if d.Access != device.Blocked || d.Wipe != device.WipeRequested {
				t.Errorf("the merged phone lost its block or wipe: %s %s", d.Access, d.Wipe)
			}
			if d.ID == old.ID {
				t.Error("the non-canonical row of the phone survived")
			}
		case "tablet":
			var n int
			_ = db.Pool.QueryRow(ctx, `SELECT count(*) FROM sync_collections WHERE device_id = $1`, d.ID).Scan(&n)
			if n != 0 {
				t.Error("a moved device kept sync state naming another user's folders")
			}
		}
	}
	if n, err := device.MergeLogins(ctx, db.Pool, a.CanonicalStored, nil); err != nil || n != 0 {
		t.Fatalf("second run: %d %v", n, err)
	}
}
