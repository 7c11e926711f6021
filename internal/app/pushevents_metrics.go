package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/easd/easd/imapbridge"
	"github.com/easd/easd/internal/pushevents"
)

// newPushEventMetrics counts the mail server's event posts by outcome;
// every series exists from the start.
func newPushEventMetrics(reg prometheus.Registerer) func(pushevents.Outcome) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "easd_push_events_total",
		Help: "Event posts of the mail server (--push-events), by outcome: woken, no_folder, " +
			"unknown_user, refused, malformed, failed.",
	}, []string{"outcome"})
	byOutcome := map[pushevents.Outcome]prometheus.Counter{}
	for _, o := range pushevents.Outcomes {
		byOutcome[o] = vec.WithLabelValues(string(o))
	}
	reg.MustRegister(vec)
	return func(o pushevents.Outcome) {
		if c := byOutcome[o]; c != nil {
			c.Inc()
		}
	}
}

// registerSweepMetrics reports the STATUS sweep that backs the events;
// without events (sw nil) both stay 0, so dashboards find them either way.
func registerSweepMetrics(reg prometheus.Registerer, sw *imapbridge.Sweeper) {
	stats := func() imapbridge.SweepStats {
		if sw == nil {
			return imapbridge.SweepStats{}
		}
		return sw.Stats()
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "easd_push_sweep_users",
			Help: "Users with a waiting request whose mailboxes the STATUS sweep checks (--push-events).",
		}, func() float64 { return float64(stats().Users) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "easd_push_sweeps_total",
			Help: "Users swept with STATUS (--push-events), each a short IMAP session.",
		}, func() float64 { return float64(stats().Sweeps) }),
	)
}
