package server_test

import (
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The document is valid OpenAPI 3 and lists exactly the routes the app
// serves: a route added without documenting it, or documented but gone,
// fails here.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	g := gwtest.New(t, "")
	res := g.Do(httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	raw := gwtest.Body(res)
	if res.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", res.StatusCode)
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("invalid OpenAPI: %v", err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range g.App.GetRoutes(true) {
		// The console is a browser UI, not part of the HTTP API.
		if r.Method == "HEAD" || r.Path == "/" || strings.HasSuffix(r.Path, "*") || r.Path == "/api/v1" || strings.HasPrefix(r.Path, "/console") {
			continue
		}
		served[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, stale []string
	for k := range served {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !served[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("routes not in the document: %v\ndocumented routes not served: %v", missing, stale)
	}
}
