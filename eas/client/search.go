package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// Search sends a Search request as it is.
func (c *Client) Search(ctx context.Context, req *message.SearchRequest) (*message.SearchResponse, error) {
	var resp message.SearchResponse
	if err := c.Do(ctx, "Search", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
