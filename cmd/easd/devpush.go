package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"

	"github.com/easd/easd/internal/dovecot"
	"github.com/easd/easd/internal/pushevents"
)

// devPushEvents has the private Dovecot post its events to easd on addr
// (its listener), as deploy/ does: phones waiting on `easd dev` cost no
// imap process. The secret is new on every start.
func devPushEvents(addr net.Addr) (*dovecot.PushEvents, error) {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("dev: listener address %v is not TCP", addr)
	}
	host := tcp.IP
	if host.IsUnspecified() {
		host = net.IPv4(127, 0, 0, 1)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("dev: push secret: %w", err)
	}
	url := "http://" + net.JoinHostPort(host.String(), fmt.Sprint(tcp.Port)) + pushevents.Path
	return &dovecot.PushEvents{URL: url, Secret: hex.EncodeToString(b)}, nil
}
