package kiosk_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// A desk id one agency deletes and another registers starts clean: the
// new desk's tablet neither sees nor answers the old desk's dossier, even
// when a presentation that raced the delete wrote its marks again.
func TestKioskReusedDeskIDStartsClean(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	ctx := context.Background()
	keyA, keyB := g.Key(t, "agency", "000.00.12.H49"), g.Key(t, "agency", "000.00.13.H49")
	deskWithTabletAs(t, g, keyA, "quay-01", "000.00.12.H49", "")
	res, out := g.As(keyA, "POST", "/api/v1/desks/quay-01/present", map[string]any{"dossier_code": "H49-REUSE-1"})
	if res.StatusCode != 200 {
		t.Fatalf("present: %d %v", res.StatusCode, out)
	}
	kiosk := out["kiosk"].(map[string]any)
	inv := kiosk["invitation_id"].(string)
	screen, _ := g.Core.Kiosks.R.Get(ctx, redisKey(g, "cur", "quay-01")).Result()
	mark, _ := g.Core.Kiosks.R.Get(ctx, redisKey(g, "inv", inv)).Result()
	if screen == "" || mark == "" {
		t.Fatalf("presenting left screen %q and mark %q", screen, mark)
	}

	if res, _ := g.As(keyA, "DELETE", "/api/v1/desks/quay-01", nil); res.StatusCode != 204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	// The delete cleared the screen and the marks, in Redis and MongoDB.
	if n, _ := g.Core.Kiosks.R.Exists(ctx, redisKey(g, "cur", "quay-01"), redisKey(g, "inv", inv)).Result(); n != 0 {
		t.Fatalf("%d of the desk's screen and presented mark left in Redis", n)
	}
	if desk, _, err := g.Mongo.Desks.PresentedDesk(ctx, inv); err != nil || desk.ID != "" {
		t.Fatalf("presented mark left in MongoDB: %q %v", desk, err)
	}

	tabletB := deskWithTabletAs(t, g, keyB, "quay-01", "000.00.13.H49", "")
	answer := map[string]any{"idempotency_key": "reuse-key-1", "invitation_id": inv, "seq": kiosk["seq"],
		"answers": map[string]int{"A": 5, "B": 5, "C": 5, "D": 5, "E": 5}}
	check := func(when string) {
		t.Helper()
		if res, out := g.As(tabletB, "GET", "/kiosk/api/next?after=0&wait=1", nil); res.StatusCode != 204 {
			t.Fatalf("%s: agency B's tablet was shown %v", when, out)
		}
		if res, out := g.As(tabletB, "POST", "/kiosk/api/answer", answer); res.StatusCode != 403 {
			t.Fatalf("%s: agency B's tablet answered agency A's dossier: %d %v", when, res.StatusCode, out)
		}
	}
	check("after the delete")

	// A presentation that read the old desk just before the delete writes
	// its screen and mark just after: they name the old desk, not this one.
	g.Core.Kiosks.R.Set(ctx, redisKey(g, "cur", "quay-01"), screen, 0)
	g.Core.Kiosks.R.Set(ctx, redisKey(g, "inv", inv), mark, 0)
	answer["idempotency_key"] = "reuse-key-2"
	check("after a presentation that raced the delete")
	if inv := g.MustInvitation("H49-REUSE-1"); inv.Status == "completed" {
		t.Fatalf("agency A's dossier was answered from agency B's desk")
	}
}

// An answer is checked against the desk's agency now: a desk moved to
// another agency no longer answers the dossiers its old agency presented.
func TestKioskAnswerNeedsTheDesksAgency(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	tablet := deskWithTablet(t, g, "quay-m", "000.00.12.H49", "")
	_, out := g.API("POST", "/api/v1/desks/quay-m/present", map[string]any{"dossier_code": "H49-MOVE-1", "agency_code": "000.01.12.H49"})
	kiosk := out["kiosk"].(map[string]any)
	if res, out := g.API("PUT", "/api/v1/desks/quay-m", map[string]any{"agency_code": "000.00.13.H49", "name": "Quầy M"}); res.StatusCode != 200 {
		t.Fatalf("move the desk: %d %v", res.StatusCode, out)
	}
	answer := map[string]any{"idempotency_key": "move-key-1", "invitation_id": kiosk["invitation_id"], "seq": kiosk["seq"],
		"answers": map[string]int{"A": 4, "B": 4, "C": 4, "D": 4, "E": 4}}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 403 || strings.Contains(fmt.Sprint(out), "000.01.12.H49") {
		t.Fatalf("a desk of 000.00.13.H49 answered a dossier of 000.01.12.H49, or was told its agency: %d %v", res.StatusCode, out)
	}
	// Moved back under an agency whose subtree holds the dossier's, it may.
	g.API("PUT", "/api/v1/desks/quay-m", map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy M"})
	answer["idempotency_key"] = "move-key-2"
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
		t.Fatalf("answer from the desk's own agency: %d %v", res.StatusCode, out)
	}
}
