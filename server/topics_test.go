package server_test

import (
	"encoding/csv"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// Comment topics reach every view: each comment carries its topics, the
// panel's filter takes a topic and a polarity, the comments CSV has a
// column per topic, the report counts them (and by month), and each line
// of the responses export carries its comment's topics, [] without one.
func TestCommentTopics(t *testing.T) {
	g := gwtest.New(t, "")
	say := func(dossier, scores, comment string) {
		t.Helper()
		tok := gwtest.Token(g.Invite(dossier, "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		v := url.Values{"comment": {comment}}
		for i, q := range []string{"A", "B", "C", "D", "E"} {
			v.Set(q, scores[i:i+1])
		}
		if res := g.Form("/s/"+tok, v.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", dossier, res.StatusCode)
		}
	}
	say("T-1", "11211", "Phải chờ lâu quá")
	say("T-2", "55545", "cb nhiet tinh, ko phai cho lau")
	say("T-3", "44444", "")
	g.Drain()

	_, out := g.API("GET", "/api/v1/comments", nil)
	got := map[string]string{}
	for _, c := range out["comments"].([]any) {
		c := c.(map[string]any)
		var ts []string
		for _, tp := range c["topics"].([]any) {
			tp := tp.(map[string]any)
			ts = append(ts, tp["topic"].(string)+":"+tp["polarity"].(string))
		}
		got[c["text"].(string)] = strings.Join(ts, ",")
	}
	if got["Phải chờ lâu quá"] != "waiting:complaint" || got["cb nhiet tinh, ko phai cho lau"] != "attitude:praise,waiting:praise" {
		t.Fatalf("topics %v", got)
	}
	_, out = g.API("GET", "/api/v1/comments?topic=waiting:complaint", nil)
	if cs := out["comments"].([]any); len(cs) != 1 || cs[0].(map[string]any)["text"] != "Phải chờ lâu quá" {
		t.Fatalf("topic filter: %v", out)
	}
	if res, out := g.API("GET", "/api/v1/comments?topic=noise", nil); res.StatusCode != 400 || !strings.Contains(out["error"].(map[string]any)["message"].(string), "waiting") {
		t.Fatalf("unknown topic: %d %v", res.StatusCode, out)
	}

	_, _, body := get(g, gwtest.AdminKey, "/api/v1/comments?format=csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		if r[col["text"]] == "Phải chờ lâu quá" && (r[col["topic_waiting"]] != "complaint" || r[col["topic_attitude"]] != "") {
			t.Fatalf("csv row %v", r)
		}
	}

	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&group_by=month", nil)
	topics := map[string]map[string]any{}
	for _, tp := range rep["topics"].([]any) {
		tp := tp.(map[string]any)
		topics[tp["topic"].(string)] = tp
	}
	if w := topics["waiting"]; w == nil || w["complaint"] != 1.0 || w["praise"] != 1.0 || w["comments"] != 2.0 || topics["attitude"]["praise"] != 1.0 {
		t.Fatalf("report topics %v", rep["topics"])
	}
	if g0 := rep["groups"].([]any)[0].(map[string]any); len(g0["topics"].([]any)) != 2 {
		t.Fatalf("topics by month %v", g0)
	}

	_, _, body = get(g, gwtest.AdminKey, "/api/v1/responses?format=jsonl&survey=sipas-5")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, l := range lines {
		var line struct {
			Comment string            `json:"comment"`
			Topics  []json.RawMessage `json:"topics"`
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil || line.Topics == nil || (line.Comment == "") != (len(line.Topics) == 0) {
			t.Fatalf("line %s: %v", l, err)
		}
	}
}
