package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// NewPingRequest builds the HTTP request of a Ping (as Ping sends it)
// without sending it. A caller holding thousands of Pings writes it to a
// connection of its own (req.Write) and reads the answer later with
// http.ReadResponse and DecodePing, without the goroutines an
// http.Transport keeps per connection.
func (c *Client) NewPingRequest(ctx context.Context, heartbeat time.Duration, folders ...message.PingFolder) (*http.Request, error) {
	req := &message.PingRequest{HeartbeatInterval: int(heartbeat / time.Second)}
	if len(folders) > 0 {
		req.Folders = &message.PingFolders{Folder: folders}
	}
	body, err := wbxml.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("eas client: encode Ping: %w", err)
	}
	u, err := c.commandURL("Ping", nil)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
	c.setHeaders(r)
	return r, nil
}

// DecodePing reads a Ping answer read by the caller (see NewPingRequest)
// and closes its body. A non-200 answer is *HTTPError.
func DecodePing(resp *http.Response) (*message.PingResponse, error) {
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("eas client: Ping: read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{Code: resp.StatusCode, Header: resp.Header, Body: string(data)}
	}
	var out message.PingResponse
	if err := wbxml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("eas client: decode Ping response: %w", err)
	}
	return &out, nil
}
