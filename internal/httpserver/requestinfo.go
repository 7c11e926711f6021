package httpserver

import (
	"time"

	"github.com/labstack/echo/v4"
)

const (
	requestIDKey = "easd.request_id"
	infoKey      = "easd.info"
)

// RequestInfo carries what the access log and metrics report about a
// request. Protocol handlers fill it in as they learn who is asking.
type RequestInfo struct {
	User      string
	Device    string
	Cmd       string
	EASStatus int // protocol status sent in the body, when not 1/absent
	// Routine marks EASStatus as a normal outcome (a Ping's 1 or 2), logged
	// at INFO: WARN is for what an operator must look at.
	Routine bool
	Note    string // short reason for an error answer, logged once

	front    *frontState // set by the middleware; nil in handlers tested alone
	start    time.Time
	detached bool // logged when the detached request ends, not by the middleware
}

// Info returns the request's RequestInfo, creating it on first use.
func Info(c echo.Context) *RequestInfo {
	if ri, ok := c.Get(infoKey).(*RequestInfo); ok {
		return ri
	}
	ri := &RequestInfo{}
	c.Set(infoKey, ri)
	return ri
}

// RequestID is the id assigned to the request (also sent as X-Request-Id).
func RequestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}
