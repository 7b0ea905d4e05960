package report_test

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

const reachAgency = "000.00.12.H49"

// reachGateway is a gateway with an SMS and a Zalo channel stored (not
// enabled: nothing goes out), so a rebuild knows their families.
func reachGateway(t *testing.T) *gwtest.Gateway {
	g := gwtest.New(t, "")
	for _, ch := range []store.Channel{{ID: "sms-main", Type: "sms.generic"}, {ID: "oa", Type: "zalo.oa"}} {
		if err := g.Mongo.Channels.Put(ctx, &ch); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// funnelCounts sums the stored funnel cells as "step/family" (family "*"
// for any channel), of every survey's invitations and of the cases.
func funnelCounts(t *testing.T, g *gwtest.Gateway) map[string]int64 {
	t.Helper()
	cells, err := g.Mongo.Rollups.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for k, c := range cells {
		if store.IsFunnel(k.Survey) && c.Responses != 0 {
			out[k.Question+"/"+k.Channel] += c.Responses
		}
	}
	return out
}

// event is one reach step of inv as the senders note it.
func event(inv *store.Invitation, step, family string) store.FunnelEvent {
	return store.FunnelEvent{Step: step, Invitation: inv.ID, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Family: family, Survey: inv.Survey}
}

func note(t *testing.T, g *gwtest.Gateway, events ...store.FunnelEvent) {
	t.Helper()
	if err := g.Applier.Funnel.Note(ctx, events...); err != nil {
		t.Fatal(err)
	}
}

func wantCounts(t *testing.T, g *gwtest.Gateway, want map[string]int64) {
	t.Helper()
	got := funnelCounts(t, g)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], n, got)
		}
	}
}

func sameAsRebuild(t *testing.T, g *gwtest.Gateway) {
	t.Helper()
	if diff, err := g.Applier.Compare(ctx); err != nil || len(diff) > 0 {
		t.Fatalf("live roll-ups differ from a rebuild: %v %v", diff, err)
	}
}

// Every reach step noted twice counts once; an opening and a start are
// recorded on the invitation once, the first; spends add their units.
func TestReachStepsCountOnce(t *testing.T) {
	g := reachGateway(t)
	g.Invite("D-REACH-1", reachAgency, map[string]any{"survey": "overall"})
	inv := g.MustInvitation("D-REACH-1")
	if err := g.Mongo.Invitations.SetSend(ctx, inv.ID, "sms-main", store.SendStatus{Status: store.SendSent, Parts: 2}); err != nil {
		t.Fatal(err)
	}
	if err := g.Mongo.Invitations.SetSend(ctx, inv.ID, store.ReminderKey("sms-main"),
		store.SendStatus{Kind: store.SendKindReminder, Channel: "sms-main", Status: store.SendSent}); err != nil {
		t.Fatal(err)
	}
	msgs := []*store.Message{
		{ID: "m-invite", Channel: "sms-main", Invitation: inv.ID, Kind: "invite", Parts: 2, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey},
		{ID: "m-remind", Channel: "sms-main", Invitation: inv.ID, Kind: "invite", Parts: 1, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey},
	}
	if err := g.Mongo.Messages.Record(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	var spends []store.FunnelEvent
	for _, m := range msgs {
		e, ok := m.SpentEvent("sms")
		if !ok {
			t.Fatalf("no spend for %v", m)
		}
		spends = append(spends, e)
	}
	steps := []store.FunnelEvent{event(inv, store.FunnelQueued, "sms"), event(inv, store.FunnelSent, "sms"),
		event(inv, store.FunnelReminded, "sms"), event(inv, store.FunnelOpened, "web"), event(inv, store.FunnelStarted, "web")}
	for range 2 {
		note(t, g, append(steps, spends...)...)
	}
	g.Drain()
	note(t, g, steps...) // a third time, in a later batch
	note(t, g, event(inv, store.FunnelOpened, "zalo"), event(inv, store.FunnelStarted, "zalo"))
	g.Drain()
	wantCounts(t, g, map[string]int64{"created/*": 1, "queued/sms": 1, "sent/sms": 1, "sent/*": 1, "reminded/sms": 1,
		"opened/web": 1, "opened/zalo": 1, "opened/*": 1, "started/web": 1, "started/zalo": 0, "spent/sms": 3})
	got := g.MustInvitation("D-REACH-1")
	if got.StartedVia != "web" || len(got.Opened) != 2 || got.Opened["web"].IsZero() || got.Opened["zalo"].Before(got.Opened["web"]) {
		t.Fatalf("recorded on the invitation: started via %q, opened %v", got.StartedVia, got.Opened)
	}
	first := got.Opened["web"]
	note(t, g, event(inv, store.FunnelOpened, "web"))
	g.Drain()
	if again := g.MustInvitation("D-REACH-1"); !again.Opened["web"].Equal(first) {
		t.Fatalf("a later opening moved the first: %v, was %v", again.Opened["web"], first)
	}
	sameAsRebuild(t, g)
}

// A completion counts its invitation as started, once, whether a start
// was noted before it, after it, in the same batch, or never; a response
// whose reminder went out first counts as completed after a reminder.
func TestCompletionCountsAsStartedOnce(t *testing.T) {
	g := reachGateway(t)
	inv := map[string]*store.Invitation{}
	for _, d := range []string{"before", "after", "same", "never"} {
		g.Invite("D-ST-"+d, reachAgency, map[string]any{"survey": "overall"})
		inv[d] = g.MustInvitation("D-ST-" + d)
	}
	submit := func(d string) {
		tok := inv[d].Token
		if res := g.Form("/s/"+tok, "O=4"); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", d, res.StatusCode)
		}
	}
	note(t, g, event(inv["before"], store.FunnelStarted, "zalo"))
	g.Drain()
	submit("before")
	submit("after")
	submit("never")
	g.Drain()
	note(t, g, event(inv["after"], store.FunnelStarted, "zalo"))
	note(t, g, event(inv["same"], store.FunnelStarted, "web"))
	submit("same")
	g.Drain()
	wantCounts(t, g, map[string]int64{"started/zalo": 1, "started/web": 3, "completed/web": 4})
	for d, via := range map[string]string{"before": "zalo", "after": "web", "same": "web", "never": "web"} {
		if got := g.MustInvitation("D-ST-" + d).StartedVia; got != via {
			t.Errorf("%s: started via %q, want %q", d, got, via)
		}
	}

	// A reminded SMS answer, stored as the senders store it.
	g.Invite("D-ST-reminded", reachAgency, map[string]any{"survey": "overall"})
	rem := g.MustInvitation("D-ST-reminded")
	r := &store.Response{ID: "resp-reminded", InvitationID: rem.ID, Survey: "overall", SurveyVersion: 1, AgencyCode: reachAgency,
		Channel: "sms", Month: store.MonthOf(time.Now()), InvitedAt: rem.CreatedAt, InvitedSurvey: "overall", Reminded: true,
		Answers: []store.Answer{{Question: "O", Criterion: "O", Score: 5}}, StartedAt: time.Now(), SubmittedAt: time.Now()}
	if errs, err := g.Mongo.Responses.InsertMany(ctx, []*store.Response{r}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	g.Drain()
	wantCounts(t, g, map[string]int64{"started/sms": 1, "completed/sms": 1, "completed_after_reminder/sms": 1, "completed_after_reminder/web": 0})
	sameAsRebuild(t, g)
}

// A rebuild (as a layout change starts) gives what the live writer
// counted, for every step, including messages logged before they carried
// their agency, month and survey; the live writer counts on after it
// without counting again what the rebuild did.
func TestRebuildCountsTheReachAsLive(t *testing.T) {
	g := reachGateway(t)
	var invs []*store.Invitation
	for i := range 4 {
		d := fmt.Sprintf("D-RB-%d", i)
		g.Invite(d, reachAgency, map[string]any{"survey": []string{"overall", "sipas"}[i%2]})
		invs = append(invs, g.MustInvitation(d))
	}
	for i, inv := range invs {
		ch, fam := "sms-main", "sms"
		if i%2 == 1 {
			ch, fam = "oa", "zalo"
		}
		st := store.SendSent
		if i == 3 {
			st = store.SendFailed
		}
		if err := g.Mongo.Invitations.SetSend(ctx, inv.ID, ch, store.SendStatus{Status: st}); err != nil {
			t.Fatal(err)
		}
		note(t, g, event(inv, store.FunnelQueued, fam))
		if st == store.SendSent {
			note(t, g, event(inv, store.FunnelSent, fam))
		}
		m := &store.Message{ID: fmt.Sprintf("m-%d", i), Channel: ch, Invitation: inv.ID, Kind: "invite", Parts: 1 + i, Encoding: store.EncodingZNS,
			Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey}
		if i == 2 {
			m.Agency, m.Month, m.Survey = "", "", "" // logged before they were kept: never noted live
		} else if e, ok := m.SpentEvent(fam); ok {
			note(t, g, e)
		}
		if err := g.Mongo.Messages.Record(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Mongo.Invitations.SetSend(ctx, invs[0].ID, store.ReminderKey("sms-main"),
		store.SendStatus{Kind: store.SendKindReminder, Channel: "sms-main", Status: store.SendDelivered}); err != nil {
		t.Fatal(err)
	}
	note(t, g, event(invs[0], store.FunnelReminded, "sms"), event(invs[0], store.FunnelOpened, "web"),
		event(invs[1], store.FunnelOpened, "zalo"), event(invs[1], store.FunnelStarted, "zalo"))
	if res := g.Form("/s/"+invs[0].Token, "O=5"); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	// A feedback case's answer: no invitation, counted with the cases.
	note(t, g, store.FunnelEvent{Step: store.FunnelSpent, Agency: reachAgency, Month: store.MonthOf(time.Now()), Family: "sms", Units: 2, Key: "m-case"})
	if err := g.Mongo.Messages.Record(ctx, &store.Message{ID: "m-case", Channel: "sms-main", Kind: "reply", Parts: 2, Agency: reachAgency, Month: store.MonthOf(time.Now())}); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	live := funnelCounts(t, g)
	// Live, the legacy message is not counted (nobody noted it); the
	// rebuild counts it, in its invitation's cells.
	if live["spent/sms"] != 1+2 || live["spent/zalo"] != 2 {
		t.Fatalf("live spends: %v", live)
	}
	if _, err := g.Applier.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	rebuilt := funnelCounts(t, g)
	want := maps.Clone(live)
	want["spent/sms"] += 3
	if fmt.Sprint(rebuilt) != fmt.Sprint(want) {
		t.Fatalf("rebuilt %v\nwant    %v", rebuilt, want)
	}
	wantCounts(t, g, map[string]int64{"created/*": 4, "queued/sms": 2, "queued/zalo": 2, "sent/sms": 2, "sent/zalo": 1, "sent/*": 3,
		"reminded/sms": 1, "opened/web": 1, "opened/zalo": 1, "opened/*": 2, "started/web": 1, "started/zalo": 1, "completed/web": 1,
		"spent/sms": 6, "spent/zalo": 2})
	// Noted again after the rebuild (a sender's retry), nothing counts twice.
	note(t, g, event(invs[0], store.FunnelReminded, "sms"), event(invs[1], store.FunnelOpened, "zalo"), event(invs[0], store.FunnelQueued, "sms"))
	g.Drain()
	if after := funnelCounts(t, g); fmt.Sprint(after) != fmt.Sprint(rebuilt) {
		t.Fatalf("after the rebuild the writer counted again:\n%v\n%v", after, rebuilt)
	}
	sameAsRebuild(t, g)
}

// A rebuild that runs while answers and openings wait to be counted (the
// kill test's cut rebuild, done again by the next writer) leaves the
// roll-ups equal to a later rebuild once the writer counted what waited:
// the starts their completions imply and the openings noted before.
func TestRebuildBeforeTheLiveWriterCounts(t *testing.T) {
	g := reachGateway(t)
	var tokens []string
	for i := range 4 {
		inv := g.Invite(fmt.Sprintf("D-RB-%d", i), reachAgency, map[string]any{"survey": "sipas-5"})
		tokens = append(tokens, gwtest.Token(inv))
	}
	g.Drain()
	for _, tok := range tokens[:3] {
		if res := g.AnswerAsCitizen(tok, "A=5&B=4&C=5&D=4&E=3"); res.StatusCode != 303 && res.StatusCode != 200 {
			t.Fatalf("answer: %d", res.StatusCode)
		}
	}
	if status, _ := g.Page("/s/"+tokens[3], nil); status != 200 {
		t.Fatal("page")
	}
	g.Flush() // the responses in MongoDB, not yet counted
	if _, err := g.Applier.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
	g.Later(store.OpenedAfter) // the page seen and not answered: its opening held until then
	g.Drain()
	g.Drain()
	wantCounts(t, g, map[string]int64{"opened/web": 4, "started/web": 3, "completed/web": 3})
	sameAsRebuild(t, g)
}

// A survey page's first view is held: answered within store.OpenedAfter,
// its opening is counted with the answer and recorded on the invitation
// with its completion, at the view's time; not answered, it is counted
// once due, at the view's time too. Held, it is neither counted nor
// recorded, so a rebuild agrees with the live figures throughout.
func TestPageOpeningsAreHeldUntilAnsweredOrDue(t *testing.T) {
	g := reachGateway(t)
	answered := gwtest.Token(g.Invite("D-HELD-1", reachAgency, map[string]any{"survey": "overall"}))
	left := gwtest.Token(g.Invite("D-HELD-2", reachAgency, map[string]any{"survey": "overall"}))
	g.Drain()
	g.Later(time.Hour) // the gateway's clock an hour from Redis's: an opening's time is its view's, not its note's
	viewed := time.Now().Add(time.Hour)
	for _, tok := range []string{answered, left} {
		if status, _ := g.Page("/s/"+tok, nil); status != 200 {
			t.Fatal("page")
		}
	}
	g.Drain()
	wantCounts(t, g, map[string]int64{"opened/web": 0, "opened/*": 0})
	sameAsRebuild(t, g)
	g.Later(time.Minute)
	if res := g.Form("/s/"+answered, "lang=vi&O=4"); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Flush()
	g.Drain()
	wantCounts(t, g, map[string]int64{"opened/web": 1, "opened/*": 1, "completed/web": 1})
	sameAsRebuild(t, g)
	inv := g.MustInvitation("D-HELD-1")
	if inv.Status != store.StatusCompleted || inv.Opened["web"].Sub(viewed).Abs() > 5*time.Second {
		t.Fatalf("answered: %s, opened %v, want completed and opened when viewed (%v)", inv.Status, inv.Opened, viewed)
	}
	if len(g.MustInvitation("D-HELD-2").Opened) != 0 {
		t.Fatal("an opening still held is recorded")
	}
	g.Later(store.OpenedAfter)
	g.Drain()
	g.Drain()
	wantCounts(t, g, map[string]int64{"opened/web": 2, "opened/*": 2, "completed/web": 1})
	sameAsRebuild(t, g)
	if at := g.MustInvitation("D-HELD-2").Opened["web"]; at.Sub(viewed).Abs() > 5*time.Second {
		t.Fatalf("left: opened %v, want when viewed (%v), not when counted", at, viewed)
	}
	if n, err := g.Applier.Funnel.NoteDue(ctx, time.Now().Add(time.Hour), 10); err != nil || n != 0 {
		t.Fatalf("%d openings still held (%v)", n, err)
	}
}
