package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// axe is axe-core 4.10.3 (MPL-2.0, from npm), vendored so the test needs
// no network.
//
//go:embed testdata/axe.min.js
var axe string

// violation is what axe-core reports for one rule.
type violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// Every console page, with data on it, at a desk's 1280×800, passes
// axe-core with no serious or critical violation.
func TestConsolePagesAreAccessible(t *testing.T) {
	g := gwtest.New(t, "", func(c *config.Config) { c.RankMin = 2 }) // the plans page lists a unit
	g.Listen()
	g.Tree(t)
	for i := range 2 { // the full form, which the plans page judges units by
		inv := g.Invite(fmt.Sprintf("AX-FULL-%d", i), "000.00.13.H49", nil)
		form := url.Values{}
		for _, q := range []string{"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "E1", "E2", "E3", "E4"} {
			form.Set(q, "2")
		}
		if res := g.Form("/s/"+gwtest.Token(inv), form.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %d", res.StatusCode)
		}
	}
	for i, s := range []string{"5", "4", "2", "3"} {
		agency := []string{"000.00.12.H49", "000.00.13.H49"}[i%2]
		inv := g.Invite(fmt.Sprintf("AX-%d", i), agency, map[string]any{"survey": "sipas-5", "procedure_code": "1.0001"})
		form := url.Values{"comment": {"Phải chờ lâu " + s}}
		for _, q := range []string{"A", "B", "C", "D", "E"} {
			form.Set(q, s)
		}
		if res := g.Form("/s/"+gwtest.Token(inv), form.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %d", res.StatusCode)
		}
	}
	g.Invite("AX-STRAY", "000.00.99.H49", nil)
	if res, out := g.API("PUT", "/api/v1/desks/quay-1", map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy 1", "officer": "Trần Thị Bình"}); res.StatusCode != 200 {
		t.Fatalf("desk: %v", out)
	}
	plantFlagged(t, g, "000.01.12.H49", "000.00.13.H49") // the integrity panel and the review queue, with a form
	kioskAnswers(t, g, "quay-2", "000.00.12.H49", 2)
	g.Drain()
	menuCounts(t, g) // the menu's badges on every page

	plan := map[string]any{"title": "Giảm thời gian chờ", "causes": []any{map[string]any{"kind": "indicator", "id": "A1"}, map[string]any{"kind": "desk", "id": "quay-1"}},
		"actions": []any{map[string]any{"text": "Thêm ghế chờ", "owner": "Văn phòng", "due": "2026-01-31"}}, "start": "2026-01-01"}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49/plans/cho-lau", plan); res.StatusCode != 201 {
		t.Fatalf("plan: %v", out)
	}

	month := time.Now().In(time.FixedZone("ICT", 7*3600)).Format("2006-01")
	if _, out := g.API("GET", "/api/v1/plans/missing?from="+month+"&to="+month, nil); len(out["units"].([]any)) != 1 {
		t.Fatalf("no unit for the plans page to list: %v", out)
	}
	ctx := browser(t)
	if err := chromedp.Do(ctx, signIn(g, "/console/login")); err != nil {
		t.Fatal(err)
	}
	paths := []string{"/console/login", "/console/dashboard", "/console/dashboard?survey=sipas-5", "/console/comments",
		"/console/invitations", "/console/invitations?q=AX-0&status=pending", "/console/unread", "/console/agencies", "/console/agencies?edit=000.00.12.H49", "/console/channels", "/console/channels?type=zalo.oa", "/console/channels?type=voice.stringee", "/console/channels?type=voice.twilio", "/console/keys", "/console/qr-sheet?codes=AX-0+AX-1", "/console/cases", "/console/cases?q=AX-2&assignee=lan", "/console/desks",
		"/console/integrity", "/console/flagged", "/console/plans?from=" + month + "&to=" + month, "/console/plans/new?agency=000.00.13.H49", "/console/plans/000.00.12.H49/cho-lau",
		"/console/dashboard?agency=000.00.12.H49&sort=-responses", "/console/dashboard?agency=000.00.12.H49&desk=quay-2", "/console/dashboard?survey=all&from=2026-01&to=2026-12",
		"/console/drivers?agency=000.00.12.H49&survey=sipas-5"}
	_, cases := g.API("GET", "/api/v1/cases", nil)
	if list, _ := cases["cases"].([]any); len(list) > 0 {
		paths = append(paths, "/console/cases/"+list[0].(map[string]any)["id"].(string))
	} else {
		t.Fatalf("no follow-up case to check: %v", cases)
	}
	// Each page in English too, and its figures logged: the closing note
	// of issue 14 lists them (go test -v -run TestConsolePagesAreAccessible ./e2e).
	paths = append(paths, inEnglish(paths[1:])...)
	for _, path := range paths {
		if err := chromedp.Do(ctx, chromedp.Navigate(g.URL+path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if path == "/console/dashboard" {
			badges, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("nav a.count").length`))
			if err != nil || badges != 2 {
				t.Fatalf("%s: %d count badges in the menu (%v), want 2", path, badges, err)
			}
		}
		minor := axeCheck(t, ctx, path)
		weight, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(n => [n.encodedBodySize, n.decodedBodySize])(performance.getEntriesByType("navigation")[0])`))
		if err != nil {
			t.Fatalf("%s: weight: %v", path, err)
		}
		t.Logf("%-48s %d moderate or minor; %5.1f KB sent, %5.1f KB HTML", path, minor, weight[0]/1024, weight[1]/1024)
	}
}

// axeCheck runs axe-core on the page shown: a serious or critical
// violation fails the test; it logs the others and returns their number.
func axeCheck(t *testing.T, ctx context.Context, page string) int {
	t.Helper()
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](axe+`;
		axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", page, err)
	}
	minor := 0
	for _, v := range found {
		if v.Impact != "serious" && v.Impact != "critical" {
			minor++
			t.Logf("%s: %s (%s): %s", page, v.ID, v.Impact, v.Help)
			continue
		}
		var where []string
		for _, n := range v.Nodes {
			where = append(where, strings.Join(n.Target, " "))
		}
		t.Errorf("%s: %s (%s): %s at %s", page, v.ID, v.Impact, v.Help, strings.Join(where, ", "))
	}
	return minor
}

// inEnglish is each of paths with lang=en added to its query.
func inEnglish(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		out[i] = p + sep + "lang=en"
	}
	return out
}

// menuCounts makes a case overdue and plants an unread reply, so the
// menu shows both counts.
func menuCounts(t *testing.T, g *gwtest.Gateway) {
	t.Helper()
	_, out := g.API("GET", "/api/v1/cases", nil)
	list, _ := out["cases"].([]any)
	if len(list) == 0 {
		t.Fatalf("no case to make overdue: %v", out)
	}
	c, err := g.Mongo.Cases.Get(t.Context(), list[0].(map[string]any)["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(-48 * time.Hour)
	c.DueAt, c.FirstDueAt = due, &due
	if err := g.Mongo.Cases.Save(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := g.Core.OpenCases.Add(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	inv := g.MustInvitation("AX-1")
	u := &store.UnreadReply{ID: "u:sms1:ax", Invitation: inv.ID, Survey: "sipas-5", Agency: inv.AgencyCode, Channel: "sms1", Family: "sms",
		Text: "cảm ơn", At: time.Now(), Status: store.UnreadOpen}
	if err := g.Mongo.Unread.Record(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := g.Core.UnreadIndex.Add(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}
