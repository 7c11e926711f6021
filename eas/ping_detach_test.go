package eas_test

import (
	"context"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"
)

// A waiting Ping is answered off net/http (httpserver.Detach); the phone
// keeps its connection: the Ping after it and the next command go over
// the same one, and each answer has its access-log line.
func TestPingDetachedKeepsConnection(t *testing.T) {
	s := startPing(t)
	inbox := s.ids["Inbox"]
	s.catchUp(t, inbox, s.start(t, inbox))

	var mu sync.Mutex
	var local []string // the client end of each request's connection
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) {
			mu.Lock()
			defer mu.Unlock()
			local = append(local, info.Conn.LocalAddr().String())
		},
	})
	for range 2 {
		r, err := s.c.Ping(ctx, time.Second, email(inbox))
		if err != nil || r.Status != 1 {
			t.Fatalf("expiring Ping: %+v %v", r, err)
		}
	}
	if r, err := s.c.FolderSync(ctx, "0"); err != nil || r.Status != 1 {
		t.Fatalf("FolderSync after the Pings: %+v %v", r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(local) != 3 || local[1] != local[0] || local[2] != local[0] {
		t.Errorf("requests went over %v, want one connection", local)
	}
	if n := strings.Count(s.env.Logs(), `"cmd":"Ping","eas_status":1`); n != 2 {
		t.Errorf("%d access-log lines of the expired Pings, want 2:\n%s", n, s.env.Logs())
	}
}
