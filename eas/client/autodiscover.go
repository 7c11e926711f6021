package client

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Autodiscover response schemas a client may ask for.
const (
	MobileSyncSchema = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
	OutlookSchema    = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// AutodiscoverPath is where the POX Autodiscover service lives; the JSON
// (v2) service is the same path with .json.
const AutodiscoverPath = "/autodiscover/autodiscover.xml"

// AutodiscoverResult is what a mobilesync Autodiscover answer says.
type AutodiscoverResult struct {
	DisplayName  string
	EMailAddress string
	URL          string // the MobileSync server URL
	Name         string
}

// AutodiscoverError is an Autodiscover answer that carries an error
// document (HTTP 200 with ErrorCode, as Exchange answers).
type AutodiscoverError struct {
	Code    int
	Message string
	Debug   string
}

func (e *AutodiscoverError) Error() string {
	s := fmt.Sprintf("autodiscover error %d: %s", e.Code, e.Message)
	if e.Debug != "" {
		s += " (" + e.Debug + ")"
	}
	return s
}

// adResponse reads both the mobilesync answer and the error answer; the
// namespaces are not checked so that any Exchange-like server's reply is
// understood.
type adResponse struct {
	XMLName  xml.Name `xml:"Autodiscover"`
	Response struct {
		User struct {
			DisplayName  string `xml:"DisplayName"`
			EMailAddress string `xml:"EMailAddress"`
		} `xml:"User"`
		Action struct {
			Settings struct {
				Server []struct {
					Type string `xml:"Type"`
					URL  string `xml:"Url"`
					Name string `xml:"Name"`
				} `xml:"Server"`
			} `xml:"Settings"`
			Error *adError `xml:"Error"`
		} `xml:"Action"`
		Error *adError `xml:"Error"`
	} `xml:"Response"`
}

type adError struct {
	ErrorCode int    `xml:"ErrorCode"`
	Status    int    `xml:"Status"`
	Message   string `xml:"Message"`
	DebugData string `xml:"DebugData"`
}

// Autodiscover posts a POX Autodiscover request for email asking for
// schema (MobileSyncSchema when empty) to BaseURL and returns the
// MobileSync server. An error document is *AutodiscoverError, another
// HTTP status *HTTPError.
func (c *Client) Autodiscover(ctx context.Context, email, schema string) (*AutodiscoverResult, error) {
	return c.AutodiscoverAt(ctx, strings.TrimRight(c.BaseURL, "/")+AutodiscoverPath, email, schema)
}

// AutodiscoverAt is Autodiscover posting to the full URL u instead of
// BaseURL: a phone looking for its server tries URLs on other hosts (the
// address's domain, autodiscover.DOMAIN, a redirect's target, an SRV
// record's host) before it knows BaseURL.
func (c *Client) AutodiscoverAt(ctx context.Context, u, email, schema string) (*AutodiscoverResult, error) {
	if schema == "" {
		schema = MobileSyncSchema
	}
	var body bytes.Buffer
	body.WriteString(xml.Header)
	body.WriteString(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"><Request><EMailAddress>`)
	_ = xml.EscapeText(&body, []byte(email))
	body.WriteString(`</EMailAddress><AcceptableResponseSchema>`)
	_ = xml.EscapeText(&body, []byte(schema))
	body.WriteString(`</AcceptableResponseSchema></Request></Autodiscover>`)

	data, err := c.autodiscoverDo(ctx, http.MethodPost, u, &body)
	if err != nil {
		return nil, err
	}
	var resp adResponse
	if err := xml.Unmarshal(data, &resp); err != nil {
		return nil, fmt.Errorf("eas client: Autodiscover: malformed answer: %w", err)
	}
	for _, e := range []*adError{resp.Response.Error, resp.Response.Action.Error} {
		if e != nil {
			code := e.ErrorCode
			if code == 0 {
				code = e.Status
			}
			return nil, &AutodiscoverError{Code: code, Message: e.Message, Debug: e.DebugData}
		}
	}
	for _, s := range resp.Response.Action.Settings.Server {
		if s.Type == "MobileSync" && s.URL != "" {
			return &AutodiscoverResult{DisplayName: resp.Response.User.DisplayName,
				EMailAddress: resp.Response.User.EMailAddress, URL: s.URL, Name: s.Name}, nil
		}
	}
	return nil, fmt.Errorf("eas client: Autodiscover: answer names no MobileSync server")
}

// AutodiscoverJSON asks the Autodiscover v2 service (unauthenticated)
// for protocol's URL, e.g. "ActiveSync".
func (c *Client) AutodiscoverJSON(ctx context.Context, email, protocol string) (string, error) {
	u := strings.TrimRight(c.BaseURL, "/") + "/autodiscover/autodiscover.json?" +
		url.Values{"Email": {email}, "Protocol": {protocol}}.Encode()
	data, err := c.autodiscoverDo(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	var resp struct {
		Protocol string
		URL      string `json:"Url"`
	}
	if err := json.Unmarshal(data, &resp); err != nil || resp.URL == "" {
		return "", fmt.Errorf("eas client: Autodiscover v2: malformed answer %q", strings.TrimSpace(string(data)))
	}
	return resp.URL, nil
}

// autodiscoverDo sends one Autodiscover request with the client's
// credentials (GET requests go without) and returns a 200 answer's body.
func (c *Client) autodiscoverDo(ctx context.Context, method, u string, body io.Reader) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "text/xml")
		req.SetBasicAuth(c.User, c.Password)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("eas client: Autodiscover: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("eas client: Autodiscover: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Code: resp.StatusCode, Header: resp.Header, Body: string(data)}
	}
	return data, nil
}
