package eas

import (
	"context"
	"strconv"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/pgnotify"
)

// Notification topics (package pgnotify) that wake waiting requests. They
// are defined here only; writers publish through NotifyFolderChanged.
//
//	device:<devices.id>  data: the device's request generation (ping_params).
//	                     A request of the device announces itself; an
//	                     older waiting request ends.
//	folders:<users.id>   data: the EAS folder id whose items changed. Every
//	                     contacts, calendar, tasks or notes write of the user
//	                     publishes it, in the writing transaction.
//
// Folder changes use one topic per user rather than one per folder so that
// a waiting Ping holds one subscription whatever the number of folders it
// watches; it ignores the folder ids it does not watch.

// deviceTopic is device.WaitTopic, on which the device store also wakes
// the waiting requests after an administrative change (device.WakeAdmin).
func deviceTopic(deviceID int64) string { return device.WaitTopic(deviceID) }

// FolderChangedTopic is the topic announcing changed PIM folders of userID.
func FolderChangedTopic(userID int64) string { return "folders:" + strconv.FormatInt(userID, 10) }

// NotifyFolderChanged wakes the requests waiting on folderID of userID, on
// every instance. Call it inside the transaction that changes the folder's
// items (db is then the pgx.Tx): the notification is sent at commit, so a
// woken Ping's client finds the change when it syncs, and none is sent on
// rollback.
func NotifyFolderChanged(ctx context.Context, db pgnotify.Execer, userID int64, folderID string) error {
	return pgnotify.Publish(ctx, db, FolderChangedTopic(userID), folderID)
}
