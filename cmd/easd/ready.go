package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// runReady asks a running easd whether it is ready (GET /readyz); the exit
// code says so. Container healthchecks use it: the image has no curl.
//
// Without --url it asks the easd that the same environment configures:
// EASD_LISTEN's port (EASD_ADMIN_LISTEN's with EASD_METRICS_ON_ADMIN) on
// loopback, over HTTPS when EASD_TLS_CERT is set, so
// a healthcheck keeps working when the port changes.
func runReady(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("easd ready", flag.ContinueOnError)
	fs.SetOutput(stderr)
	derived, tlsOn := readyURL(os.LookupEnv)
	url := fs.String("url", derived, "readiness URL of the easd to ask (default from EASD_LISTEN and EASD_TLS_CERT)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for an answer")
	if err := parseQuietly(fs, func() error { return fs.Parse(args) }); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(stderr, oneLine("easd: "+err.Error()))
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd: "+err.Error()))
		return exitUsage
	}
	client := http.DefaultClient
	if tlsOn && *url == derived {
		// The certificate names the public host, not loopback; the
		// answer is only "ready" and nothing secret is sent.
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback readiness only
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd: not ready: "+err.Error()))
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprint(stdout, string(body))
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// readyURL is the /readyz URL of the easd configured by env.
func readyURL(env func(string) (string, bool)) (url string, tlsOn bool) {
	listen := ":8080"
	if v, ok := env("EASD_LISTEN"); ok && v != "" {
		listen = v
	}
	// With --metrics-on-admin, /readyz is on the admin listener.
	if v, _ := env("EASD_METRICS_ON_ADMIN"); v == "true" || v == "1" {
		if a, ok := env("EASD_ADMIN_LISTEN"); ok && a != "" {
			listen = a
		}
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = "", "8080"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	if v, ok := env("EASD_TLS_CERT"); ok && v != "" {
		scheme, tlsOn = "https", true
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/readyz", tlsOn
}
