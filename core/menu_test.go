package core_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

var (
	menuAdmin  = &core.Principal{Role: core.RoleAdmin, Name: "admin"}
	menuViewer = &core.Principal{Role: core.RoleViewer, Name: "viewer"}
	menuTuPhap = &core.Principal{Role: core.RoleAgency, Agency: "000.00.12.H49", Name: "so tu phap"} // with Phòng Hộ tịch below it
	menuXayDng = &core.Principal{Role: core.RoleAgency, Agency: "000.00.13.H49", Name: "so xay dung"}
)

// menuCounts checks the menu's counts for each principal: overdue cases,
// then unread replies (-1: not shown).
func menuCounts(t *testing.T, g *gwtest.Gateway, step string, want map[*core.Principal][2]int64) {
	t.Helper()
	for p, w := range want {
		got, err := g.Core.MenuCounts(context.Background(), p)
		if err != nil {
			t.Fatalf("%s: counts for %s: %v", step, p.Name, err)
		}
		if got.Overdue != w[0] || got.Unread != w[1] {
			t.Errorf("%s: %s counts %d overdue, %d unread; want %d, %d", step, p.Name, got.Overdue, got.Unread, w[0], w[1])
		}
	}
}

// lowCase opens a case for a low answer to dossier at agency and returns its id.
func lowCase(t *testing.T, g *gwtest.Gateway, dossier, agency string) string {
	t.Helper()
	tok := gwtest.Token(g.Invite(dossier, agency, map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=2&D=1&E=1"); res.StatusCode != 303 {
		t.Fatalf("submit %s: %d", dossier, res.StatusCode)
	}
	g.Drain()
	inv := g.MustInvitation(dossier)
	_, out := g.API("GET", "/api/v1/cases?dossier="+url.QueryEscape(dossier), nil)
	for _, c := range out["cases"].([]any) {
		if c := c.(map[string]any); c["invitation_id"] == inv.ID {
			return c["id"].(string)
		}
	}
	t.Fatalf("no case for %s: %v", dossier, out)
	return ""
}

// The menu's overdue count follows the cases: none while they are
// within their due time; past it, each agency key counts its subtree's
// (not a sibling's), an admin every one; an answer takes a case out, the
// agency's own reopen (its due time kept) puts it back, a close takes it
// out for good. A copy written from before the close (a replayed batch)
// is put right by the sweep's FixDueTimes.
func TestMenuCountsOverdueCases(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	hoTich := lowCase(t, g, "MENU-HT", "000.01.12.H49")
	tuPhap := lowCase(t, g, "MENU-TP", "000.00.12.H49")
	lowCase(t, g, "MENU-XD", "000.00.13.H49")
	menuCounts(t, g, "within their due time", map[*core.Principal][2]int64{menuAdmin: {0, 0}, menuTuPhap: {0, 0}, menuXayDng: {0, 0}, menuViewer: {0, -1}})
	g.Later(30 * 24 * time.Hour)
	menuCounts(t, g, "a month on", map[*core.Principal][2]int64{menuAdmin: {3, 0}, menuTuPhap: {2, 0}, menuXayDng: {1, 0}, menuViewer: {3, -1}})

	own := g.Key(t, "agency", "000.00.12.H49")
	act := func(id, action string, body any) {
		t.Helper()
		if res, out := g.As(own, "POST", "/api/v1/cases/"+id+"/"+action, body); res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", action, id, res.StatusCode, out)
		}
	}
	act(hoTich, "answer", map[string]any{"text": "Phòng đã xin lỗi ông/bà."})
	menuCounts(t, g, "one answered", map[*core.Principal][2]int64{menuAdmin: {2, 0}, menuTuPhap: {1, 0}, menuXayDng: {1, 0}})
	act(hoTich, "reopen", nil) // Sở Tư pháp is above Phòng Hộ tịch: a new due time
	menuCounts(t, g, "reopened from above, due moved", map[*core.Principal][2]int64{menuAdmin: {2, 0}, menuTuPhap: {1, 0}})
	act(tuPhap, "answer", map[string]any{"text": "Sở đã nhắc nhở cán bộ."})
	menuCounts(t, g, "both answered", map[*core.Principal][2]int64{menuAdmin: {1, 0}, menuTuPhap: {0, 0}})
	act(tuPhap, "reopen", nil) // the agency's own: its due time kept, overdue again
	menuCounts(t, g, "reopened by its own agency", map[*core.Principal][2]int64{menuAdmin: {2, 0}, menuTuPhap: {1, 0}})
	stale, err := g.Mongo.Cases.Get(context.Background(), tuPhap)
	if err != nil {
		t.Fatal(err)
	}
	act(tuPhap, "close", nil)
	menuCounts(t, g, "closed", map[*core.Principal][2]int64{menuAdmin: {1, 0}, menuTuPhap: {0, 0}, menuXayDng: {1, 0}})

	if err := g.Core.OpenCases.Add(context.Background(), stale); err != nil { // a write from before the close
		t.Fatal(err)
	}
	menuCounts(t, g, "a stale copy indexed", map[*core.Principal][2]int64{menuTuPhap: {1, 0}})
	if n, err := g.Core.FixDueTimes(context.Background()); err != nil || n != 1 {
		t.Fatalf("FixDueTimes fixed %d (%v), want 1", n, err)
	}
	if n, err := g.Core.FixDueTimes(context.Background()); err != nil || n != 0 {
		t.Fatalf("FixDueTimes fixed %d again (%v), want 0", n, err)
	}
	menuCounts(t, g, "put right", map[*core.Principal][2]int64{menuAdmin: {1, 0}, menuTuPhap: {0, 0}, menuXayDng: {1, 0}})

	// Redis loses its data: no count until the start-time pass refills it.
	forget(t, g, "gw:cases:*")
	menuCounts(t, g, "Redis lost its data", map[*core.Principal][2]int64{menuAdmin: {-1, 0}, menuXayDng: {-1, 0}})
	if n, err := g.Core.IndexOpenCases(context.Background()); err != nil || n != 2 {
		t.Fatalf("IndexOpenCases indexed %d (%v), want the 2 not closed", n, err)
	}
	menuCounts(t, g, "refilled", map[*core.Principal][2]int64{menuAdmin: {1, 0}, menuTuPhap: {0, 0}, menuXayDng: {1, 0}})

	// A Redis kept from before due times were indexed has the open-case
	// mark alone: the pass runs once more.
	forget(t, g, "gw:cases:due*")
	if n, err := g.Core.IndexOpenCases(context.Background()); err != nil || n != 2 {
		t.Fatalf("IndexOpenCases after an upgrade indexed %d (%v), want 2", n, err)
	}
	menuCounts(t, g, "after an upgrade", map[*core.Principal][2]int64{menuAdmin: {1, 0}, menuXayDng: {1, 0}})
}

// The menu's unread count follows the replies not understood: a reply
// counts once MongoDB has it, in its agency's subtree, until an operator
// resolves or dismisses it; a viewer gets none. After Redis loses its
// data it shows none until the start-time pass refills it.
func TestMenuCountsUnreadReplies(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	say := func(dossier, agency, phone string) string {
		t.Helper()
		g.Invite(dossier, agency, map[string]any{"phone": phone})
		res, err := g.Core.Converse(context.Background(), core.Inbound{Channel: sms, From: "84" + phone[1:], MessageID: "m-" + dossier, Text: "xin chào", Limit: true, LogSMS: true}, render)
		if err != nil || !res.Unread {
			t.Fatalf("%s: %+v %v, want a reply not understood", dossier, res, err)
		}
		return "u:" + sms.ID + ":m-" + dossier // the reply's id
	}
	ht := say("MENU-U-HT", "000.01.12.H49", "0912000001")
	say("MENU-U-TP", "000.00.12.H49", "0912000002")
	xd := say("MENU-U-XD", "000.00.13.H49", "0912000003")
	menuCounts(t, g, "not yet in MongoDB", map[*core.Principal][2]int64{menuAdmin: {0, 0}})
	g.Drain()
	menuCounts(t, g, "three kept", map[*core.Principal][2]int64{menuAdmin: {0, 3}, menuTuPhap: {0, 2}, menuXayDng: {0, 1}, menuViewer: {0, -1}})
	if res, out := g.API("POST", "/api/v1/unread-replies/"+xd+"/dismiss", map[string]any{"note": "lời chào"}); res.StatusCode != 200 {
		t.Fatalf("dismiss: %d %v", res.StatusCode, out)
	}
	scores := map[string]any{"scores": map[string]int{"A": 4, "B": 4, "C": 4, "D": 4, "E": 4}}
	if res, out := g.API("POST", "/api/v1/unread-replies/"+ht+"/resolve", scores); res.StatusCode != 200 {
		t.Fatalf("resolve: %d %v", res.StatusCode, out)
	}
	menuCounts(t, g, "one dismissed, one resolved", map[*core.Principal][2]int64{menuAdmin: {0, 1}, menuTuPhap: {0, 1}, menuXayDng: {0, 0}})

	forget(t, g, "gw:unread:*")
	menuCounts(t, g, "Redis lost its data", map[*core.Principal][2]int64{menuAdmin: {0, -1}, menuTuPhap: {0, -1}})
	if n, err := g.Core.IndexUnread(context.Background()); err != nil || n != 1 {
		t.Fatalf("IndexUnread indexed %d (%v), want the 1 open", n, err)
	}
	menuCounts(t, g, "refilled", map[*core.Principal][2]int64{menuAdmin: {0, 1}, menuTuPhap: {0, 1}, menuXayDng: {0, 0}})
	if n, err := g.Core.IndexUnread(context.Background()); err != nil || n != 0 {
		t.Fatalf("IndexUnread ran again: %d (%v)", n, err)
	}
}

// The menu's counts cost one Redis round trip for an agency's key and two
// for an admin's, and no MongoDB for an admin.
func TestMenuCountsCost(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	rt := &roundTrips{}
	g.Core.OpenCases.R.AddHook(rt)
	if _, err := g.Core.MenuCounts(context.Background(), menuTuPhap); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Swap(0); n != 1 {
		t.Errorf("an agency key's counts took %d Redis round trips, want 1", n)
	}
	mongo := g.Core.Mongo
	g.Core.Mongo = nil // a MongoDB call would panic
	defer func() { g.Core.Mongo = mongo }()
	if _, err := g.Core.MenuCounts(context.Background(), menuAdmin); err != nil {
		t.Fatal(err)
	}
	if n := rt.n.Load(); n != 2 {
		t.Errorf("an admin's counts took %d Redis round trips, want 2", n)
	}
}

// forget deletes the Redis keys matching pattern of g's database, as a
// Redis that lost its data would have none.
func forget(t *testing.T, g *gwtest.Gateway, pattern string) {
	t.Helper()
	ctx, r := context.Background(), g.Core.OpenCases.R
	keys, err := r.Keys(ctx, pattern+g.Mongo.DB.Name()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatalf("no key %s for %s", pattern, g.Mongo.DB.Name())
	}
	if err := r.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
}
