package config

import (
	"strings"
	"testing"
)

// The admin listener never shares the phones' address.
func TestAdminListen(t *testing.T) {
	for _, tc := range []struct {
		listen, admin string
		ok            bool
	}{
		{":8080", "", true},
		{":8080", "127.0.0.1:8081", true},
		{"127.0.0.1:8080", "127.0.0.2:8080", true},
		{"127.0.0.1:0", "127.0.0.1:0", true},
		{":8080", ":8080", false},
		{":8080", "127.0.0.1:8080", false},
		{"10.0.0.1:8080", "0.0.0.0:8080", false},
		{"10.0.0.1:8080", "10.0.0.1:8080", false},
		{":8080", "nonsense", false},
	} {
		err := checkAdminListen(tc.listen, tc.admin)
		if (err == nil) != tc.ok {
			t.Errorf("listen %q admin %q: %v", tc.listen, tc.admin, err)
		}
	}
	c := Defaults()
	c.DatabaseURL, c.IMAPAddr, c.SMTPAddr = "postgres://x/y", "imap:143", "smtp:587"
	c.MetricsOnAdmin = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "admin-listen") {
		t.Errorf("--metrics-on-admin without --admin-listen: %v", err)
	}
	c.AdminListen = c.Listen
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "phones") {
		t.Errorf("admin on the phones' address: %v", err)
	}
}
