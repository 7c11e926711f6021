package admin

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/policy"
)

// The web page: server-rendered HTML over the same Service as the API.
// Every page works without JavaScript; forms post back and redirect.

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates, one set per page (layout + page).
type pages map[string]*template.Template

var pageNames = []string{"login", "devices", "device", "confirm", "policies", "policy", "rules", "audit", "live", "error"}

func parsePages() (pages, error) {
	funcs := template.FuncMap{
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return ""
				}
				return v.UTC().Format("2006-01-02 15:04:05Z")
			case *time.Time:
				if v == nil {
					return ""
				}
				return v.UTC().Format("2006-01-02 15:04:05Z")
			}
			return fmt.Sprint(t)
		},
		"devpath": func(user, dev string) string {
			return "/devices/" + url.PathEscape(user) + "/" + url.PathEscape(dev)
		},
		"pathesc": url.PathEscape,
	}
	out := pages{}
	for _, n := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html")
		if err != nil {
			return nil, fmt.Errorf("admin: template %s: %w", n, err)
		}
		out[n] = t
	}
	return out, nil
}

// sessionCookie names the web login cookie.
const sessionCookie = "easd_admin"

const sessionKey = "admin.session"

// render writes page with data; the layout gets the session (CSRF token,
// name) when there is one.
func (s *Server) render(c echo.Context, code int, page string, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	if sess, ok := c.Get(sessionKey).(*Session); ok {
		data["Session"] = sess
		data["CSRF"] = sess.CSRF
	}
	var buf bytes.Buffer
	if err := s.pages[page].Execute(&buf, data); err != nil {
		s.log.Error("admin: render", "page", page, "err", err)
		return c.String(http.StatusInternalServerError, "internal error: see the server log")
	}
	return c.HTMLBlob(code, buf.Bytes())
}

func (s *Server) webRoutes(e *echo.Echo) {
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/devices") })
	e.GET("/login", s.loginPage)
	e.POST("/login", s.login)
	// Each page carries the session check itself: a group with
	// middleware would also catch unknown paths, the API's included.
	get := func(p string, h echo.HandlerFunc) { e.GET(p, h, s.requireSession) }
	post := func(p string, h echo.HandlerFunc) { e.POST(p, h, s.requireSession) }
	post("/logout", s.logout)
	get("/devices", s.devicesPage)
	get("/devices/:user/:device", s.devicePage)
	get("/devices/:user/:device/confirm/:action", s.confirmPage)
	post("/devices/:user/:device/:action", s.deviceAction)
	get("/policies", s.policiesPage)
	post("/policies", s.createPolicy)
	get("/policies/:name", s.policyPage)
	post("/policies/:name", s.savePolicy)
	get("/policies/:name/confirm/remove", s.confirmRemovePolicy)
	post("/policies/:name/:action", s.policyAction)
	get("/device-rules", s.rulesPage)
	post("/device-rules", s.addRule)
	post("/device-rules/:id/remove", s.removeRule)
	get("/audit", s.auditPage)
	get("/live", s.livePage)
}

// requireSession lets only logged-in browsers through, and every POST
// only with the session's CSRF token and, when the browser names it, our
// own origin.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err != nil {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		sess, err := s.Tokens.Session(c.Request().Context(), ck.Value)
		if errors.Is(err, ErrBadToken) {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		if err != nil {
			return err
		}
		c.Set(sessionKey, sess)
		c.Set(whoKey, audit.Who{Actor: "web:" + sess.TokenName, Source: c.RealIP()})
		if c.Request().Method == http.MethodPost {
			if err := s.checkOrigin(c.Request()); err != nil {
				return err
			}
			if !secureEqual(c.FormValue("csrf"), sess.CSRF) {
				return echo.NewHTTPError(http.StatusForbidden, "the form is stale or not from this page (CSRF token missing or wrong): reload and try again")
			}
		}
		return next(c)
	}
}

// checkOrigin refuses a POST whose Origin is another site's.
func (s *Server) checkOrigin(r *http.Request) error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != r.Host {
		return echo.NewHTTPError(http.StatusForbidden, "the form was posted from another site")
	}
	return nil
}

func (s *Server) loginPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "login", nil)
}

func (s *Server) login(c echo.Context) error {
	if err := s.checkOrigin(c.Request()); err != nil {
		return err
	}
	token := strings.TrimSpace(c.FormValue("token"))
	id, _, err := s.Tokens.OpenSession(c.Request().Context(), c.RealIP(), token, s.opts.SessionTTL)
	if errors.Is(err, ErrBadToken) {
		return s.render(c, http.StatusUnauthorized, "login", map[string]any{"Error": "Unknown, revoked or expired token."})
	}
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		Secure: s.isHTTPS(c.Request()), SameSite: http.SameSiteStrictMode, MaxAge: int(s.opts.SessionTTL.Seconds())})
	return c.Redirect(http.StatusSeeOther, "/devices")
}

func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.Tokens.CloseSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	if err := s.Service.audit.Record(c.Request().Context(), who(c), "admin.logout", "", nil); err != nil {
		s.log.Warn("admin: logout not audited", "err", err)
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.isHTTPS(c.Request()), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) devicesPage(c echo.Context) error {
	q := c.QueryParams()
	data := map[string]any{"Q": q, "States": filterStates}
	f, err := deviceFilter(q)
	if err == nil {
		var ds []Device
		ds, err = s.Service.Devices(c.Request().Context(), f)
		data["Devices"] = ds
	}
	if errors.Is(err, ErrInvalid) {
		data["Error"] = err.Error()
		return s.render(c, http.StatusBadRequest, "devices", data)
	}
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "devices", data)
}

func (s *Server) devicePage(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	det, err := s.Service.Device(c.Request().Context(), u, d)
	if err != nil {
		return err
	}
	ps, err := s.Service.Policies(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "device", map[string]any{"D": det, "Policies": ps, "Done": c.QueryParam("done")})
}

// confirmations are the device actions that ask first, and what the
// confirmation page says.
var confirmations = map[string]string{
	"wipe":         "erase the whole device (all its data, not only this account's) on its next request",
	"account-wipe": "remove this account and its data from the device on its next request (EAS 16.1 devices; older ones ignore it)",
	"remove":       "delete the partnership and all its sync state; the device starts over on its next request",
	"resync":       "make the device download all its folders and items again on its next request (the partnership stays)",
}

// resyncOne is what the confirmation page says for one collection.
const resyncOne = "make the device download collection %s again on its next sync of it"

func (s *Server) confirmPage(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	action := c.Param("action")
	what, ok := confirmations[action]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such action")
	}
	det, err := s.Service.Device(c.Request().Context(), u, d)
	if err != nil {
		return err
	}
	p := devicePath(u, d)
	hidden := map[string]string{}
	if col := c.QueryParam("collection"); action == "resync" && col != "" {
		what, hidden["collection"] = fmt.Sprintf(resyncOne, col), col
	}
	return s.render(c, http.StatusOK, "confirm", map[string]any{"Action": action, "What": what, "Hidden": hidden,
		"Subject": det.DeviceID + " of " + det.User,
		"About":   fmt.Sprintf("Device: %s %s %s, last sync %s.", det.DeviceType, det.Model, det.FriendlyName, det.LastSeen.UTC().Format("2006-01-02 15:04:05Z")),
		"Post":    p + "/" + action, "Back": p})
}

// devicePath is the device page's path.
func devicePath(user, dev string) string {
	return "/devices/" + url.PathEscape(user) + "/" + url.PathEscape(dev)
}

// deviceAction runs a device form: wipe, account-wipe and remove only
// with the confirmation field the confirmation page sends.
func (s *Server) deviceAction(c echo.Context) error {
	u, d, err := userDevice(c)
	if err != nil {
		return err
	}
	ctx, w := c.Request().Context(), who(c)
	action := c.Param("action")
	if _, ask := confirmations[action]; ask && c.FormValue("confirm") != "yes" {
		q := ""
		if col := c.FormValue("collection"); col != "" {
			q = "?collection=" + url.QueryEscape(col)
		}
		return c.Redirect(http.StatusSeeOther, devicePath(u, d)+"/confirm/"+action+q)
	}
	switch action {
	case "wipe", "account-wipe":
		err = s.Service.Wipe(ctx, w, u, d, action == "account-wipe")
	case "block":
		err = s.Service.SetAccess(ctx, w, u, d, device.Blocked)
	case "allow":
		err = s.Service.SetAccess(ctx, w, u, d, device.Allowed)
	case "quarantine":
		err = s.Service.SetAccess(ctx, w, u, d, device.Quarantined)
	case "approve":
		err = s.Service.Approve(ctx, w, u, d)
	case "cancel-wipe":
		err = s.Service.CancelWipe(ctx, w, u, d)
	case "resync":
		_, err = s.Service.Resync(ctx, w, u, d, c.FormValue("collection"))
	case "trace":
		var length time.Duration
		if v := c.FormValue("for"); v != "off" {
			if length, err = time.ParseDuration(v); err != nil || length <= 0 {
				return invalid("trace for %q: want a duration like 1h, or off", v)
			}
		}
		err = s.Service.Trace(ctx, w, u, d, length)
	case "policy":
		_, err = s.Service.AssignPolicy(ctx, w, policy.Target{Login: u, DeviceID: d}, c.FormValue("policy"))
	case "remove":
		if err = s.Service.Remove(ctx, w, u, d); err == nil {
			return c.Redirect(http.StatusSeeOther, "/devices")
		}
	default:
		return echo.NewHTTPError(http.StatusNotFound, "no such action")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, devicePath(u, d)+"?done="+url.QueryEscape(action))
}

func (s *Server) policiesPage(c echo.Context) error {
	ps, err := s.Service.Policies(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "policies", map[string]any{"Policies": ps, "Removed": c.QueryParam("removed")})
}

func (s *Server) createPolicy(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	p, err := s.Service.CreatePolicy(c.Request().Context(), who(c), PolicyChange{Name: name})
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrConflict) {
		ps, lerr := s.Service.Policies(c.Request().Context())
		if lerr != nil {
			return lerr
		}
		return s.render(c, http.StatusBadRequest, "policies", map[string]any{"Policies": ps, "Error": err.Error()})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/policies/"+url.PathEscape(p.Name))
}

// field is one policy setting in the editor.
type field struct {
	Name  string
	Kind  string // bool, int, list
	Bool  bool
	Value string
}

// settingsFields lays policy.Settings out as form fields, in the order
// of MS-ASPROV's EASProvisionDoc.
func settingsFields(set policy.Settings) []field {
	v := reflect.ValueOf(set)
	var out []field
	for i := 0; i < v.NumField(); i++ {
		f := field{Name: v.Type().Field(i).Name}
		switch x := v.Field(i).Interface().(type) {
		case bool:
			f.Kind, f.Bool = "bool", x
		case int:
			f.Kind, f.Value = "int", strconv.Itoa(x)
		case []string:
			f.Kind, f.Value = "list", strings.Join(x, "\n")
		}
		out = append(out, f)
	}
	return out
}

// settingsFromForm reads the editor's fields back. A checkbox left
// unticked is not sent: false.
func settingsFromForm(form url.Values) (policy.Settings, error) {
	var set policy.Settings
	v := reflect.ValueOf(&set).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		raw := strings.TrimSpace(form.Get(name))
		switch v.Field(i).Kind() {
		case reflect.Bool:
			v.Field(i).SetBool(raw == "on" || raw == "true")
		case reflect.Int:
			n, err := strconv.Atoi(raw)
			if err != nil {
				return set, invalid("%s: %q is not a whole number", name, raw)
			}
			v.Field(i).SetInt(int64(n))
		case reflect.Slice:
			list := []string{}
			for _, l := range strings.Split(raw, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					list = append(list, l)
				}
			}
			v.Field(i).Set(reflect.ValueOf(list))
		}
	}
	return set, nil
}

func (s *Server) policyPage(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	p, err := s.Service.Policy(c.Request().Context(), name)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "policy", map[string]any{"P": p, "Fields": settingsFields(p.Settings),
		"Saved": c.QueryParam("saved") != "", "Done": c.QueryParam("done")})
}

func (s *Server) confirmRemovePolicy(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	p, err := s.Service.Policy(c.Request().Context(), name)
	if err != nil {
		return err
	}
	if p.Default {
		return policyErr(policy.ErrDefault, name)
	}
	back := "/policies/" + url.PathEscape(name)
	return s.render(c, http.StatusOK, "confirm", map[string]any{"Action": "remove", "Subject": "policy " + name,
		"What": "delete this policy; its device types, users and devices fall back to the next rule and provision again",
		"About": fmt.Sprintf("Assigned to %d device types, %d users and %d devices; in effect on %d devices.",
			p.Usage.DeviceTypes, p.Usage.Users, p.Usage.Devices, p.Usage.InEffect),
		"Post": back + "/remove", "Back": back})
}

// policyTarget reads an assignment target from a policy page form:
// kind user, device-type or device, with the fields user, device_id,
// device_type.
func policyTarget(c echo.Context) (policy.Target, error) {
	user, typ := strings.TrimSpace(c.FormValue("user")), strings.TrimSpace(c.FormValue("device_type"))
	switch c.FormValue("kind") {
	case "user":
		if user == "" {
			return policy.Target{}, invalid("name the user to assign the policy to")
		}
		return policy.Target{Login: user}, nil
	case "device-type":
		if typ == "" {
			return policy.Target{}, invalid("name the device type to assign the policy to")
		}
		return policy.Target{DeviceType: typ}, nil
	case "device":
		return policy.Target{Login: user, DeviceID: c.FormValue("device_id")}, nil
	}
	return policy.Target{}, invalid("assign to a user or a device type")
}

// unassign takes t's assignment away if it is still to the policy called
// name: the page may be old, and its button must not undo a newer
// assignment to another policy.
func (s *Server) unassign(ctx context.Context, w audit.Who, t policy.Target, name string) error {
	p, err := s.Service.Policy(ctx, name)
	if err != nil {
		return err
	}
	for _, a := range p.Assignments {
		if a.Target == t || t.DeviceType != "" && strings.EqualFold(a.Target.DeviceType, t.DeviceType) {
			_, err := s.Service.AssignPolicy(ctx, w, t, "")
			return err
		}
	}
	return nil
}

// policyAction runs a policy page form: assign (to a user or device
// type), unassign (any assignment listed) and remove, the last only with
// the confirmation page's field.
func (s *Server) policyAction(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	ctx, w, back := c.Request().Context(), who(c), "/policies/"+url.PathEscape(name)
	action := c.Param("action")
	switch action {
	case "assign", "unassign":
		t, terr := policyTarget(c)
		if terr == nil && action == "assign" {
			_, terr = s.Service.AssignPolicy(ctx, w, t, name)
		} else if terr == nil {
			terr = s.unassign(ctx, w, t, name)
		}
		if errors.Is(terr, ErrInvalid) {
			p, gerr := s.Service.Policy(ctx, name)
			if gerr != nil {
				return gerr
			}
			return s.render(c, http.StatusBadRequest, "policy", map[string]any{"P": p, "Fields": settingsFields(p.Settings), "Error": terr.Error()})
		}
		if terr != nil {
			return terr
		}
	case "remove":
		if c.FormValue("confirm") != "yes" {
			return c.Redirect(http.StatusSeeOther, back+"/confirm/remove")
		}
		if err := s.Service.RemovePolicy(ctx, w, name); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/policies?removed="+url.QueryEscape(name))
	default:
		return echo.NewHTTPError(http.StatusNotFound, "no such action")
	}
	return c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(action))
}

func (s *Server) savePolicy(c echo.Context) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return invalid("form: %v", err)
	}
	set, err := settingsFromForm(form)
	if err == nil {
		allow := form.Get("allow_non_provisionable") == "on"
		raw, merr := jsonOf(set)
		if merr != nil {
			return merr
		}
		_, err = s.Service.UpdatePolicy(c.Request().Context(), who(c), name,
			PolicyChange{AllowNonProvisionable: &allow, Settings: raw})
	}
	if errors.Is(err, ErrInvalid) {
		p, gerr := s.Service.Policy(c.Request().Context(), name)
		if gerr != nil {
			return gerr
		}
		p.Settings = set
		return s.render(c, http.StatusBadRequest, "policy", map[string]any{"P": p, "Fields": settingsFields(set), "Error": err.Error()})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/policies/"+url.PathEscape(name)+"?saved=1")
}

func jsonOf(set policy.Settings) (json.RawMessage, error) {
	raw, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return raw, nil
}

func (s *Server) rulesPage(c echo.Context) error {
	return s.renderRules(c, http.StatusOK, nil)
}

// renderRules shows the access rules page, with err (bad input) if any.
func (s *Server) renderRules(c echo.Context, code int, err error) error {
	rs, lerr := s.Service.Rules(c.Request().Context())
	if lerr != nil {
		return lerr
	}
	data := map[string]any{"Rules": rs, "Done": c.QueryParam("done"), "Actions": []string{device.RuleAllow, device.RuleBlock, device.RuleQuarantine}}
	if err != nil {
		data["Error"] = err.Error()
	}
	return s.render(c, code, "rules", data)
}

// addRule adds an access rule from the rules page or a device page; back
// (a path of ours) is where to return.
func (s *Server) addRule(c echo.Context) error {
	r := device.Rule{DeviceType: strings.TrimSpace(c.FormValue("device_type")), UserAgent: strings.TrimSpace(c.FormValue("user_agent")),
		Action: c.FormValue("action"), Note: strings.TrimSpace(c.FormValue("note"))}
	added, err := s.Service.AddRule(c.Request().Context(), who(c), r, c.FormValue("apply_existing") == "on")
	if errors.Is(err, ErrInvalid) {
		return s.renderRules(c, http.StatusBadRequest, err)
	}
	if err != nil {
		return err
	}
	back := "/device-rules"
	if b := c.FormValue("back"); strings.HasPrefix(b, "/devices/") {
		back = b
	}
	done := fmt.Sprintf("rule %d added, %d devices changed", added.Rule.ID, added.DevicesChanged)
	if added.Existed {
		done = fmt.Sprintf("rule %d exists already", added.Rule.ID)
	}
	return c.Redirect(http.StatusSeeOther, back+"?done="+url.QueryEscape(done))
}

func (s *Server) removeRule(c echo.Context) error {
	id, err := ruleID(c)
	if err != nil {
		return err
	}
	if err := s.Service.RemoveRule(c.Request().Context(), who(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/device-rules?done="+url.QueryEscape(fmt.Sprintf("rule %d removed", id)))
}

func (s *Server) auditPage(c echo.Context) error {
	q := c.QueryParams()
	data := map[string]any{"Q": q}
	f, err := auditFilter(q)
	if err == nil {
		var es []audit.Entry
		es, err = s.Service.Audit(c.Request().Context(), f)
		data["Entries"] = es
	}
	if errors.Is(err, ErrInvalid) {
		data["Error"] = err.Error()
		return s.render(c, http.StatusBadRequest, "audit", data)
	}
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "audit", data)
}

func (s *Server) livePage(c echo.Context) error {
	return s.render(c, http.StatusOK, "live", map[string]any{"L": s.Service.Live()})
}
