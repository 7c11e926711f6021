package eas

import (
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/internal/httpserver"
)

// post runs one EAS command: parse, authenticate, load the device, apply
// the access and provisioning gates, then the command handler. Every way
// out is logged with user, device and command by the access log; once the
// device is known, a way out in error is also kept with it (keepError).
func (s *Server) post(c echo.Context) (err error) {
	ri := httpserver.Info(c)
	req, err := ParseRequest(c.Request())
	if err != nil {
		ri.Note = err.Error()
		httpserver.DropBody(c)
		return c.NoContent(http.StatusBadRequest)
	}
	ri.Device = req.DeviceID
	// The command becomes a metric label: only names from the command
	// table may, or every made-up name an unauthenticated client sends
	// would be a new series kept for the life of the process.
	if knownCommand(req.Cmd) {
		ri.Cmd = req.Cmd
	} else {
		ri.Cmd = "unknown"
		ri.Note = "unknown command " + strconv.Quote(truncate(req.Cmd, 64))
	}

	version := parseVersion(req.ProtocolVersion)
	if version == 0 {
		ri.Note = "unsupported protocol version " + strconv.Quote(req.ProtocolVersion)
		c.Response().Header().Set("MS-ASProtocolVersions", joinComma(ProtocolVersions))
		httpserver.DropBody(c)
		return c.NoContent(http.StatusBadRequest)
	}

	creds, err := s.opts.Auth.Authenticate(c.Request().Context(), c.Request(), c.RealIP())
	ri.User = creds.Login
	if err != nil {
		return s.refuseAuth(c, ri, creds, err)
	}

	spec, ok := commandTable[req.Cmd]
	if !ok {
		if ri.Note == "" {
			ri.Note = "command not implemented"
		}
		return c.NoContent(http.StatusNotImplemented)
	}

	k := &call{
		s: s, c: c, req: req, creds: creds, version: version, spec: spec,
		profile: s.opts.Quirks.For(req.DeviceType, c.Request().UserAgent()),
	}
	k.log = s.log.With("user", creds.Login, "device", req.DeviceID, "cmd", req.Cmd)
	if !spec.inVersion(version) {
		// E.g. Find below 16.1, GetAttachment from 16.0 on: MS-ASCMD
		// defines the command only in other versions.
		return k.fail(&StatusError{Status: StatusCommandNotSupported,
			Err: errors.New("command not defined in protocol " + req.ProtocolVersion)})
	}

	dev, err := s.devices.Touch(k.ctx(), device.Seen{
		Login: creds.Login, DeviceID: req.DeviceID, DeviceType: req.DeviceType,
		UserAgent: c.Request().UserAgent(), ProtocolVersion: req.ProtocolVersion,
	})
	if errors.Is(err, device.ErrTooManyDevices) {
		return k.fail(&StatusError{Status: StatusMaximumDevicesReached, Err: err})
	}
	if err != nil {
		return s.unavailableOr(c, err)
	}
	k.dev = dev
	defer k.keepError(&err)
	if dev.Tracing() {
		k.trace = &traceCapture{}
		defer k.trace.log(k)
	}

	if se := s.gate(k); se != nil {
		return k.fail(se)
	}
	run := spec.run
	if dev.Access == device.Quarantined {
		run = quarantineRun(req.Cmd, run)
	}
	err = run(k)
	var se *StatusError
	// A command status (below 100) already tells the phone what to do; a
	// global one that would be a bare 500 is a 503 when the database is
	// what failed.
	if errors.As(err, &se) && (se.Status < 100 || httpForStatus(se.Status) != http.StatusInternalServerError || !stateUnavailable(se.Err)) {
		return k.fail(se)
	}
	return s.unavailableOr(c, err)
}

// unavailableOr answers 503 with Retry-After when err says easd's
// database is unreachable, and otherwise returns err to the error handler.
func (s *Server) unavailableOr(c echo.Context, err error) error {
	if err == nil || !stateUnavailable(err) || c.Response().Committed {
		return err
	}
	ri := httpserver.Info(c)
	ri.Note = "unavailable: " + err.Error()
	c.Response().Header().Set("Retry-After", "30")
	return c.NoContent(http.StatusServiceUnavailable)
}

// gate applies, in order: blocked devices, quarantined devices (which may
// send only what quarantine.go serves), remote wipes, and the
// provisioning requirement (MS-ASPROV 3.2.5.1).
//
// A device due a wipe learns of it from every command but Provision, which
// delivers the directive. An account-only wipe needs EAS 16.1; an older
// client is refused (Status 129 / 403) rather than sent a full RemoteWipe,
// which would erase more than the administrator asked for.
//
// With enforcement on, a request without a key gets 142, one whose key is
// not the device's 144, and one whose key was issued for an older version
// of the device's policy 143; before 14.0 all three are HTTP 449.
func (s *Server) gate(k *call) *StatusError {
	d := k.dev
	switch {
	case d.Access == device.Blocked:
		return &StatusError{Status: StatusDeviceBlocked, Err: errors.New("device blocked")}
	case d.Access == device.Quarantined && !quarantineAllowed[k.req.Cmd]:
		return &StatusError{Status: StatusDeviceBlocked, Err: errors.New("device quarantined until an administrator approves it")}
	}
	full, account := wipeDue(d)
	if account && k.version < 161 {
		return &StatusError{Status: StatusDeviceBlocked, Err: errNoWipeVersion}
	}
	if (full || account) && k.req.Cmd != "Provision" {
		return &StatusError{Status: StatusRemoteWipeRequested, Err: errors.New("remote wipe pending")}
	}
	if k.spec.beforeProvision || !s.opts.Policy.Enforce {
		return nil
	}
	switch {
	case !k.req.HasPolicyKey || k.req.PolicyKey == 0 || d.PolicyKey == 0:
		return &StatusError{Status: StatusDeviceNotProvisioned, Err: errors.New("device not provisioned")}
	case k.req.PolicyKey != d.PolicyKey:
		return &StatusError{Status: StatusInvalidPolicyKey, Err: errors.New("stale policy key")}
	case d.PolicyGeneration != d.CurrentPolicyGeneration:
		return &StatusError{Status: StatusPolicyRefresh, Err: errors.New("policy changed since the device provisioned")}
	}
	return nil
}

// knownCommand reports whether name is an EAS command (MS-ASHTTP
// 2.2.1.1.1.1.2 lists them all), implemented or not.
func knownCommand(name string) bool {
	if _, ok := commandTable[name]; ok {
		return true
	}
	for _, c := range commandCodes {
		if c == name {
			return true
		}
	}
	return false
}

// truncate cuts s to at most n bytes, at a rune boundary, for logging
// what a client sent.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
