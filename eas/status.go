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
	StatusMailboxServerOffline    Status = 114
	StatusUserDisabledForSync     Status = 126
	StatusDeviceBlocked           Status = 129
	StatusAccessDenied            Status = 130
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

// httpForStatus is the HTTP answer a pre-14.0 client gets instead of a
// global status (MS-ASHTTP 3.2.5.2, MS-ASPROV 3.2.5.1).
func httpForStatus(s Status) int {
	switch s {
	case StatusInvalidContent, StatusInvalidWBXML, StatusInvalidXML,
		StatusDeviceIDMissing, StatusDeviceTypeMissing, StatusVersionNotSupported:
		return http.StatusBadRequest
	case StatusUserDisabledForSync, StatusDeviceBlocked, StatusAccessDenied,
		StatusMaximumDevicesReached:
		return http.StatusForbidden
	case StatusDeviceNotProvisioned, StatusPolicyRefresh, StatusInvalidPolicyKey,
		StatusRemoteWipeRequested: // the client provisions and learns of the wipe there

		return 449 // Retry after sending a Provision command
	case StatusCommandNotSupported:
		return http.StatusNotImplemented
	case StatusServerErrorRetryLater, StatusMailboxServerOffline, StatusSyncStateLocked:
		return http.StatusServiceUnavailable
	case StatusItemNotFound:
		return http.StatusNotFound
	default:
		return http.StatusInternalServerError
	}
}
