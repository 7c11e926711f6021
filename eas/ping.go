package eas

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/httpserver"
	"github.com/easd/easd/wbxml"
)

func init() {
	addCommand("Ping", &commandSpec{root: "Ping:Ping", run: pingCmd})
}

// Ping statuses (MS-ASCMD 2.2.3.177.11).
const (
	pingExpired           Status = 1 // heartbeat passed without change: ping again
	pingChanged           Status = 2 // the listed folders changed: sync them
	pingMissingParameters Status = 3 // no heartbeat or folders, none cached
	pingSyntaxError       Status = 4
	pingBadHeartbeat      Status = 5 // HeartbeatInterval carries the limit
	pingTooManyFolders    Status = 6 // MaxFolders carries the limit
	pingHierarchyChanged  Status = 7 // FolderSync first
	pingServerError       Status = 8
)

// pingStartTimeout bounds the work before waiting (database, watcher
// login, one STATUS per mail folder) so that a slow mail server costs the
// client a retry, not its HTTP time-out.
const pingStartTimeout = 20 * time.Second

// pingCmd answers a Ping (MS-ASCMD 2.2.1.13): at once when a watched
// folder already differs from what the device last synced, else when one
// changes, when the user's folder hierarchy changes and the device has
// not seen it (Status 7: FolderSync first; pingWait.hierarchyStale),
// when the heartbeat passes, when a newer request of the device
// arrives (on any instance), or when easd shuts down. A waiting Ping is
// this goroutine blocked in one select; see pingWait.
//
// A Ping that a newer Ping or Sync of the device ends is answered with
// Status 1: the specification has no status for it, and 1 ("nothing
// changed, ping again") is the one every client handles without side
// effects. The client has usually given up on that connection anyway.
//
// The work before waiting happens in begin, which returns first: the
// decoded request, the stored parameters and the folder list are garbage
// by the time this goroutine blocks, and its stack is only as deep as
// this frame and wait's. With thousands of Pings waiting, both count:
// the garbage collector halves a goroutine's stack only while less than
// a quarter of it is in use.
func pingCmd(k *call) error {
	w := &pingWait{k: k, kind: WaitPing}
	status, err := w.begin()
	if err == nil && status == 0 && w.detach() {
		return nil
	}
	defer w.close()
	if err != nil || status == pingAnswered {
		return err
	}
	if status == 0 {
		status = w.wait()
	}
	if status == 0 { // the client went away: nobody to answer
		return nil
	}
	return w.answer(status)
}

// detach hands the wait to a goroutine of its own that holds the
// connection without net/http (httpserver.Detach): a waiting Ping then
// costs a small stack, its subscriptions and the connection, instead of
// net/http's 16 KiB goroutine and 10 KiB of buffers. A traced device
// waits as before: its trace is written when the handler returns. It
// reports false when the request stays with net/http.
func (w *pingWait) detach() bool {
	k := w.k
	if k.trace != nil {
		return false
	}
	ri := httpserver.Info(k.c)
	k.c.Response().Header().Set("MS-Server-ActiveSync", "16.1")
	d, err := httpserver.Detach(k.c)
	if err != nil {
		return false
	}
	w.k = nil // its echo context serves other requests from now on
	go w.waitDetached(d, ri)
	return true
}

// waitDetached is a detached Ping from its wait to its answer.
func (w *pingWait) waitDetached(d *httpserver.Detached, ri *httpserver.RequestInfo) {
	defer w.close()
	w.gone = d.Gone()
	status := w.wait()
	if status == 0 { // the client went away: nobody to answer
		d.Close()
		return
	}
	body, err := wbxml.Marshal(w.response(status))
	if err != nil {
		w.log.Error("ping: encode answer", "err", err)
		d.Close()
		return
	}
	ri.EASStatus, ri.Routine = int(status), routinePing(int(status))
	if err := d.Respond("application/vnd.ms-sync.wbxml", body); err != nil {
		w.log.Info("ping: answer not delivered", "err", err)
	}
}

// pingAnswered is begin's way of saying that it has answered already.
const pingAnswered Status = -1

// begin reads the request and the stored parameters, subscribes and
// checks the folders: it returns a status to answer, 0 to wait, or
// pingAnswered.
func (w *pingWait) begin() (Status, error) {
	k := w.k
	// A Ping without a body is allowed: it reuses the stored parameters.
	var req message.PingRequest
	if _, err := k.decode(&req); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(k.ctx(), pingStartTimeout)
	defer cancel()

	// Subscribe to the device's announcements before making our own, so
	// that a newer request arriving from now on always reaches us.
	if hub := k.s.opts.Push.Hub; hub != nil {
		w.device = hub.Subscribe(deviceTopic(k.dev.ID))
	}
	gen, raw, err := k.s.announceRequest(ctx, k.dev.ID)
	if err != nil {
		return 0, err
	}
	w.gen = gen
	stored, err := raw.decode()
	if err != nil {
		return 0, err
	}
	p, fresh, prob := mergePing(req, stored, k.s.opts.Limits)
	if prob != nil {
		k.log.Info("ping refused", "status", int(prob.status), "why", prob.why)
		return pingAnswered, k.answerPing(&message.PingResponse{Status: int(prob.status),
			HeartbeatInterval: prob.heartbeat, MaxFolders: prob.maxFolders})
	}
	if fresh {
		if err := k.s.savePing(ctx, k.dev.ID, p); err != nil {
			return 0, err
		}
	}
	w.heartbeat = k.capHeartbeat(p.heartbeat)
	status, err := w.start(ctx, p.folders, nil)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && k.ctx().Err() == nil {
			return pingAnswered, k.answerPing(&message.PingResponse{Status: int(pingServerError)})
		}
		return 0, fmt.Errorf("ping: %w", err)
	}
	return status, nil
}

// answer sends the Ping's final status, with the changed folders for 2.
func (w *pingWait) answer(status Status) error {
	return w.k.answerPing(w.response(status))
}

func (w *pingWait) response(status Status) *message.PingResponse {
	resp := &message.PingResponse{Status: int(status)}
	if status == pingChanged {
		resp.Folders = &message.PingChangedFolders{Folder: w.changedIDs()}
	}
	return resp
}

// capHeartbeat applies the device profile's cap to how long a Ping or a
// hanging Sync is held.
func (k *call) capHeartbeat(d time.Duration) time.Duration {
	if max := k.profile.MaxHeartbeat; max > 0 && d > max {
		return max
	}
	return d
}

// answerPing sends the response and notes its status for the access log.
func (k *call) answerPing(resp *message.PingResponse) error {
	ri := httpserver.Info(k.c)
	ri.EASStatus, ri.Routine = resp.Status, routinePing(resp.Status)
	return k.respond(resp)
}

// routinePing: 1 (heartbeat expired) and 2 (changes) are how every Ping
// ends.
func routinePing(status int) bool { return status == 1 || status == 2 }
