package pgnotify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/easd/easd/internal/backoff"
)

// Payload is one notification for a subscriber.
type Payload struct {
	Topic string
	Data  string
	// Resync is set on the synthetic payload sent after a reconnect:
	// notifications may have been lost, re-check everything.
	Resync bool
}

// Hub owns the instance's LISTEN connection and fans notifications out to
// subscribers. It reconnects by itself; Close stops it.
type Hub struct {
	dsn string
	log *slog.Logger

	mu sync.Mutex
	// topics holds the subscribers per topic. A slice, not a set: most
	// topics (a device's) have one subscriber at a time, and a map per
	// waiting request would cost several hundred bytes each.
	topics map[string][]*Sub
	closed bool

	// quiet is what QuietSince answers from: when the LISTEN connection
	// was last (re)established, whether it is up, and the last arrival of
	// each remembered topic (quiet.go).
	quiet quietLog

	cancel context.CancelFunc
	done   chan struct{}
}

// Sub receives the payloads of one topic. Its channel is closed by Close
// and by Hub.Close.
type Sub struct {
	hub   *Hub
	topic string
	c     chan Payload
}

// subBuffer is how many payloads a subscriber may have unread before
// further ones are dropped (they are wake-ups; see the package comment).
const subBuffer = 8

// Reconnect back-off: first retry after backoffMin, doubling up to
// backoffMax, each with up to 25% jitter so that a fleet of instances does
// not reconnect in lock-step after a PostgreSQL restart.
const (
	backoffMin = 500 * time.Millisecond
	backoffMax = 30 * time.Second
)

// healthEvery bounds how long a silent LISTEN connection goes unchecked: a
// connection cut without a FIN (a failed-over database, a NAT timeout)
// would otherwise wait for notifications forever.
const healthEvery = 60 * time.Second

// New connects to dsn, LISTENs and starts delivering. It fails when the
// first connection fails; later failures are retried in the background.
func New(ctx context.Context, dsn string, log *slog.Logger) (*Hub, error) {
	if log == nil {
		log = slog.Default()
	}
	conn, err := listen(ctx, dsn)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	h := &Hub{dsn: dsn, log: log, topics: map[string][]*Sub{},
		cancel: cancel, done: make(chan struct{})}
	h.quiet.connected(time.Now())
	go h.run(runCtx, conn)
	return h, nil
}

// listen opens a dedicated connection and subscribes it to Channel.
func listen(ctx context.Context, dsn string) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("pgnotify: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("pgnotify: listen: %w", err)
	}
	return conn, nil
}

// Subscribe returns a subscription to topic. It costs no database work:
// the instance already listens to every topic.
func (h *Hub) Subscribe(topic string) *Sub {
	s := &Sub{hub: h, topic: topic, c: make(chan Payload, subBuffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(s.c)
		return s
	}
	h.topics[topic] = append(h.topics[topic], s)
	return s
}

// C delivers the payloads; it is closed when the subscription ends.
func (s *Sub) C() <-chan Payload { return s.c }

// Close ends the subscription. It may be called more than once.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.topics[s.topic]
	i := slices.Index(set, s)
	if i < 0 {
		return
	}
	if len(set) == 1 {
		delete(h.topics, s.topic)
	} else {
		set[i] = set[len(set)-1]
		set[len(set)-1] = nil
		h.topics[s.topic] = set[:len(set)-1]
	}
	close(s.c)
}

// Close stops listening and closes every subscription's channel, so that
// waiting requests end at shutdown.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	for _, set := range h.topics {
		for _, s := range set {
			close(s.c)
		}
	}
	h.topics = nil
	h.mu.Unlock()
	h.cancel()
	<-h.done
}

// Subscribers returns the number of open subscriptions (for metrics).
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.topics {
		n += len(set)
	}
	return n
}

// run receives until ctx ends, reconnecting with back-off.
func (h *Hub) run(ctx context.Context, conn *pgx.Conn) {
	defer close(h.done)
	delay := backoffMin
	for {
		err := h.receive(ctx, conn)
		h.mu.Lock()
		h.quiet.up = false // notifications sent from now on are lost
		h.mu.Unlock()
		conn.Close(context.Background())
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("pgnotify: LISTEN connection lost", "err", err)
		for {
			if !backoff.Sleep(ctx, backoff.Jitter(delay)) {
				return
			}
			delay = min(delay*2, backoffMax)
			conn, err = listen(ctx, h.dsn)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("pgnotify: reconnect failed", "err", err, "retry_in", delay)
		}
		delay = backoffMin
		h.log.Info("pgnotify: LISTEN connection restored")
		h.mu.Lock()
		h.quiet.connected(time.Now())
		h.mu.Unlock()
		h.broadcastResync()
	}
}

// receive delivers notifications from conn until it fails.
func (h *Hub) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, healthEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err == nil {
			h.deliver(n.Payload)
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// Quiet for a while: make sure the server is still there.
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("health check: %w", err)
		}
	}
}

func (h *Hub) deliver(msg string) {
	topic, data, err := decode(msg)
	if err != nil {
		h.log.Warn("pgnotify: malformed notification dropped", "err", err)
		return
	}
	p := Payload{Topic: topic, Data: data}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.quiet.arrived(topic, time.Now())
	for _, s := range h.topics[topic] {
		select {
		case s.c <- p:
		default: // unread payloads will wake it; see the package comment
		}
	}
}

func (h *Hub) broadcastResync() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for topic, set := range h.topics {
		for _, s := range set {
			select {
			case s.c <- Payload{Topic: topic, Resync: true}:
			default:
			}
		}
	}
}
