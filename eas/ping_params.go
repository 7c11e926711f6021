package eas

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/internal/pgnotify"
)

// pingFolder is one folder a Ping watches, as stored in ping_params.
type pingFolder struct {
	ID    string `json:"id"`
	Class string `json:"class"`
}

// pingParams is what a Ping waits for: the heartbeat and the folders.
// The zero value means "nothing stored yet".
type pingParams struct {
	heartbeat time.Duration
	folders   []pingFolder
}

// pingProblem is a request the Ping command answers at once with a status
// (and, for 5 and 6, the limit).
type pingProblem struct {
	status     Status
	heartbeat  int // seconds, Status 5
	maxFolders int // Status 6
	why        string
}

// pingClasses are the folder classes a Ping may name (MS-ASCMD
// 2.2.3.27.4); SMS lives in the Inbox and is watched as mail.
var pingClasses = map[string]bool{"Email": true, "Calendar": true, "Contacts": true,
	"Tasks": true, "Notes": true, "SMS": true}

// mergePing completes a request with the stored parameters (an empty Ping,
// or one without HeartbeatInterval or Folders, reuses the previous ones,
// MS-ASCMD 2.2.3.88.1) and checks the result against the limits. fresh
// says whether the result differs from what is stored: most devices repeat
// the same full request, which then costs no write.
func mergePing(req message.PingRequest, stored pingParams, lim Limits) (p pingParams, fresh bool, prob *pingProblem) {
	p = stored
	if req.HeartbeatInterval < 0 {
		return p, false, &pingProblem{status: pingSyntaxError, why: "negative heartbeat"}
	}
	if req.HeartbeatInterval != 0 {
		p.heartbeat = time.Duration(req.HeartbeatInterval) * time.Second
	}
	if req.Folders != nil && len(req.Folders.Folder) > 0 {
		p.folders = nil
		seen := map[string]bool{}
		for _, f := range req.Folders.Folder {
			if f.ID == "" || !pingClasses[f.Class] {
				return p, false, &pingProblem{status: pingSyntaxError, why: fmt.Sprintf("folder %q of class %q", f.ID, f.Class)}
			}
			if !seen[f.ID] {
				seen[f.ID] = true
				p.folders = append(p.folders, pingFolder{ID: f.ID, Class: f.Class})
			}
		}
	}
	if p.heartbeat == 0 || len(p.folders) == 0 {
		return p, false, &pingProblem{status: pingMissingParameters, why: "no heartbeat or folders, none stored"}
	}
	if lim.HeartbeatMin > 0 && p.heartbeat < lim.HeartbeatMin {
		return p, false, &pingProblem{status: pingBadHeartbeat, heartbeat: seconds(lim.HeartbeatMin),
			why: fmt.Sprintf("heartbeat %v below %v", p.heartbeat, lim.HeartbeatMin)}
	}
	if lim.HeartbeatMax > 0 && p.heartbeat > lim.HeartbeatMax {
		return p, false, &pingProblem{status: pingBadHeartbeat, heartbeat: seconds(lim.HeartbeatMax),
			why: fmt.Sprintf("heartbeat %v above %v", p.heartbeat, lim.HeartbeatMax)}
	}
	if lim.MaxPingFolders > 0 && len(p.folders) > lim.MaxPingFolders {
		return p, false, &pingProblem{status: pingTooManyFolders, maxFolders: lim.MaxPingFolders,
			why: fmt.Sprintf("%d folders, limit %d", len(p.folders), lim.MaxPingFolders)}
	}
	fresh = p.heartbeat != stored.heartbeat || !slices.Equal(p.folders, stored.folders)
	return p, fresh, nil
}

func seconds(d time.Duration) int { return int(d / time.Second) }

// announceRequest records that the device sent a new Ping (or Sync) and
// tells every instance, so that an older waiting request of the device
// ends (see waitingEnded). It returns the request's generation and the
// stored Ping parameters, still encoded: a Sync handler calls it too (a
// Sync from the device also ends its waiting Ping) and needs only the
// generation.
//
// A request that may wait (a Ping, a Sync that may hang) marks the device
// as having a waiting request. One that will not wait (announceDone) is
// announced only while that mark is set.
func (s *Server) announceRequest(ctx context.Context, deviceID int64) (gen int64, stored storedPing, err error) {
	prefix, err := pgnotify.Prefix(deviceTopic(deviceID))
	if err != nil {
		return 0, stored, err
	}
	// One statement on every Ping and Sync that may wait: bump the
	// generation, mark the device as having a waiting request, and notify
	// every instance of it (sent at commit).
	err = s.opts.Pool.QueryRow(ctx, `WITH g AS (
			INSERT INTO ping_params (device_id, waiting) VALUES ($1, true)
			ON CONFLICT (device_id) DO UPDATE SET generation = ping_params.generation + 1, waiting = true
			RETURNING generation, heartbeat_seconds, folders)
		SELECT g.generation, g.heartbeat_seconds, g.folders
		FROM g, LATERAL (SELECT pg_notify($2, $3 || g.generation::text)) AS notified`,
		deviceID, pgnotify.Channel, prefix).Scan(&gen, &stored.heartbeat, &stored.folders)
	if err != nil {
		return 0, stored, fmt.Errorf("ping: record request: %w", err)
	}
	return gen, stored, nil
}

// announceDone ends the device's waiting requests for a request that will
// not wait itself (a Sync answered at once). Only while a request may be
// waiting does it bump the generation, clear the mark (every request
// waiting now is older than this one and ends) and notify. Otherwise it
// writes nothing and sends no NOTIFY, which PostgreSQL serialises at
// commit across all sessions: the quiet Sync of a device without a
// waiting Ping costs one read here.
//
// This keeps "a newer request ends an older waiting one": a waiting
// request sets the mark in the statement that gives it its generation,
// and both statements update the one row, so one of them sees the other.
// A request that will wait must use announceRequest: one announced here
// while the mark is clear leaves no trace a later waiter could compare.
func (s *Server) announceDone(ctx context.Context, deviceID int64) error {
	prefix, err := pgnotify.Prefix(deviceTopic(deviceID))
	if err != nil {
		return err
	}
	_, err = s.opts.Pool.Exec(ctx, announceDoneSQL, deviceID, pgnotify.Channel, prefix)
	if err != nil {
		return fmt.Errorf("ping: record request: %w", err)
	}
	return nil
}

var announceDoneSQL = endWaitingSQL("$1", "true", "$2", "$3")

// endWaitingSQL is announceDone's statement, which writeSyncRequest also
// runs inside its own: for device dev, when the condition when holds and
// a request of the device may be waiting, bump the generation, clear the
// mark and notify channel with prefix. The arguments are parameter
// references ("$1") or SQL literals, never data.
func endWaitingSQL(dev, when, channel, prefix string) string {
	return `UPDATE ping_params SET generation = generation + 1, waiting = false
		WHERE device_id = ` + dev + ` AND waiting AND ` + when + `
		RETURNING pg_notify(` + channel + `, ` + prefix + ` || generation::text)`
}

// storedPing is the device's stored Ping parameters as read.
type storedPing struct {
	heartbeat int    // seconds
	folders   []byte // JSON
}

func (sp storedPing) decode() (pingParams, error) {
	p := pingParams{heartbeat: time.Duration(sp.heartbeat) * time.Second}
	if err := json.Unmarshal(sp.folders, &p.folders); err != nil {
		return p, fmt.Errorf("ping: stored folders: %w", err)
	}
	return p, nil
}

// savePing stores the parameters of a valid Ping for the device's next
// one, on whichever instance it lands.
func (s *Server) savePing(ctx context.Context, deviceID int64, p pingParams) error {
	folders, err := json.Marshal(p.folders)
	if err != nil {
		return err
	}
	_, err = s.opts.Pool.Exec(ctx, `UPDATE ping_params SET heartbeat_seconds = $2, folders = $3,
		updated_at = now() WHERE device_id = $1`, deviceID, seconds(p.heartbeat), folders)
	if err != nil {
		return fmt.Errorf("ping: store parameters: %w", err)
	}
	return nil
}

// requestGeneration reads the device's latest request generation, after a
// LISTEN reconnect may have lost an announcement.
func (s *Server) requestGeneration(ctx context.Context, deviceID int64) (int64, error) {
	var gen int64
	err := s.opts.Pool.QueryRow(ctx, `SELECT generation FROM ping_params WHERE device_id = $1`, deviceID).Scan(&gen)
	if err != nil {
		return 0, fmt.Errorf("ping: read generation: %w", err)
	}
	return gen, nil
}
