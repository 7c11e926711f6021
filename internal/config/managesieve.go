package config

import (
	"flag"
	"net"
)

// ManageSieveOff switches out-of-office off: --managesieve=off.
const ManageSieveOff = "off"

// defaultManageSievePort is ManageSieve's registered port (RFC 5804).
const defaultManageSievePort = "4190"

// RegisterManageSieve defines the out-of-office setting on fs.
func (c *Config) RegisterManageSieve(fs *flag.FlagSet) {
	fs.StringVar(&c.ManageSieve, "managesieve", c.ManageSieve, "ManageSieve server (host:port) where out-of-office replies are set up as Sieve vacation scripts; empty: the --imap-addr host on port 4190; off: Oof Set is refused")
}

// ManageSieveAddr returns the ManageSieve address out-of-office uses, ""
// when it is off.
func (c *Config) ManageSieveAddr() string {
	switch c.ManageSieve {
	case ManageSieveOff:
		return ""
	case "":
		host, _, err := net.SplitHostPort(c.IMAPAddr)
		if err != nil {
			return ""
		}
		return net.JoinHostPort(host, defaultManageSievePort)
	}
	return c.ManageSieve
}

// ManageSieveTLS is the connection security of ManageSieve: STARTTLS
// whenever IMAP uses TLS (ManageSieve has no implicit-TLS port), none
// when IMAP uses none.
func (c *Config) ManageSieveTLS() TLSMode {
	if c.IMAPTLS == TLSNone {
		return TLSNone
	}
	return TLSStartTLS
}

func (c *Config) validateManageSieve() error {
	if c.ManageSieve == "" || c.ManageSieve == ManageSieveOff {
		return nil
	}
	if err := checkHostPort(c.ManageSieve); err != nil {
		return &Error{Flag: "managesieve", Msg: err.Error()}
	}
	return nil
}
