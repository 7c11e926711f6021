// Package itemstoretest sets up what the item stores' tests start from:
// a user with PIM folders, as FolderSync and FolderCreate would make them.
package itemstoretest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Folder is a PIM folder to create: its ServerId, display name and EAS
// folder type (9 Contacts, 14 user contacts, ...).
type Folder struct {
	ID, Name string
	Type     int
}

var userSeq atomic.Int64

// NewUser adds a user of a login no other call gives (prefix and a
// number) with the folders, and returns the user's id.
func NewUser(t testing.TB, pool *pgxpool.Pool, prefix string, folders ...Folder) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO users (login) VALUES ($1) RETURNING id`,
		fmt.Sprintf("%s%d", prefix, userSeq.Add(1))).Scan(&id); err != nil {
		t.Fatal(err)
	}
	for _, f := range folders {
		if _, err := pool.Exec(ctx, `INSERT INTO folders (user_id, server_id, display_name, type, source)
			VALUES ($1, $2, $3, $4, 'pim')`, id, f.ID, f.Name, f.Type); err != nil {
			t.Fatal(err)
		}
	}
	return id
}
