package server_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// phoneForms are ways the test's phone numbers leak: the whole numbers, in
// ASCII or full-width digits, with or without their separators. A check
// looks for these whole tokens, never for a few digits a random id may
// hold.
var phoneForms = []string{"0912345678", "０９１２", "３４５ ６７８", "３４５６７８", "(091)", "234 5670", "0912345670",
	"0987 987 989", "０９８７", "９８７ ９８９", "0987987989"}

func leaks(s string) string {
	for _, p := range phoneForms {
		if strings.Contains(s, p) {
			return p
		}
	}
	return ""
}

// A phone number a citizen writes in full-width digits or with its area
// code in brackets is redacted like any other wherever the text goes:
// the comments, the case, the export, the transcript, the not-understood
// list and the citizen_text a viewer key exports. Codes, amounts and dates
// stay.
func TestPhonesInAnyFormAreRedacted(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": smstest.NewFake(t, `{"id":"p-1"}`).URL + "/send", "default": true},
		"secrets":  map[string]any{"secret": answerSecret}})

	comment := "Hồ sơ 000.00.12.H49-201105-0042 nộp ngày 12/05/2024, phí 50.000 đồng. Cán bộ hẹn gọi lại số ０９１２ ３４５ ６７８ mà không thấy, gọi (091) 234 5670 cũng không ai nghe"
	want := "Hồ sơ 000.00.12.H49-201105-0042 nộp ngày 12/05/2024, phí 50.000 đồng. Cán bộ hẹn gọi lại số [số điện thoại] mà không thấy, gọi [số điện thoại] cũng không ai nghe"
	tok := gwtest.Token(g.Invite("D-PHONE-WEB", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=2&D=1&E=1&comment="+url.QueryEscape(comment)); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}

	// An SMS the reader cannot read, with a number in full-width digits.
	g.Invite("D-PHONE-SMS", "000.00.13.H49", map[string]any{"phone": "0912345678", "survey": "sipas-5"})
	sms := "Gọi tôi số ０９８７ ９８７ ９８９ nhé"
	body, _ := json.Marshal(map[string]string{"id": "ph-1", "from": "0912345678", "to": "8079", "text": sms})
	req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", generic.Sign(answerSecret, body))
	if res := g.Do(req); res.StatusCode != 200 {
		t.Fatalf("webhook: %d %s", res.StatusCode, gwtest.Body(res))
	}
	g.Drain()

	_, comments := g.API("GET", "/api/v1/comments", nil)
	if got := fmt.Sprint(comments); !strings.Contains(got, want) || leaks(got) != "" {
		t.Errorf("comments: %s", got)
	}
	_, cases := g.API("GET", "/api/v1/cases", nil)
	if got := fmt.Sprint(cases); !strings.Contains(got, want) || leaks(got) != "" {
		t.Errorf("cases: %s", got)
	}
	res, unread := g.API("GET", "/api/v1/unread-replies", nil)
	list, _ := unread["replies"].([]any)
	if res.StatusCode != 200 || len(list) != 1 {
		t.Fatalf("the SMS is not in the not-understood list: %d %v", res.StatusCode, unread)
	}
	u := list[0].(map[string]any)
	if u["text"] != "Gọi tôi số [số điện thoại] nhé" {
		t.Errorf("not-understood list: %q", u["text"])
	}
	_, msgs := g.API("GET", "/api/v1/invitations/"+g.MustInvitation("D-PHONE-SMS").ID+"/messages", nil)
	if got := fmt.Sprint(msgs); leaks(got) != "" || !strings.Contains(got, "Gọi tôi số [số điện thoại] nhé") {
		t.Errorf("transcript: %s", got)
	}
	if res, out := g.API("POST", "/api/v1/unread-replies/"+u["id"].(string)+"/resolve",
		map[string]any{"scores": map[string]int{"A": 3, "B": 3, "C": 3, "D": 3, "E": 3}, "comment": "gọi ０９８７ ９８７ ９８９"}); res.StatusCode != 200 {
		t.Fatalf("resolve: %d %v", res.StatusCode, out)
	}
	g.Drain()

	viewer := g.Key(t, "viewer", "")
	for _, format := range []string{"csv", "jsonl"} {
		_, _, export := get(g, viewer, "/api/v1/responses?survey=sipas-5&format="+format)
		if p := leaks(export); p != "" || !strings.Contains(export, "Gọi tôi số [số điện thoại] nhé") || !strings.Contains(export, "nộp ngày 12/05/2024, phí 50.000 đồng") {
			t.Errorf("%s export carries %q: %s", format, p, export)
		}
	}
}

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
