package admin

import (
	"net/http"
	"net/http/pprof"

	"github.com/labstack/echo/v4"
)

// profileRoutes serves Go's runtime profiles (CPU, heap, goroutines,
// mutex and block contention, execution trace) to admin token holders, so
// that a running server's cost can be looked at where it runs:
//
//	curl -H 'Authorization: Bearer TOKEN' -o cpu.pprof \
//	    'http://ADMIN/debug/pprof/profile?seconds=60'
//	go tool pprof -top cpu.pprof
//
// They are on the admin listener only: a profile names no user or
// message, but a goroutine dump shows what every request is doing, and a
// CPU profile costs the server a little while it runs. The handlers are
// mounted here rather than imported for their side effect, which would put
// them on net/http's default mux. The command line is left out: it may
// carry a secret given as a flag.
func profileRoutes(g *echo.Group) {
	g.GET("/", echo.WrapHandler(http.HandlerFunc(pprof.Index)))
	g.GET("/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)))
	g.GET("/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	g.POST("/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	g.GET("/trace", echo.WrapHandler(http.HandlerFunc(pprof.Trace)))
	// goroutine, heap, allocs, threadcreate, block, mutex
	g.GET("/:name", func(c echo.Context) error {
		pprof.Handler(c.Param("name")).ServeHTTP(c.Response(), c.Request())
		return nil
	})
}
