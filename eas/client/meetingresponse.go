package client

import (
	"context"

	"github.com/easd/easd/eas/message"
)

// MeetingResponse answers meeting requests.
func (c *Client) MeetingResponse(ctx context.Context, reqs ...message.MeetingResponseRequestItem) (*message.MeetingResponseResponse, error) {
	var resp message.MeetingResponseResponse
	if err := c.Do(ctx, "MeetingResponse", &message.MeetingResponseRequest{Request: reqs}, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}
