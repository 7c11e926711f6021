package eas_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/easd/easd/eas/client"
	"github.com/easd/easd/internal/config"
	"github.com/easd/easd/internal/easdtest"
)

// adPost posts body to the Autodiscover path p as user:password ("" user:
// no credentials) with extra headers, and returns status and body.
func adPost(t *testing.T, env *easdtest.Env, method, p, user, body string, header map[string]string) (int, http.Header, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "text/xml"}
	for k, v := range header {
		h[k] = v
	}
	return env.Raw(t, method, p, user, h, body)
}

const mobileSyncRequest = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006">
  <Request>
    <EMailAddress>alice@example.test</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>
  </Request>
</Autodiscover>`

// adErrorCode parses an error answer strictly: root and Response in the
// Autodiscover response namespace, as MS-OXDSCLI defines them.
func adErrorCode(t *testing.T, body string) int {
	t.Helper()
	const ns = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	var doc struct {
		XMLName  xml.Name
		Response struct {
			XMLName xml.Name
			Error   struct {
				Time      string `xml:"Time,attr"`
				Id        string `xml:"Id,attr"`
				ErrorCode int
				Message   string
			}
		}
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("error answer is not XML: %v\n%s", err, body)
	}
	if doc.XMLName.Space != ns || doc.XMLName.Local != "Autodiscover" || doc.Response.XMLName.Space != ns ||
		doc.Response.Error.Time == "" || doc.Response.Error.Id == "" || doc.Response.Error.Message == "" {
		t.Fatalf("malformed error answer:\n%s", body)
	}
	return doc.Response.Error.ErrorCode
}

func TestAutodiscoverMobileSync(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()

	// Every spelling of the path clients use, through the Go client.
	for _, p := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml", "/AutoDiscover/AutoDiscover.xml"} {
		status, h, body := adPost(t, env, http.MethodPost, p, "alice", mobileSyncRequest, nil)
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/xml") {
			t.Fatalf("%s: %d %s\n%s", p, status, h.Get("Content-Type"), body)
		}
		for _, want := range []string{
			`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">`,
			`<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">`,
			`<Culture>en:us</Culture>`, `<EMailAddress>alice@example.test</EMailAddress>`,
			`<Type>MobileSync</Type>`, `<Url>` + env.URL + `/Microsoft-Server-ActiveSync</Url>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: answer lacks %s:\n%s", p, want, body)
			}
		}
	}
	res, err := env.Client("alice", "").Autodiscover(ctx, "alice@example.test", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.URL != env.URL+"/Microsoft-Server-ActiveSync" || res.Name != res.URL ||
		res.EMailAddress != "alice@example.test" || res.DisplayName == "" {
		t.Fatalf("client result: %+v", res)
	}
	if logs := env.Logs(); !strings.Contains(logs, `"user":"alice"`) || !strings.Contains(logs, `"cmd":"Autodiscover"`) {
		t.Errorf("access log lacks user/cmd:\n%s", logs)
	}

	// Behind a TLS-terminating proxy the forwarded scheme and host win.
	_, _, body := adPost(t, env, http.MethodPost, "/autodiscover/autodiscover.xml", "alice", mobileSyncRequest,
		map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mail.example.test, proxy.internal"})
	if !strings.Contains(body, `<Url>https://mail.example.test/Microsoft-Server-ActiveSync</Url>`) {
		t.Errorf("forwarded request:\n%s", body)
	}
}

func TestAutodiscoverRefusals(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	ctx := context.Background()
	const p = "/autodiscover/autodiscover.xml"

	// Authenticated as for EAS: no or wrong credentials are a Basic challenge.
	status, h, _ := adPost(t, env, http.MethodPost, p, "", mobileSyncRequest, nil)
	if status != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no credentials: %d %v", status, h)
	}
	bad := env.Client("alice", "")
	bad.Password = "wrong"
	var he *client.HTTPError
	if _, err := bad.Autodiscover(ctx, "alice@example.test", ""); !errors.As(err, &he) || he.Code != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}

	// Outlook's schema: the documented "not available" error, well formed.
	_, err := env.Client("alice", "").Autodiscover(ctx, "alice@example.test", client.OutlookSchema)
	var ae *client.AutodiscoverError
	if !errors.As(err, &ae) || ae.Code != 601 {
		t.Fatalf("outlook schema: %v", err)
	}
	outlook := strings.Replace(mobileSyncRequest, client.MobileSyncSchema, client.OutlookSchema, 1)
	status, _, body := adPost(t, env, http.MethodPost, p, "alice", outlook, nil)
	if status != http.StatusOK || adErrorCode(t, body) != 601 {
		t.Fatalf("outlook schema: %d\n%s", status, body)
	}

	// Malformed or incomplete requests: error 600 with HTTP 200, as Exchange.
	for name, req := range map[string]string{
		"not XML":      "<Autodiscover><Request>",
		"empty":        "",
		"wrong root":   "<Foo/>",
		"no address":   strings.Replace(mobileSyncRequest, "alice@example.test", "", 1),
		"huge request": "<Autodiscover>" + strings.Repeat(" ", 100<<10) + "</Autodiscover>",
	} {
		status, _, body := adPost(t, env, http.MethodPost, p, "alice", req, nil)
		if status != http.StatusOK || adErrorCode(t, body) != 600 {
			t.Errorf("%s: %d\n%s", name, status, body)
		}
	}
	status, _, body = adPost(t, env, http.MethodGet, "/Autodiscover/Autodiscover.xml", "alice", "", nil)
	if status != http.StatusOK || adErrorCode(t, body) != 600 {
		t.Errorf("GET: %d\n%s", status, body)
	}
}

func TestAutodiscoverJSON(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) { c.PublicURL = "https://mail.example.test/" })
	ctx := context.Background()

	// Unauthenticated, as Exchange answers it.
	anon := &client.Client{BaseURL: env.URL}
	u, err := anon.AutodiscoverJSON(ctx, "alice@example.test", "ActiveSync")
	if err != nil || u != "https://mail.example.test/Microsoft-Server-ActiveSync" {
		t.Fatalf("ActiveSync: %q %v", u, err)
	}
	for path, want := range map[string]string{
		"/Autodiscover/Autodiscover.json/v1.0/alice%40example.test?Protocol=ActiveSync":    `{"Protocol":"ActiveSync","Url":"https://mail.example.test/Microsoft-Server-ActiveSync"}`,
		"/autodiscover/autodiscover.json?Email=alice@example.test&protocol=autodiscoverv1": `{"Protocol":"AutodiscoverV1","Url":"https://mail.example.test/Autodiscover/Autodiscover.xml"}`,
	} {
		status, _, body := adPost(t, env, http.MethodGet, path, "", "", nil)
		if status != http.StatusOK || strings.TrimSpace(body) != want {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	for _, c := range []struct{ query, code string }{
		{"?Email=alice@example.test&Protocol=Ews", "InvalidProtocol"},
		{"?Email=alice@example.test", "MandatoryParameterMissing"},
	} {
		status, h, body := adPost(t, env, http.MethodGet, "/autodiscover/autodiscover.json"+c.query, "", "", nil)
		var e struct{ ErrorCode, ErrorMessage string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != http.StatusBadRequest ||
			e.ErrorCode != c.code || e.ErrorMessage == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s", c.query, status, body)
		}
	}

	// The configured public URL wins over the request's host for POX too.
	res, err := env.Client("alice", "").Autodiscover(ctx, "alice@example.test", "")
	if err != nil || res.URL != "https://mail.example.test/Microsoft-Server-ActiveSync" {
		t.Fatalf("POX with public URL: %+v %v", res, err)
	}
}

// adNode is a parsed XML element: enough to compare a document's shape,
// element order included, with the one the spec gives.
type adNode struct {
	Name     xml.Name
	Text     string
	Children []*adNode
}

func parseADTree(t *testing.T, body string) *adNode {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	var stack []*adNode
	var root *adNode
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("answer is not XML: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &adNode{Name: tok.Name}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += strings.TrimSpace(string(tok))
			}
		}
	}
	return root
}

// shape renders n as Name{Child,Child{...}}; namespaces are checked
// separately.
func (n *adNode) shape() string {
	if len(n.Children) == 0 {
		return n.Name.Local
	}
	parts := make([]string, len(n.Children))
	for i, c := range n.Children {
		parts[i] = c.shape()
	}
	return n.Name.Local + "{" + strings.Join(parts, ",") + "}"
}

// values maps each leaf's path (Protocol elements numbered) to its text.
func (n *adNode) values(prefix string, out map[string]string) map[string]string {
	if out == nil {
		out = map[string]string{}
	}
	seen := map[string]int{}
	for _, c := range n.Children {
		name := c.Name.Local
		seen[name]++
		if name == "Protocol" {
			name = fmt.Sprintf("Protocol%d", seen[name])
		}
		if len(c.Children) == 0 {
			out[prefix+name] = c.Text
		} else {
			c.values(prefix+name+"/", out)
		}
	}
	return out
}

func outlookRequest(schema string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>alice@example.test</EMailAddress>
    <AcceptableResponseSchema>` + schema + `</AcceptableResponseSchema>
  </Request>
</Autodiscover>`
}

const (
	outlookSchema2006a = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	outlookSchema2006  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006"
)

func TestAutodiscoverOutlookIMAP(t *testing.T) {
	env := easdtest.Start(t, noPolicy, func(c *config.Config) {
		c.PublicIMAP = "mail.example.test:993"
		c.PublicSMTP = "smtp.example.test:587"
	})

	// MS-OXDSCLI's email account: User, then one Account of Protocols;
	// inside a Protocol the order of the spec's examples.
	const protocol = "Protocol{Type,Server,Port,LoginName,DomainRequired,SPA,SSL,Encryption,AuthRequired"
	const wantShape = "Autodiscover{Response{User{DisplayName,AutoDiscoverSMTPAddress},Account{AccountType,Action," +
		protocol + "}," + protocol + ",UsePOPAuth,SMTPLast}}}}"
	for _, schema := range []string{outlookSchema2006a, outlookSchema2006} {
		// The user signs in with the address in another case; the
		// account names the login the mail server took.
		req, err := http.NewRequest(http.MethodPost, env.URL+"/Autodiscover/Autodiscover.xml", strings.NewReader(outlookRequest(schema)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "text/xml")
		req.SetBasicAuth("Alice@Example.test", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
			t.Fatalf("%s: %d %s\n%s", schema, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		root := parseADTree(t, body)
		if got := root.shape(); got != wantShape {
			t.Errorf("%s: shape\n got %s\nwant %s", schema, got, wantShape)
		}
		if root.Name.Space != "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006" ||
			len(root.Children) != 1 || root.Children[0].Name.Space != schema {
			t.Errorf("%s: namespaces:\n%s", schema, body)
		}
		want := map[string]string{
			"Response/User/DisplayName": "alice@example.test", "Response/User/AutoDiscoverSMTPAddress": "alice@example.test",
			"Response/Account/AccountType": "email", "Response/Account/Action": "settings",
			"Response/Account/Protocol1/Type": "IMAP", "Response/Account/Protocol1/Server": "mail.example.test",
			"Response/Account/Protocol1/Port": "993", "Response/Account/Protocol1/LoginName": "alice",
			"Response/Account/Protocol1/DomainRequired": "off", "Response/Account/Protocol1/SPA": "off",
			"Response/Account/Protocol1/SSL": "on", "Response/Account/Protocol1/Encryption": "SSL",
			"Response/Account/Protocol1/AuthRequired": "on",
			"Response/Account/Protocol2/Type":         "SMTP", "Response/Account/Protocol2/Server": "smtp.example.test",
			"Response/Account/Protocol2/Port": "587", "Response/Account/Protocol2/LoginName": "alice",
			"Response/Account/Protocol2/DomainRequired": "off", "Response/Account/Protocol2/SPA": "off",
			"Response/Account/Protocol2/SSL": "on", "Response/Account/Protocol2/Encryption": "TLS",
			"Response/Account/Protocol2/AuthRequired": "on", "Response/Account/Protocol2/UsePOPAuth": "on",
			"Response/Account/Protocol2/SMTPLast": "off",
		}
		got := root.values("", nil)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", schema, k, got[k], v)
			}
		}
	}

	// The mobilesync answer is unchanged by the setting.
	_, _, body := adPost(t, env, http.MethodPost, "/autodiscover/autodiscover.xml", "alice", mobileSyncRequest, nil)
	if !strings.Contains(body, `<Type>MobileSync</Type>`) {
		t.Errorf("mobilesync with IMAP configured:\n%s", body)
	}
	// Still no answer without an address.
	_, _, body = adPost(t, env, http.MethodPost, "/autodiscover/autodiscover.xml", "alice",
		strings.Replace(outlookRequest(outlookSchema2006a), "alice@example.test", "", 1), nil)
	if adErrorCode(t, body) != 600 {
		t.Errorf("outlook without address:\n%s", body)
	}
}

// Without public IMAP and SMTP servers, both outlook schemas get 601 with
// DebugData saying what to do instead.
func TestAutodiscoverOutlookNotConfigured(t *testing.T) {
	env := easdtest.Start(t, noPolicy)
	for _, schema := range []string{outlookSchema2006a, outlookSchema2006} {
		status, _, body := adPost(t, env, http.MethodPost, "/autodiscover/autodiscover.xml", "alice", outlookRequest(schema), nil)
		if status != http.StatusOK || adErrorCode(t, body) != 601 {
			t.Fatalf("%s: %d\n%s", schema, status, body)
		}
		got := parseADTree(t, body).values("", nil)
		if !strings.Contains(got["Response/Error/DebugData"], "Exchange ActiveSync") {
			t.Errorf("%s: DebugData does not say what to do:\n%s", schema, body)
		}
	}
}
