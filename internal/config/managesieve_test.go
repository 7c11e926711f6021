package config

import (
	"errors"
	"testing"
)

// --managesieve: empty takes the IMAP host on 4190, off switches
// out-of-office off, anything else must be host:port; the security
// follows IMAP's.
func TestManageSieve(t *testing.T) {
	cases := []struct {
		env     map[string]string
		addr    string
		tls     TLSMode
		badFlag string
	}{
		{with(nil), "imap.example.com:4190", TLSStartTLS, ""},
		{with(map[string]string{"EASD_IMAP_TLS": "implicit", "EASD_IMAP_ADDR": "[2001:db8::1]:993"}), "[2001:db8::1]:4190", TLSStartTLS, ""},
		{with(map[string]string{"EASD_IMAP_TLS": "none", "EASD_MANAGESIEVE": "sieve.example.com:2000"}), "sieve.example.com:2000", TLSNone, ""},
		{with(map[string]string{"EASD_MANAGESIEVE": "off"}), "", TLSStartTLS, ""},
		{with(map[string]string{"EASD_MANAGESIEVE": "sieve.example.com"}), "", "", "managesieve"},
	}
	for _, tc := range cases {
		c, err := parse(t, nil, tc.env)
		if tc.badFlag != "" {
			var ce *Error
			if !errors.As(err, &ce) || ce.Flag != tc.badFlag {
				t.Errorf("%v: %v, want an error naming --%s", tc.env, err, tc.badFlag)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.env, err)
			continue
		}
		if got := c.ManageSieveAddr(); got != tc.addr {
			t.Errorf("%v: address %q, want %q", tc.env, got, tc.addr)
		}
		if got := c.ManageSieveTLS(); got != tc.tls {
			t.Errorf("%v: TLS %q, want %q", tc.env, got, tc.tls)
		}
	}
}
