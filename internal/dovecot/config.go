package dovecot

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"text/template"
)

// confData fills confTemplate.
type confData struct {
	Dir, Host, Port              string
	Root                         bool
	MailUID, MailGID, FirstUID   int
	InternalUser                 string
	Master                       bool
	LogPath                      string
	PasswdFile, MasterPasswdFile string

	// Sieve: out-of-office replies (sieve.go).
	Sieve                            bool
	ManageSieveHost, ManageSievePort string
	LMTPHost, LMTPPort               string
	SubmissionHost                   string
	SieveTLSCert, SieveTLSKey        string // PEM files: ManageSieve offers STARTTLS

	// Push events and IMAP hibernation (push.go).
	Push          *PushEvents
	PushScript    string
	HibernateSecs int
}

// confTemplate is a complete dovecot.conf (no includes from /etc/dovecot,
// so the system configuration cannot interfere). Dovecot 2.3 rejects
// one-line blocks: every setting is on its own line.
//
// The limits allow load tests with a few thousand concurrent IMAP
// connections: each connection is one imap process, and every imap process
// holds connections to the log, stats and anvil services, whose client
// limits default to default_client_limit.
var confTemplate = template.Must(template.New("dovecot.conf").Parse(`# Written by easd: changes are overwritten on the next start.
instance_name = easd-{{.Port}}
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
log_path = {{.LogPath}}
protocols = imap{{if .Sieve}} lmtp sieve{{end}}
listen = {{.Host}}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Failed logins are answered quickly (Dovecot still batches failures every
# 0.5 s) and without the growing per-IP penalty (see service anvil): all
# test clients share 127.0.0.1.
auth_failure_delay = 0
mail_location = maildir:{{.Dir}}/mail/%u
mail_fsync = never
# Only Dovecot writes these maildirs, so it need not read cur/ on every
# SELECT and STATUS: on a 10,000-message folder SELECT drops from 16 to
# 4 ms (docs/benchmarks.md).
maildir_very_dirty_syncs = yes
{{- /* Push events and hibernation: see push.go. The plugins are set
before any protocol block, whose $mail_plugins must include them. */}}
{{- if .Push}}

# Push events: every mailbox change is posted to easd by easd-push.lua,
# so waiting phones need no IDLE connection (docs/decisions.md).
mail_plugins = $mail_plugins notify push_notification mail_lua push_notification_lua
plugin {
  push_notification_driver = lua:file={{.PushScript}}
  easd_push_url = {{.Push.URL}}
  easd_push_secret = {{.Push.Secret}}
}
{{- end}}
{{- if .HibernateSecs}}

# An IDLE connection quiet for this long moves from its imap process into
# the shared imap-hibernate process (docs/benchmarks.md).
imap_hibernate_timeout = {{.HibernateSecs}}s
{{- end}}
first_valid_uid = {{.FirstUID}}
{{- if not .Root}}
default_login_user = {{.InternalUser}}
default_internal_user = {{.InternalUser}}
{{- end}}
default_client_limit = 10000
default_process_limit = 4096
default_vsz_limit = 0
{{- if .Master}}
auth_master_user_separator = *

passdb {
  driver = passwd-file
  master = yes
  # The target user must exist in the normal passdb.
  pass = yes
  args = scheme=PLAIN username_format=%u {{.MasterPasswdFile}}
}
{{- end}}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {{.PasswdFile}}
}

userdb {
  driver = static
  args = uid={{.MailUID}} gid={{.MailGID}} home={{.Dir}}/home/%u
}

namespace inbox {
  inbox = yes
  # '/' like most production setups (the maildir default is '.').
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
}

protocol imap {
  mail_max_userip_connections = 1000
}

service imap-login {
  inet_listener imap {
    address = {{.Host}}
    port = {{.Port}}
  }
  inet_listener imaps {
    port = 0
  }
  # High-performance mode: a few long-lived login processes serve all
  # clients instead of one process per connection.
  service_count = 0
  process_min_avail = 2
  client_limit = 4096
{{- if not .Root}}
  chroot =
{{- end}}
}

service imap {
  process_limit = 4096
{{- if .HibernateSecs}}
  # imap-hibernate runs as the internal user and hands a woken
  # connection back to a new imap process through this socket.
  unix_listener imap-master {
    user = $default_internal_user
  }
{{- end}}
}

service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
{{- if not .Root}}
  chroot =
{{- end}}
}
{{- if .Sieve}}

# --- Sieve (Pigeonhole): out-of-office replies -------------------------
# Mail delivered through LMTP runs the user's active Sieve script; easd
# writes that script through ManageSieve, and the vacation replies leave
# through submission_host.
submission_host = {{.SubmissionHost}}
postmaster_address = postmaster@localhost

protocol lmtp {
  mail_plugins = $mail_plugins sieve
  # Recipients arrive as addresses (alice@example.test); the passwd-file
  # knows the bare login.
  auth_username_format = %Ln
}

# Few processes: default_process_limit above is sized for IMAP, and the
# auth and anvil client limits must cover every service's processes.
service lmtp {
  process_limit = 64
  inet_listener lmtp {
    address = {{.LMTPHost}}
    port = {{.LMTPPort}}
  }
}

{{- if .SieveTLSCert}}

# ManageSieve offers STARTTLS (IMAP stays without TLS).
protocol sieve {
  ssl = yes
  ssl_cert = <{{.SieveTLSCert}}
  ssl_key = <{{.SieveTLSKey}}
}
{{- end}}

service managesieve-login {
  process_limit = 64
  inet_listener sieve {
    address = {{.ManageSieveHost}}
    port = {{.ManageSievePort}}
  }
{{- if not .Root}}
  chroot =
{{- end}}
}

plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
# --- end of Sieve --------------------------------------------------------
{{- end}}
`))

// writeConfig writes Dir/dovecot.conf and returns its path.
func (s *Server) writeConfig() (string, error) {
	host, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		return "", fmt.Errorf("dovecot: address %q: %w", s.addr, err)
	}
	d := confData{
		Dir: s.cfg.Dir, Host: host, Port: port,
		Root:         s.owner.root,
		MailUID:      s.owner.mail.UID,
		MailGID:      s.owner.mail.GID,
		FirstUID:     min(500, s.owner.mail.UID),
		InternalUser: s.owner.internal.Name,
		Master:       s.cfg.MasterUser != "",
		LogPath:      filepath.Join(s.cfg.Dir, "dovecot.log"),
		PasswdFile:   s.passwdPath(), MasterPasswdFile: s.masterPasswdPath(),
	}
	if err := s.sieveConfig(&d); err != nil {
		return "", err
	}
	if err := s.pushConfig(&d); err != nil {
		return "", err
	}
	if s.cfg.LogWriter != nil {
		// The log service inherits the master's stderr, which is
		// piped to LogWriter.
		d.LogPath = "/dev/stderr"
	}
	if d.FirstUID < 1 {
		d.FirstUID = 1
	}
	var buf bytes.Buffer
	if err := confTemplate.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("dovecot: config: %w", err)
	}
	path := filepath.Join(s.cfg.Dir, "dovecot.conf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("dovecot: %w", err)
	}
	return path, nil
}
