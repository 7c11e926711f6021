package client

import (
	"context"
	"time"

	"github.com/easd/easd/eas/message"
)

// Ping waits up to heartbeat for a change in folders. With no folders the
// server reuses the device's previous Ping. The server may answer at once,
// e.g. with Status 5 when heartbeat is outside its bounds.
func (c *Client) Ping(ctx context.Context, heartbeat time.Duration, folders ...message.PingFolder) (*message.PingResponse, error) {
	req := &message.PingRequest{HeartbeatInterval: int(heartbeat / time.Second)}
	if len(folders) > 0 {
		req.Folders = &message.PingFolders{Folder: folders}
	}
	var resp message.PingResponse
	if err := c.Do(ctx, "Ping", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// PingEmpty sends a Ping without a body: the server reuses the heartbeat
// and folders of the device's previous Ping (Status 3 when it has none).
func (c *Client) PingEmpty(ctx context.Context) (*message.PingResponse, error) {
	var resp message.PingResponse
	if err := c.Do(ctx, "Ping", nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
