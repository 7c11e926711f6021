package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// GetItemEstimate asks how many changes a Sync of collectionID since key
// would bring, with FilterType filter (nil: none).
func (c *Client) GetItemEstimate(ctx context.Context, collectionID, key string, filter *int) (*message.GetItemEstimateResponse, error) {
	col := message.GetItemEstimateCollection{CollectionID: collectionID, SyncKey: key}
	if filter != nil {
		col.Options = []message.SyncOptions{{FilterType: filter}}
	}
	req := &message.GetItemEstimateRequest{Collections: &message.GetItemEstimateCollections{
		Collection: []message.GetItemEstimateCollection{col}}}
	var resp message.GetItemEstimateResponse
	if err := c.Do(ctx, "GetItemEstimate", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
