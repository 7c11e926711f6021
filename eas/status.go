package eas

import "net/http"

// Status is an EAS status code. 1 is success; 2-99 are command specific;
// 101-186 are the global codes of MS-ASCMD 2.2.2, which from protocol 14.0
// on replace most HTTP error codes.
type Status int

// Global status codes used by easd (MS-ASCMD 2.2.2).
const (
	StatusOK                      Status = 1
	StatusInvalidContent          Status = 101
	StatusInvalidWBXML            Status = 102
	StatusInvalidXML              Status = 103
	StatusDeviceIDMissing         Status = 108
	StatusDeviceTypeMissing       Status = 109
	StatusServerError             Status = 110
	StatusServerErrorRetryLater   Status = 111
	StatusMailboxQuotaExceeded    Status = 113
	StatusMailboxServerOffline    Status = 114
	StatusUserDisabledForSync     Status = 126
	StatusDeviceBlocked           Status = 129
	StatusAccessDenied            Status = 130
	StatusAccountDisabled         Status = 131
	StatusSyncStateLocked         Status = 133
	StatusCommandNotSupported     Status = 137
	StatusVersionNotSupported     Status = 138
	StatusRemoteWipeRequested     Status = 140
	StatusDeviceNotProvisioned    Status = 142
	StatusPolicyRefresh           Status = 143
	StatusInvalidPolicyKey        Status = 144
	StatusItemNotFound            Status = 150
	StatusDeviceInformationNeeded Status = 165
	StatusMaximumDevicesReached   Status = 177
)

// globalStatusVersion is the first protocol version that carries global
// status codes (above 100) in response bodies; before it, the client
// understands only HTTP codes (MS-ASCMD 2.2.2, MS-ASHTTP 2.2.2.1.1).
const globalStatusVersion = 140

// statusInBody reports whether status s goes into the response body of a
// client speaking version: command statuses always, global ones from
// 14.0 on.
func statusInBody(s Status, version int) bool {
	return s < 100 || version >= globalStatusVersion
}

// httpForStatus is the HTTP answer a pre-14.0 client gets instead of a
// global status (MS-ASHTTP 2.2.2.1.1 and 3.2.5.2, MS-ASPROV 3.2.5.1):
//
//	400 the request is malformed (101-109, 138)
//	403 the user or device may not sync (126, 129, 130, 177)
//	449 provision first (140, 142-144; the wipe is learnt there)
//	456 the account is blocked (131)
//	501 the command is not implemented (137)
//	503 try again later (111, 114, 133), with Retry-After
//	507 the mailbox is full (113)
//	404 a SmartReply/SmartForward source that is gone (150)
//	500 anything else (110, ...)
func httpForStatus(s Status) int {
	switch s {
	case StatusInvalidContent, StatusInvalidWBXML, StatusInvalidXML,
		StatusDeviceIDMissing, StatusDeviceTypeMissing, StatusVersionNotSupported:
		return http.StatusBadRequest
	case StatusUserDisabledForSync, StatusDeviceBlocked, StatusAccessDenied,
		StatusMaximumDevicesReached:
		return http.StatusForbidden
	case StatusAccountDisabled:
		return 456 // Blocked
	case StatusDeviceNotProvisioned, StatusPolicyRefresh, StatusInvalidPolicyKey,
		StatusRemoteWipeRequested: // the client provisions and learns of the wipe there

		return 449 // Retry after sending a Provision command
	case StatusCommandNotSupported:
		return http.StatusNotImplemented
	case StatusServerErrorRetryLater, StatusMailboxServerOffline, StatusSyncStateLocked:
		return http.StatusServiceUnavailable
	case StatusMailboxQuotaExceeded:
		return http.StatusInsufficientStorage
	case StatusItemNotFound:
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}
