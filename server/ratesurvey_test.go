package server_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// rateFixture makes invitations of three surveys and answers some, one
// of them a sipas invitation by SMS (saved as sipas-5, the short form),
// written to MongoDB but not counted yet; check reads the response rate
// of each survey and of all.
func rateFixture(t *testing.T) (g *gwtest.Gateway, check func(when string)) {
	g = gwtest.New(t, "https://ks.example.vn")
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": "rate-secret-0123456789"}})
	const ag = "000.00.12.H49"
	g.Invite("RATE-SMS", ag, map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	sms := func(id, text string) {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"from":"0912345678","to":"8079","text":%q}`, id, text)
		req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", generic.Sign("rate-secret-0123456789", []byte(body)))
		if res := g.Do(req); res.StatusCode != 200 {
			t.Fatalf("webhook %d", res.StatusCode)
		}
	}
	sms("m-1", "5 4 5 4 5")
	sms("m-2", "Khong co y kien") // the comment, if the conversation asks for one
	web := "A1=5&A2=5&A3=4&A4=4&B1=5&B2=5&B3=5&B4=5&B5=4&C1=5&C2=5&C3=5&C4=5&C5=5&C6=5&D1=5&D2=5&D3=5&E1=4&E2=4&E3=4&E4=4"
	if res := g.Form("/s/"+gwtest.Token(g.Invite("RATE-WEB", ag, nil)), web); res.StatusCode != 303 {
		t.Fatalf("web answer: %d", res.StatusCode)
	}
	g.Invite("RATE-NONE", ag, nil)
	if res := g.Form("/s/"+gwtest.Token(g.Invite("RATE-ONE", ag, map[string]any{"survey": "overall"})), "O=5"); res.StatusCode != 303 {
		t.Fatalf("overall answer: %d", res.StatusCode)
	}
	g.Invite("RATE-SHORT", ag, map[string]any{"survey": "sipas-5"})
	g.Flush()

	// survey: created, completed, rate, SMS sent and completed.
	want := map[string][5]float64{
		"sipas":   {3, 2, 66.67, 1, 1},
		"sipas-5": {1, 0, 0, 0, 0},
		"overall": {1, 1, 100, 0, 0},
		"all":     {5, 3, 60, 1, 1},
	}
	return g, func(when string) {
		t.Helper()
		for s, w := range want {
			res, rep := g.API("GET", "/api/v1/reports/sipas?survey="+s, nil)
			if res.StatusCode != 200 {
				t.Fatalf("%s %s: %d %v", when, s, res.StatusCode, rep)
			}
			inv := rep["invitations"].(map[string]any)
			bySMS := inv["by_channel"].(map[string]any)["sms"].(map[string]any)
			got := [5]float64{inv["created"].(float64), inv["completed"].(float64), inv["response_rate"].(float64), bySMS["sent"].(float64), bySMS["completed"].(float64)}
			if got != w || inv["survey"] != s {
				t.Errorf("%s, survey=%s: created, completed, rate, sms sent, sms completed = %v (survey %v), want %v", when, s, got, inv["survey"], w)
			}
		}
	}
}

// The response rate of a survey counts the invitations that named it, on
// both sides: an SMS answer to a sipas invitation completes a sipas
// invitation, not a sipas-5 one; the cross-form view counts every
// invitation. A rebuild gives the same.
func TestResponseRateFollowsTheSurvey(t *testing.T) {
	g, check := rateFixture(t)
	g.Drain()
	if inv := g.MustInvitation("RATE-SMS"); inv.Status != "completed" || inv.CompletedVia != "sms" {
		t.Fatalf("the SMS answer did not complete its invitation: %s via %q", inv.Status, inv.CompletedVia)
	}

	check("counted live")
	compareAndRebuild(t, g, check)
}

// Responses saved and invitation events noted by an older version, which
// did not keep the invitation's survey with them, count under the survey
// their invitation named all the same, live and rebuilt.
func TestResponseRateOfResponsesSavedWithoutTheSurvey(t *testing.T) {
	g, check := rateFixture(t)
	unset := bson.D{{Key: "$unset", Value: bson.D{{Key: "invited_survey", Value: ""}}}}
	if res, err := g.Mongo.DB.Collection("responses").UpdateMany(t.Context(), bson.D{}, unset); err != nil || res.ModifiedCount != 3 {
		t.Fatalf("responses: %v %v", res, err)
	}
	// Their uncounted copies as that version kept them: the response
	// itself, not encoded in one field.
	copies, err := g.Mongo.Responses.Uncounted(t.Context(), 10)
	if err != nil || len(copies) != 3 {
		t.Fatalf("uncounted copies %d (%v), want 3", len(copies), err)
	}
	for _, r := range copies {
		r.InvitedSurvey = ""
		if res, err := g.Mongo.DB.Collection("uncounted_responses").ReplaceOne(t.Context(), bson.D{{Key: "_id", Value: r.ID}}, r); err != nil || res.ModifiedCount != 1 {
			t.Fatalf("copy %s: %v %v", r.ID, res, err)
		}
	}
	ids, events, err := g.Core.Funnel.Range(t.Context(), "-", "+", 0)
	if err != nil || len(events) < 6 {
		t.Fatalf("funnel events %v %v", events, err)
	}
	if err := g.Core.Funnel.Drop(t.Context(), ids); err != nil {
		t.Fatal(err)
	}
	for i := range events {
		events[i].Survey = ""
	}
	if err := g.Core.Funnel.Note(t.Context(), events...); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	check("counted live")
	compareAndRebuild(t, g, check)
}

func compareAndRebuild(t *testing.T, g *gwtest.Gateway, check func(string)) {
	t.Helper()
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("the roll-ups differ from a rebuild: %v %v", diff, err)
	}
	if _, err := g.Applier.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	check("rebuilt")
}
