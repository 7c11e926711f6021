package client

import (
	"context"
	"strings"

	"github.com/easd/easd/eas/message"
)

// Search sends a Search request as it is. The Properties of a GAL
// search's results are decoded into *message.GALProperties; those of
// other stores are left as elements.
func (c *Client) Search(ctx context.Context, req *message.SearchRequest) (*message.SearchResponse, error) {
	var resp message.SearchResponse
	if err := c.Do(ctx, "Search", req, &resp); err != nil {
		return nil, err
	}
	if r := resp.Response; r != nil && strings.EqualFold(req.Store.Name, "GAL") {
		for i := range r.Store.Result {
			p, err := decodeProperties[message.GALProperties](r.Store.Result[i].Properties)
			if err != nil {
				return nil, err
			}
			if p != nil {
				r.Store.Result[i].Properties = p
			}
		}
	}
	return &resp, nil
}
