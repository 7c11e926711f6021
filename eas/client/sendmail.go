package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/easd/easd/eas/message"
)

// SendMail sends an RFC 822 message in the 14.0+ form. It returns the
// ComposeMail status: 1 when the server answered with the empty body of
// success, else the Status of its answer.
func (c *Client) SendMail(ctx context.Context, clientID string, mime []byte, saveInSent bool) (int, error) {
	var resp message.SendMailResponse
	req := &message.SendMailRequest{ClientID: clientID, SaveInSentItems: saveInSent, Mime: mime}
	return c.compose(ctx, "SendMail", req, &resp, &resp.Status)
}

// SmartReply replies to src; without replaceMime the server adds the
// quoted original.
func (c *Client) SmartReply(ctx context.Context, clientID string, src message.ComposeItem, mime []byte, saveInSent, replaceMime bool) (int, error) {
	var resp message.SmartReplyResponse
	req := &message.SmartReplyRequest{ClientID: clientID, Source: &src, SaveInSentItems: saveInSent, ReplaceMime: replaceMime, Mime: mime}
	return c.compose(ctx, "SmartReply", req, &resp, &resp.Status)
}

// SmartForward forwards src; without replaceMime the server adds the
// original's text and attachments.
func (c *Client) SmartForward(ctx context.Context, clientID string, src message.ComposeItem, mime []byte, saveInSent, replaceMime bool) (int, error) {
	var resp message.SmartForwardResponse
	req := &message.SmartForwardRequest{ClientID: clientID, Source: &src, SaveInSentItems: saveInSent, ReplaceMime: replaceMime, Mime: mime}
	return c.compose(ctx, "SmartForward", req, &resp, &resp.Status)
}

func (c *Client) compose(ctx context.Context, cmd string, req, resp any, status *int) (int, error) {
	if err := c.Do(ctx, cmd, req, resp); err != nil {
		return 0, err
	}
	if *status == 0 {
		return 1, nil
	}
	return *status, nil
}

// SendMailRaw sends mime in the 2.5/12.x form of cmd (SendMail,
// SmartReply, SmartForward): the message as the body, the options in the
// query, e.g. SaveInSent=T, ItemId and CollectionId. Success is nil; a
// failure is *HTTPError.
func (c *Client) SendMailRaw(ctx context.Context, cmd string, params url.Values, mime []byte) error {
	r, data, err := c.DoRaw(ctx, cmd, params, "message/rfc822", mime)
	if err != nil {
		return err
	}
	if r.StatusCode != http.StatusOK {
		return &HTTPError{Code: r.StatusCode, Header: r.Header, Body: string(data)}
	}
	return nil
}
