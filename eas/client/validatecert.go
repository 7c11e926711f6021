package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// ValidateCert asks the server to validate certificates (base64 DER).
func (c *Client) ValidateCert(ctx context.Context, req *message.ValidateCertRequest) (*message.ValidateCertResponse, error) {
	var resp message.ValidateCertResponse
	if err := c.Do(ctx, "ValidateCert", req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
