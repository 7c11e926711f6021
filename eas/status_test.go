package eas

import (
	"net/http"
	"testing"
)

// Every global status easd returns reaches the client as MS-ASCMD 2.2.2
// and MS-ASHTTP 2.2.2.1.1 say for the version it speaks: in the body
// from 14.0 on, as an HTTP code before. Command statuses (below 100) are
// always in the body.
func TestGlobalStatusPerVersion(t *testing.T) {
	want := map[Status]int{
		StatusInvalidContent:          http.StatusBadRequest,
		StatusInvalidWBXML:            http.StatusBadRequest,
		StatusInvalidXML:              http.StatusBadRequest,
		StatusDeviceIDMissing:         http.StatusBadRequest,
		StatusDeviceTypeMissing:       http.StatusBadRequest,
		StatusServerError:             http.StatusInternalServerError,
		StatusServerErrorRetryLater:   http.StatusServiceUnavailable,
		StatusMailboxQuotaExceeded:    http.StatusInsufficientStorage,
		StatusMailboxServerOffline:    http.StatusServiceUnavailable,
		StatusUserDisabledForSync:     http.StatusForbidden,
		StatusDeviceBlocked:           http.StatusForbidden,
		StatusAccessDenied:            http.StatusForbidden,
		StatusAccountDisabled:         456,
		StatusSyncStateLocked:         http.StatusServiceUnavailable,
		StatusCommandNotSupported:     http.StatusNotImplemented,
		StatusVersionNotSupported:     http.StatusBadRequest,
		StatusRemoteWipeRequested:     449,
		StatusDeviceNotProvisioned:    449,
		StatusPolicyRefresh:           449,
		StatusInvalidPolicyKey:        449,
		StatusItemNotFound:            http.StatusNotFound,
		StatusDeviceInformationNeeded: http.StatusInternalServerError,
		StatusMaximumDevicesReached:   http.StatusForbidden,
	}
	for _, v := range []struct {
		name   string
		n      int
		inBody bool
	}{{"2.5", 25, false}, {"12.0", 120, false}, {"12.1", 121, false},
		{"14.0", 140, true}, {"14.1", 141, true}, {"16.0", 160, true}, {"16.1", 161, true}} {
		if parseVersion(v.name) != v.n {
			t.Fatalf("version %s parses as %d", v.name, parseVersion(v.name))
		}
		for s, code := range want {
			if got := statusInBody(s, v.n); got != v.inBody {
				t.Errorf("%s: status %d in body = %v, want %v", v.name, s, got, v.inBody)
			}
			if got := httpForStatus(s); got != code {
				t.Errorf("status %d: HTTP %d, want %d", s, got, code)
			}
		}
		for _, s := range []Status{1, 3, 9, 16, 99} {
			if !statusInBody(s, v.n) {
				t.Errorf("%s: command status %d not in the body", v.name, s)
			}
		}
	}
}
