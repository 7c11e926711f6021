package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/easd/easd/dav"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
	"github.com/easd/easd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// alertRules is the part of a Prometheus rules file the tests read.
type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadAlerts(t *testing.T) alertRules {
	t.Helper()
	var r alertRules
	if err := yaml.Unmarshal([]byte(readFile(t, "prometheus/easd-alerts.yml")), &r); err != nil {
		t.Fatalf("easd-alerts.yml: %v", err)
	}
	return r
}

// dashboardQueries returns every PromQL query of the Grafana dashboard,
// panels' and variables', by where it is.
func dashboardQueries(t *testing.T) (map[string]string, map[string]any) {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "grafana/easd-dashboard.json")), &d); err != nil {
		t.Fatalf("easd-dashboard.json: %v", err)
	}
	queries := map[string]string{}
	var walkPanels func(ps []any)
	walkPanels = func(ps []any) {
		for _, p := range ps {
			p := p.(map[string]any)
			if sub, ok := p["panels"].([]any); ok {
				walkPanels(sub)
			}
			targets, _ := p["targets"].([]any)
			for _, tg := range targets {
				tg := tg.(map[string]any)
				queries[fmt.Sprintf("panel %q %s", p["title"], tg["refId"])] = tg["expr"].(string)
			}
		}
	}
	panels, _ := d["panels"].([]any)
	walkPanels(panels)
	templating, _ := d["templating"].(map[string]any)
	vars, _ := templating["list"].([]any)
	for _, v := range vars {
		v := v.(map[string]any)
		if q, ok := v["query"].(map[string]any); ok {
			queries[fmt.Sprintf("variable %s", v["name"])] = q["query"].(string)
		}
	}
	return queries, d
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promOffset   = regexp.MustCompile(`\boffset\s+\S+`)
	promIdent    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "by": true,
		"without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "offset": true,
		"inf": true, "nan": true}
	// label_values(METRIC{...}, label) of Grafana's variables names one
	// metric and a label.
	labelValues = regexp.MustCompile(`^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)`)
)

// metricNames returns the metric names a PromQL expression reads: the
// identifiers that are neither functions, keywords, label names nor
// inside strings, label matchers or ranges.
func metricNames(expr string) []string {
	if m := labelValues.FindStringSubmatch(expr); m != nil {
		return []string{m[1]}
	}
	s := promString.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	s = promOffset.ReplaceAllString(s, " ")
	var names []string
	for _, m := range promIdent.FindAllStringSubmatchIndex(s, -1) {
		if m[2] >= 0 { // a function call
			continue
		}
		id := s[m[0]:m[1]]
		if m[0] > 0 && (s[m[0]-1] >= '0' && s[m[0]-1] <= '9' || s[m[0]-1] == '.') {
			continue // the exponent or unit of a number: 1e3
		}
		if promKeywords[strings.ToLower(id)] {
			continue
		}
		names = append(names, id)
	}
	return names
}

func TestMetricNameExtraction(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (cmd, le) (rate(a_bucket{job=~"$job", x="y}z"}[$__rate_interval])) / ignoring(le) b`: {"a_bucket", "b"},
		`up{job="easd"} == 0 and on (instance) c offset 1d > 1e3`:                                    {"up", "c"},
		`label_values(easd_ping_waiting{job=~"$job"}, instance)`:                                     {"easd_ping_waiting"},
		`histogram_quantile(0.99, sum by (le) (rate(d[5m]))) * 60`:                                   {"d"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %v, want %v", expr, got, want)
		}
	}
}

// registeredMetrics starts easd and returns the names of the series its
// registry exposes as Prometheus sees them (histograms with their
// _bucket, _sum and _count), and the families'. Series that exist only
// after a first request get one.
func registeredMetrics(t *testing.T) (series, families map[string]bool) {
	t.Helper()
	env := easdtest.Start(t)
	if code, _, _ := env.Raw(t, "OPTIONS", "/Microsoft-Server-ActiveSync", "alice", nil, ""); code != 200 {
		t.Fatalf("OPTIONS: HTTP %d", code)
	}
	gathered, err := env.App.HTTP.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series, families = map[string]bool{}, map[string]bool{}
	for _, f := range gathered {
		n := f.GetName()
		series[n], families[n] = true, true
		// By name, not client_model's constants: the module is only an
		// indirect dependency of easd.
		switch f.GetType().String() {
		case "HISTOGRAM":
			series[n+"_bucket"], series[n+"_sum"], series[n+"_count"] = true, true, true
		case "SUMMARY":
			series[n+"_sum"], series[n+"_count"] = true, true
		}
	}
	return series, families
}

// Every metric the dashboard and the alert rules read is one easd
// registers: a renamed metric must not leave a panel empty or an alert
// that can never fire.
func TestDashboardAndAlertsUseRealMetrics(t *testing.T) {
	queries, _ := dashboardQueries(t)
	rules := loadAlerts(t)
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			queries["alert "+r.Alert] = r.Expr
		}
	}
	used := map[string][]string{}
	for where, q := range queries {
		names := metricNames(q)
		if len(names) == 0 {
			t.Errorf("%s reads no metric: %q", where, q)
		}
		for _, n := range names {
			used[n] = append(used[n], where)
		}
	}
	registered, families := registeredMetrics(t)
	for n, where := range used {
		// up is Prometheus's own: whether the scrape succeeded.
		if n != "up" && !registered[n] {
			sort.Strings(where)
			t.Errorf("metric %s is not registered by easd; used by %s", n, strings.Join(where, ", "))
		}
	}
	// Every easd_ metric appears on the dashboard: a new metric is
	// worth a panel.
	// README's table of metrics names each of easd's own, and no other.
	readme := readFile(t, "../README.md")
	for n := range families {
		if !strings.HasPrefix(n, "easd_") {
			continue
		}
		if used[n] == nil && used[n+"_bucket"] == nil && used[n+"_count"] == nil && used[n+"_sum"] == nil {
			t.Errorf("easd registers %s, which neither the dashboard nor an alert shows", n)
		}
		if !strings.Contains(readme, "`"+n+"`") && !strings.Contains(readme, "`"+n+"{") {
			t.Errorf("README.md's table of metrics lacks %s", n)
		}
	}
	for _, m := range regexp.MustCompile("`(easd_[a-z_]+)[`{]").FindAllStringSubmatch(readme, -1) {
		if !families[m[1]] {
			t.Errorf("README.md names metric %s, which easd does not register", m[1])
		}
	}
}

// The files are what Grafana and Prometheus take: the dashboard imports
// with the data source asked for, every panel reads it, every alert has
// a severity and a summary, and promtool (Debian's prometheus package),
// where installed, accepts the rules and every dashboard query.
func TestDashboardAndAlertsWellFormed(t *testing.T) {
	queries, d := dashboardQueries(t)
	inputs, _ := d["__inputs"].([]any)
	if len(inputs) != 1 || inputs[0].(map[string]any)["name"] != "DS_PROMETHEUS" {
		t.Errorf("the dashboard's __inputs are %v; want the one data source DS_PROMETHEUS", inputs)
	}
	// Every data source named anywhere is the one asked for at import.
	var walkJSON func(v any)
	walkJSON = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if ds, ok := e.(map[string]any); ok && k == "datasource" && ds["uid"] != "${DS_PROMETHEUS}" {
					t.Errorf("a data source is not ${DS_PROMETHEUS}: %v", ds)
				}
				walkJSON(e)
			}
		case []any:
			for _, e := range v {
				walkJSON(e)
			}
		}
	}
	walkJSON(d)
	ids := map[float64]bool{}
	var walk func(ps []any)
	walk = func(ps []any) {
		for _, p := range ps {
			p := p.(map[string]any)
			id, _ := p["id"].(float64)
			if ids[id] {
				t.Errorf("panel id %v twice", id)
			}
			ids[id] = true
			if p["type"] != "row" {
				if ds, _ := p["datasource"].(map[string]any); ds["uid"] != "${DS_PROMETHEUS}" {
					t.Errorf("panel %q: data source %v", p["title"], p["datasource"])
				}
				if targets, _ := p["targets"].([]any); len(targets) == 0 {
					t.Errorf("panel %q has no query", p["title"])
				}
			}
			if sub, ok := p["panels"].([]any); ok {
				walk(sub)
			}
		}
	}
	panels, _ := d["panels"].([]any)
	walk(panels)

	rules := loadAlerts(t)
	names := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || names[r.Alert] {
				t.Errorf("group %s: alert name %q empty or twice", g.Name, r.Alert)
			}
			names[r.Alert] = true
			if !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]) {
				t.Errorf("alert %s: severity %q", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("alert %s has no summary", r.Alert)
			}
		}
	}
	for _, want := range []string{"EasdInstanceDown", "EasdNotReady", "EasdErrorRatioHigh", "EasdLatencyHigh",
		"EasdIMAPErrors", "EasdSMTPErrors", "EasdDatabasePoolExhausted", "EasdLoginThrottlingSpike",
		"EasdPingsDropped", "EasdMemoryGrowing"} {
		if !names[want] {
			t.Errorf("no alert %s", want)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Log("promtool is not installed (Debian: apt-get install prometheus): the files were checked by parsing only")
		return
	}
	if out, err := exec.Command(promtool, "check", "rules", "prometheus/easd-alerts.yml").CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	if out, err := exec.Command(promtool, "test", "rules", "prometheus/easd-alerts_test.yml").CombinedOutput(); err != nil {
		t.Errorf("promtool test rules: %v\n%s", err, out)
	}
	// The dashboard's queries, as recording rules, pass the same parser
	// once Grafana's variables are filled in.
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	keys := make([]string, 0, len(queries))
	for k := range queries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	grafanaVars := strings.NewReplacer("$__rate_interval", "5m", "$job", "easd", "$instance", ".*")
	for i, k := range keys {
		q := queries[k]
		if labelValues.MatchString(q) {
			continue
		}
		fmt.Fprintf(&b, "      - record: dashboard_query_%d\n        expr: %q\n", i, grafanaVars.Replace(q))
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules on the dashboard's queries: %v\n%s", err, out)
	}
}

// easCommands are MS-ASHTTP's command names: the only EAS commands that
// may name a series.
var easCommands = []string{"Sync", "SendMail", "SmartForward", "SmartReply", "GetAttachment",
	"GetHierarchy", "CreateCollection", "DeleteCollection", "MoveCollection",
	"FolderSync", "FolderCreate", "FolderDelete", "FolderUpdate", "MoveItems",
	"GetItemEstimate", "MeetingResponse", "Search", "Settings", "Ping",
	"ItemOperations", "Provision", "ResolveRecipients", "ValidateCert", "Find"}

// Nothing a caller sends names a metric series: made-up commands, device
// types, user agents, protocol versions, paths, methods and users, signed
// in or not, end under a command name from MS-ASHTTP, "unknown", a route
// pattern of easd's own or a fixed name; no label holds a value that was
// sent.
func TestMetricSeriesBoundedByCode(t *testing.T) {
	env := easdtest.Start(t, func(c *config.Config) { c.EnforcePolicy = false })
	for i := 0; i < 2; i++ {
		tok := fmt.Sprintf("zq%d", i)
		eas := "/Microsoft-Server-ActiveSync?User=" + tok + "&DeviceId=" + tok + "&DeviceType=" + tok + "&Cmd="
		hdr := map[string]string{"MS-ASProtocolVersion": "14.1", "User-Agent": tok}
		// A made-up user: a wrong password, asked of the mail server.
		env.Raw(t, "POST", eas+"FolderSync", tok, hdr, "")
		for _, user := range []string{"", "alice"} {
			env.Raw(t, "POST", eas+tok, user, hdr, "")
			env.Raw(t, "POST", eas+"FolderSync", user, hdr, "")
			env.Raw(t, "POST", eas+"Sync", user, map[string]string{"MS-ASProtocolVersion": tok}, "")
			env.Raw(t, "POST", "/Microsoft-Server-ActiveSync?"+tok, user, hdr, "")
			env.Raw(t, tok, eas+"Ping", user, hdr, "")
			env.Raw(t, "GET", "/"+tok, user, nil, "")
			env.Raw(t, "GET", "/Microsoft-Server-ActiveSync/"+tok, user, nil, "")
			env.Raw(t, "POST", "/autodiscover/"+tok+".xml", user, nil, "<"+tok+"/>")
			env.Raw(t, "PROPFIND", "/dav/"+tok+"/", user, nil, "")
			env.Raw(t, tok, "/dav/"+tok, user, nil, "")
			env.Raw(t, "GET", "/.well-known/"+tok, user, nil, "")
			env.Raw(t, "GET", "/easd/certificate?"+tok, user, nil, "")
		}
	}

	allowed := map[string]bool{"unknown": true, "unmatched": true, "Autodiscover": true, "PublishCertificate": true}
	for _, c := range easCommands {
		allowed[c] = true
	}
	for _, m := range dav.Methods {
		allowed["DAV "+m] = true
	}
	for _, r := range env.App.HTTP.Echo.Routes() {
		allowed[r.Path] = true
	}
	gathered, err := env.App.HTTP.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	cmds := map[string]bool{}
	for _, f := range gathered {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "zq") {
					t.Errorf("a value sent by a client became a label: %s{%s=%q}", f.GetName(), l.GetName(), l.GetValue())
				}
				if strings.HasPrefix(f.GetName(), "easd_http_") && l.GetName() == "cmd" {
					cmds[l.GetValue()] = true
				}
			}
		}
	}
	for c := range cmds {
		if !allowed[c] {
			t.Errorf("cmd label %q is neither an EAS command, a route nor a fixed name", c)
		}
	}
	t.Logf("cmd labels: %v", cmds)
	if !cmds["unknown"] || !cmds["FolderSync"] {
		t.Errorf("cmd labels %v: want the made-up commands under unknown, and FolderSync", cmds)
	}
}
