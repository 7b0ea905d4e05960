package server_test

import (
	"fmt"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// A dossier code that carries a registered agency's code belongs to that
// agency's subtree: no other agency's key, nor the admin's, can take it
// first, and its owner can still invite for it and present it.
func TestDossierCodesBelongToTheAgencyTheyName(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	justice := g.Key(t, "agency", "000.00.12.H49")
	building := g.Key(t, "agency", "000.00.13.H49")
	for _, tc := range []struct {
		key, dossier, agency string
		status               int
	}{
		{building, "000.00.12.H49-261205-0001", "000.00.13.H49", 400},        // another branch's code
		{gwtest.AdminKey, "000.00.12.H49-261205-0001", "000.00.13.H49", 400}, // the admin too
		{gwtest.AdminKey, "000.00.12.H49-261205-0001", "000.00.00.H49", 400}, // even its parent
		{justice, "000.01.12.H49-261205-0001", "000.00.12.H49", 400},         // a child's code is the child's
		{justice, "000.00.12.H49-261205-0001", "000.00.12.H49", 201},         // the owner, after all of them
		{justice, "000.00.12.H49-261205-0002", "000.01.12.H49", 201},         // and its subtree
		{justice, "000.01.12.H49-261205-0001", "000.01.12.H49", 201},
		{building, "999.99.99.H99-261205-0001", "000.00.13.H49", 201}, // no registered agency named
		{building, "D-261205-0001", "000.00.13.H49", 201},
	} {
		res, out := g.As(tc.key, "POST", "/api/v1/invitations", map[string]any{"dossier_code": tc.dossier, "agency_code": tc.agency})
		if res.StatusCode != tc.status || (tc.status == 400 && errorOf(out)["field"] != "dossier_code") {
			t.Errorf("%s for %s as %s…: %d %v, want %d", tc.dossier, tc.agency, tc.key[:6], res.StatusCode, out, tc.status)
		}
		for _, other := range []string{"000.00.00.H49", "000.00.12.H49", "000.00.13.H49", "000.01.12.H49"} {
			if tc.status == 400 && other != tc.dossier[:13] && names(fmt.Sprint(out), other) {
				t.Errorf("%s for %s: the refusal names %s, not the code's own agency: %v", tc.dossier, tc.agency, other, out)
			}
		}
	}
	// An agency registered after its code was looked up (and found
	// unregistered) owns its codes at once: the names kept for a minute
	// are dropped with the change.
	if res, out := g.As(building, "POST", "/api/v1/invitations", map[string]any{"dossier_code": "000.00.14.H49-261205-0001", "agency_code": "000.00.13.H49"}); res.StatusCode != 201 {
		t.Fatalf("a code no agency holds yet: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.14.H49", map[string]any{"name": "Sở Y tế", "parent": "000.00.00.H49"}); res.StatusCode >= 300 {
		t.Fatalf("put agency: %d %v", res.StatusCode, out)
	}
	if res, out := g.As(building, "POST", "/api/v1/invitations", map[string]any{"dossier_code": "000.00.14.H49-261205-0002", "agency_code": "000.00.13.H49"}); res.StatusCode != 400 {
		t.Fatalf("a new agency's code taken by another: %d %v", res.StatusCode, out)
	}
	// Presenting at a desk makes no squatted invitation either; the
	// owner's desk presents the code.
	for id, agency := range map[string]string{"quay-xd": "000.00.13.H49", "quay-tp": "000.00.12.H49"} {
		if res, out := g.API("PUT", "/api/v1/desks/"+id, map[string]any{"agency_code": agency, "name": "Quầy"}); res.StatusCode != 200 {
			t.Fatalf("put desk %s: %d %v", id, res.StatusCode, out)
		}
	}
	for _, key := range []string{building, gwtest.AdminKey} {
		res, out := g.As(key, "POST", "/api/v1/desks/quay-xd/present", map[string]any{"dossier_code": "000.00.12.H49-261205-0009"})
		if res.StatusCode != 400 || errorOf(out)["field"] != "dossier_code" {
			t.Fatalf("squatting by presenting as %s…: %d %v", key[:6], res.StatusCode, out)
		}
	}
	if res, out := g.API("GET", "/api/v1/invitations?dossier_code=000.00.12.H49-261205-0009", nil); res.StatusCode != 404 {
		t.Fatalf("a refused presentation left an invitation: %d %v", res.StatusCode, out)
	}
	for _, code := range []string{"000.00.12.H49-261205-0009", "000.00.12.H49-261205-0001"} {
		res, out := g.As(justice, "POST", "/api/v1/desks/quay-tp/present", map[string]any{"dossier_code": code})
		if res.StatusCode != 200 || out["agency_code"] != "000.00.12.H49" {
			t.Fatalf("the owner presents %s: %d %v", code, res.StatusCode, out)
		}
	}
}
