package server_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// errorOf is the error object of an API answer (nil when none).
func errorOf(out map[string]any) map[string]any {
	e, _ := out["error"].(map[string]any)
	return e
}

// names reports whether text carries the agency code as a whole token,
// not as part of a longer code.
func names(text, agency string) bool {
	return regexp.MustCompile(`(^|[^0-9A-Z.])` + regexp.QuoteMeta(agency) + `($|[^0-9A-Z.])`).MatchString(text)
}

// A key refused something of another branch is not told which agency
// holds it: the refusals keep their status and name only what the caller
// sent and its own agency.
func TestRefusalsNameNoOtherAgency(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	building := g.Key(t, "agency", "000.00.13.H49")
	inv := g.Invite("D-FOREIGN-1", "000.01.12.H49", nil)
	if res, out := g.API("PUT", "/api/v1/desks/quay-tp", map[string]any{"agency_code": "000.01.12.H49", "name": "Quầy"}); res.StatusCode != 200 {
		t.Fatalf("put desk: %d %v", res.StatusCode, out)
	}
	if res, out := g.As(building, "PUT", "/api/v1/desks/quay-xd", map[string]any{"agency_code": "000.00.13.H49", "name": "Quầy"}); res.StatusCode != 200 {
		t.Fatalf("put desk: %d %v", res.StatusCode, out)
	}
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/api/v1/invitations", map[string]any{"dossier_code": "D-FOREIGN-1", "agency_code": "000.00.13.H49"}, 409},
		{"GET", "/api/v1/invitations?dossier_code=D-FOREIGN-1", nil, 403},
		{"GET", "/api/v1/invitations/" + inv["id"].(string), nil, 403},
		{"GET", "/api/v1/invitations/" + inv["id"].(string) + "/qr.png", nil, 403},
		{"POST", "/api/v1/desks/quay-xd/present", map[string]any{"dossier_code": "D-FOREIGN-1"}, 403},
		{"GET", "/api/v1/desks/quay-tp", nil, 403},
		{"PUT", "/api/v1/desks/quay-tp", map[string]any{"agency_code": "000.00.13.H49", "name": "Quầy"}, 403},
		{"POST", "/api/v1/desks/quay-tp/present", map[string]any{"dossier_code": "D-FOREIGN-1"}, 403},
	} {
		res, out := g.As(building, tc.method, tc.path, tc.body)
		text := fmt.Sprint(out)
		if res.StatusCode != tc.status || errorOf(out) == nil {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, res.StatusCode, out, tc.status)
		}
		for _, other := range []string{"000.01.12.H49", "000.00.12.H49", "000.00.00.H49"} {
			if names(text, other) {
				t.Errorf("%s %s names %s: %v", tc.method, tc.path, other, out)
			}
		}
	}
}
