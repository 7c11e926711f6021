package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// Find sends a Find request (16.1) as it is.
func (c *Client) Find(ctx context.Context, req *message.FindRequest) (*message.FindResponse, error) {
	var resp message.FindResponse
	if err := c.Do(ctx, "Find", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
