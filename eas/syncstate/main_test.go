package syncstate

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var deviceSeq atomic.Int64

// newUser inserts a user and returns its id.
func newUser(t testing.TB, pool *pgxpool.Pool) int64 {
	t.Helper()
	var id int64
	login := fmt.Sprintf("user%d@example.org", deviceSeq.Add(1))
	if err := pool.QueryRow(context.Background(),
		`INSERT INTO users (login) VALUES ($1) RETURNING id`, login).Scan(&id); err != nil {
		t.Fatalf("insert user: %v", err)
	}
	return id
}

// newDevice inserts a device of userID and returns its devices.id.
func newDevice(t testing.TB, pool *pgxpool.Pool, userID int64) int64 {
	t.Helper()
	var id int64
	devID := fmt.Sprintf("DEV%d", deviceSeq.Add(1))
	if err := pool.QueryRow(context.Background(),
		`INSERT INTO devices (user_id, device_id, device_type) VALUES ($1, $2, 'iPhone') RETURNING id`,
		userID, devID).Scan(&id); err != nil {
		t.Fatalf("insert device: %v", err)
	}
	return id
}
