package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"

	"github.com/easd/easd/eas/message"
	"github.com/easd/easd/wbxml"
)

// ItemOperations sends req and decodes the answer. With multiPart the
// client asks for the MultiPart format (MS-ASAcceptMultiPart: T) and
// returns the binary parts after the WBXML (parts[0] is the part a
// <Part>1</Part> names).
func (c *Client) ItemOperations(ctx context.Context, req *message.ItemOperationsRequest, multiPart bool) (*message.ItemOperationsResponse, [][]byte, error) {
	body, err := wbxml.Marshal(req)
	if err != nil {
		return nil, nil, fmt.Errorf("eas client: encode ItemOperations: %w", err)
	}
	hr, err := c.ItemOperationsRaw(ctx, body, multiPart)
	if err != nil {
		return nil, nil, err
	}
	defer hr.Body.Close()
	data, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("eas client: ItemOperations: read: %w", err)
	}
	if hr.StatusCode != http.StatusOK {
		return nil, nil, &HTTPError{Code: hr.StatusCode, Header: hr.Header, Body: string(data)}
	}
	var parts [][]byte
	if hr.Header.Get("Content-Type") == "application/vnd.ms-sync.multipart" {
		if parts, err = SplitMultiPart(data); err != nil {
			return nil, nil, err
		}
		data, parts = parts[0], parts[1:]
	}
	var resp message.ItemOperationsResponse
	if err := wbxml.Unmarshal(data, &resp); err != nil {
		return nil, nil, fmt.Errorf("eas client: decode ItemOperations response: %w", err)
	}
	return &resp, parts, nil
}

// FetchData returns the content of a fetch answer's Data element (inside
// props, the answer's Properties): the base64 text MS-ASCMD 2.2.3.39.2
// defines, decoded; opaque bytes, which some servers send, as they are.
// No Data element is an error.
func FetchData(props *wbxml.Element) ([]byte, error) {
	d := props.Child("ItemOperations:Data")
	if d == nil {
		return nil, fmt.Errorf("eas client: ItemOperations: no Data")
	}
	if d.Opaque != nil {
		return d.Opaque, nil
	}
	b, err := base64.StdEncoding.DecodeString(d.Text)
	if err != nil {
		return nil, fmt.Errorf("eas client: ItemOperations: Data is not base64: %w", err)
	}
	return b, nil
}

// ItemOperationsRaw posts an encoded request and returns the response
// unread, for callers that stream a large answer.
func (c *Client) ItemOperationsRaw(ctx context.Context, body []byte, multiPart bool) (*http.Response, error) {
	u, err := c.commandURL("ItemOperations", nil)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/vnd.ms-sync.wbxml")
	if multiPart {
		req.Header.Set("MS-ASAcceptMultiPart", "T")
	}
	c.setHeaders(req)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("eas client: ItemOperations: %w", err)
	}
	return resp, nil
}

// SplitMultiPart splits a MultiPart response (MS-ASHTTP 2.2.2.2).
func SplitMultiPart(b []byte) ([][]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("eas client: multipart: %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 1 || len(b) < 4+8*n {
		return nil, fmt.Errorf("eas client: multipart: bad part count %d", n)
	}
	parts := make([][]byte, n)
	for i := range n {
		off := int(binary.LittleEndian.Uint32(b[4+8*i:]))
		size := int(binary.LittleEndian.Uint32(b[8+8*i:]))
		if off < 0 || size < 0 || off+size > len(b) {
			return nil, fmt.Errorf("eas client: multipart: part %d out of bounds", i)
		}
		parts[i] = b[off : off+size]
	}
	return parts, nil
}
