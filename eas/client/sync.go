package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// SyncFolder asks for the changes of one collection since key ("0": start
// a new partnership, which returns only a key). windowSize 0 leaves the
// server's default.
func (c *Client) SyncFolder(ctx context.Context, collectionID, key string, windowSize int) (*message.SyncResponse, error) {
	col := message.SyncCollection{SyncKey: key, CollectionID: collectionID, WindowSize: windowSize}
	// GetChanges with key 0 is an error for some servers (MS-ASCMD
	// 2.2.3.84): the first Sync only creates the state.
	if key != "0" {
		col.GetChanges = new(true)
	}
	return c.Sync(ctx, &message.SyncRequest{Collections: &message.SyncCollections{Collection: []message.SyncCollection{col}}})
}

// Sync sends a Sync request as it is. An empty answer (allowed from 12.1
// on when nothing changed) comes back as a response without collections.
func (c *Client) Sync(ctx context.Context, req *message.SyncRequest) (*message.SyncResponse, error) {
	var resp message.SyncResponse
	if err := c.Do(ctx, "Sync", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// SyncEmpty sends a Sync without a body (12.1+): the server repeats the
// device's previous Sync request with the keys it holds now, and answers
// Status 13 when it has none cached. An empty answer (nothing changed)
// comes back as a response without collections.
func (c *Client) SyncEmpty(ctx context.Context) (*message.SyncResponse, error) {
	var resp message.SyncResponse
	if err := c.Do(ctx, "Sync", nil, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
