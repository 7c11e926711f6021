package client

import (
	"context"
	"fmt"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// Find sends a Find request (16.1) as it is. Each result's Properties is
// decoded by the response's Store: *message.GALProperties for "GAL",
// *message.FindProperties otherwise.
func (c *Client) Find(ctx context.Context, req *message.FindRequest) (*message.FindResponse, error) {
	var resp message.FindResponse
	if err := c.Do(ctx, "Find", req, &resp); err != nil {
		return nil, err
	}
	if r := resp.Response; r != nil {
		for i := range r.Result {
			var err error
			if r.Store == "GAL" {
				r.Result[i].Properties, err = decodeProperties[message.GALProperties](r.Result[i].Properties)
			} else {
				r.Result[i].Properties, err = decodeProperties[message.FindProperties](r.Result[i].Properties)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return &resp, nil
}

// decodeProperties decodes a Properties element the generic decoder left
// as an element.
func decodeProperties[T any](p any) (*T, error) {
	el, ok := p.(*wbxml.Element)
	if !ok || el == nil {
		return nil, nil
	}
	b, err := el.Bytes()
	if err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	v := new(T)
	if err := wbxml.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("properties: %w", err)
	}
	return v, nil
}
