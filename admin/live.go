package admin

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// LiveView is what this instance is doing now. It comes from the
// instance's own metrics: behind a load balancer every instance has its
// own, and the figures of the fleet are their sum.
type LiveView struct {
	At          time.Time `json:"at"`
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
}

// Live samples the instance's metrics to compute rates.
type Live struct {
	g       prometheus.Gatherer
	mu      sync.Mutex
	samples []liveSample // oldest first, at most liveSamples
}

type liveSample struct {
	at             time.Time
	requests, errs uint64
}

const (
	liveEvery   = 5 * time.Second
	liveSamples = 13 // a minute of samples plus the first
)

// NewLive samples g every few seconds until ctx ends.
func NewLive(ctx context.Context, g prometheus.Gatherer) *Live {
	l := &Live{g: g}
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

// View returns the figures now, with rates since the oldest sample.
func (l *Live) View() LiveView {
	v := l.read()
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
