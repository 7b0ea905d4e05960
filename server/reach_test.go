package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
)

// reachWorld makes invitations whose reach is known, as the senders note
// and store it: agency 12's three of survey overall (texted and answered
// by SMS after its reminder; texted, opened on the web and answered there;
// sent on Zalo and opened there) and one of sipas (texted); agency 13's
// two of overall (texting failed; answered on the web); and a feedback
// case's SMS answer in agency 12.
func reachWorld(t *testing.T, options ...func(*config.Config)) *gwtest.Gateway {
	ctx := context.Background()
	g := gwtest.New(t, "", options...)
	for _, ch := range []store.Channel{{ID: "sms-main", Type: "sms.generic"}, {ID: "oa", Type: "zalo.oa"}} {
		if err := g.Mongo.Channels.Put(ctx, &ch); err != nil {
			t.Fatal(err)
		}
	}
	inv := map[string]*store.Invitation{}
	for _, d := range []struct{ code, agency, survey string }{
		{"a1", "000.00.12.H49", "overall"}, {"a2", "000.00.12.H49", "overall"}, {"a3", "000.00.12.H49", "overall"},
		{"s1", "000.00.12.H49", "sipas"}, {"b1", "000.00.13.H49", "overall"}, {"b2", "000.00.13.H49", "overall"},
	} {
		g.Invite("D-REACH-"+d.code, d.agency, map[string]any{"survey": d.survey})
		inv[d.code] = g.MustInvitation("D-REACH-" + d.code)
	}
	var events []store.FunnelEvent
	step := func(code, name, family string) {
		i := inv[code]
		events = append(events, store.FunnelEvent{Step: name, Invitation: i.ID, Agency: i.AgencyCode, Month: store.MonthOf(i.CreatedAt), Family: family, Survey: i.Survey})
	}
	spend := func(code, id, family string, parts int, encoding string) {
		i := inv[code]
		m := &store.Message{ID: id, Invitation: i.ID, Parts: parts, Encoding: encoding, Agency: i.AgencyCode, Month: store.MonthOf(i.CreatedAt), Survey: i.Survey}
		e, ok := m.SpentEvent(family)
		if !ok {
			t.Fatalf("no spend for %s", id)
		}
		events = append(events, e)
	}
	for _, code := range []string{"a1", "a2", "s1", "b1"} {
		step(code, store.FunnelQueued, "sms")
	}
	for _, code := range []string{"a1", "a2", "s1"} {
		step(code, store.FunnelSent, "sms")
	}
	step("a1", store.FunnelReminded, "sms")
	step("a2", store.FunnelOpened, "web")
	step("a3", store.FunnelQueued, "zalo")
	step("a3", store.FunnelSent, "zalo")
	step("a3", store.FunnelOpened, "zalo")
	spend("a1", "m-a1", "sms", 2, "")
	spend("a1", "m-a1-r", "sms", 1, "")
	spend("a2", "m-a2", "sms", 1, "")
	spend("s1", "m-s1", "sms", 1, "")
	spend("a3", "m-a3", "zalo", 1, store.EncodingZNS)
	events = append(events, store.FunnelEvent{Step: store.FunnelSpent, Agency: "000.00.12.H49", Month: store.MonthOf(time.Now()), Family: "sms", Units: 2, Key: "m-case"})
	if err := g.Applier.Funnel.Note(ctx, events...); err != nil {
		t.Fatal(err)
	}
	// Answered on the web: each also counts opened on the web (b2 too,
	// which no event said was opened).
	for _, code := range []string{"a2", "b2"} {
		if res := g.Form("/s/"+inv[code].Token, "O=4"); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", code, res.StatusCode)
		}
	}
	a1 := inv["a1"]
	r := &store.Response{ID: "resp-a1", InvitationID: a1.ID, Survey: "overall", SurveyVersion: 1, AgencyCode: a1.AgencyCode, Channel: "sms",
		Month: store.MonthOf(time.Now()), InvitedAt: a1.CreatedAt, InvitedSurvey: "overall", Reminded: true,
		Answers: []store.Answer{{Question: "O", Criterion: "O", Score: 5}}, StartedAt: time.Now(), SubmittedAt: time.Now()}
	if errs, err := g.Mongo.Responses.InsertMany(ctx, []*store.Response{r}); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	g.Drain()
	return g
}

func prices(c *config.Config) { c.Prices = "sms_part=850,zns=300" }

// row reads one reach row as "invited sent reminded opened started
// completed after-reminder units cost cost-per-answer base" (null: -).
func row(t *testing.T, v any) string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("no reach row: %v", v)
	}
	out := ""
	for _, k := range []string{"invited", "sent", "reminded", "opened", "started", "completed", "completed_after_reminder", "units", "cost", "cost_per_answer"} {
		switch x := m[k].(type) {
		case nil:
			out += "- "
		case float64:
			out += fmt.Sprintf("%g ", x)
		default:
			t.Fatalf("%s: %v", k, x)
		}
	}
	return out + m["base"].(string)
}

func reachOf(t *testing.T, g *gwtest.Gateway, query string) map[string]any {
	t.Helper()
	res, rep := g.API("GET", "/api/v1/reports/sipas?"+query, nil)
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d %v", query, res.StatusCode, rep)
	}
	reach, ok := rep["reach"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no reach in %v", query, rep)
	}
	return reach
}

func TestReachAndCostFromKnownEvents(t *testing.T) {
	g := reachWorld(t, prices)
	reach := reachOf(t, g, "survey=overall")
	by := reach["by_channel"].(map[string]any)
	for name, want := range map[string]string{
		"overall": "5 3 1 3 3 3 1 - 3700 1233 invited",
		"web":     "5 5 0 2 2 2 0 - 0 0 invited",
		"sms":     "3 2 1 - 1 1 1 4 3400 3400 sent",
		"zalo":    "1 1 0 1 0 0 0 1 300 - sent",
	} {
		got := ""
		if name == "overall" {
			got = row(t, reach)
		} else {
			got = row(t, by[name])
		}
		if got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	sms := by["sms"].(map[string]any)["rates"].(map[string]any)
	completed := sms["completed"].(map[string]any)
	w := report.Wilson(50, 2) // one of the two texted
	if iv := completed["interval"].(map[string]any); completed["rate"] != 50.0 || iv["low"] != w.Low || iv["high"] != w.High {
		t.Errorf("sms completed rate %v, want 50 in %v", completed, w)
	}
	if sms["opened"] != nil || sms["sent"].(map[string]any)["rate"] != 66.67 {
		t.Errorf("sms rates %v: opened null, sent 2 of 3", sms)
	}
	if r := reach["rates"].(map[string]any)["completed"].(map[string]any)["rate"]; r != 60.0 {
		t.Errorf("overall completion %v, want 60", r)
	}
	// The response rate stays as clients read it.
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	if inv := rep["invitations"].(map[string]any); inv["response_rate"] != 60.0 || inv["by_channel"].(map[string]any)["sms"].(map[string]any)["sent"] != 2.0 {
		t.Errorf("invitations %v", inv)
	}

	// The survey filter: sipas's one texted invitation; every survey's
	// with the feedback case's answer's cost.
	if got := row(t, reachOf(t, g, "survey=sipas")["by_channel"].(map[string]any)["sms"]); got != "1 1 0 - 0 0 0 1 850 - sent" {
		t.Errorf("sipas sms: %s", got)
	}
	all := reachOf(t, g, "survey=all")
	if got := row(t, all); got != "6 4 1 3 3 3 1 - 6250 2083 invited" {
		t.Errorf("all: %s", got)
	}

	// By agency: each group its own invitations and cost.
	_, rep = g.API("GET", "/api/v1/reports/sipas?survey=overall&group_by=agency", nil)
	groups := map[string]string{}
	for _, x := range rep["groups"].([]any) {
		gr := x.(map[string]any)
		groups[gr["group"].(string)] = row(t, gr["reach"])
	}
	if groups["000.00.12.H49"] != "3 3 1 2 2 2 1 - 3700 1850 invited" || groups["000.00.13.H49"] != "2 0 0 1 1 1 0 - 0 0 invited" {
		t.Errorf("by agency: %v", groups)
	}
	if got := row(t, reachOf(t, g, "survey=overall&group_by=agency")); got != "5 3 1 3 3 3 1 - 3700 1233 invited" {
		t.Errorf("overall grouped by agency: %s", got)
	}
}

// Without GATEWAY_PRICES the units are counted and no cost is given.
func TestReachWithoutPricesHasNoCost(t *testing.T) {
	g := reachWorld(t)
	reach := reachOf(t, g, "survey=overall")
	sms := reach["by_channel"].(map[string]any)["sms"]
	if got := row(t, sms); got != "3 2 1 - 1 1 1 4 - - sent" {
		t.Errorf("sms: %s", got)
	}
	if got := row(t, reach); got != "5 3 1 3 3 3 1 - - - invited" {
		t.Errorf("overall: %s", got)
	}
}
