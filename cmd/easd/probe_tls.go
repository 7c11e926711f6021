package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// probeNet is how the probe reaches the network. The zero value is the
// real network; tests put loopback servers behind made-up host names and
// answer SRV queries themselves.
type probeNet struct {
	// dial opens a connection to addr ("host:port"); nil: net.Dialer.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// srv answers SRV queries; nil: net.DefaultResolver.
	srv srvResolver
	// roots are the trusted CAs; nil: the system's, as on a phone.
	roots *x509.CertPool
	// now is the clock certificates are judged by; nil: time.Now.
	now func() time.Time
}

// srvResolver is the one DNS query the probe makes itself; *net.Resolver
// has it.
type srvResolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

func (n *probeNet) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if n.dial != nil {
		return n.dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (n *probeNet) resolver() srvResolver {
	if n.srv != nil {
		return n.srv
	}
	return net.DefaultResolver
}

func (n *probeNet) clock() time.Time {
	if n.now != nil {
		return n.now()
	}
	return time.Now()
}

// certWarnDays is how early an expiry is reported: two weeks leave time
// to notice a failed automatic renewal.
const certWarnDays = 14

// certError is a certificate a phone refuses. It ends the handshake
// unless --insecure, so the reason is the probe's, not crypto/tls's
// shorter one.
type certError struct {
	host     string
	problems []string
}

func (e *certError) Error() string {
	return "a phone refuses the certificate of " + e.host + ": " + strings.Join(e.problems, "; ")
}

// certBook records what every TLS handshake of the probe showed, by host,
// so that a step that passed with --insecure can still say what a phone
// would have refused.
type certBook struct {
	mu    sync.Mutex
	hosts map[string]*probeTLS
}

func (b *certBook) put(t *probeTLS) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hosts == nil {
		b.hosts = map[string]*probeTLS{}
	}
	b.hosts[strings.ToLower(t.Host)] = t
}

func (b *certBook) get(host string) *probeTLS {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hosts[strings.ToLower(host)]
}

// tlsConfig verifies certificates itself rather than through crypto/tls,
// so that every problem is found and named (not only the first), and so
// that --insecure can go on while still knowing what a phone would say.
func (p *prober) tlsConfig(serverName string) *tls.Config {
	return &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			t := checkCerts(cs.ServerName, cs.PeerCertificates, p.net.roots, p.net.clock())
			t.Version = tls.VersionName(cs.Version)
			p.certs.put(t)
			if len(t.Problems) > 0 && !p.o.insecure {
				return &certError{host: cs.ServerName, problems: t.Problems}
			}
			return nil
		},
	}
}

// httpClient is the probe's HTTP client: its dialer, its certificate
// checks, and no redirects followed, because which redirect a phone
// follows is itself something the probe reports.
func (p *prober) httpClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a phone on the Internet has no proxy settings
	tr.DialContext = p.net.dialContext
	tr.TLSClientConfig = p.tlsConfig("")
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkCerts judges a served chain as a phone would: trusted roots, the
// host name, validity dates. Problems are what makes a phone refuse it;
// warnings what will soon.
func checkCerts(host string, certs []*x509.Certificate, roots *x509.CertPool, now time.Time) *probeTLS {
	t := &probeTLS{Host: host, Names: []string{}, Chain: []probeCert{}, Problems: []string{}, Warnings: []string{}}
	if len(certs) == 0 {
		t.Problems = append(t.Problems, "the server sent no certificate")
		return t
	}
	for _, c := range certs {
		t.Chain = append(t.Chain, probeCert{Subject: certName(c.Subject.CommonName, c.Subject.String()),
			Issuer: certName(c.Issuer.CommonName, c.Issuer.String()), NotAfter: c.NotAfter.UTC()})
	}
	leaf := certs[0]
	t.Names = append(t.Names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		t.Names = append(t.Names, ip.String())
	}
	t.NotAfter = leaf.NotAfter.UTC()
	t.DaysLeft = int(math.Floor(leaf.NotAfter.Sub(now).Hours() / 24))
	day := func(tm time.Time) string { return tm.UTC().Format("2006-01-02") }
	switch {
	case now.After(leaf.NotAfter):
		t.Problems = append(t.Problems, fmt.Sprintf("expired on %s (%d days ago)", day(leaf.NotAfter), int(now.Sub(leaf.NotAfter).Hours()/24)))
	case now.Before(leaf.NotBefore):
		t.Problems = append(t.Problems, fmt.Sprintf("not valid before %s: check the server's clock", leaf.NotBefore.UTC().Format(time.RFC3339)))
	case t.DaysLeft < certWarnDays:
		t.Warnings = append(t.Warnings, fmt.Sprintf("expires in %d days (%s): renew it", t.DaysLeft, day(leaf.NotAfter)))
	}
	for _, c := range certs[1:] {
		name := certName(c.Subject.CommonName, c.Subject.String())
		switch {
		case now.After(c.NotAfter):
			t.Problems = append(t.Problems, fmt.Sprintf("the intermediate certificate %q expired on %s: serve the current chain", name, day(c.NotAfter)))
		case c.NotAfter.Sub(now) < certWarnDays*24*time.Hour:
			t.Warnings = append(t.Warnings, fmt.Sprintf("the intermediate certificate %q expires on %s", name, day(c.NotAfter)))
		}
	}
	if host != "" {
		if err := leaf.VerifyHostname(host); err != nil {
			names := strings.Join(t.Names, ", ")
			if names == "" {
				names = "no host name (only the subject " + t.Chain[0].Subject + ", which phones ignore)"
			}
			t.Problems = append(t.Problems, fmt.Sprintf("issued for %s, not for %s", names, host))
		}
	}
	// Trust is judged at a moment the leaf is valid, so that an expired
	// certificate from an unknown CA is reported as both.
	at := now
	switch {
	case now.After(leaf.NotAfter):
		at = leaf.NotAfter.Add(-time.Minute)
	case now.Before(leaf.NotBefore):
		at = leaf.NotBefore.Add(time.Minute)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &ua) && isSelfSigned(leaf):
		t.Problems = append(t.Problems, "self-signed: phones refuse it unless each user installs it by hand; use a certificate from a public CA (e.g. Let's Encrypt)")
	case errors.As(err, &ua) && len(certs) == 1:
		t.Problems = append(t.Problems, fmt.Sprintf("the server sends no intermediate certificate, and phones do not know its issuer %q: serve the full chain (fullchain.pem, not cert.pem)", t.Chain[0].Issuer))
	case errors.As(err, &ua):
		t.Problems = append(t.Problems, fmt.Sprintf("issued by %q, which phones do not trust", t.Chain[len(t.Chain)-1].Issuer))
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		// An expired intermediate, already named above.
	default:
		t.Problems = append(t.Problems, "chain not valid: "+err.Error())
	}
	t.Trusted = len(t.Problems) == 0
	return t
}

func certName(cn, full string) string {
	if cn != "" {
		return cn
	}
	return full
}

func isSelfSigned(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// connect opens the probed host's port as a phone would before any
// request: the TCP connection, and for https the TLS handshake with the
// certificate checks. It also catches the scheme that does not match the
// port, which otherwise shows as an obscure error on every later step.
func (p *prober) connect(ctx context.Context, s *probeStep) (probeLevel, string, error) {
	u, err := url.Parse(p.o.baseURL)
	if err != nil {
		return 0, "", err
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(host, port)
	raw, err := p.net.dialContext(ctx, "tcp", addr)
	if err != nil {
		p.stop = "not tried: no connection"
		return probeFail, "network: " + netText(err), nil
	}
	if u.Scheme == "http" {
		raw.Close()
		return p.connectPlain(ctx, host, addr)
	}
	conn := tls.Client(raw, p.tlsConfig(host))
	defer conn.Close()
	err = conn.HandshakeContext(ctx)
	t := p.certs.get(host)
	s.TLS = t
	var ce *certError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &ce):
		p.stop = "not tried: a phone refuses the certificate (--insecure goes on regardless)"
		return probeFail, ce.Error(), nil
	case errors.As(err, &rh):
		p.stop = "not tried: wrong scheme"
		return probeFail, fmt.Sprintf("https:// to a port that speaks plain HTTP: use http://%s, or put TLS (a proxy) in front of it", addr), nil
	case err != nil:
		p.stop = "not tried: no TLS connection"
		return probeFail, "TLS handshake: " + netText(err), nil
	case t == nil:
		return probeFail, "TLS handshake without a certificate check", nil
	}
	detail := fmt.Sprintf("%s; certificate for %s, valid until %s (%d days), issued by %s",
		t.Version, strings.Join(t.Names, ", "), t.NotAfter.Format("2006-01-02"), t.DaysLeft, t.Chain[0].Issuer)
	switch {
	case len(t.Problems) > 0:
		return probeWarn, "--insecure: a phone would refuse the certificate: " + strings.Join(append(t.Problems, t.Warnings...), "; "), nil
	case len(t.Warnings) > 0:
		return probeWarn, strings.Join(t.Warnings, "; ") + "; " + detail, nil
	}
	return probeOK, detail, nil
}

// tlsSniffTimeout bounds the check whether a plain-HTTP port speaks TLS
// after all; a plain server answers a ClientHello at once (400) or not
// at all.
const tlsSniffTimeout = 3 * time.Second

// connectPlain checks that an http:// port speaks HTTP and not TLS. A
// TLS server answers a plain request with a TLS alert or a 400 that
// clients report as "malformed HTTP response": one line here instead.
func (p *prober) connectPlain(ctx context.Context, host, addr string) (probeLevel, string, error) {
	sctx, cancel := context.WithTimeout(ctx, tlsSniffTimeout)
	defer cancel()
	if raw, err := p.net.dialContext(sctx, "tcp", addr); err == nil {
		conn := tls.Client(raw, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // only asks whether the port speaks TLS
		err = conn.HandshakeContext(sctx)
		conn.Close()
		if err == nil {
			p.stop = "not tried: wrong scheme"
			return probeFail, fmt.Sprintf("http:// to a port that speaks TLS: use https://%s", addr), nil
		}
	}
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return probeOK, "plain HTTP on the loopback interface (TLS expected in front)", nil
	}
	return probeWarn, "plain HTTP: passwords cross the network unencrypted, and most phones insist on TLS; probe the public https:// URL", nil
}

// netText shortens a network error to its cause.
func netText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return dns.Name + " has no address (DNS)"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the time limit"
	}
	return err.Error()
}
