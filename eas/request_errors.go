package eas

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/httpserver"
)

// errNoCollection is why a Sync collection the device does not know
// (no such folder in its hierarchy) answers Status 8.
var errNoCollection = errors.New("no such folder")

// collectionFailed reports a Sync collection answered with an error
// status in the request's outcome: the access log shows it (the first
// one, when several fail) and the device keeps it (keepError). The
// command's own status stays 1.
func (k *call) collectionFailed(collection string, status Status, err error) {
	ri := httpserver.Info(k.c)
	if ri.EASStatus != 0 {
		return
	}
	ri.EASStatus, ri.Routine = int(status), false
	ri.Note = "collection " + truncate(collection, 64) + ": " + err.Error()
}

// keepError keeps the request in the device's recent errors
// (device.RecordError) when it ended as the access log reports a failure:
// an HTTP error, or an EAS status other than a routine one (a Ping's 1
// or 2). It runs once the handler has returned (post defers it, with the
// handler's error); a request that succeeded costs these checks only and
// writes nothing.
//
// Not kept: 501 (a command easd does not implement, the client's choice)
// and 503 (easd's database or a backend is unavailable: nothing about the
// device, and a write would add to the outage).
func (k *call) keepError(errp *error) {
	ri := httpserver.Info(k.c)
	resp := k.c.Response()
	code, reason := resp.Status, ri.Note
	if err := *errp; err != nil && !resp.Committed {
		// The error handler answers it next: 500 unless it says otherwise.
		code = http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
		}
		if reason == "" {
			reason = err.Error()
		}
	}
	if code < 400 && (ri.EASStatus == 0 || ri.Routine) ||
		code == http.StatusNotImplemented || code == http.StatusServiceUnavailable {
		return
	}
	// The client may be gone; the error is still worth keeping.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(k.ctx()), 2*time.Second)
	defer cancel()
	e := device.RequestError{Command: k.req.Cmd, HTTPStatus: code, EASStatus: ri.EASStatus, Reason: reason}
	if err := k.s.devices.RecordError(ctx, k.dev.ID, e); err != nil {
		k.log.Warn("could not keep the request's error with the device", "err", err)
	}
}
