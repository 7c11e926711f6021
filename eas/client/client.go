// Package client is a Go Exchange ActiveSync client. The end-to-end tests
// use it to act as a phone, `easd probe` to check a deployment, and the load
// tools to simulate fleets. It speaks WBXML through the project's codec and
// the document types of package message.
package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/easd/easd/internal/freelist"
	"github.com/easd/easd/wbxml"
)

// Client is one device of one user.
type Client struct {
	BaseURL    string // e.g. https://mail.example.com (without the EAS path)
	User       string
	Password   string
	DeviceID   string
	DeviceType string
	UserAgent  string
	Version    string // protocol version to speak, e.g. "16.1"
	PolicyKey  uint32 // sent as X-MS-PolicyKey when not 0
	// Base64Query sends the command in the base64 query form of
	// MS-ASHTTP 2.2.1.1.1.1 instead of the plain form.
	Base64Query bool
	HTTP        *http.Client // nil: http.DefaultClient
}

// HTTPError is a non-200 answer.
type HTTPError struct {
	Code   int
	Header http.Header
	Body   string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Code, strings.TrimSpace(e.Body))
}

// Path is the EAS endpoint.
const Path = "/Microsoft-Server-ActiveSync"

// Do sends cmd with request document req (nil: no body) and decodes the
// answer into resp (nil: ignore the body). A non-200 answer is *HTTPError.
func (c *Client) Do(ctx context.Context, cmd string, req, resp any) error {
	var body []byte
	if req != nil {
		var err error
		if body, err = wbxml.Marshal(req); err != nil {
			return fmt.Errorf("eas client: encode %s: %w", cmd, err)
		}
	}
	// The answer is decoded into resp, which keeps no slice of it: its
	// buffer serves the next request (a Sync window is megabytes).
	buf, _ := answerBuffers.Get()
	r, data, err := c.roundTrip(ctx, cmd, nil, "application/vnd.ms-sync.wbxml", body, buf)
	if err != nil {
		return err
	}
	if cap(data) <= maxKeptAnswer {
		defer answerBuffers.Put(data[:0])
	}
	if r.StatusCode != http.StatusOK {
		return &HTTPError{Code: r.StatusCode, Header: r.Header, Body: string(data)}
	}
	if resp == nil || len(data) == 0 {
		return nil
	}
	if err := wbxml.Unmarshal(data, resp); err != nil {
		return fmt.Errorf("eas client: decode %s response: %w", cmd, err)
	}
	return nil
}

// DoRaw posts body as cmd with extra query parameters and returns the HTTP
// response (body already read and closed) and its body.
func (c *Client) DoRaw(ctx context.Context, cmd string, params url.Values, contentType string, body []byte) (*http.Response, []byte, error) {
	return c.roundTrip(ctx, cmd, params, contentType, body, nil)
}

// roundTrip is DoRaw reading the answer into buf when it fits.
func (c *Client) roundTrip(ctx context.Context, cmd string, params url.Values, contentType string, body, buf []byte) (*http.Response, []byte, error) {
	u, err := c.commandURL(cmd, params)
	if err != nil {
		return nil, nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, rd)
	if err != nil {
		return nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	c.setHeaders(req)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("eas client: %s: %w", cmd, err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp, buf)
	if err != nil {
		return resp, nil, fmt.Errorf("eas client: %s: read response: %w", cmd, err)
	}
	return resp, data, nil
}

// readBody reads an answer in one allocation when its length is known:
// a Sync window is megabytes, and io.ReadAll would grow and copy it a
// dozen times.
func readBody(resp *http.Response, buf []byte) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > 256<<20 {
		return io.ReadAll(resp.Body)
	}
	data := buf[:0]
	if int64(cap(buf)) < n {
		data = make([]byte, n)
	}
	data = data[:n]
	if _, err := io.ReadFull(resp.Body, data); err != nil {
		return nil, err
	}
	return data, nil
}

func (c *Client) setHeaders(req *http.Request) {
	req.SetBasicAuth(c.User, c.Password)
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if !c.Base64Query {
		req.Header.Set("MS-ASProtocolVersion", c.Version)
		if c.PolicyKey != 0 {
			req.Header.Set("X-MS-PolicyKey", strconv.FormatUint(uint64(c.PolicyKey), 10))
		}
	}
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Options asks which versions and commands the server supports.
func (c *Client) Options(ctx context.Context) (versions, commands []string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, strings.TrimRight(c.BaseURL, "/")+Path, nil)
	if err != nil {
		return nil, nil, err
	}
	c.setHeaders(req)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("eas client: OPTIONS: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, &HTTPError{Code: resp.StatusCode, Header: resp.Header}
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	return split(resp.Header.Get("MS-ASProtocolVersions")), split(resp.Header.Get("MS-ASProtocolCommands")), nil
}

func (c *Client) commandURL(cmd string, params url.Values) (string, error) {
	base := strings.TrimRight(c.BaseURL, "/") + Path + "?"
	if !c.Base64Query {
		q := url.Values{"Cmd": {cmd}, "User": {c.User}, "DeviceId": {c.DeviceID}, "DeviceType": {c.DeviceType}}
		for k, v := range params {
			q[k] = v
		}
		return base + q.Encode(), nil
	}
	b, err := c.base64Query(cmd, params)
	if err != nil {
		return "", err
	}
	return base + base64.StdEncoding.EncodeToString(b), nil
}

var commandCodes = map[string]byte{
	"Sync": 0, "SendMail": 1, "SmartForward": 2, "SmartReply": 3, "GetAttachment": 4,
	"FolderSync": 9, "FolderCreate": 10, "FolderDelete": 11, "FolderUpdate": 12,
	"MoveItems": 13, "GetItemEstimate": 14, "MeetingResponse": 15, "Search": 16,
	"Settings": 17, "Ping": 18, "ItemOperations": 19, "Provision": 20,
	"ResolveRecipients": 21, "ValidateCert": 22, "Find": 23,
}

var paramTags = map[string]byte{
	"AttachmentName": 0, "CollectionId": 1, "ItemId": 3, "LongId": 4, "Occurrence": 6, "User": 8,
}

// base64Query builds the binary query of MS-ASHTTP 2.2.1.1.1.1.
func (c *Client) base64Query(cmd string, params url.Values) ([]byte, error) {
	code, ok := commandCodes[cmd]
	if !ok {
		return nil, fmt.Errorf("eas client: no base64 code for command %q", cmd)
	}
	major, minor, _ := strings.Cut(c.Version, ".")
	ver, err := strconv.Atoi(major + minor)
	if err != nil {
		return nil, fmt.Errorf("eas client: version %q: %w", c.Version, err)
	}
	var b []byte
	field := func(v []byte) { b = append(b, byte(len(v))); b = append(b, v...) }
	b = append(b, byte(ver), code)
	b = binary.LittleEndian.AppendUint16(b, 0x0409)
	field([]byte(c.DeviceID))
	if c.PolicyKey != 0 {
		field(binary.LittleEndian.AppendUint32(nil, c.PolicyKey))
	} else {
		field(nil)
	}
	field([]byte(c.DeviceType))
	b = append(b, paramTags["User"])
	field([]byte(c.User))
	for k, vs := range params {
		tag, ok := paramTags[k]
		if !ok {
			return nil, fmt.Errorf("eas client: no base64 tag for parameter %q", k)
		}
		for _, v := range vs {
			b = append(b, tag)
			field([]byte(v))
		}
	}
	return b, nil
}

// answerBuffers keeps a few answer buffers for Do; a buffer larger than
// maxKeptAnswer (a rare huge answer) is left to the garbage collector.
var answerBuffers = freelist.New[[]byte](4)

const maxKeptAnswer = 16 << 20
