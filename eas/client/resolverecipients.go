package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// ResolveRecipients sends a ResolveRecipients request as it is.
func (c *Client) ResolveRecipients(ctx context.Context, req *message.ResolveRecipientsRequest) (*message.ResolveRecipientsResponse, error) {
	var resp message.ResolveRecipientsResponse
	if err := c.Do(ctx, "ResolveRecipients", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// Resolve resolves names with the given options (nil: none).
func (c *Client) Resolve(ctx context.Context, opts *message.ResolveRecipientsOptions, to ...string) (*message.ResolveRecipientsResponse, error) {
	return c.ResolveRecipients(ctx, &message.ResolveRecipientsRequest{To: to, Options: opts})
}
