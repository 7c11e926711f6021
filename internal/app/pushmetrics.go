package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/easd/easd/admin"
	"github.com/easd/easd/eas"
)

// waitMetrics reports waiting requests (Ping, hanging Sync) and the push
// watchers to Prometheus. It is the eas.WaitObserver of the instance.
// Every series exists from the start, at zero, so that dashboards and
// alerts see a value before the first wait ends. It also keeps the list
// of waits for the admin live view, when there is one.
type waitMetrics struct {
	waiting [2]prometheus.Gauge // by eas.WaitKind
	ended   [2][]prometheus.Counter
	list    *admin.Waits // nil without an admin listener
}

func newWaitMetrics(reg prometheus.Registerer, connections func() int) *waitMetrics {
	m := &waitMetrics{}
	m.waiting[eas.WaitPing] = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "easd_ping_waiting",
		Help: "Ping requests currently waiting for a change.",
	})
	m.waiting[eas.WaitSync] = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "easd_sync_waiting",
		Help: "Hanging Sync requests (Wait or HeartbeatInterval) currently waiting for a change.",
	})
	ended := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "easd_wait_ends_total",
		Help: "Waits of Ping and hanging Sync that ended, by command and how: changed, heartbeat, " +
			"superseded (a newer request of the device), shutdown, client_gone, watcher_ended.",
	}, []string{"cmd", "reason"})
	for _, kind := range []eas.WaitKind{eas.WaitPing, eas.WaitSync} {
		m.ended[kind] = make([]prometheus.Counter, len(eas.WaitEnds))
		for _, end := range eas.WaitEnds {
			m.ended[kind][end] = ended.WithLabelValues(kind.String(), end.String())
		}
	}
	watchers := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "easd_imap_watcher_connections",
		Help: "IMAP connections of push watchers that are up (one per user with a waiting request or in its grace period).",
	}, func() float64 { return float64(connections()) })
	reg.MustRegister(m.waiting[eas.WaitPing], m.waiting[eas.WaitSync], ended, watchers)
	return m
}

func (m *waitMetrics) WaitStarted(kind eas.WaitKind, w eas.Waiting) {
	m.waiting[kind].Inc()
	if m.list != nil {
		m.list.Started(w)
	}
}

func (m *waitMetrics) WaitEnded(kind eas.WaitKind, w eas.Waiting, end eas.WaitEnd) {
	m.waiting[kind].Dec()
	if m.list != nil {
		m.list.Ended(w)
	}
	if int(end) < len(m.ended[kind]) {
		m.ended[kind][end].Inc()
	}
}
