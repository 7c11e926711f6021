package admin

import (
	"cmp"
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/easd/easd/eas"
)

// LiveView is what this instance is doing now. It comes from the
// instance's own metrics: behind a load balancer every instance has its
// own, and the figures of the fleet are their sum.
type LiveView struct {
	At          time.Time `json:"at"`
	Instance    string    `json:"instance"`     // the host name of the instance answering
	PingWaiting int       `json:"ping_waiting"` // Pings waiting for a change
	SyncWaiting int       `json:"sync_waiting"` // hanging Syncs waiting for a change
	// RequestsPerSecond and ErrorsPerSecond (HTTP 5xx) are averaged over
	// the last minute (less just after start).
	RequestsPerSecond float64 `json:"requests_per_second"`
	ErrorsPerSecond   float64 `json:"errors_per_second"`
	RequestsTotal     uint64  `json:"requests_total"`
	ErrorsTotal       uint64  `json:"errors_total"` // HTTP 5xx answers since start
	// Window is the span the rates are averaged over, in seconds.
	Window float64 `json:"window_seconds"`
	// Waiting lists this instance's waiting Pings and hanging Syncs, the
	// longest waiting first, at most liveWaitsMax of them; WaitingMore
	// counts those left out.
	Waiting     []LiveWait `json:"waiting"`
	WaitingMore int        `json:"waiting_more"`
}

// LiveWait is one waiting Ping or hanging Sync.
type LiveWait struct {
	Kind       string    `json:"kind"` // "ping" or "sync"
	User       string    `json:"user"`
	DeviceID   string    `json:"device_id"`
	DeviceType string    `json:"device_type"`
	Since      time.Time `json:"since"`
	Heartbeat  int       `json:"heartbeat_seconds"`
	Folders    int       `json:"folders"` // folders watched
}

// liveWaitsMax bounds the list: an instance holds thousands of waits, and
// the page is for looking at some of them.
const liveWaitsMax = 1000

// Waits is the requests waiting on this instance, for the live view. It
// keeps one map entry per wait, the start time keyed by the wait itself:
// no goroutine and no copy per wait; what a wait is (user, device,
// folders) is read from it only when someone looks.
type Waits struct {
	mu sync.Mutex
	m  map[eas.Waiting]time.Time
}

// NewWaits returns an empty list.
func NewWaits() *Waits { return &Waits{m: make(map[eas.Waiting]time.Time)} }

// Started adds a wait (from eas.WaitObserver.WaitStarted).
func (l *Waits) Started(w eas.Waiting) {
	now := time.Now()
	l.mu.Lock()
	l.m[w] = now
	l.mu.Unlock()
}

// Ended removes a wait (from eas.WaitObserver.WaitEnded).
func (l *Waits) Ended(w eas.Waiting) {
	l.mu.Lock()
	delete(l.m, w)
	l.mu.Unlock()
}

// list returns up to max waits, longest waiting first, and how many were
// left out. Info is read under the lock: a wait reported ended is never
// read again.
func (l *Waits) list(max int) ([]LiveWait, int) {
	l.mu.Lock()
	out := make([]LiveWait, 0, len(l.m))
	for w, since := range l.m {
		in := w.Info()
		out = append(out, LiveWait{Kind: in.Kind.String(), User: in.Login, DeviceID: in.DeviceID,
			DeviceType: in.DeviceType, Since: since, Heartbeat: int(in.Heartbeat / time.Second), Folders: in.Folders})
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b LiveWait) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.User, b.User), cmp.Compare(a.DeviceID, b.DeviceID))
	})
	if len(out) > max {
		return out[:max], len(out) - max
	}
	return out, 0
}

// Live samples the instance's metrics to compute rates.
type Live struct {
	g        prometheus.Gatherer
	waits    *Waits // nil: no list
	instance string
	mu       sync.Mutex
	samples  []liveSample // oldest first, at most liveSamples
}

type liveSample struct {
	at             time.Time
	requests, errs uint64
}

const (
	liveEvery   = 5 * time.Second
	liveSamples = 13 // a minute of samples plus the first
)

// NewLive samples g every few seconds until ctx ends. waits, when not
// nil, lists the waiting requests.
func NewLive(ctx context.Context, g prometheus.Gatherer, waits *Waits) *Live {
	host, _ := os.Hostname()
	l := &Live{g: g, waits: waits, instance: host}
	l.sample()
	go func() {
		t := time.NewTicker(liveEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.sample()
			}
		}
	}()
	return l
}

func (l *Live) sample() {
	v := l.read()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.samples = append(l.samples, liveSample{at: v.At, requests: v.RequestsTotal, errs: v.ErrorsTotal})
	if len(l.samples) > liveSamples {
		l.samples = l.samples[1:]
	}
}

// read takes the current figures, without rates.
func (l *Live) read() LiveView {
	v := LiveView{At: time.Now()}
	mfs, err := l.g.Gather()
	if err != nil && len(mfs) == 0 {
		return v
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "easd_ping_waiting":
			v.PingWaiting = int(gauge(mf))
		case "easd_sync_waiting":
			v.SyncWaiting = int(gauge(mf))
		case "easd_http_requests_total":
			for _, m := range mf.GetMetric() {
				n := uint64(m.GetCounter().GetValue())
				v.RequestsTotal += n
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "status" && strings.HasPrefix(lp.GetValue(), "5") {
						v.ErrorsTotal += n
					}
				}
			}
		}
	}
	return v
}

func gauge(mf *dto.MetricFamily) float64 {
	var sum float64
	for _, m := range mf.GetMetric() {
		sum += m.GetGauge().GetValue()
	}
	return sum
}

// View returns the figures now, with rates since the oldest sample, and
// the waiting requests.
func (l *Live) View() LiveView {
	v := l.read()
	v.Instance = l.instance
	v.Waiting = []LiveWait{}
	if l.waits != nil {
		v.Waiting, v.WaitingMore = l.waits.list(liveWaitsMax)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return v
	}
	old := l.samples[0]
	dt := v.At.Sub(old.at).Seconds()
	if dt < 0.5 {
		return v
	}
	v.Window = dt
	v.RequestsPerSecond = float64(v.RequestsTotal-min(old.requests, v.RequestsTotal)) / dt
	v.ErrorsPerSecond = float64(v.ErrorsTotal-min(old.errs, v.ErrorsTotal)) / dt
	return v
}
