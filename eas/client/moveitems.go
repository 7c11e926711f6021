package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// MoveItems moves items; each answer carries the item's new ServerId.
func (c *Client) MoveItems(ctx context.Context, moves ...message.MoveItem) (*message.MoveItemsResponse, error) {
	var resp message.MoveItemsResponse
	if err := c.Do(ctx, "MoveItems", &message.MoveItemsRequest{Move: moves}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
