package eas

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// Path is the EAS endpoint every client posts to.
const Path = "/Microsoft-Server-ActiveSync"

// Register adds the EAS routes to e.
func (s *Server) Register(e *echo.Echo) {
	// Exchange treats the path case-insensitively and some clients send it
	// in lower case.
	for _, p := range []string{Path, strings.ToLower(Path)} {
		e.OPTIONS(p, s.options)
		e.POST(p, s.post)
	}
	s.registerAutodiscover(e)
	s.registerCertificate(e)
}

// options answers the capability query a client sends before anything else
// (MS-ASHTTP 2.2.4): which versions and commands this server supports.
func (s *Server) options(c echo.Context) error {
	r := c.Request()
	profile := s.opts.Quirks.For(r.URL.Query().Get("DeviceType"), r.UserAgent())
	h := c.Response().Header()
	h.Set("MS-Server-ActiveSync", "16.1")
	versions := versionsUpTo(profile.MaxVersion)
	// A client that names its version (some send MS-ASProtocolVersion
	// with OPTIONS) gets that version's commands; otherwise every
	// command of the versions offered.
	if v := r.Header.Get("MS-ASProtocolVersion"); slices.Contains(versions, v) {
		versions = []string{v}
	}
	h.Set("MS-ASProtocolVersions", joinComma(versionsUpTo(profile.MaxVersion)))
	h.Set("MS-ASProtocolCommands", joinComma(advertisedCommands(versions)))
	h.Set("Allow", "OPTIONS,POST")
	h.Set("Public", "OPTIONS,POST")
	h.Set("Cache-Control", "private")
	return c.NoContent(http.StatusOK)
}
