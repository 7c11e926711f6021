package app

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/easd/easd/eas"
	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/httpserver"
)

// opsMetrics are the metrics of easd's dependencies: the calls to the
// mail servers where they cross into imapbridge (IMAP logins, that is
// password checks; IMAP sessions opened for mail commands; SMTP
// submissions), the failed-login throttle and the PostgreSQL pool. Every
// series exists from the start, at zero, so alerts on a ratio see a value
// before the first failure. The labels are fixed here; nothing a client
// sends names one. They are made before the HTTP server that holds the
// registry, and registered with it by register.
type opsMetrics struct {
	calls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	throttled prometheus.Counter
}

// Backend call outcomes: refused is the server's answer to the user (a
// wrong password, a refused recipient), error means the server was not
// reached or failed, canceled that the request went away first.
var backendResults = []string{"ok", "refused", "error", "canceled"}

var backendOps = []struct{ backend, op string }{
	{"imap", "login"}, {"imap", "session"}, {"smtp", "submit"},
}

func newOpsMetrics() *opsMetrics {
	m := &opsMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "easd_backend_requests_total",
			Help: "Calls to the mail servers by backend (imap, smtp), operation (login, session, submit) and result " +
				"(ok, refused: the server said no to the user; error: unreachable or failing; canceled).",
		}, []string{"backend", "op", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "easd_backend_request_duration_seconds",
			Help:    "Durations of calls to the mail servers by backend and operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"backend", "op"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "easd_login_throttled_total",
			Help: "Login attempts refused by the failed-login throttle without asking the mail server.",
		}),
	}
	for _, o := range backendOps {
		m.duration.WithLabelValues(o.backend, o.op)
		for _, r := range backendResults {
			m.calls.WithLabelValues(o.backend, o.op, r)
		}
	}
	return m
}

// register adds the metrics, the pool's and the dependency checks', to reg.
func (m *opsMetrics) register(reg prometheus.Registerer, pool *pgxpool.Pool, checks []httpserver.Check) {
	reg.MustRegister(m.calls, m.duration, m.throttled, newPoolCollector(pool), &depCollector{checks: checks})
}

// depCollector asks the readiness checks (PostgreSQL, IMAP) at scrape
// time, so Prometheus sees an instance that is up but not ready without
// a prober of its own: one ping of each per scrape.
type depCollector struct{ checks []httpserver.Check }

var depUp = prometheus.NewDesc("easd_dependency_up",
	"1 when the dependency (postgres, imap) answered at scrape time, as /readyz asks it; 0 otherwise.",
	[]string{"dependency"}, nil)

func (d *depCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depUp }

func (d *depCollector) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, chk := range d.checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			up := 1.0
			if chk.Check(ctx) != nil {
				up = 0
			}
			ch <- prometheus.MustNewConstMetric(depUp, prometheus.GaugeValue, up, chk.Name)
		})
	}
	wg.Wait()
}

// observe records one call that started at start and ended with err;
// refused tells a refusal by the server from a failure.
func (m *opsMetrics) observe(ctx context.Context, backend, op string, start time.Time, err error, refused bool) {
	result := "ok"
	switch {
	case err == nil:
	case refused:
		result = "refused"
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		result = "canceled"
	default:
		result = "error"
	}
	m.calls.WithLabelValues(backend, op, result).Inc()
	m.duration.WithLabelValues(backend, op).Observe(time.Since(start).Seconds())
}

// outbound is the SMTP side of sending, timed.
type outbound struct {
	imapbridge.Outbound
	m *opsMetrics
}

func (o outbound) Submit(ctx context.Context, login, password, from string, to []string, msg []byte) error {
	start := time.Now()
	err := o.Outbound.Submit(ctx, login, password, from, to, msg)
	var se *smtp.SMTPError
	o.m.observe(ctx, "smtp", "submit", start, err, errors.As(err, &se))
	return err
}

// poolCollector reports the PostgreSQL connection pool at scrape time.
type poolCollector struct {
	pool                                   *pgxpool.Pool
	conns, maxConns                        *prometheus.Desc
	acquires, emptyAcquires, canceled, new *prometheus.Desc
	acquireSeconds, emptyWaitSeconds       *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &poolCollector{
		pool:             pool,
		conns:            d("easd_db_pool_conns", "PostgreSQL connections of the pool by state: acquired (in use), idle, constructing.", "state"),
		maxConns:         d("easd_db_pool_max_conns", "Most PostgreSQL connections the pool opens (--db-max-conns)."),
		acquires:         d("easd_db_pool_acquires_total", "Connections taken from the pool."),
		emptyAcquires:    d("easd_db_pool_empty_acquires_total", "Connections taken after waiting, because none was idle."),
		canceled:         d("easd_db_pool_canceled_acquires_total", "Waits for a connection that ended because the request went away."),
		new:              d("easd_db_pool_new_conns_total", "Connections opened to PostgreSQL."),
		acquireSeconds:   d("easd_db_pool_acquire_seconds_total", "Time spent taking connections from the pool."),
		emptyWaitSeconds: d("easd_db_pool_empty_acquire_wait_seconds_total", "Time spent waiting for a connection because none was idle."),
	}
}

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.conns, p.maxConns, p.acquires, p.emptyAcquires, p.canceled, p.new,
		p.acquireSeconds, p.emptyWaitSeconds} {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(p.conns, float64(s.AcquiredConns()), "acquired")
	gauge(p.conns, float64(s.IdleConns()), "idle")
	gauge(p.conns, float64(s.ConstructingConns()), "constructing")
	gauge(p.maxConns, float64(s.MaxConns()))
	counter(p.acquires, float64(s.AcquireCount()))
	counter(p.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(p.canceled, float64(s.CanceledAcquireCount()))
	counter(p.new, float64(s.NewConnsCount()))
	counter(p.acquireSeconds, s.AcquireDuration().Seconds())
	counter(p.emptyWaitSeconds, s.EmptyAcquireWaitTime().Seconds())
}

var _ eas.MailSubmitter = outbound{}
