package server_test

import (
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// What citizens and operators type loses bidi controls and zero-width
// characters before it is kept, so no name, comment or note can show text
// other than what it holds; Vietnamese (written decomposed or not) and an
// emoji's joiners stay.
func TestTypedTextLosesBidiAndZeroWidth(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	const (
		rlo, lri, pdi, zwsp, bom = "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff"
		family                   = "👨\u200d👩\u200d👧"
	)
	invisible := func(s string) bool {
		return strings.ContainsAny(s, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200e\u200f\u2060\ufeff\u00ad")
	}

	if res, out := g.API("PUT", "/api/v1/agencies/000.00.14.H49", map[string]any{"name": "Sở Y tế" + rlo + "ết Y ởS", "name_en": "Health" + zwsp, "parent": "000.00.00.H49"}); res.StatusCode != 200 {
		t.Fatalf("agency: %d %v", res.StatusCode, out)
	}
	if _, ag := g.API("GET", "/api/v1/agencies/000.00.14.H49", nil); ag["name"] != "Sở Y tếết Y ởS" || ag["name_en"] != "Health" {
		t.Errorf("agency: %q %q", ag["name"], ag["name_en"])
	}
	if res, out := g.API("PUT", "/api/v1/desks/quay-7", map[string]any{"agency_code": "000.00.12.H49", "name": lri + "Quầy số 7" + pdi, "officer": "Chị" + zwsp + " Lan"}); res.StatusCode != 200 {
		t.Fatalf("desk: %d %v", res.StatusCode, out)
	}
	if _, d := g.API("GET", "/api/v1/desks/quay-7", nil); d["name"] != "Quầy số 7" || d["officer"] != "Chị Lan" {
		t.Errorf("desk: %q %q", d["name"], d["officer"])
	}
	_, key := g.API("POST", "/api/v1/keys", map[string]any{"name": "máy" + bom + " chủ", "role": "viewer"})
	if key["name"] != "máy chủ" {
		t.Errorf("key: %q", key["name"])
	}

	// Decomposed Vietnamese (as some phones send it) is kept composed.
	comment := "Ca\u0301n bo\u0323\u0302 " + rlo + "tốt" + zwsp + " lắm " + family
	tok := gwtest.Token(g.Invite("D-BIDI", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=1&D=2&E=2&comment="+url.QueryEscape(comment)); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Drain()
	want := "Cán bộ tốt lắm " + family
	_, comments := g.API("GET", "/api/v1/comments", nil)
	if got := comments["comments"].([]any)[0].(map[string]any)["text"]; got != want {
		t.Errorf("comment %q, want %q", got, want)
	}
	_, _, export := get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&format=csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(export, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][slices.Index(rows[0], "comment")] != want {
		t.Errorf("export: %v %v", rows, err)
	}

	_, cases := g.API("GET", "/api/v1/cases", nil)
	id := cases["cases"].([]any)[0].(map[string]any)["id"].(string)
	for action, body := range map[string]map[string]any{
		"assign": {"assignee": "Anh" + rlo + " Minh"},
		"notes":  {"text": "Đã gọi lại" + zwsp + lri + " cho công dân" + pdi},
	} {
		if res, out := g.API("POST", "/api/v1/cases/"+id+"/"+action, body); res.StatusCode != 200 {
			t.Fatalf("%s: %d %v", action, res.StatusCode, out)
		}
	}
	_, c := g.API("GET", "/api/v1/cases/"+id, nil)
	note := c["notes"].([]any)[0].(map[string]any)["text"]
	if c["assignee"] != "Anh Minh" || note != "Đã gọi lại cho công dân" || invisible(fmt.Sprint(c)) {
		t.Errorf("case: assignee %q, note %q: %v", c["assignee"], note, c)
	}
}
