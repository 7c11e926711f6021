package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/policy"
)

// apiRoutes registers the JSON API under /api/v1. Each route is one
// Service method and one path in openapi.yaml (TestOpenAPIMatchesRoutes).
func (s *Server) apiRoutes(g *echo.Group) {
	g.GET("/users", s.apiUsers)
	g.GET("/devices", s.apiDevices)
	g.GET("/devices/:user/:device", s.apiDevice)
	g.DELETE("/devices/:user/:device", s.apiRemove)
	g.POST("/devices/:user/:device/wipe", s.apiWipe(false))
	g.POST("/devices/:user/:device/account-wipe", s.apiWipe(true))
	g.POST("/devices/:user/:device/block", s.apiAccess(device.Blocked))
	g.POST("/devices/:user/:device/allow", s.apiAccess(device.Allowed))
	g.POST("/devices/:user/:device/quarantine", s.apiAccess(device.Quarantined))
	g.POST("/devices/:user/:device/approve", s.apiApprove)
	g.POST("/devices/:user/:device/cancel-wipe", s.apiCancelWipe)
	g.POST("/devices/:user/:device/resync", s.apiResync)
	g.PUT("/devices/:user/:device/trace", s.apiTrace(true))
	g.DELETE("/devices/:user/:device/trace", s.apiTrace(false))
	g.GET("/device-rules", s.apiRules)
	g.POST("/device-rules", s.apiAddRule)
	g.DELETE("/device-rules/:id", s.apiRemoveRule)
	g.PUT("/devices/:user/:device/policy", s.apiAssignDevice(true))
	g.DELETE("/devices/:user/:device/policy", s.apiAssignDevice(false))
	g.PUT("/users/:user/policy", s.apiAssign("user", true))
	g.DELETE("/users/:user/policy", s.apiAssign("user", false))
	g.PUT("/device-types/:type/policy", s.apiAssign("type", true))
	g.DELETE("/device-types/:type/policy", s.apiAssign("type", false))
	g.GET("/policies", s.apiPolicies)
	g.POST("/policies", s.apiCreatePolicy)
	g.GET("/policies/:name", s.apiPolicy)
	g.PATCH("/policies/:name", s.apiUpdatePolicy)
	g.DELETE("/policies/:name", s.apiRemovePolicy)
	g.GET("/audit", s.apiAudit)
	g.GET("/live", s.apiLive)
}

func (s *Server) apiUsers(c echo.Context) error {
	us, err := s.Service.Users(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, us)
}

// deviceFilter reads a DeviceFilter from query parameters (the API's and
// the web page's).
func deviceFilter(q url.Values) (DeviceFilter, error) {
	f := DeviceFilter{User: q.Get("user"), Type: q.Get("type"), State: q.Get("state"), Protocol: q.Get("protocol")}
	for _, t := range []struct {
		name string
		into *time.Time
	}{{"synced_before", &f.Before}, {"synced_after", &f.After}} {
		v := q.Get(t.name)
		if v == "" {
			continue
		}
		at, err := parseTime(v)
		if err != nil {
			return f, invalid("%s: %q is not a time (2006-01-02T15:04:05Z or 2006-01-02)", t.name, v)
		}
		*t.into = at
	}
	return f, f.Check()
}

// parseTime takes RFC 3339 or a date (midnight UTC), the latter being
// what a browser's date input sends.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}

func (s *Server) apiDevices(c echo.Context) error {
	f, err := deviceFilter(c.QueryParams())
	if err != nil {
		return err
	}
	ds, err := s.Service.Devices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ds)
}

// userDevice reads the :user and :device path parameters.
func userDevice(c echo.Context) (string, string, error) {
	u, err := param(c, "user")
	if err != nil {
		return "", "", err
	}
	d, err := param(c, "device")
	return u, d, err
}

func (s *Server) apiDevice(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	det, err := s.Service.Device(c.Request().Context(), u, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, det)
}

// deviceAfter answers a device change with the device as it is now.
func (s *Server) deviceAfter(c echo.Context, u, d string) error {
	det, err := s.Service.Device(c.Request().Context(), u, d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, det)
}

func (s *Server) apiWipe(accountOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, d, err := userDevice(c)
		if err != nil {
			return err
		}
		if err := s.Service.Wipe(c.Request().Context(), who(c), u, d, accountOnly); err != nil {
			return err
		}
		return s.deviceAfter(c, u, d)
	}
}

func (s *Server) apiAccess(state string) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, d, err := userDevice(c)
		if err != nil {
			return err
		}
		if err := s.Service.SetAccess(c.Request().Context(), who(c), u, d, state); err != nil {
			return err
		}
		return s.deviceAfter(c, u, d)
	}
}

func (s *Server) apiApprove(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	if err := s.Service.Approve(c.Request().Context(), who(c), u, d); err != nil {
		return err
	}
	return s.deviceAfter(c, u, d)
}

func (s *Server) apiCancelWipe(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	if err := s.Service.CancelWipe(c.Request().Context(), who(c), u, d); err != nil {
		return err
	}
	return s.deviceAfter(c, u, d)
}

// resync is the optional body of POST .../resync.
type resync struct {
	Collection string `json:"collection"` // a folder id or display name; "": all
}

// hasBody reports whether the request carries a body to decode.
func hasBody(c echo.Context) bool {
	r := c.Request()
	return r.ContentLength > 0 || r.ContentLength < 0 && len(r.TransferEncoding) > 0
}

func (s *Server) apiResync(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	var r resync
	if hasBody(c) {
		if err := decode(c, &r); err != nil {
			return err
		}
	}
	if _, err := s.Service.Resync(c.Request().Context(), who(c), u, d, r.Collection); err != nil {
		return err
	}
	return s.deviceAfter(c, u, d)
}

// trace is the body of PUT .../trace.
type trace struct {
	For string `json:"for"` // a Go duration: "30m", "2h"
}

func (s *Server) apiTrace(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, d, err := userDevice(c)
		if err != nil {
			return err
		}
		var length time.Duration
		if on {
			var t trace
			if err := decode(c, &t); err != nil {
				return err
			}
			if length, err = time.ParseDuration(t.For); err != nil || length <= 0 {
				return invalid(`body needs "for": how long to trace, like "30m" or "2h"`)
			}
		}
		if err := s.Service.Trace(c.Request().Context(), who(c), u, d, length); err != nil {
			return err
		}
		return s.deviceAfter(c, u, d)
	}
}

func (s *Server) apiRules(c echo.Context) error {
	rs, err := s.Service.Rules(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rs)
}

// newRule is the body of POST /device-rules.
type newRule struct {
	DeviceType    string `json:"device_type"`
	UserAgent     string `json:"user_agent"`
	Action        string `json:"action"`
	Note          string `json:"note"`
	ApplyExisting bool   `json:"apply_existing"`
}

func (s *Server) apiAddRule(c echo.Context) error {
	var r newRule
	if err := decode(c, &r); err != nil {
		return err
	}
	added, err := s.Service.AddRule(c.Request().Context(), who(c),
		device.Rule{DeviceType: r.DeviceType, UserAgent: r.UserAgent, Action: r.Action, Note: r.Note}, r.ApplyExisting)
	if err != nil {
		return err
	}
	if added.Existed {
		return c.JSON(http.StatusOK, added)
	}
	return c.JSON(http.StatusCreated, added)
}

// ruleID reads the :id path parameter.
func ruleID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, invalid("rule id %q is not a positive number", c.Param("id"))
	}
	return id, nil
}

func (s *Server) apiRemoveRule(c echo.Context) error {
	id, err := ruleID(c)
	if err != nil {
		return err
	}
	if err := s.Service.RemoveRule(c.Request().Context(), who(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiRemove(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	if err := s.Service.Remove(c.Request().Context(), who(c), u, d); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// assignment is the body of PUT .../policy.
type assignment struct {
	Policy *string `json:"policy"` // "" takes the assignment away
}

// assignedPolicy reads the policy name of a PUT (the body) or a DELETE
// ("": no assignment).
func assignedPolicy(c echo.Context, put bool) (string, error) {
	if !put {
		return "", nil
	}
	var a assignment
	if err := decode(c, &a); err != nil {
		return "", err
	}
	if a.Policy == nil {
		return "", invalid(`body needs "policy": a policy name, or "" to take the assignment away`)
	}
	return *a.Policy, nil
}

// apiAssignDevice sets (PUT) or takes away (DELETE) a device's own
// assignment and answers with the device as it is now.
func (s *Server) apiAssignDevice(put bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, d, err := userDevice(c)
		if err != nil {
			return err
		}
		name, err := assignedPolicy(c, put)
		if err != nil {
			return err
		}
		if _, err := s.Service.AssignPolicy(c.Request().Context(), who(c), policy.Target{Login: u, DeviceID: d}, name); err != nil {
			return err
		}
		return s.deviceAfter(c, u, d)
	}
}

// AssignmentResult answers an assignment to a user or a device type.
type AssignmentResult struct {
	Target  policy.Target `json:"target"`
	Policy  string        `json:"policy"`  // "": none, the next rule applies
	Changed bool          `json:"changed"` // false: it was so already
}

// apiAssign sets (PUT) or takes away (DELETE) the assignment of the user
// (param "user") or device type (param "type") in the path.
func (s *Server) apiAssign(key string, put bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := param(c, key)
		if err != nil {
			return err
		}
		t := policy.Target{Login: v}
		if key == "type" {
			t = policy.Target{DeviceType: v}
		}
		name, err := assignedPolicy(c, put)
		if err != nil {
			return err
		}
		changed, err := s.Service.AssignPolicy(c.Request().Context(), who(c), t, name)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, AssignmentResult{Target: t, Policy: name, Changed: changed})
	}
}

func (s *Server) apiRemovePolicy(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := s.Service.RemovePolicy(c.Request().Context(), who(c), name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiPolicies(c echo.Context) error {
	ps, err := s.Service.Policies(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ps)
}

func (s *Server) apiPolicy(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	p, err := s.Service.Policy(c.Request().Context(), name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) apiCreatePolicy(c echo.Context) error {
	var pc PolicyChange
	if err := decode(c, &pc); err != nil {
		return err
	}
	p, err := s.Service.CreatePolicy(c.Request().Context(), who(c), pc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) apiUpdatePolicy(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	var pc PolicyChange
	if err := decode(c, &pc); err != nil {
		return err
	}
	p, err := s.Service.UpdatePolicy(c.Request().Context(), who(c), name, pc)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// auditFilter reads an audit.Filter from query parameters.
func auditFilter(q url.Values) (audit.Filter, error) {
	f := audit.Filter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	if v := q.Get("since"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return f, invalid("since: %q is not a time", v)
		}
		f.Since = t
	}
	for _, n := range []struct {
		name string
		max  int64
		set  func(int64)
	}{{"before", 1 << 62, func(v int64) { f.Before = v }}, {"limit", 1000, func(v int64) { f.Limit = int(v) }}} {
		v := q.Get(n.name)
		if v == "" {
			continue
		}
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil || i < 1 || i > n.max {
			return f, invalid("%s: %q is not a number from 1 to %d", n.name, v, n.max)
		}
		n.set(i)
	}
	return f, nil
}

func (s *Server) apiAudit(c echo.Context) error {
	f, err := auditFilter(c.QueryParams())
	if err != nil {
		return err
	}
	es, err := s.Service.Audit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, es)
}

func (s *Server) apiLive(c echo.Context) error {
	return c.JSON(http.StatusOK, s.Service.Live())
}
