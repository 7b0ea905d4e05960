package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

const planPath = "/api/v1/agencies/000.00.12.H49/plans/"

// aPlan is a valid plan body; change returns a copy changed by fn.
func aPlan(change ...func(map[string]any)) map[string]any {
	p := map[string]any{
		"title":   "Giảm thời gian chờ ở bộ phận một cửa",
		"causes":  []any{map[string]any{"kind": "indicator", "id": "A1"}, map[string]any{"kind": "topic", "id": "waiting"}},
		"actions": []any{map[string]any{"text": "Thêm 10 ghế chờ", "owner": "Văn phòng Sở", "due": "2026-06-30"}},
		"start":   "2026-06-01",
	}
	for _, fn := range change {
		fn(p)
	}
	return p
}

func errorField(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// A bad plan is a 400 naming the field at fault, down to the cause or
// action by its index, and saying what to write instead.
func TestPlanInputErrorsNameTheField(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	if res, out := g.API("PUT", "/api/v1/desks/quay-13", map[string]any{"agency_code": "000.00.13.H49", "name": "Quầy 13"}); res.StatusCode != 200 {
		t.Fatalf("desk: %v", out)
	}
	cause := func(i int, kind, id string) func(map[string]any) {
		return func(p map[string]any) {
			cs := append([]any{}, p["causes"].([]any)...)
			for len(cs) <= i {
				cs = append(cs, nil)
			}
			cs[i] = map[string]any{"kind": kind, "id": id}
			p["causes"] = cs
		}
	}
	action := func(i int, text, due string) func(map[string]any) {
		return func(p map[string]any) {
			as := append([]any{}, p["actions"].([]any)...)
			for len(as) <= i {
				as = append(as, nil)
			}
			as[i] = map[string]any{"text": text, "owner": "Tổ một cửa", "due": due}
			p["actions"] = as
		}
	}
	set := func(k string, v any) func(map[string]any) { return func(p map[string]any) { p[k] = v } }
	cases := []struct {
		id    string
		body  map[string]any
		field string
		words string
	}{
		{"Bad_ID", aPlan(), "id", "lower-case letters"},
		{"ok", aPlan(set("title", " ")), "title", "required"},
		{"ok", aPlan(set("status", "open")), "status", "draft, active, done or dropped"},
		{"ok", aPlan(set("start", "01/06/2026")), "start", "YYYY-MM-DD"},
		{"ok", aPlan(set("causes", []any{})), "causes", "at least one cause"},
		{"ok", aPlan(set("actions", []any{})), "actions", "at least one action"},
		{"ok", aPlan(cause(1, "indicator", "F9")), "causes[1].id", "not a SIPAS indicator"},
		{"ok", aPlan(cause(1, "criterion", "G")), "causes[1].id", "use A, B, C, D or E"},
		{"ok", aPlan(cause(0, "mood", "x")), "causes[0].kind", "indicator, criterion, topic, procedure, desk"},
		{"ok", aPlan(cause(1, "topic", "weather")), "causes[1].id", "not a comment topic"},
		{"ok", aPlan(cause(2, "procedure", "1.0114 42")), "causes[2].id", "procedure code"},
		{"ok", aPlan(cause(2, "desk", "quay-13")), "causes[2].id", "not a desk of 000.00.12.H49"},
		{"ok", aPlan(cause(2, "desk", "quay-99")), "causes[2].id", "not a desk of 000.00.12.H49"},
		{"ok", aPlan(cause(2, "indicator", "a1")), "causes[2].id", "causes[0] already"},
		{"ok", aPlan(action(0, "Thêm ghế", "30/06/2026")), "actions[0].due", "YYYY-MM-DD"},
		{"ok", aPlan(action(1, "", "2026-07-01")), "actions[1].text", "required"},
		{"ok", aPlan(action(1, "Tập huấn", "2026-05-01")), "actions[1].due", "before the plan's start 2026-06-01"},
		{"ok", aPlan(action(0, strings.Repeat("x", 501), "2026-07-01")), "actions[0].text", "at most 500"},
	}
	for _, tc := range cases {
		res, out := g.API("PUT", planPath+tc.id, tc.body)
		msg := fmt.Sprint(out["error"])
		if res.StatusCode != 400 || errorField(out) != tc.field || !strings.Contains(msg, tc.words) {
			t.Errorf("want 400 on %s saying %q, got %d %v", tc.field, tc.words, res.StatusCode, out)
		}
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.77.H49/plans/ok", aPlan()); res.StatusCode != 404 || !strings.Contains(fmt.Sprint(out), "not registered") {
		t.Errorf("a plan of an unregistered agency: %d %v", res.StatusCode, out)
	}
	// A desk of a unit under the agency is a cause it may name.
	if res, out := g.API("PUT", "/api/v1/desks/quay-1", map[string]any{"agency_code": "000.01.12.H49", "name": "Quầy 1"}); res.StatusCode != 200 {
		t.Fatalf("desk: %v", out)
	}
	res, out := g.API("PUT", planPath+"ok", aPlan(cause(2, "desk", "quay-1"), cause(3, "criterion", "b")))
	if res.StatusCode != 201 || out["status"] != "active" || out["version"] != 1.0 || out["agency_name"] != "Sở Tư pháp" {
		t.Fatalf("a valid plan: %d %v", res.StatusCode, out)
	}
	if cs := fmt.Sprint(out["causes"]); !strings.Contains(cs, "kind:criterion") || !strings.Contains(cs, "id:B") {
		t.Errorf("causes as stored: %s", cs)
	}
}

// A parent's key and the unit's own may write its plans, a sibling's may
// not even read them, a viewer reads within its scope only.
func TestPlanScope(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	province, justice, registry := g.Key(t, "agency", "000.00.00.H49"), g.Key(t, "agency", "000.00.12.H49"), g.Key(t, "agency", "000.01.12.H49")
	building, viewer, buildingViewer := g.Key(t, "agency", "000.00.13.H49"), g.Key(t, "viewer", ""), g.Key(t, "viewer", "000.00.13.H49")
	const registryPlan = "/api/v1/agencies/000.01.12.H49/plans/cho-lau"
	if res, out := g.As(province, "PUT", registryPlan, aPlan()); res.StatusCode != 201 {
		t.Fatalf("the province's key on a commune's plan: %d %v", res.StatusCode, out)
	}
	if res, out := g.As(registry, "PUT", registryPlan, aPlan(func(p map[string]any) { p["version"] = 1 })); res.StatusCode != 200 || out["version"] != 2.0 {
		t.Fatalf("the unit's own key: %d %v", res.StatusCode, out)
	}
	for _, tc := range []struct {
		key, method string
		status      int
	}{
		{justice, "GET", 200}, {viewer, "GET", 200}, {registry, "GET", 200},
		{building, "GET", 403}, {building, "PUT", 403}, {buildingViewer, "GET", 403},
		{viewer, "PUT", 403}, {registry, "PUT", 409}, // a body without the version read
	} {
		var body any
		if tc.method == "PUT" {
			body = aPlan()
		}
		res, out := g.As(tc.key, tc.method, registryPlan, body)
		if res.StatusCode != tc.status {
			t.Errorf("%s by %s…: %d %v, want %d", tc.method, tc.key[:8], res.StatusCode, out, tc.status)
		}
		if res.StatusCode == 403 && strings.Contains(fmt.Sprint(out), "cho-lau") {
			t.Errorf("a refusal names the plan: %v", out)
		}
	}
	if res, out := g.As(building, "GET", "/api/v1/plans?agency=000.00.12.H49", nil); res.StatusCode != 403 || errorField(out) != "agency" {
		t.Errorf("a sibling lists another branch's plans: %d %v", res.StatusCode, out)
	}
	for key, want := range map[string]int{building: 0, buildingViewer: 0, justice: 1, viewer: 1, province: 1} {
		_, out := g.As(key, "GET", "/api/v1/plans", nil)
		if got := len(out["plans"].([]any)); got != want {
			t.Errorf("key %s… lists %d plans, want %d", key[:8], got, want)
		}
	}
	_, audit := g.API("GET", "/api/v1/audit", nil)
	var seen []string
	for _, e := range audit["entries"].([]any) {
		if e := e.(map[string]any); e["action"] == "plan.put" {
			seen = append(seen, fmt.Sprint(e["target"], e["detail"]))
		}
	}
	if len(seen) != 2 || !strings.Contains(strings.Join(seen, "\n"), "000.01.12.H49|cho-lau") || !strings.Contains(strings.Join(seen, "\n"), "created: active, 2 causes, 1 actions") {
		t.Errorf("audit of plan.put: %v", seen)
	}
}

// Two PUTs of one version: one wins, the other is a 409 naming version;
// the loser's change is not written over the winner's.
func TestPlanVersionConflict(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	if res, out := g.API("PUT", planPath+"ghe-cho", aPlan()); res.StatusCode != 201 {
		t.Fatalf("create: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", planPath+"khac", aPlan(func(p map[string]any) { p["version"] = 3 })); res.StatusCode != 409 || errorField(out) != "version" {
		t.Errorf("a version for a plan that does not exist: %d %v", res.StatusCode, out)
	}
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := g.API("PUT", planPath+"ghe-cho", aPlan(func(p map[string]any) { p["version"], p["title"] = 1, fmt.Sprintf("Bản %d", i) }))
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	won := -1
	for i, c := range codes {
		switch {
		case c == 200 && won < 0:
			won = i
		case c != 409:
			t.Errorf("PUTs of version 1 answered %v: want one 200, the others 409", codes)
		}
	}
	_, out := g.API("GET", planPath+"ghe-cho", nil)
	if out["version"] != 2.0 || won < 0 || out["title"] != fmt.Sprintf("Bản %d", won) {
		t.Errorf("after the race: %v (winner %d)", out, won)
	}
	res, out := g.API("PUT", planPath+"ghe-cho", aPlan(func(p map[string]any) { p["version"] = 1 }))
	if res.StatusCode != 409 || errorField(out) != "version" || !strings.Contains(fmt.Sprint(out), "send version 2") {
		t.Errorf("a stale version: %d %v", res.StatusCode, out)
	}
}

// Plans made at once for one agency are all listed (the index takes each
// by $addToSet); the list pages by its cursor, newest updated first.
func TestConcurrentPlanCreatesAreAllListed(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if res, out := g.API("PUT", planPath+fmt.Sprintf("p-%d", i), aPlan()); res.StatusCode != 201 {
				t.Errorf("create p-%d: %d %v", i, res.StatusCode, out)
			}
		}()
	}
	wg.Wait()
	// An id the index lists whose plan is missing (a create cut short
	// between the two writes) is skipped.
	if _, err := g.Mongo.DB.Collection("plan_index").UpdateOne(t.Context(), bson.D{{Key: "_id", Value: "000.00.12.H49"}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "ids", Value: "cut-short"}}}}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		_, out := g.API("GET", "/api/v1/plans?agency=000.00.00.H49&limit=3&cursor="+url.QueryEscape(cursor), nil)
		pages++
		for _, p := range out["plans"].([]any) {
			id := p.(map[string]any)["id"].(string)
			if seen[id] {
				t.Errorf("%s listed twice", id)
			}
			seen[id] = true
		}
		cursor, _ = out["next_cursor"].(string)
		if cursor == "" || pages > 5 {
			break
		}
	}
	if len(seen) != 8 || pages != 3 {
		t.Errorf("listed %d plans in %d pages, want 8 in 3: %v", len(seen), pages, seen)
	}
	if res, out := g.API("GET", "/api/v1/plans?cursor=abc", nil); res.StatusCode != 400 || errorField(out) != "cursor" {
		t.Errorf("a made-up cursor: %d %v", res.StatusCode, out)
	}
}

// A plan is overdue while active with an action not done past its due
// day, Vietnam time; done actions, drafts and finished plans are not.
func TestPlanOverdueByTheClock(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	now := time.Date(2026, 6, 30, 16, 59, 0, 0, time.UTC) // 23:59 on the 30th in Vietnam
	g.Core.Clock = func() time.Time { return now }
	body := aPlan(func(p map[string]any) {
		p["actions"] = []any{map[string]any{"text": "Thêm ghế", "due": "2026-06-30"}, map[string]any{"text": "Tập huấn", "due": "2026-06-15", "done": true}}
	})
	_, out := g.API("PUT", planPath+"ghe", body)
	if out["overdue"] != false || out["overdue_actions"] != 0.0 {
		t.Fatalf("due today is not overdue: %v", out)
	}
	now = now.Add(2 * time.Minute) // 1 July in Vietnam
	_, out = g.API("GET", planPath+"ghe", nil)
	if out["overdue"] != true || out["overdue_actions"] != 1.0 {
		t.Fatalf("past its due day: %v", out)
	}
	for filter, want := range map[string]int{"overdue=true": 1, "overdue=false": 0, "status=active": 1, "status=draft": 0} {
		_, list := g.API("GET", "/api/v1/plans?"+filter, nil)
		if n := len(list["plans"].([]any)); n != want {
			t.Errorf("%s lists %d, want %d", filter, n, want)
		}
	}
	if res, out := g.API("GET", "/api/v1/plans?overdue=yes", nil); res.StatusCode != 400 || errorField(out) != "overdue" {
		t.Errorf("overdue=yes: %d %v", res.StatusCode, out)
	}
	body["version"], body["status"] = 1, "draft"
	if _, out = g.API("PUT", planPath+"ghe", body); out["overdue"] != false || out["overdue_actions"] != 0.0 {
		t.Errorf("a draft is never overdue: %v", out)
	}
}

// The units needing a plan: enough answers, below the threshold or in
// the province's lowest tenth, and no active or draft plan.
func TestMissingPlans(t *testing.T) {
	g := gwtest.New(t, "", func(c *config.Config) { c.RankMin, c.PlanThreshold = 2, 80 })
	g.Tree(t)
	ict := time.FixedZone("ICT", 7*3600)
	g.Core.Clock = func() time.Time { return time.Date(2026, 4, 20, 10, 0, 0, 0, ict) }
	for i, s := range []struct{ agency, score string }{
		{"000.00.12.H49", "5"}, {"000.00.12.H49", "2"}, {"000.00.12.H49", "2"}, // 33%: below 80%, and the lowest
		{"000.00.13.H49", "4"}, {"000.00.13.H49", "5"}, // 100%
		{"000.01.12.H49", "1"}, // one answer: not judged
	} {
		tok := gwtest.Token(g.Invite(fmt.Sprintf("MP-%d", i), s.agency, nil))
		if res := g.Form("/s/"+tok, answerAll(s.score)); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", i, res.StatusCode)
		}
	}
	g.Drain()
	g.Core.Clock = func() time.Time { return time.Date(2026, 5, 3, 10, 0, 0, 0, ict) } // April is the last full month
	_, out := g.API("GET", "/api/v1/plans/missing", nil)
	units := out["units"].([]any)
	if fmt.Sprint(out["period"]) != "map[from:2026-02 to:2026-04]" || out["ranked"] != 2.0 || out["lowest_tenth_size"] != 1.0 || len(units) != 1 {
		t.Fatalf("missing plans: %v", out)
	}
	u := units[0].(map[string]any)
	if u["agency_code"] != "000.00.12.H49" || u["agency_name"] != "Sở Tư pháp" || fmt.Sprint(u["reasons"]) != "[below_threshold lowest_tenth]" || u["index"] != 33.33 {
		t.Errorf("the unit: %v", u)
	}
	if iv := u["interval"].(map[string]any); !(iv["low"].(float64) < 33.33 && iv["high"].(float64) > 33.33) {
		t.Errorf("interval %v", iv)
	}
	if res, out := g.API("GET", "/api/v1/plans/missing?from=2026-05", nil); res.StatusCode != 400 || errorField(out) != "from" {
		t.Errorf("from after the default to: %d %v", res.StatusCode, out)
	}
	building := g.Key(t, "agency", "000.00.13.H49")
	if _, out := g.As(building, "GET", "/api/v1/plans/missing", nil); len(out["units"].([]any)) != 0 || out["ranked"] != 2.0 {
		t.Errorf("another branch's key: %v", out)
	}
	if res, out := g.As(building, "GET", "/api/v1/plans/missing?agency=000.00.12.H49", nil); res.StatusCode != 403 || errorField(out) != "agency" {
		t.Errorf("outside the key's branch: %d %v", res.StatusCode, out)
	}
	body := aPlan(func(p map[string]any) { p["status"] = "draft" })
	if res, out := g.API("PUT", planPath+"ke-hoach", body); res.StatusCode != 201 {
		t.Fatalf("plan: %v", out)
	}
	if _, out := g.API("GET", "/api/v1/plans/missing?agency=000.00.12.H49", nil); len(out["units"].([]any)) != 0 {
		t.Errorf("a unit with a draft plan is still listed: %v", out)
	}
	body["status"], body["version"] = "dropped", 1
	if res, out := g.API("PUT", planPath+"ke-hoach", body); res.StatusCode != 200 {
		t.Fatalf("drop: %v", out)
	}
	if _, out := g.API("GET", "/api/v1/plans/missing", nil); len(out["units"].([]any)) != 1 {
		t.Errorf("a unit whose plan was dropped needs one again: %v", out)
	}
}
