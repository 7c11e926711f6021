package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The --json schema is the README's: every field of the document is
// described there, so monitoring written from the README reads what the
// probe writes. (probeJSON decodes every test's report with unknown fields
// refused, so the document holds nothing but these fields.)
func TestProbeJSONSchemaDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, doc, ok := strings.Cut(string(readme), "### easd probe\n")
	if !ok {
		t.Fatal("README has no easd probe section")
	}
	doc, _, _ = strings.Cut(doc, "\n### ")
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] || ty.PkgPath() != reflect.TypeFor[probeReport]().PkgPath() {
			return
		}
		seen[ty] = true
		for f := range ty.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !strings.Contains(doc, "`"+name+"`") && !strings.Contains(doc, `"`+name+`"`) {
				t.Errorf("README's easd probe section does not describe the JSON field %s (%s.%s)", name, ty.Name(), f.Name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[probeReport]())
	for _, id := range []string{"connect", "autodiscover", "discover", "options", "provision", "foldersync", "sync", "ping",
		"domain", "autodiscover_host", "redirect", "srv"} {
		if !strings.Contains(doc, "`"+id+"`") {
			t.Errorf("README does not name the id %s", id)
		}
	}
	if !strings.Contains(doc, `"schema": 1`) || probeSchema != 1 {
		t.Errorf("README's example names another schema version than %d", probeSchema)
	}
}

// jsonSteps are the step ids of every report, in order.
var jsonSteps = []string{"connect", "autodiscover", "discover", "options", "provision", "foldersync", "sync", "ping"}

// checkJSONReport checks the parts of the schema a decoder cannot: ids,
// their order, the result values, and that empty lists are [] (not
// null), which some monitoring tools treat differently.
func checkJSONReport(t *testing.T, r *probeReport, raw string) {
	t.Helper()
	ids := []string{}
	for _, s := range r.Steps {
		ids = append(ids, s.ID)
		if !slices.Contains([]string{"ok", "warn", "fail", "skip"}, s.Result) {
			t.Errorf("step %s: result %q", s.ID, s.Result)
		}
		for _, a := range s.Attempts {
			if !slices.Contains([]string{"ok", "none", "fail", "skip"}, a.Result) {
				t.Errorf("attempt %s: result %q", a.Method, a.Result)
			}
		}
	}
	if !slices.Equal(ids, jsonSteps) {
		t.Errorf("steps %v", ids)
	}
	if !slices.Contains([]string{"ok", "warn", "fail"}, r.Result) || r.Schema != 1 || strings.Contains(raw, "null") {
		t.Errorf("report:\n%s", raw)
	}
}
