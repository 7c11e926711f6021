package eas

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestParsePlainQuery(t *testing.T) {
	r := httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=ABC123&DeviceType=iPhone", nil)
	r.Header.Set("MS-ASProtocolVersion", "14.1")
	r.Header.Set("X-MS-PolicyKey", "3942919513")
	req, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Cmd: "Sync", User: "alice", DeviceID: "ABC123", DeviceType: "iPhone",
		ProtocolVersion: "14.1", PolicyKey: 3942919513, HasPolicyKey: true}
	if *req != want {
		t.Fatalf("got %+v\nwant %+v", *req, want)
	}
}

func TestParseBase64Query(t *testing.T) {
	b := []byte{
		141,        // protocol 14.1
		9,          // FolderSync
		0x09, 0x04, // locale 0x0409 en-US
		6, 'd', 'e', 'v', '0', '0', '1', // DeviceId
		4, 0x01, 0x02, 0x03, 0x04, // policy key 0x04030201
		10, 'S', 'm', 'a', 'r', 't', 'P', 'h', 'o', 'n', 'e', // DeviceType
		8, 5, 'a', 'l', 'i', 'c', 'e', // User
		1, 2, '1', '7', // CollectionId
		7, 1, 0x03, // Options: SaveInSent|AcceptMultiPart
	}
	q := base64.StdEncoding.EncodeToString(b)
	r := httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?"+q, nil)
	req, err := ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Cmd: "FolderSync", User: "alice", DeviceID: "dev001", DeviceType: "SmartPhone",
		ProtocolVersion: "14.1", PolicyKey: 0x04030201, HasPolicyKey: true, Locale: 0x0409,
		CollectionID: "17", SaveInSent: true, AcceptMultiPart: true}
	if *req != want {
		t.Fatalf("got %+v\nwant %+v", *req, want)
	}

	// A binary (GUID) DeviceId becomes hex.
	b2 := []byte{121, 18, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef, 0, 3, 'P', 'P', 'C'}
	r = httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?"+base64.RawStdEncoding.EncodeToString(b2), nil)
	req, err = ParseRequest(r)
	if err != nil {
		t.Fatal(err)
	}
	if req.DeviceID != "DEADBEEF" || req.Cmd != "Ping" || req.ProtocolVersion != "12.1" || req.HasPolicyKey {
		t.Fatalf("got %+v", req)
	}
}

func TestParseRequestRejects(t *testing.T) {
	for name, target := range map[string]string{
		"no cmd":          "/Microsoft-Server-ActiveSync?DeviceId=x&DeviceType=y",
		"no device":       "/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceType=y",
		"truncated b64":   "/Microsoft-Server-ActiveSync?" + base64.StdEncoding.EncodeToString([]byte{141, 9, 9, 4, 20, 'a'}),
		"unknown code":    "/Microsoft-Server-ActiveSync?" + base64.StdEncoding.EncodeToString([]byte{141, 99, 9, 4, 1, 'a', 0, 1, 'x'}),
		"bad policy key":  "/Microsoft-Server-ActiveSync?" + base64.StdEncoding.EncodeToString([]byte{141, 9, 9, 4, 1, 'a', 2, 1, 1, 1, 'x'}),
		"not base64":      "/Microsoft-Server-ActiveSync?!!!!",
		"empty device id": "/Microsoft-Server-ActiveSync?" + base64.StdEncoding.EncodeToString([]byte{141, 9, 9, 4, 0, 0, 1, 'x'}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRequest(httptest.NewRequest("POST", target, nil))
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("err = %v", err)
			}
		})
	}
	r := httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=x&DeviceType=y", nil)
	r.Header.Set("X-MS-PolicyKey", "abc")
	if _, err := ParseRequest(r); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("bad policy key header: %v", err)
	}
}

// The base64 form as clients really send it: an unescaped '+', the
// URL-safe alphabet, and the policy key in X-MS-PolicyKey instead of the
// encoded query.
func TestParseBase64QueryVariants(t *testing.T) {
	// DeviceType ">>>?" makes '+' and '/' (standard) or '-' and '_'
	// (URL-safe) appear in the encoding.
	b := []byte{141, 9, 0x09, 0x04, 3, 'd', 'e', 'v', 0, 4, '>', '>', '>', '?'}
	std := base64.StdEncoding.EncodeToString(b)
	if !strings.ContainsAny(std, "+/") {
		t.Fatalf("fixture %q has no '+' or '/'", std)
	}
	for name, q := range map[string]string{
		"unescaped plus": std,
		"escaped":        url.QueryEscape(std),
		"URL-safe":       base64.URLEncoding.EncodeToString(b),
		"URL-safe raw":   base64.RawURLEncoding.EncodeToString(b),
	} {
		r := httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?"+q, nil)
		r.Header.Set("X-MS-PolicyKey", "1234")
		req, err := ParseRequest(r)
		if err != nil {
			t.Fatalf("%s (%s): %v", name, q, err)
		}
		if req.DeviceType != ">>>?" || req.Cmd != "FolderSync" || !req.HasPolicyKey || req.PolicyKey != 1234 {
			t.Errorf("%s: %+v", name, req)
		}
	}
	// A key in the query wins over the header.
	withKey := []byte{141, 9, 0x09, 0x04, 3, 'd', 'e', 'v', 4, 1, 0, 0, 0, 1, 'x'}
	r := httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?"+base64.StdEncoding.EncodeToString(withKey), nil)
	r.Header.Set("X-MS-PolicyKey", "1234")
	if req, err := ParseRequest(r); err != nil || req.PolicyKey != 1 {
		t.Errorf("query key: %+v %v", req, err)
	}
	// A version byte easd does not know is a 400 that names it.
	bad := []byte{32, 9, 0x09, 0x04, 3, 'd', 'e', 'v', 0, 1, 'x'}
	r = httptest.NewRequest("POST", "/Microsoft-Server-ActiveSync?"+base64.StdEncoding.EncodeToString(bad), nil)
	if _, err := ParseRequest(r); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "protocol version byte 32") {
		t.Errorf("version byte 32: %v", err)
	}
}
