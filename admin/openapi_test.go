package admin_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/easd/easd/admin"
)

// The OpenAPI file describes exactly the routes of the API: every route
// of /api/, /readyz and /metrics has its path and method there, and every
// path and method there is a route. The web page's routes are HTML, not
// API, and not described.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	srv, err := admin.New(admin.Options{
		Ready:   func(context.Context) (string, error) { return "", nil },
		Metrics: http.NotFoundHandler(),
	})
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	methods := map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}
	routes := map[string]bool{}
	for _, r := range srv.Echo.Routes() {
		api := strings.HasPrefix(r.Path, "/api/") || r.Path == "/readyz" || r.Path == "/metrics"
		if !api || !methods[r.Method] {
			continue
		}
		routes[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}

	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(admin.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			if M := strings.ToUpper(m); methods[M] {
				documented[M+" "+path] = true
			}
		}
	}
	var missing, extra []string
	for r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routes[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("routes not in openapi.yaml: %v\nopenapi.yaml paths that are no route: %v", missing, extra)
	}
	if len(routes) < 15 {
		t.Errorf("only %d API routes found: %v", len(routes), routes)
	}
}
