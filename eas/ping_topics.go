package eas

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/pgnotify"
)

// Notification topics (package pgnotify) that wake waiting requests. They
// are defined here only; writers publish through NotifyFolderChanged and
// NotifyHierarchyChanged.
//
//	device:<devices.id>  data: the device's request generation (ping_params).
//	                     A request of the device announces itself; an
//	                     older waiting request ends.
//	folders:<users.id>   data: the EAS folder id whose items changed. Every
//	                     contacts, calendar, tasks or notes write of the user
//	                     publishes it, in the writing transaction.
//	                     Or "hierarchy@<µs>": the user's folder hierarchy
//	                     changed (a folder made, renamed or deleted), at
//	                     that time of the database clock (NotifyHierarchyChanged).
//
// Folder changes use one topic per user rather than one per folder so that
// a waiting Ping holds one subscription whatever the number of folders it
// watches; it ignores the folder ids it does not watch. Hierarchy changes
// share it for the same reason: every waiting request of the user wants
// them, and a second subscription would cost each one more.

// deviceTopic is device.WaitTopic, on which the device store also wakes
// the waiting requests after an administrative change (device.WakeAdmin).
func deviceTopic(deviceID int64) string { return device.WaitTopic(deviceID) }

// FolderChangedTopic is the topic announcing changed PIM folders of userID,
// and changes of its hierarchy.
func FolderChangedTopic(userID int64) string {
	return FolderChangedPrefix + strconv.FormatInt(userID, 10)
}

// FolderChangedPrefix starts every FolderChangedTopic: the hub remembers
// their last notices for Push.EventsVouch.
const FolderChangedPrefix = "folders:"

// NotifyFolderChanged wakes the requests waiting on folderID of userID, on
// every instance. Call it inside the transaction that changes the folder's
// items (db is then the pgx.Tx): the notification is sent at commit, so a
// woken Ping's client finds the change when it syncs, and none is sent on
// rollback.
func NotifyFolderChanged(ctx context.Context, db pgnotify.Execer, userID int64, folderID string) error {
	return pgnotify.Publish(ctx, db, FolderChangedTopic(userID), folderID)
}

// hierarchyData starts the data of a hierarchy notice; folder ids are
// digits, so it is never one.
const hierarchyData = "hierarchy@"

// NotifyHierarchyChanged tells the requests waiting for userID, on every
// instance, that the user's folder hierarchy changed: a waiting Ping
// answers 7 and a hanging Sync 12, so the device runs FolderSync, unless
// the device learnt the hierarchy after the change (pingWait.hierarchyStale).
// Call it inside the transaction that makes the change where there is
// one: it is sent at commit, and none on rollback.
//
// The notice carries the database clock at this statement, which is
// before the commit; a device's hierarchy state records the clock when it
// was written, after the device read the hierarchy. The two compare across
// instances without trusting their clocks.
func NotifyHierarchyChanged(ctx context.Context, db pgnotify.Execer, userID int64) error {
	prefix, err := pgnotify.Prefix(FolderChangedTopic(userID))
	if err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `SELECT pg_notify($1, $2 || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)`,
		pgnotify.Channel, prefix+hierarchyData); err != nil {
		return fmt.Errorf("announce the hierarchy change of user %d: %w", userID, err)
	}
	return nil
}

// hierarchyNotice tells whether data is a hierarchy notice, and its time
// in microseconds since 1970 (database clock).
func hierarchyNotice(data string) (at int64, ok bool) {
	s, ok := strings.CutPrefix(data, hierarchyData)
	if !ok {
		return 0, false
	}
	at, err := strconv.ParseInt(s, 10, 64)
	// Malformed (easd never sends it): it names no folder either, so it
	// is ignored.
	return at, err == nil
}
