package eas

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Path is the EAS endpoint every client posts to.
const Path = "/Microsoft-Server-ActiveSync"

// Register adds the EAS routes to e.
func Register(e *echo.Echo) {
	e.OPTIONS(Path, options)
	// Some clients use lower case; the path is case-insensitive on Exchange.
	e.OPTIONS("/microsoft-server-activesync", options)
}

// options answers the capability query a client sends before anything else
// (MS-ASHTTP 2.2.4): which versions and commands this server supports.
func options(c echo.Context) error {
	h := c.Response().Header()
	h.Set("MS-Server-ActiveSync", "16.1")
	h.Set("MS-ASProtocolVersions", joinComma(ProtocolVersions))
	h.Set("MS-ASProtocolCommands", joinComma(ProtocolCommands))
	h.Set("Allow", "OPTIONS,POST")
	h.Set("Public", "OPTIONS,POST")
	h.Set("Cache-Control", "private")
	return c.NoContent(http.StatusOK)
}
