package pgcluster

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/procgroup"
)

// waitReady polls until a real connection succeeds: the port opens before
// the server accepts sessions ("the database system is starting up").
func (c *Cluster) waitReady(ctx context.Context, proc *procgroup.Process) error {
	var last error
	for {
		if exited, err := proc.Exited(); exited {
			return fmt.Errorf("postgres exited: %v", err)
		}
		if last = c.ping(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
		case <-proc.Done():
		case <-time.After(readyPoll):
		}
	}
}

func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// splitAddr splits an address that ResolveAddr has already validated.
func splitAddr(addr string) (host, port string) {
	host, port, _ = net.SplitHostPort(addr)
	return host, port
}
