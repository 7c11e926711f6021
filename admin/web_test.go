package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"

	"github.com/easd/easd/audit"
	"github.com/easd/easd/eas/device"
	"github.com/easd/easd/eas/policy"
	"github.com/easd/easd/internal/testenv"
)

// TestWebPageInBrowser drives the web page in headless Chromium as an
// administrator would: log in, filter the devices, open one, wipe it
// after the confirmation page (the phone is told on its next request),
// edit a policy (a phone provisions again and gets the new value), create
// one, assign it to a user and remove it, approve a quarantined device,
// read the audit log, log out.
func TestWebPageInBrowser(t *testing.T) {
	env := startAdmin(t)
	ctx := context.Background()
	lost := env.Client("alice", "lostphone")
	if err := lost.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	tablet := env.Client("bob", "tablet")
	tablet.DeviceType = "Outlook"
	if err := tablet.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, tablet); st != 1 {
		t.Fatalf("tablet FolderSync: %d", st)
	}
	// New devices of type Pilot wait for an administrator.
	devices := device.NewStore(env.App.Pool, 0)
	if _, _, err := devices.AddRule(ctx, audit.Who{Actor: "cli:test"}, device.Rule{DeviceType: "Pilot", Action: device.RuleQuarantine}, false); err != nil {
		t.Fatal(err)
	}
	pilot := env.Client("alice", "newphone")
	pilot.DeviceType = "Pilot"
	if err := pilot.Provision(ctx); err != nil {
		t.Fatal(err)
	}

	chromium := testenv.ChromiumBrowser(t)
	allocCtx, cancelAlloc := remote.NewAllocator(ctx, chromium.WebSocketURL, remote.NoModifyURL)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	step := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	step("log in",
		chromedp.Navigate(env.Admin+"/devices"), // not logged in: the login page
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), env.Token),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/devices/bob/tablet"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/devices/alice/lostphone"]`)),
	)
	step("filter",
		chromedp.SendKeys(chromedp.CSS(`#filter input[name="user"]`), "alice"),
		chromedp.Click(chromedp.ID("apply")),
		chromedp.WaitNotPresent(chromedp.CSS(`a[href="/devices/bob/tablet"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/devices/alice/lostphone"]`)),
	)
	step("open the device",
		chromedp.Click(chromedp.CSS(`a[href="/devices/alice/lostphone"]`)),
		chromedp.WaitVisible(chromedp.ID("wipe-link")),
	)
	if s := text(chromedp.CSS("#wipe")); !strings.Contains(s, "none") {
		t.Fatalf("wipe state before: %q", s)
	}
	step("wipe, confirmed",
		chromedp.Click(chromedp.ID("wipe-link")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
	)
	// The confirmation page alone changes nothing.
	if d, err := device.NewStore(env.App.Pool, 0).Get(ctx, "alice", "lostphone"); err != nil || d.Wipe != device.WipeNone {
		t.Fatalf("before confirming: %+v, %v", d, err)
	}
	step("confirm",
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if s := text(chromedp.CSS("#wipe")); !strings.Contains(s, "requested") {
		t.Fatalf("wipe state after: %q", s)
	}
	if st := folderSyncStatus(t, lost); st != 140 {
		t.Fatalf("phone's next request: FolderSync %d, want 140 (wipe)", st)
	}
	if r, err := lost.EmptyProvision(ctx); err != nil || !r.RemoteWipe {
		t.Fatalf("phone's Provision: %+v, %v", r, err)
	}

	step("edit the default policy",
		chromedp.Click(chromedp.CSS(`nav a[href="/policies"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/policies/default"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/policies/default"]`)),
		chromedp.WaitVisible(chromedp.ID("f-MinDevicePasswordLength")),
		chromedp.SetValue(chromedp.ID("f-MinDevicePasswordLength"), "7"),
		chromedp.Click(chromedp.ID("f-DevicePasswordEnabled")),
		chromedp.Click(chromedp.ID("save")),
		chromedp.WaitVisible(chromedp.ID("saved")),
	)
	if st := folderSyncStatus(t, tablet); st != 143 {
		t.Fatalf("tablet after the policy edit: FolderSync %d, want 143", st)
	}
	re, err := tablet.RequestPolicy(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if doc := re.Policies.Policy.Data.EASProvisionDoc; doc.MinDevicePasswordLength != 7 || !doc.DevicePasswordEnabled || !doc.AllowCamera {
		t.Fatalf("policy the tablet got: %+v", doc)
	}
	if err := tablet.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if st := folderSyncStatus(t, tablet); st != 1 {
		t.Fatalf("tablet after provisioning again: FolderSync %d", st)
	}

	step("create a policy and assign it to a user",
		chromedp.Click(chromedp.CSS(`nav a[href="/policies"]`)),
		chromedp.WaitVisible(chromedp.ID("create")),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "travel"),
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("assign-user-name")),
		chromedp.SendKeys(chromedp.ID("assign-user-name"), "bob"),
		chromedp.Click(chromedp.ID("assign-user-button")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if s := text(chromedp.CSS("#assignments")); !strings.Contains(s, "user bob") {
		t.Fatalf("assignments after assigning: %q", s)
	}
	if st := folderSyncStatus(t, tablet); st != 143 {
		t.Fatalf("tablet after its user got a policy: FolderSync %d, want 143", st)
	}
	step("remove the policy, confirmed",
		chromedp.Click(chromedp.ID("remove-link")),
		chromedp.WaitVisible(chromedp.ID("confirm")),
		chromedp.Click(chromedp.ID("confirm")),
		chromedp.WaitVisible(chromedp.ID("removed")),
		chromedp.WaitNotPresent(chromedp.CSS(`a[href="/policies/travel"]`)),
	)

	step("approve the quarantined device",
		chromedp.Click(chromedp.CSS(`nav a[href="/devices"]`)),
		chromedp.WaitVisible(chromedp.ID("apply")),
		chromedp.SetValue(chromedp.CSS(`#filter select[name="state"]`), "quarantined"),
		chromedp.Click(chromedp.ID("apply")),
		chromedp.WaitNotPresent(chromedp.CSS(`a[href="/devices/alice/lostphone"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/devices/alice/newphone"]`)),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if s := text(chromedp.CSS("#access")); s != "allowed" {
		t.Fatalf("access after approving: %q", s)
	}
	if d, err := devices.Get(ctx, "alice", "newphone"); err != nil || d.Access != device.Allowed || d.AccessSource != device.SourceAdmin {
		t.Fatalf("approved device: %+v, %v", d, err)
	}

	step("audit log", chromedp.Click(chromedp.CSS(`nav a[href="/audit"]`)), chromedp.WaitVisible(chromedp.ID("audit")))
	log := text(chromedp.CSS("#audit"))
	for _, want := range []string{"web:ops", "device.wipe", "alice/lostphone", "policy.edit", "admin.login",
		"policy.assign", "user:bob", "policy.remove", "policy:travel",
		"device.allow", "alice/newphone"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit page lacks %q:\n%s", want, log)
		}
	}
	step("live view", chromedp.Click(chromedp.CSS(`nav a[href="/live"]`)), chromedp.WaitVisible(chromedp.ID("ping-waiting")))

	step("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Navigate(env.Admin+"/devices"),
		chromedp.WaitVisible(chromedp.ID("token")),
	)
}

// webClient is a browser without a browser: a cookie jar that does not
// follow redirects.
func webClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func post(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The web page's protections, checked without a browser: the session
// cookie's attributes, CSRF tokens, the confirmation step, logout.
func TestWebSessionAndCSRF(t *testing.T) {
	env := startAdmin(t)
	ctx := context.Background()
	phone := env.Client("alice", "phone1")
	if err := phone.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	c := webClient(t)
	devices := device.NewStore(env.App.Pool, 0)

	if resp, _ := get(t, c, env.Admin+"/devices"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Fatalf("not logged in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := post(t, c, env.Admin+"/login", url.Values{"token": {"easd_wrong"}}, nil); resp.StatusCode != 401 ||
		!strings.Contains(body, "Unknown, revoked or expired token") {
		t.Fatalf("bad token: %d", resp.StatusCode)
	}
	resp, _ := post(t, c, env.Admin+"/login", url.Values{"token": {env.Token}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/devices" {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Secure {
		// Not Secure here: this test speaks plain HTTP without a proxy.
		t.Fatalf("session cookie: %+v", ck)
	}
	// Behind a proxy that is not trusted, X-Forwarded-Proto is ignored;
	// the cookie becomes Secure only over TLS or a trusted proxy.
	if resp, _ := post(t, webClient(t), env.Admin+"/login", url.Values{"token": {env.Token}},
		map[string]string{"X-Forwarded-Proto": "https"}); resp.Cookies()[0].Secure {
		t.Errorf("an untrusted X-Forwarded-Proto made the cookie Secure")
	}

	_, page := get(t, c, env.Admin+"/devices/alice/phone1")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the device page:\n%s", page)
	}
	csrf := m[1]
	block := env.Admin + "/devices/alice/phone1/block"
	for name, tc := range map[string]struct {
		form   url.Values
		header map[string]string
	}{
		"no token":     {url.Values{}, nil},
		"wrong token":  {url.Values{"csrf": {"x" + csrf}}, nil},
		"foreign site": {url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example"}},
	} {
		if resp, _ := post(t, c, block, tc.form, tc.header); resp.StatusCode != 403 {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	if d, _ := devices.Get(ctx, "alice", "phone1"); d.Access != device.Allowed {
		t.Fatalf("refused forms changed the device: %s", d.Access)
	}
	if resp, _ := post(t, c, block, url.Values{"csrf": {csrf}}, map[string]string{"Origin": env.Admin}); resp.StatusCode != 303 {
		t.Fatalf("block: %d", resp.StatusCode)
	}
	if d, _ := devices.Get(ctx, "alice", "phone1"); d.Access != device.Blocked {
		t.Fatalf("after block: %s", d.Access)
	}
	// A wipe without the confirmation page's field only leads there.
	resp, _ = post(t, c, env.Admin+"/devices/alice/phone1/wipe", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != 303 || !strings.HasSuffix(resp.Header.Get("Location"), "/confirm/wipe") {
		t.Fatalf("unconfirmed wipe: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if d, _ := devices.Get(ctx, "alice", "phone1"); d.Wipe != device.WipeNone {
		t.Fatalf("unconfirmed wipe was done: %s", d.Wipe)
	}
	// Unknown devices and bad policy values are answered, not crashed on.
	if resp, _ := get(t, c, env.Admin+"/devices/alice/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown device page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, env.Admin+"/devices?state=lost"); resp.StatusCode != 400 {
		t.Errorf("bad filter: %d", resp.StatusCode)
	}
	if resp, body := post(t, c, env.Admin+"/policies/default", url.Values{"csrf": {csrf}, "MinDevicePasswordLength": {"many"}}, nil); resp.StatusCode != 400 || !strings.Contains(body, "MinDevicePasswordLength") {
		t.Errorf("bad policy value: %d", resp.StatusCode)
	}

	// A resync asks first, of one collection too; then it is done.
	resp, _ = post(t, c, env.Admin+"/devices/alice/phone1/resync", url.Values{"csrf": {csrf}, "collection": {"x 1"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/devices/alice/phone1/confirm/resync?collection=x+1" {
		t.Fatalf("unconfirmed resync: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := get(t, c, env.Admin+"/devices/alice/phone1/confirm/resync?collection=x+1"); !strings.Contains(page, `name="collection" value="x 1"`) {
		t.Errorf("resync confirmation lacks the collection:\n%s", page)
	}
	if resp, _ := post(t, c, env.Admin+"/devices/alice/phone1/resync", url.Values{"csrf": {csrf}, "confirm": {"yes"}, "collection": {"x 1"}}, nil); resp.StatusCode != 404 {
		t.Errorf("resync of an unknown collection: %d, want 404", resp.StatusCode)
	}
	if resp, _ := post(t, c, env.Admin+"/devices/alice/phone1/resync", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, nil); resp.StatusCode != 303 {
		t.Errorf("confirmed resync: %d", resp.StatusCode)
	}
	for v, status := range map[string]int{"1h": 303, "off": 303, "soon": 400} {
		if resp, _ := post(t, c, env.Admin+"/devices/alice/phone1/trace", url.Values{"csrf": {csrf}, "for": {v}}, nil); resp.StatusCode != status {
			t.Errorf("trace %s: %d, want %d", v, resp.StatusCode, status)
		}
	}
	// Access rules: from a device page back to it, from the rules page.
	resp, _ = post(t, c, env.Admin+"/device-rules", url.Values{"csrf": {csrf}, "device_type": {"TestPhone"}, "action": {"block"},
		"back": {"/devices/alice/phone1"}}, nil)
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/devices/alice/phone1?done=") {
		t.Fatalf("rule from the device page: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := post(t, c, env.Admin+"/device-rules", url.Values{"csrf": {csrf}, "device_type": {"x"}, "action": {"maybe"}}, nil); resp.StatusCode != 400 ||
		!strings.Contains(body, "maybe") {
		t.Errorf("bad rule: %d", resp.StatusCode)
	}
	rules, err := devices.Rules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Action != device.RuleBlock {
		t.Fatalf("rules: %+v, %v", rules, err)
	}
	if _, page := get(t, c, env.Admin+"/device-rules"); !strings.Contains(page, "TestPhone") {
		t.Errorf("rules page lacks the rule")
	}
	if resp, _ := post(t, c, env.Admin+fmt.Sprintf("/device-rules/%d/remove", rules[0].ID), url.Values{"csrf": {csrf}}, nil); resp.StatusCode != 303 {
		t.Errorf("remove rule: %d", resp.StatusCode)
	}
	if resp, _ := post(t, c, env.Admin+"/device-rules/999999/remove", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != 404 {
		t.Errorf("remove unknown rule: %d", resp.StatusCode)
	}
	// The rule was added after phone1 registered: it stays as it was.
	if d, _ := devices.Get(ctx, "alice", "phone1"); d.Access != device.Blocked {
		t.Errorf("phone1 after the rule: %s", d.Access)
	}

	// Removing a policy also asks first; the default cannot be removed.
	if resp, _ := post(t, c, env.Admin+"/policies", url.Values{"csrf": {csrf}, "name": {"spare"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("create policy: %d", resp.StatusCode)
	}
	resp, _ = post(t, c, env.Admin+"/policies/spare/remove", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/policies/spare/confirm/remove" {
		t.Fatalf("unconfirmed policy removal: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, c, env.Admin+"/policies/spare"); resp.StatusCode != 200 {
		t.Fatalf("unconfirmed removal removed the policy: %d", resp.StatusCode)
	}
	if resp, _ := get(t, c, env.Admin+"/policies/default/confirm/remove"); resp.StatusCode != 409 {
		t.Errorf("confirm removing the default: %d, want 409", resp.StatusCode)
	}
	if resp, _ := post(t, c, env.Admin+"/policies/default/remove", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, nil); resp.StatusCode != 409 {
		t.Errorf("removing the default: %d, want 409", resp.StatusCode)
	}
	if resp, body := post(t, c, env.Admin+"/policies/spare/assign", url.Values{"csrf": {csrf}, "kind": {"user"}}, nil); resp.StatusCode != 400 ||
		!strings.Contains(body, "name the user") {
		t.Errorf("assignment without a user: %d", resp.StatusCode)
	}
	if resp, _ := post(t, c, env.Admin+"/policies/spare/assign", url.Values{"csrf": {csrf}, "kind": {"device-type"}, "device_type": {"iPad"}}, nil); resp.StatusCode != 303 {
		t.Errorf("assignment to a device type: %d", resp.StatusCode)
	}
	if _, page := get(t, c, env.Admin+"/policies/spare"); !strings.Contains(page, "device type ipad") {
		t.Errorf("policy page lacks the assignment:\n%s", page)
	}
	if resp, _ := post(t, c, env.Admin+"/policies/spare/unassign", url.Values{"csrf": {csrf}, "kind": {"device-type"}, "device_type": {"ipad"}}, nil); resp.StatusCode != 303 {
		t.Errorf("unassign: %d", resp.StatusCode)
	}
	if as, err := policy.NewStore(env.App.Pool).Assignments(ctx, "spare"); err != nil || len(as) != 0 {
		t.Errorf("after unassign: %+v, %v", as, err)
	}
	if resp, _ := post(t, c, env.Admin+"/policies/spare/remove", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, nil); resp.StatusCode != 303 {
		t.Errorf("confirmed policy removal: %d", resp.StatusCode)
	}

	es, err := audit.NewStore(env.App.Pool).List(ctx, audit.Filter{Actor: "web:ops", Action: "device.block"})
	if err != nil || len(es) == 0 || es[0].Action != "device.block" || es[0].Source != "127.0.0.1" {
		t.Errorf("audit of the web change: %+v, %v", es, err)
	}

	if resp, _ := post(t, c, env.Admin+"/logout", url.Values{"csrf": {csrf}}, nil); resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The old cookie is dead even if a copy was kept.
	old := webClient(t)
	u, _ := url.Parse(env.Admin)
	old.Jar.SetCookies(u, ck)
	if resp, _ := get(t, old, env.Admin+"/devices"); resp.StatusCode != 303 {
		t.Errorf("session after logout: %d", resp.StatusCode)
	}
}
