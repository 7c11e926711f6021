package eas

import (
	"encoding/xml"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/internal/httpserver"
)

// Autodiscover tells a client which URL to sync with, given only an e-mail
// address. Two forms are served:
//
//   - POX (MS-ASCMD 2.2.1.1, MS-OXDSCLI): POST /autodiscover/autodiscover.xml
//     with an XML request naming the address and the response schema the
//     client understands. Authenticated like every EAS command. The
//     mobilesync schema gets the EAS URL. Outlook's outlook schema (2006a,
//     or 2006 from older Outlooks) mostly describes MAPI/RPC/EWS endpoints
//     that easd does not have, but it can also describe an Internet mail
//     account: when the operator named the IMAP and SMTP servers desktop
//     clients should use (Options.PublicIMAP, PublicSMTP), Outlook gets
//     those, with the user's canonical login; otherwise it gets the
//     documented error 601 ("unable to provide configuration information
//     of the requested type"), after which Outlook falls back to its other
//     account types instead of retrying. Request errors are answered, as
//     Exchange does, with HTTP 200 and an error document (600 Invalid
//     Request): clients parse that body, not the status code.
//   - JSON v2: GET /autodiscover/autodiscover.json?Email=..&Protocol=ActiveSync
//     (or .../autodiscover.json/v1.0/{email}?Protocol=...). Exchange answers
//     it without authentication: it only points at an endpoint, which then
//     asks for credentials itself, and clients call it before they have
//     any. easd does the same; the answer is the same for every address.
//
// The URL handed out is Options.PublicURL when configured, else derived
// from the request (see publicBaseURL).

// Autodiscover XML namespaces.
const (
	adResponseNS          = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	adMobileSyncSchema    = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
	adOutlookSchema       = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	adOutlookSchema2006   = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006"
	adMaxRequestBytes     = 64 << 10 // real requests are a few hundred bytes
	adErrInvalidRequest   = 600
	adErrSchemaNotOffered = 601
)

// autodiscoverPaths are the spellings clients use. Exchange (IIS) matches
// paths case-insensitively; Outlook and iOS use the capitalised forms,
// Android clients mostly the lower-case one.
var autodiscoverPaths = []string{"/autodiscover/autodiscover", "/Autodiscover/Autodiscover", "/AutoDiscover/AutoDiscover"}

// registerAutodiscover adds the Autodiscover routes to e.
func (s *Server) registerAutodiscover(e *echo.Echo) {
	for _, p := range autodiscoverPaths {
		// GET is not part of the POX protocol, but browsers and monitoring
		// checks send it: it is authenticated and answered with error 600,
		// as Exchange does, which shows the endpoint is reachable.
		e.POST(p+".xml", s.autodiscoverXML)
		e.GET(p+".xml", s.autodiscoverXML)
		e.GET(p+".json", s.autodiscoverJSON)
		e.GET(p+".json/v1.0/:email", s.autodiscoverJSON)
	}
}

// adRequest is the POX request; namespaces are not checked because
// clients disagree on them (mobilesync and outlook request schemas).
type adRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

// adDocument is the root of every POX response. Exactly one of the
// response kinds is set.
type adDocument struct {
	XMLName    xml.Name            `xml:"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006 Autodiscover"`
	MobileSync *adMobileSyncResult `xml:"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006 Response,omitempty"`
	// Outlook names its namespace itself: the schema the client asked for.
	Outlook *adOutlookResult `xml:",omitempty"`
	Error   *adErrorResponse `xml:"Response,omitempty"`
}

// adMobileSyncResult is the mobilesync answer (MS-ASCMD 2.2.3.153.2).
type adMobileSyncResult struct {
	Culture string `xml:"Culture"`
	User    struct {
		DisplayName  string `xml:"DisplayName"`
		EMailAddress string `xml:"EMailAddress"`
	} `xml:"User"`
	Action struct {
		Settings struct {
			Server []adServer `xml:"Server"`
		} `xml:"Settings"`
	} `xml:"Action"`
}

type adServer struct {
	Type string `xml:"Type"`
	URL  string `xml:"Url"`
	Name string `xml:"Name"`
}

// MailEndpoint is a mail server as users' desktop clients reach it.
type MailEndpoint struct {
	Host     string
	Port     int
	Security MailSecurity
}

// MailSecurity is how a client secures its connection to a MailEndpoint.
type MailSecurity int

const (
	MailStartTLS    MailSecurity = iota // plain connection upgraded with STARTTLS
	MailImplicitTLS                     // TLS from the first byte (993, 465)
	MailPlain                           // no TLS (trusted networks only)
)

// adOutlookResult is the outlook-schema answer for an Internet mail
// account (MS-OXDSCLI 2.2.4.1.1.2): the user, then one Account whose
// Protocols are the incoming (IMAP) and outgoing (SMTP) servers. Fields
// are in the order MS-OXDSCLI's examples give them.
type adOutlookResult struct {
	XMLName xml.Name
	User    struct {
		DisplayName             string `xml:"DisplayName"`
		AutoDiscoverSMTPAddress string `xml:"AutoDiscoverSMTPAddress"`
	} `xml:"User"`
	Account struct {
		AccountType string       `xml:"AccountType"`
		Action      string       `xml:"Action"`
		Protocol    []adProtocol `xml:"Protocol"`
	} `xml:"Account"`
}

// adProtocol is one server of an email account. On/off values are the
// strings "on" and "off", as the spec spells them.
type adProtocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	LoginName      string `xml:"LoginName"`
	DomainRequired string `xml:"DomainRequired"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	// Encryption overrides SSL where the client knows it, and is the only
	// way to tell STARTTLS (TLS) from TLS on connect (SSL); SSL stays for
	// clients that predate it.
	Encryption   string `xml:"Encryption"`
	AuthRequired string `xml:"AuthRequired"`
	UsePOPAuth   string `xml:"UsePOPAuth,omitempty"`
	SMTPLast     string `xml:"SMTPLast,omitempty"`
}

// outlookProtocol describes e as a Protocol of type typ for login.
func outlookProtocol(typ string, e *MailEndpoint, login string) adProtocol {
	p := adProtocol{Type: typ, Server: e.Host, Port: e.Port, LoginName: login,
		// The login is complete as it is: no Windows domain, and the
		// password goes in plain text inside the TLS (no NTLM).
		DomainRequired: "off", SPA: "off", SSL: "on", AuthRequired: "on"}
	switch e.Security {
	case MailImplicitTLS:
		p.Encryption = "SSL"
	case MailStartTLS:
		p.Encryption = "TLS"
	default:
		p.SSL, p.Encryption = "off", "None"
	}
	return p
}

// adErrorResponse is the schema-independent error answer (MS-ASCMD
// 2.2.3.63, MS-OXDSCLI 2.2.4.1.1.3).
type adErrorResponse struct {
	Error struct {
		Time      string `xml:"Time,attr"`
		ID        uint32 `xml:"Id,attr"`
		ErrorCode int    `xml:"ErrorCode"`
		Message   string `xml:"Message"`
		DebugData string `xml:"DebugData"`
	} `xml:"Error"`
}

// adServerID identifies this host in error answers, as Exchange's Id
// attribute does (a hash of the server name), so an administrator can
// tell which instance behind a load balancer answered.
var adServerID = func() uint32 {
	name, _ := os.Hostname()
	h := fnv.New32a()
	h.Write([]byte(name))
	return h.Sum32()
}()

// autodiscoverXML answers the POX request.
func (s *Server) autodiscoverXML(c echo.Context) error {
	ri := httpserver.Info(c)
	ri.Cmd = "Autodiscover"
	creds, err := s.opts.Auth.Authenticate(c.Request().Context(), c.Request(), c.RealIP())
	ri.User = creds.Login
	if err != nil {
		return s.refuseAuth(c, ri, creds, err)
	}

	var req adRequest
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, adMaxRequestBytes+1))
	switch {
	case httpserver.IsBodyTooLarge(err) || len(body) > adMaxRequestBytes:
		return adError(c, ri, adErrInvalidRequest, "Invalid Request", "request too large")
	case err != nil:
		return err
	}
	if err := xml.Unmarshal(body, &req); err != nil {
		return adError(c, ri, adErrInvalidRequest, "Invalid Request", "malformed XML: "+err.Error())
	}
	schema := strings.TrimSpace(req.Request.AcceptableResponseSchema)
	email := strings.TrimSpace(req.Request.EMailAddress)
	outlook := ""
	switch {
	// The schema is required by the spec, but a client that leaves it out
	// and posts to an EAS server can only want the mobilesync answer.
	case schema == "" || strings.EqualFold(schema, adMobileSyncSchema):
	case strings.EqualFold(schema, adOutlookSchema):
		outlook = adOutlookSchema
	case strings.EqualFold(schema, adOutlookSchema2006):
		outlook = adOutlookSchema2006
	default:
		return adError(c, ri, adErrSchemaNotOffered, "Provider is not available", "unsupported AcceptableResponseSchema "+schema)
	}
	if outlook != "" && (s.opts.PublicIMAP == nil || s.opts.PublicSMTP == nil) {
		return adError(c, ri, adErrSchemaNotOffered, "Provider is not available",
			"this server offers no IMAP settings for Outlook; set the account up as Exchange ActiveSync")
	}
	if email == "" {
		return adError(c, ri, adErrInvalidRequest, "Invalid Request", "no EMailAddress")
	}
	if outlook != "" {
		res := &adOutlookResult{XMLName: xml.Name{Space: outlook, Local: "Response"}}
		res.User.DisplayName = email
		res.User.AutoDiscoverSMTPAddress = email
		res.Account.AccountType = "email"
		res.Account.Action = "settings"
		// The login the mail server took, however the user typed it: the
		// desktop client signs in to the same servers.
		smtp := outlookProtocol("SMTP", s.opts.PublicSMTP, creds.Login)
		// Outgoing mail signs in as incoming does; nothing need be
		// received before sending.
		smtp.UsePOPAuth, smtp.SMTPLast = "on", "off"
		res.Account.Protocol = []adProtocol{outlookProtocol("IMAP", s.opts.PublicIMAP, creds.Login), smtp}
		return writeAutodiscover(c, &adDocument{Outlook: res})
	}

	url := s.publicBaseURL(c.Request()) + Path
	res := &adMobileSyncResult{Culture: "en:us"}
	// easd has no directory to look a display name up in; the address is
	// what the phone shows and what the user typed.
	res.User.DisplayName = email
	res.User.EMailAddress = email
	res.Action.Settings.Server = []adServer{{Type: "MobileSync", URL: url, Name: url}}
	return writeAutodiscover(c, &adDocument{MobileSync: res})
}

// adError answers a POX request with an Autodiscover error document.
func adError(c echo.Context, ri *httpserver.RequestInfo, code int, msg, debug string) error {
	ri.Note = debug
	e := &adErrorResponse{}
	e.Error.Time = time.Now().Format("15:04:05.0000000")
	e.Error.ID = adServerID
	e.Error.ErrorCode = code
	e.Error.Message = msg
	// Exchange puts its diagnostics here too; ours say what to change.
	e.Error.DebugData = debug
	return writeAutodiscover(c, &adDocument{Error: e})
}

func writeAutodiscover(c echo.Context, doc *adDocument) error {
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	h := c.Response().Header()
	// Answers depend on the credentials: no shared cache may keep them.
	h.Set("Cache-Control", "private")
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", append([]byte(xml.Header), b...))
}

// adJSONResult and adJSONError are the Autodiscover v2 answers, spelled as
// Exchange Online spells them.
type adJSONResult struct {
	Protocol string `json:"Protocol"`
	URL      string `json:"Url"`
}

type adJSONError struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// autodiscoverJSON answers Autodiscover v2. Besides ActiveSync it offers
// AutodiscoverV1, the POX endpoint, which Outlook asks for to find it.
func (s *Server) autodiscoverJSON(c echo.Context) error {
	ri := httpserver.Info(c)
	ri.Cmd = "Autodiscover"
	q := c.Request().URL.Query()
	protocol := queryFold(q, "Protocol")
	base := s.publicBaseURL(c.Request())
	c.Response().Header().Set("Cache-Control", "private")
	switch {
	case strings.EqualFold(protocol, "ActiveSync"):
		return c.JSON(http.StatusOK, adJSONResult{Protocol: "ActiveSync", URL: base + Path})
	case strings.EqualFold(protocol, "AutodiscoverV1"):
		return c.JSON(http.StatusOK, adJSONResult{Protocol: "AutodiscoverV1", URL: base + "/Autodiscover/Autodiscover.xml"})
	case protocol == "":
		ri.Note = "no Protocol parameter"
		return c.JSON(http.StatusBadRequest, adJSONError{ErrorCode: "MandatoryParameterMissing",
			ErrorMessage: "A valid value must be provided for the query parameter 'Protocol'."})
	default:
		ri.Note = "unsupported protocol " + protocol
		return c.JSON(http.StatusBadRequest, adJSONError{ErrorCode: "InvalidProtocol",
			ErrorMessage: "The given protocol value '" + protocol + "' is invalid. Supported values are 'ActiveSync,AutodiscoverV1'."})
	}
}

// queryFold returns the first value of the query parameter named name in
// any letter case: clients send both "Protocol" and "protocol".
func queryFold(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	for k, v := range q {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
	}
	return ""
}

// publicBaseURL is the scheme and host phones reach easd at, without a
// trailing slash: Options.PublicURL when set, else what the request shows.
// Behind a proxy the proxy's X-Forwarded-Proto and X-Forwarded-Host win
// over the connection's own. Trusting them is harmless here: the URL is
// only reflected to the client that sent them, in an uncached answer.
func (s *Server) publicBaseURL(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstHeaderValue(r, "X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if h := firstHeaderValue(r, "X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme + "://" + host
}

// firstHeaderValue is the first entry of a comma-separated header that
// each proxy on the way may have appended to.
func firstHeaderValue(r *http.Request, name string) string {
	v, _, _ := strings.Cut(r.Header.Get(name), ",")
	return strings.ToLower(strings.TrimSpace(v))
}
