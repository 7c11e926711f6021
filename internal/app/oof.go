package app

import (
	"crypto/tls"
	"log/slog"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/managesieve"
	"github.com/easd/easd/oof"
)

// newOof returns the out-of-office store on the configured ManageSieve
// server, nil when out-of-office is off. Its connection security follows
// the IMAP settings (config.ManageSieveTLS).
func newOof(cfg config.Config, log *slog.Logger) model.OutOfOffice {
	addr := cfg.ManageSieveAddr()
	if addr == "" {
		log.Info("out-of-office is off: Oof Set is refused (--managesieve=off)")
		return nil
	}
	o := managesieve.Options{TLS: managesieve.TLSNone}
	if cfg.ManageSieveTLS() == config.TLSStartTLS {
		o.TLS = managesieve.TLSStartTLS
	}
	if cfg.IMAPTLSInsecure {
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator's explicit choice
	}
	return &oof.Store{Addr: addr, Options: o, Log: log}
}
