package kiosk_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The officer's tablet cannot take another agency's dossier code first,
// nor learn which agency holds a dossier it may not show; the owner's
// tablet shows the code.
func TestTabletPresentsOnlyItsAgencysCodes(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	stranger := deskWithTablet(t, g, "quay-xd", "000.00.13.H49", "")
	owner := deskWithTablet(t, g, "quay-tp", "000.00.12.H49", "")
	present := func(tablet, code string) (int, map[string]any) {
		res, out := g.As(tablet, "POST", "/kiosk/api/present", map[string]any{"dossier_code": code, "officer_pin": "24681357"})
		return res.StatusCode, out
	}
	const code = "000.00.12.H49-261205-0101"
	if status, out := present(stranger, code); status != 400 || out["error"].(map[string]any)["field"] != "dossier_code" {
		t.Fatalf("another agency's code on a stranger's tablet: %d %v", status, out)
	}
	if res, _ := g.API("GET", "/api/v1/invitations?dossier_code="+code, nil); res.StatusCode != 404 {
		t.Fatalf("the refused code was made: %d", res.StatusCode)
	}
	if status, out := present(owner, code); status != 200 || out["dossier_code"] != code {
		t.Fatalf("the owner's tablet: %d %v", status, out)
	}
	g.Invite("D-TP-0102", "000.01.12.H49", nil)
	status, out := present(stranger, "D-TP-0102")
	if status != 403 || out["error"].(map[string]any)["field"] != "dossier_code" || strings.Contains(fmt.Sprint(out), "000.01.12.H49") {
		t.Fatalf("another agency's dossier on a stranger's tablet: %d %v", status, out)
	}
}
