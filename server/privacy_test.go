package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

func TestErasureKeepsTheFigures(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("D-ERASE", "000.00.12.H49", map[string]any{"phone": "0912345678", "survey": "overall"})
	other := g.Invite("D-KEEP", "000.00.12.H49", map[string]any{"phone": "0987654321", "survey": "overall"})
	for _, i := range []map[string]any{inv, other} {
		if res := g.Form("/s/"+gwtest.Token(i), "O=4"); res.StatusCode != 303 {
			t.Fatal(res.StatusCode)
		}
	}
	g.Drain()
	_, before := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	res, out := g.API("POST", "/api/v1/erasures", map[string]any{"phone": "+84 912 345 678"})
	if res.StatusCode != 200 {
		t.Fatalf("erase: %d %v", res.StatusCode, out)
	}
	e := out["erased"].(map[string]any)
	if e["invitations"] != 1.0 || e["responses"] != 1.0 {
		t.Fatalf("erased %v", e)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if got["has_phone"] != false {
		t.Fatalf("phone kept: %v", got)
	}
	r, _ := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	k, _ := g.Mongo.Responses.ByInvitation(t.Context(), other["id"].(string))
	if r.Respondent != "" || r.Answers[0].Score != 4 || k.Respondent == "" {
		t.Fatalf("erased response %+v, kept response %+v", r, k)
	}
	_, after := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	if after["responses"] != before["responses"] || after["overall"].(map[string]any)["mean_score"] != 4.0 {
		t.Fatalf("figures changed: %v → %v", before, after)
	}
	_, audit := g.API("GET", "/api/v1/audit", nil)
	if s := strings.Join(g.Replies, ""); !strings.Contains(s, "84******678") || strings.Contains(s, "84912345678") {
		t.Fatalf("audit should show the number masked: %v", audit)
	}
	if res, _ := g.API("POST", "/api/v1/erasures", map[string]any{"phone": "12"}); res.StatusCode != 400 {
		t.Fatalf("bad phone: %d", res.StatusCode)
	}
}

// An answer accepted but not yet written to MongoDB is unlinked too.
func TestErasureReachesAnswersStillInTheOutbox(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("D-ERASE-NEW", "000.00.12.H49", map[string]any{"phone": "0912345678", "survey": "overall"})
	if res := g.Form("/s/"+gwtest.Token(inv), "O=2"); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	if n, _ := g.Core.Outbox.Pending(t.Context()); n != 1 {
		t.Fatalf("%d answers in the outbox, want 1", n)
	}
	if res, out := g.API("POST", "/api/v1/erasures", map[string]any{"phone": "0912345678"}); res.StatusCode != 200 {
		t.Fatalf("erase: %d %v", res.StatusCode, out)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || r.Respondent != "" || r.Answers[0].Score != 2 {
		t.Fatalf("response after erasure %+v %v", r, err)
	}
}

func TestRetentionSweepErasesOldPhones(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("D-OLD-PHONE", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	if n, err := g.Core.Sweep(t.Context(), 24*time.Hour); err != nil || n != (core.Swept{}) {
		t.Fatalf("a fresh phone was swept: %d %v", n, err)
	}
	g.Core.Clock = func() time.Time { return time.Now().Add(200 * 24 * time.Hour) }
	if n, err := g.Core.Sweep(t.Context(), 180*24*time.Hour); err != nil || n.Phones != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	stored, _ := g.Mongo.Invitations.Invitation(t.Context(), inv["id"].(string))
	if len(stored.PhoneSealed) != 0 || stored.Respondent == "" {
		t.Fatalf("after the sweep: phone %d bytes, respondent %q", len(stored.PhoneSealed), stored.Respondent)
	}
}

// The sweep drops scanned pages' images with the conversation texts; the
// page's record and what became of it stay.
func TestRetentionSweepDropsScanImages(t *testing.T) {
	g := gwtest.New(t, "")
	admin := &core.Principal{Role: core.RoleAdmin}
	sc, err := g.Core.FilePaper(t.Context(), admin, core.PaperPage{File: "stack.jpg", Page: 1, Image: []byte("a page")})
	if err != nil || sc.Status != store.ScanUnreadable {
		t.Fatalf("a page with no form: %+v %v", sc, err)
	}
	if n, err := g.Core.Sweep(t.Context(), 24*time.Hour); err != nil || n.ScanImages != 0 {
		t.Fatalf("a fresh scan was swept: %+v %v", n, err)
	}
	g.Core.Clock = func() time.Time { return time.Now().Add(200 * 24 * time.Hour) }
	if n, err := g.Core.Sweep(t.Context(), 180*24*time.Hour); err != nil || n.ScanImages != 1 {
		t.Fatalf("sweep: %+v %v", n, err)
	}
	kept, err := g.Mongo.Scans.Get(t.Context(), sc.ID)
	if err != nil || len(kept.Image) != 0 || kept.Status != store.ScanUnreadable || kept.File != "stack.jpg" {
		t.Fatalf("after the sweep: %+v %v", kept, err)
	}
}
