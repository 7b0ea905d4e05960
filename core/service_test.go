package core_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// openSaved invites dossier to the five-question survey, opens its page
// and saves an answer on it: the session and its token.
func openSaved(t *testing.T, g *gwtest.Gateway, dossier string) (*core.Session, string) {
	t.Helper()
	url := g.Invite(dossier, "000.00.12.H49", map[string]any{"survey": "sipas-5"})["survey_url"].(string)
	token := url[strings.LastIndex(url, "/")+1:]
	ss, err := g.Core.Open(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Core.SaveProgress(context.Background(), ss, map[string]string{"A": "5"}, false); err != nil {
		t.Fatal(err)
	}
	return ss, token
}

// A survey page reads the invitation's working copy, the outbox's done
// mark and the saved answers in two Redis round trips and no MongoDB, and
// in one once the process has read its token (the invitation's first
// view, one more: it counts it opened); a completion still on its way to
// MongoDB shows as completed, and clears the progress.
func TestSurveyPageCost(t *testing.T) {
	g := gwtest.New(t, "")
	ctx := context.Background()
	ss, token := openSaved(t, g, "D-PG-1")
	rt := &roundTrips{}
	g.Core.Drafts.R.AddHook(rt)
	mongo, cache := g.Core.Mongo, g.Core.Cache
	g.Core.Cache = &store.InvitationCache{R: cache.R, TTL: cache.TTL} // another process's: it never read the token
	g.Core.Mongo = nil                                                // a MongoDB call would panic
	ss, saved, err := g.Core.OpenWithProgress(ctx, token)
	if err != nil || saved["A"] != "5" || ss.Completed() {
		t.Fatalf("opened %v with %v (%v), want the saved A=5, not completed", ss, saved, err)
	}
	if n := rt.n.Load(); n != 3 {
		t.Fatalf("a survey page's first view took %d Redis round trips, want 3", n)
	}
	for _, c := range []*store.InvitationCache{g.Core.Cache, cache} { // cache read the token with Open
		g.Core.Cache = c
		rt.n.Store(0)
		time.Sleep(2 * time.Millisecond) // a view in the first's millisecond would count as the first
		if _, saved, err = g.Core.OpenWithProgress(ctx, token); err != nil || saved["A"] != "5" {
			t.Fatalf("opened with %v (%v), want the saved A=5", saved, err)
		}
		if n := rt.n.Load(); n != 1 {
			t.Fatalf("a survey page whose token this process read took %d Redis round trips, want 1", n)
		}
	}
	g.Core.Mongo = mongo
	answers := survey.Answers{"A": 5, "B": 4, "C": 5, "D": 4, "E": 3}
	if _, err := g.Core.Complete(ctx, ss, core.Completion{Answers: answers, Channel: "web", Locale: "vi"}); err != nil {
		t.Fatal(err)
	}
	g.Core.Mongo = nil
	if ss, saved, err = g.Core.OpenWithProgress(ctx, token); err != nil || !ss.Completed() || ss.Invitation.CompletedVia != "web" {
		t.Fatalf("after its completion the page opened %+v (%v), want it completed via web", ss, err)
	}
	if len(saved) != 0 {
		t.Fatalf("the completion left its progress: %v", saved)
	}
}

// A web answer's completion reads its device's counts, puts the answer in
// the outbox, then clears its page's progress and counts the answer under
// its device in one round trip: three in all.
func TestWebCompletionCost(t *testing.T) {
	g := gwtest.New(t, "")
	ctx := context.Background()
	answers := survey.Answers{"A": 5, "B": 4, "C": 5, "D": 4, "E": 3}
	complete := func(dossier string) *roundTrips {
		ss, _ := openSaved(t, g, dossier)
		rt := &roundTrips{}
		g.Core.Drafts.R.AddHook(rt)
		if _, err := g.Core.Complete(ctx, ss, core.Completion{Answers: answers, Channel: "web", Locale: "vi",
			VerifiedBy: store.VerifiedToken, Address: "203.0.113.7", Device: "device-" + dossier}); err != nil {
			t.Fatal(err)
		}
		return rt
	}
	complete("D-WC-1")           // Redis has the scripts from here
	g.Core.AckAfterMongo = false // the outbox writer saves it: Redis only
	rt := complete("D-WC-2")
	if n := rt.n.Load(); n != 3 {
		t.Fatalf("a web completion took %d Redis round trips, want 3", n)
	}
}
