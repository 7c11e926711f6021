// Package deploy_test checks the deployment files: docker-compose.yml and
// the Dockerfile. No Docker engine is needed; the files are parsed, and the
// environment they give easd is checked against easd's own settings.
package deploy_test

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/easd/easd/internal/config"
)

type compose struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestComposeFile(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "dovecot", "easd"} {
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
	for _, dep := range []string{"postgres", "dovecot"} {
		if easd.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("easd does not wait for a healthy %s", dep)
		}
	}
	if hc := strings.Join(easd.Healthcheck.Test, " "); !strings.Contains(hc, "easd ready") {
		t.Errorf("easd healthcheck %q does not use `easd ready`", hc)
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
	for _, req := range []string{"EASD_DATABASE_URL", "EASD_IMAP_ADDR", "EASD_SMTP_ADDR"} {
		if easd.Environment[req] == "" {
			t.Errorf("easd environment lacks %s", req)
		}
	}
	// Named volumes keep the data.
	for _, v := range []string{"pgdata", "mail"} {
		if _, ok := c.Volumes[v]; !ok {
			t.Errorf("no named volume %q", v)
		}
	}
	if !strings.Contains(strings.Join(c.Services["postgres"].Volumes, " "), "pgdata:") {
		t.Error("postgres data is not on the pgdata volume")
	}

	// Where docker-compose is installed, let it validate the file too.
	if path, err := exec.LookPath("docker-compose"); err == nil {
		cmd := exec.Command(path, "-f", "../docker-compose.yml", "config", "-q")
		cmd.Env = append(os.Environ(), "EASD_SMTP_ADDR=smtp.example.com:587")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker-compose config: %v\n%s", err, out)
		}
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	for _, want := range []string{"go build", "./cmd/easd", "USER easd", `CMD ["serve"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if _, err := os.Stat("dovecot/dovecot.conf"); err != nil {
		t.Errorf("compose mounts deploy/dovecot/dovecot.conf: %v", err)
	}
}
