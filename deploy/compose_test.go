// Package deploy_test checks the deployment files: docker-compose.yml, the
// Dockerfiles and the mail servers' configuration. No Docker engine is
// needed: the files are parsed, and what they give easd is checked against
// the settings easd reads and the ports the other servers listen on. Where
// Docker is there, `docker compose config` validates the file too, and
// where its engine runs, the images are built and a message sent through
// the stack's Postfix must arrive in a user's mailbox.
package deploy_test

import (
	"bytes"
	"flag"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/easd/easd/internal/config"
)

type service struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadCompose(t *testing.T) (compose, map[string]any) {
	t.Helper()
	raw := readFile(t, "../docker-compose.yml")
	var c compose
	if err := yaml.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var top map[string]any
	if err := yaml.Unmarshal([]byte(raw), &top); err != nil {
		t.Fatal(err)
	}
	return c, top
}

func TestComposeFile(t *testing.T) {
	c, top := loadCompose(t)
	if _, ok := top["version"]; ok {
		t.Error("the top-level version key is obsolete in the Compose specification")
	}
	for _, name := range []string{"postgres", "dovecot", "postfix", "easd"} {
		s, ok := c.Services[name]
		if !ok {
			t.Fatalf("no service %q", name)
		}
		if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
			t.Errorf("service %q has no healthcheck", name)
		}
	}
	easd := c.Services["easd"]
	if easd.Build == nil {
		t.Error("easd is not built from the repository")
	}
	for _, dep := range []string{"postgres", "dovecot", "postfix"} {
		if easd.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("easd does not wait for a healthy %s", dep)
		}
	}

	// Only easd is reachable from outside: IMAP with plaintext logins,
	// LMTP, SMTP and PostgreSQL stay inside the compose network.
	for name, s := range c.Services {
		if name != "easd" && len(s.Ports) > 0 {
			t.Errorf("service %s publishes %v; only easd's port may be published", name, s.Ports)
		}
	}
	_, listenPort, err := net.SplitHostPort(easd.Environment["EASD_LISTEN"])
	if err != nil {
		t.Fatalf("EASD_LISTEN %q: %v", easd.Environment["EASD_LISTEN"], err)
	}
	if len(easd.Ports) != 1 || !strings.HasSuffix(easd.Ports[0], ":"+listenPort) {
		t.Errorf("easd publishes %v; want one port mapping to EASD_LISTEN's port %s", easd.Ports, listenPort)
	}
	hc := strings.Join(easd.Healthcheck.Test, " ")
	if !strings.Contains(hc, "easd ready") {
		t.Errorf("easd healthcheck %q does not use `easd ready`", hc)
	}
	if strings.Contains(hc, "--url") && !strings.Contains(hc, ":"+listenPort+"/") {
		t.Errorf("easd healthcheck %q asks another port than EASD_LISTEN's %s", hc, listenPort)
	}

	// easd is configured purely by environment: every variable must be one
	// of its settings, and the required ones must be there.
	known := map[string]bool{}
	cfg := config.Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Register(fs)
	fs.VisitAll(func(f *flag.Flag) { known[config.EnvName(f.Name)] = true })
	for k := range easd.Environment {
		if !known[k] {
			t.Errorf("easd environment sets unknown variable %s", k)
		}
	}
	for _, req := range []string{"EASD_DATABASE_URL", "EASD_IMAP_ADDR", "EASD_SMTP_ADDR", "EASD_MAIL_DOMAIN"} {
		if easd.Environment[req] == "" {
			t.Errorf("easd environment lacks %s", req)
		}
	}
	// The mail domain has no silent default: compose refuses to start
	// without it, for easd and for Postfix alike.
	for _, svc := range []string{"easd", "postfix"} {
		if v := c.Services[svc].Environment["EASD_MAIL_DOMAIN"]; !strings.HasPrefix(v, "${EASD_MAIL_DOMAIN:?") {
			t.Errorf("%s: EASD_MAIL_DOMAIN is %q; want it required (${EASD_MAIL_DOMAIN:?...})", svc, v)
		}
	}
	// No working credentials are shipped.
	if v := c.Services["postgres"].Environment["POSTGRES_PASSWORD"]; !strings.HasPrefix(v, "${POSTGRES_PASSWORD:?") {
		t.Errorf("POSTGRES_PASSWORD is %q; want it required, with no default password", v)
	}

	// easd reaches the other servers where they listen.
	dovecotConf := readFile(t, "dovecot/dovecot.conf")
	postfixSetup := readFile(t, "postfix/entrypoint.sh")
	listenerPort := func(name string) string {
		m := regexp.MustCompile(`inet_listener ` + name + ` \{\s*port = (\d+)`).FindStringSubmatch(dovecotConf)
		if m == nil {
			t.Errorf("dovecot.conf has no inet_listener %s", name)
			return ""
		}
		return m[1]
	}
	if want := "dovecot:" + listenerPort("imap"); easd.Environment["EASD_IMAP_ADDR"] != want {
		t.Errorf("EASD_IMAP_ADDR %q, want %s", easd.Environment["EASD_IMAP_ADDR"], want)
	}
	if easd.Environment["EASD_SMTP_ADDR"] != "postfix:587" || !strings.Contains(postfixSetup, "submission/inet=submission inet") {
		t.Errorf("EASD_SMTP_ADDR %q: want postfix:587, the submission service the Postfix image sets up", easd.Environment["EASD_SMTP_ADDR"])
	}
	if !strings.Contains(postfixSetup, "virtual_transport=lmtp:inet:dovecot:"+listenerPort("lmtp")) {
		t.Error("Postfix does not deliver to Dovecot's LMTP listener")
	}
	if !strings.Contains(postfixSetup, "smtpd_sasl_path=inet:dovecot:"+listenerPort("auth-postfix")) {
		t.Error("Postfix does not check passwords with Dovecot's auth listener")
	}
	if !regexp.MustCompile(`(?m)^protocols = .*\blmtp\b`).MatchString(dovecotConf) {
		t.Error("Dovecot does not serve LMTP")
	}
	// Out-of-office: easd writes Sieve scripts where Dovecot serves
	// ManageSieve, and the replies leave through the Postfix port that
	// takes them.
	if !regexp.MustCompile(`(?m)^protocols = .*\bsieve\b`).MatchString(dovecotConf) {
		t.Error("Dovecot does not serve ManageSieve")
	}
	if want := "dovecot:" + listenerPort("sieve"); easd.Environment["EASD_MANAGESIEVE"] != want {
		t.Errorf("EASD_MANAGESIEVE %q, want %s", easd.Environment["EASD_MANAGESIEVE"], want)
	}
	if m := regexp.MustCompile(`(?m)^submission_host = postfix:(\d+)$`).FindStringSubmatch(dovecotConf); m == nil ||
		!strings.Contains(postfixSetup, `"`+m[1]+"/inet="+m[1]+" inet") {
		t.Errorf("Dovecot's submission_host is not a port the Postfix image serves: %v", m)
	}
	// Container logs go to stdout, where `docker compose logs` finds them.
	if !regexp.MustCompile(`(?m)^log_path = /dev/stdout$`).MatchString(dovecotConf) {
		t.Error("dovecot.conf does not log to stdout")
	}
	if !strings.Contains(postfixSetup, "maillog_file=/dev/stdout") {
		t.Error("Postfix does not log to stdout")
	}

	// Volumes: named ones are declared (and used), data lives on them,
	// bind-mounted files exist or are made by the documented script.
	used := map[string]bool{}
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			dst, _, _ = strings.Cut(dst, ":")
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				path := "../" + strings.TrimPrefix(src, "./")
				if _, err := os.Stat(path); err != nil && src != "./deploy/dovecot/passwd" {
					t.Errorf("%s mounts %s, which does not exist", name, src)
				}
				continue
			}
			used[src] = true
			if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s uses volume %s, which is not declared", name, src)
			}
			_ = dst
		}
	}
	for v := range c.Volumes {
		if !used[v] {
			t.Errorf("volume %s is declared but not used", v)
		}
	}
	if !slices.Contains(c.Services["postgres"].Volumes, "pgdata:/var/lib/postgresql/data") {
		t.Error("postgres data is not on the pgdata volume")
	}
	if m := regexp.MustCompile(`(?m)^mail_location = maildir:(/[^%]+)/%u`).FindStringSubmatch(dovecotConf); m == nil ||
		!slices.Contains(c.Services["dovecot"].Volumes, "mail:"+m[1]) {
		t.Errorf("the maildirs (%v) are not on the mail volume", m)
	}
	if !strings.Contains(readFile(t, "add-user.sh"), "passwd=deploy/dovecot/passwd") {
		t.Error("deploy/add-user.sh does not create the passwd file the stack mounts")
	}
	if !slices.Contains(c.Services["postfix"].Volumes, "mailqueue:/var/spool/postfix") {
		t.Error("Postfix's queue is not on a volume: queued mail would be lost with the container")
	}

	dockerComposeConfig(t)
}

// No account is shipped: the example passwd file only explains the format.
func TestNoShippedAccounts(t *testing.T) {
	for _, line := range strings.Split(readFile(t, "dovecot/passwd.example"), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			t.Errorf("passwd.example holds an account: %q", l)
		}
	}
	if _, err := os.Stat("dovecot/passwd"); err == nil {
		out, _ := exec.Command("git", "ls-files", "dovecot/passwd").Output()
		if len(bytes.TrimSpace(out)) > 0 {
			t.Error("deploy/dovecot/passwd is in git: it holds real users' password hashes")
		}
	}
}

func composeEnv() []string {
	return append(os.Environ(), "EASD_MAIL_DOMAIN=example.test", "POSTGRES_PASSWORD=test-only")
}

// dockerComposeConfig lets Docker Compose validate the file where it is
// installed.
func dockerComposeConfig(t *testing.T) {
	if exec.Command("docker", "compose", "version").Run() != nil {
		t.Log("docker compose is not installed: the file was checked by parsing only")
		return
	}
	cmd := exec.Command("docker", "compose", "-f", "../docker-compose.yml", "config", "-q")
	cmd.Env = composeEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("docker compose config: %v\n%s", err, out)
	}
	// Without the mail domain, compose refuses: it is never guessed.
	cmd = exec.Command("docker", "compose", "-f", "../docker-compose.yml", "config", "-q")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EASD_MAIL_DOMAIN=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "POSTGRES_PASSWORD=test-only")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "EASD_MAIL_DOMAIN") {
		t.Errorf("docker compose config without EASD_MAIL_DOMAIN: %v\n%s", err, out)
	}
}

// Where a Docker engine runs, the images build and the stack delivers: a
// message handed to Postfix for a user arrives in that user's INBOX.
func TestComposeDeliversMail(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images")
	}
	if exec.Command("docker", "info").Run() != nil || exec.Command("docker", "compose", "version").Run() != nil {
		t.Skip("no Docker engine with compose here")
	}
	project := "easdtest" + strings.ReplaceAll(time.Now().Format("150405.000"), ".", "")
	dc := func(args ...string) (string, error) {
		cmd := exec.Command("docker", append([]string{"compose", "-p", project, "-f", "../docker-compose.yml"}, args...)...)
		cmd.Env = append(composeEnv(), "EASD_PORT=0")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	created := false
	if _, err := os.Stat("dovecot/passwd"); err != nil {
		// {PLAIN} keeps the test independent of doveadm; a real
		// deployment uses deploy/add-user.sh.
		if err := os.WriteFile("dovecot/passwd", []byte("alice:{PLAIN}test-only::::::\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		created = true
	} else {
		t.Skip("deploy/dovecot/passwd exists: not touching a real user list")
	}
	t.Cleanup(func() {
		if out, err := dc("down", "-v", "--remove-orphans"); err != nil {
			t.Logf("compose down: %v\n%s", err, out)
		}
		if created {
			os.Remove("dovecot/passwd")
		}
	})
	if out, err := dc("build"); err != nil {
		t.Fatalf("compose build: %v\n%s", err, out)
	}
	if out, err := dc("up", "-d", "--wait", "--wait-timeout", "300"); err != nil {
		logs, _ := dc("logs")
		t.Fatalf("compose up: %v\n%s\n%s", err, out, logs)
	}
	msg := "From: bob@example.net\nTo: alice@example.test\nSubject: through the stack\n\nhello\n"
	cmd := exec.Command("docker", "compose", "-p", project, "-f", "../docker-compose.yml", "exec", "-T", "postfix",
		"sendmail", "-f", "bob@example.net", "alice@example.test")
	cmd.Env = composeEnv()
	cmd.Stdin = strings.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sendmail: %v\n%s", err, out)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		out, _ := dc("exec", "-T", "dovecot", "doveadm", "search", "-u", "alice", "mailbox", "INBOX", "subject", "through the stack")
		if strings.TrimSpace(out) != "" && !strings.Contains(out, "Error") {
			break
		}
		if time.Now().After(deadline) {
			logs, _ := dc("logs", "postfix", "dovecot")
			t.Fatalf("the message did not arrive in alice's INBOX: %s\n%s", out, logs)
		}
	}
}

func TestDockerfile(t *testing.T) {
	df := readFile(t, "../Dockerfile")
	for _, want := range []string{"go build", "./cmd/easd", "USER easd", `CMD ["serve"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	pf := readFile(t, "postfix/Dockerfile")
	for _, want := range []string{"FROM debian:", "apt-get install", "postfix", "ENTRYPOINT"} {
		if !strings.Contains(pf, want) {
			t.Errorf("postfix/Dockerfile lacks %q", want)
		}
	}
	for _, script := range []string{"postfix/entrypoint.sh", "add-user.sh"} {
		if out, err := exec.Command("sh", "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", script, err, out)
		}
	}
	if !strings.Contains(readFile(t, "postfix/entrypoint.sh"), "exec postfix start-fg") {
		t.Error("the Postfix container does not run Postfix in the foreground")
	}
}
