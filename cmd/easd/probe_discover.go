package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/eas/client"
)

// autodiscover asks the probed server itself, with the user's
// credentials: the first login, and what a phone gets when the user
// typed the server name.
func (p *prober) autodiscover(ctx context.Context, _ *probeStep) (probeLevel, string, error) {
	res, err := p.c.Autodiscover(ctx, p.o.email, "")
	if err != nil {
		return 0, "", err
	}
	want := p.o.baseURL + client.Path
	if !strings.EqualFold(res.URL, want) {
		// Phones use what Autodiscover says, not what was probed: an
		// http URL behind a TLS proxy, or an internal host name, breaks
		// their setup (see --public-url).
		return probeWarn, fmt.Sprintf("points phones to %s, not to the probed %s", res.URL, want), nil
	}
	return probeOK, res.URL, nil
}

// Attempt outcomes: found an answer; nothing there (a phone moves on
// silently); something there that a phone stumbles on; not tried.
const (
	attemptOK   = "ok"
	attemptNone = "none"
	attemptFail = "fail"
	attemptSkip = "skip"
)

// discover looks for the server from the e-mail address alone, in the
// order phones do (MS-OXDSCLI 3.1.5): POST to https://DOMAIN, then to
// https://autodiscover.DOMAIN, then the unauthenticated GET on
// http://autodiscover.DOMAIN whose redirect names the https URL to post
// to, then the SRV record _autodiscover._tcp.DOMAIN. Like a phone it
// stops at the first answer; every attempt is reported.
func (p *prober) discover(ctx context.Context, s *probeStep) (probeLevel, string, error) {
	_, domain, ok := strings.Cut(p.o.email, "@")
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	switch {
	case !ok || domain == "":
		return probeSkip, "no domain in " + p.o.email + " (--email)", nil
	case net.ParseIP(domain) != nil || !strings.Contains(domain, "."):
		return probeSkip, "the address's domain " + domain + " is no Internet domain; --email sets the address users type", nil
	}
	const path = client.AutodiscoverPath
	methods := []struct {
		method, url string
		try         func(ctx context.Context, a *probeAttempt)
	}{
		{"domain", "https://" + domain + path, p.tryPost},
		{"autodiscover_host", "https://autodiscover." + domain + path, p.tryPost},
		{"redirect", "http://autodiscover." + domain + path, p.tryRedirect},
		{"srv", "_autodiscover._tcp." + domain, p.trySRV},
	}
	var found *probeAttempt
	var stumbles []string
	for _, m := range methods {
		s.Attempts = append(s.Attempts, probeAttempt{Method: m.method, URL: m.url})
		a := &s.Attempts[len(s.Attempts)-1]
		if found != nil {
			a.Result, a.Detail = attemptSkip, "not tried: a phone stops at the first answer"
			continue
		}
		actx, cancel := context.WithTimeout(ctx, p.o.timeout)
		start := time.Now()
		m.try(actx, a)
		cancel()
		a.MS = time.Since(start).Milliseconds()
		switch {
		case a.Result == attemptOK:
			found = a
		case a.Result == attemptFail:
			stumbles = append(stumbles, a.URL+": "+a.Detail)
		case time.Duration(a.MS)*time.Millisecond >= p.o.timeout:
			stumbles = append(stumbles, a.URL+": phones wait here before trying the next way")
		}
	}
	want := p.o.baseURL + client.Path
	switch {
	case found == nil:
		return probeWarn, "phones cannot find the server from " + p.o.email + "; users must type the server name (see the attempts)", nil
	case !strings.EqualFold(found.Found, want):
		return probeWarn, fmt.Sprintf("%s leads phones to %s, not to the probed %s", p.o.email, found.Found, want), nil
	case len(stumbles) > 0:
		return probeWarn, fmt.Sprintf("%s leads phones here (%s), after a detour: %s", p.o.email, found.Method, strings.Join(stumbles, "; ")), nil
	}
	return probeOK, fmt.Sprintf("%s leads phones here (%s)", p.o.email, found.Method), nil
}

// tryPost posts the Autodiscover request to a.URL with the user's
// credentials, as a phone does on https URLs only.
func (p *prober) tryPost(ctx context.Context, a *probeAttempt) {
	p.postAutodiscover(ctx, a, a.URL)
}

func (p *prober) postAutodiscover(ctx context.Context, a *probeAttempt, u string) {
	res, err := p.c.AutodiscoverAt(ctx, u, p.o.email, "")
	a.Result, a.Detail = adAttemptVerdict(err)
	if err != nil {
		return
	}
	// With --insecure the request went through; a phone's would not have.
	if pu, perr := url.Parse(u); perr == nil {
		if t := p.certs.get(pu.Hostname()); t != nil && len(t.Problems) > 0 {
			a.Result, a.Detail = attemptFail, "answers, but a phone refuses its certificate: "+strings.Join(t.Problems, "; ")
			return
		}
	}
	a.Found = res.URL
	a.Detail = "names " + res.URL
}

// adAttemptVerdict sorts an Autodiscover failure into "nothing there",
// after which a phone quietly tries the next way, and "broken", where it
// shows an error, asks for the password again or warns about a
// certificate.
func adAttemptVerdict(err error) (string, string) {
	var he *client.HTTPError
	var ae *client.AutodiscoverError
	var ce *certError
	switch {
	case err == nil:
		return attemptOK, ""
	case errors.As(err, &ce):
		return attemptFail, "a phone refuses its certificate: " + strings.Join(ce.problems, "; ")
	case errors.As(err, &ae):
		return attemptFail, ae.Error()
	case errors.As(err, &he) && he.Code == http.StatusUnauthorized:
		return attemptFail, "credentials refused (HTTP 401): phones ask for the password again"
	case errors.As(err, &he) && he.Code >= 300 && he.Code < 400:
		return attemptNone, fmt.Sprintf("HTTP %d to %s; phones do not follow a redirect of this POST", he.Code, orDash(he.Header.Get("Location")))
	case errors.As(err, &he) && he.Code >= 500:
		return attemptFail, fmt.Sprintf("HTTP %d", he.Code)
	case errors.As(err, &he):
		return attemptNone, fmt.Sprintf("HTTP %d: no Autodiscover here", he.Code)
	case isNetError(err):
		return attemptNone, netText(err)
	default:
		// A web site answering 200 with its home page, typically.
		return attemptNone, "the answer is no Autodiscover document"
	}
}

// isNetError reports a failure to reach the server at all.
func isNetError(err error) bool {
	var ne net.Error
	var dns *net.DNSError
	var oe *net.OpError
	return errors.As(err, &dns) || errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// tryRedirect is the HTTP redirect method: an unauthenticated GET on the
// plain-HTTP URL whose redirect names the https URL to post to. Phones
// follow it only to https, and ask the user first.
func (p *prober) tryRedirect(ctx context.Context, a *probeAttempt) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL, nil)
	if err != nil {
		a.Result, a.Detail = attemptFail, err.Error()
		return
	}
	req.Header.Set("User-Agent", p.c.UserAgent)
	resp, err := p.c.HTTP.Do(req)
	if err != nil {
		a.Result, a.Detail = attemptNone, netText(err)
		return
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		a.Result, a.Detail = attemptNone, fmt.Sprintf("HTTP %d, no redirect", resp.StatusCode)
		return
	}
	target, err := resp.Request.URL.Parse(loc)
	switch {
	case loc == "" || err != nil:
		a.Result, a.Detail = attemptFail, fmt.Sprintf("HTTP %d without a usable Location", resp.StatusCode)
		return
	case target.Scheme != "https":
		a.Result, a.Detail = attemptFail, "redirects to "+target.String()+"; phones follow only a redirect to https"
		return
	}
	p.postAutodiscover(ctx, a, target.String())
	a.Detail = "redirects to " + target.String() + "; " + a.Detail
}

// trySRV looks the SRV record up and posts to the host and port it names.
func (p *prober) trySRV(ctx context.Context, a *probeAttempt) {
	name := strings.TrimPrefix(a.URL, "_autodiscover._tcp.")
	_, addrs, err := p.net.resolver().LookupSRV(ctx, "autodiscover", "tcp", name)
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound, err == nil && len(addrs) == 0:
		a.Result, a.Detail = attemptNone, "no SRV record"
		return
	case err != nil:
		a.Result, a.Detail = attemptFail, "DNS: "+netText(err)
		return
	}
	// LookupSRV sorts by priority and shuffles by weight: the first is
	// the one a phone would use.
	host := strings.TrimSuffix(addrs[0].Target, ".")
	hostPort := host
	if addrs[0].Port != 443 {
		hostPort = net.JoinHostPort(host, strconv.Itoa(int(addrs[0].Port)))
	}
	u := "https://" + hostPort + client.AutodiscoverPath
	p.postAutodiscover(ctx, a, u)
	a.Detail = "points to " + u + "; " + a.Detail
}
