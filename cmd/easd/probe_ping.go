package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/eas/message"
)

// Heartbeats the Ping step asks for. A phone holds its Ping for many
// minutes; 120 s is long enough to cross the common proxy defaults (60 s
// for nginx's proxy_read_timeout and many load balancers' idle timeout)
// and short enough to wait for. --quick checks only that Ping answers.
const (
	probeHeartbeat      = 120 * time.Second
	probeQuickHeartbeat = 10 * time.Second
)

// ping holds a Ping on the Inbox for the heartbeat. A heartbeat outside
// the server's bounds is answered at once with Status 5 and the bound;
// the probe then asks again with that bound (unless --quick), as a phone
// does. A connection that ends before the heartbeat did is something
// between the probe and easd timing the request out.
func (p *prober) ping(ctx context.Context, s *probeStep, inbox string) (probeLevel, string, error) {
	hb := p.o.heartbeat
	info := &probePing{}
	s.Ping = info
	for try := 0; ; try++ {
		info.HeartbeatS = int(hb / time.Second)
		tctx, cancel := context.WithTimeout(ctx, hb+p.o.timeout)
		start := time.Now()
		r, err := p.c.Ping(tctx, hb, message.PingFolder{ID: inbox, Class: "Email"})
		held := time.Since(start)
		cancel()
		info.HeldMS = held.Milliseconds()
		if err != nil {
			if pingCut(err, held, hb) {
				info.Cut = true
				return probeFail, fmt.Sprintf("cut after %s of a %s Ping (%s): a proxy or load balancer between here and easd ends long requests; "+
					"raise its read or idle timeout above easd's --heartbeat-max (59 minutes by default), or phones reconnect all the time and miss push mail",
					roundSecond(held), hb, cutText(err)), nil
			}
			return 0, "", err
		}
		switch r.Status {
		case 1:
			if held < hb-time.Second {
				// A device profile may cap the heartbeat (MaxHeartbeat).
				return probeOK, fmt.Sprintf("answered after %s of a %s Ping, no change: the server shortens this device's heartbeat", roundSecond(held), hb), nil
			}
			return probeOK, fmt.Sprintf("held %s without change: long requests pass", roundSecond(held)), nil
		case 2:
			return probeOK, fmt.Sprintf("Inbox changed after %s (the hold was not tested in full)", roundSecond(held)), nil
		case 5:
			bound := time.Duration(r.HeartbeatInterval) * time.Second
			if p.o.quick || try > 0 || bound <= 0 || bound == hb {
				return probeOK, fmt.Sprintf("answered at once: %s is outside the server's heartbeat bounds (it proposes %d s)", hb, r.HeartbeatInterval), nil
			}
			hb = bound // the server's limit, as a phone would retry
		case 7:
			return probeWarn, "server asks for a new FolderSync first (Status 7)", nil
		default:
			return probeFail, statusText("Ping", r.Status), nil
		}
	}
}

// pingCut tells a held request cut short from other failures: the
// connection closed or reset, or a gateway's timeout answer, before the
// heartbeat was up.
func pingCut(err error, held, hb time.Duration) bool {
	if held >= hb || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var he *client.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusRequestTimeout, http.StatusServiceUnavailable:
			// 503 from easd itself carries Retry-After; a proxy's does not.
			return he.Code != http.StatusServiceUnavailable || he.Header.Get("Retry-After") == ""
		}
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection broken", "server closed", "GOAWAY", "stream error", "connection reset"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func cutText(err error) string {
	var he *client.HTTPError
	if errors.As(err, &he) {
		return fmt.Sprintf("HTTP %d from in between", he.Code)
	}
	return "connection closed"
}

func roundSecond(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
