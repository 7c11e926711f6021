package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/easd/easd/internal/binpath"
	"github.com/easd/easd/internal/procgroup"
)

// Chromium is a headless Chromium (Debian package chromium) with its
// DevTools endpoint on a loopback port, for tests of web pages driven
// through the DevTools protocol (chromedp's remote allocator).
type Chromium struct {
	// WebSocketURL is the browser's DevTools endpoint,
	// ws://127.0.0.1:port/devtools/browser/id.
	WebSocketURL string
	dir          string
	proc         *procgroup.Process
}

// ChromiumBrowser starts a Chromium for this test with a fresh profile;
// it is stopped, and the profile removed, when the test ends.
func ChromiumBrowser(t testing.TB) *Chromium {
	t.Helper()
	bin, err := binpath.Find("chromium", "chromium")
	if err != nil {
		failSetup(t, err)
	}
	dir, err := os.MkdirTemp("", "easd-test-chromium-")
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	c := &Chromium{dir: dir}
	t.Cleanup(c.stop)
	if err := c.start(bin); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *Chromium) start(bin string) error {
	log, err := os.Create(filepath.Join(c.dir, "chromium.log"))
	if err != nil {
		return fmt.Errorf("testenv: chromium: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(bin,
		"--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-dev-shm-usage", "--mute-audio", "--password-store=basic",
		// Tests run as root in CI containers, where Chromium's sandbox
		// cannot start; the pages it loads are the test's own.
		"--no-sandbox",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--user-data-dir="+filepath.Join(c.dir, "profile"), "about:blank")
	cmd.Stdout, cmd.Stderr = log, log
	proc, err := procgroup.Start(cmd)
	if err != nil {
		return fmt.Errorf("testenv: chromium: %w", err)
	}
	c.proc = proc
	// Chromium writes the port it bound and the browser's DevTools path
	// into DevToolsActivePort once it listens.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	portFile := filepath.Join(c.dir, "profile", "DevToolsActivePort")
	for {
		if b, err := os.ReadFile(portFile); err == nil {
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(lines) == 2 {
				c.WebSocketURL = "ws://127.0.0.1:" + strings.TrimSpace(lines[0]) + strings.TrimSpace(lines[1])
				return nil
			}
		}
		select {
		case <-proc.Done():
			b, _ := os.ReadFile(filepath.Join(c.dir, "chromium.log"))
			return fmt.Errorf("testenv: chromium exited: %s", b)
		case <-ctx.Done():
			b, _ := os.ReadFile(filepath.Join(c.dir, "chromium.log"))
			return fmt.Errorf("testenv: chromium opened no DevTools port: %s", b)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop ends Chromium and its helper processes and removes the profile.
func (c *Chromium) stop() {
	if c.proc != nil {
		c.proc.Stop(syscall.SIGTERM, 5*time.Second)
		c.proc = nil
	}
	// Helper processes may write into the profile for a moment after
	// the browser ended.
	for range 50 {
		if err := os.RemoveAll(c.dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
