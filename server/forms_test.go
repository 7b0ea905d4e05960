package server_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
)

func TestPrintForms(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	const unit = "000.01.12.H49"
	a := g.Invite("PAPER-1", unit, nil)
	b := g.Invite("PAPER-2", unit, nil)
	id := a["id"].(string)

	res, pdf := g.Raw(gwtest.AdminKey, "GET", "/api/v1/invitations/"+id+"/form.pdf", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("form.pdf: %d %s %.200s", res.StatusCode, res.Header.Get("Content-Type"), pdf)
	}
	if codes := gwtest.PDFCodes(t, pdf); len(codes) != 1 || codes[0] != (qr.FormCode{Survey: "sipas", Version: 1, Invitation: id}) {
		t.Fatalf("the form's code reads %+v", codes)
	}
	if bytes.Contains(pdf, []byte(gwtest.Token(a))) {
		t.Fatal("the form carries the survey token: a photo of it could answer on the web")
	}
	res, pdf = g.Raw(gwtest.AdminKey, "GET", "/api/v1/invitations/"+id+"/form.pdf?survey=sipas-5", nil)
	if codes := gwtest.PDFCodes(t, pdf); res.StatusCode != 200 || len(codes) != 1 || codes[0].Survey != "sipas-5" {
		t.Fatalf("the short form: %d %+v", res.StatusCode, codes)
	}
	res, out := g.API("GET", "/api/v1/invitations/"+id+"/form.pdf?survey=nope", nil)
	if res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "survey" {
		t.Fatalf("unknown survey: %d %v", res.StatusCode, out)
	}

	// A desk's day as one PDF, by dossier code.
	res, pdf = g.Raw(gwtest.AdminKey, "POST", "/api/v1/forms", map[string]any{"dossier_codes": []string{"PAPER-1", "PAPER-2"}})
	if codes := gwtest.PDFCodes(t, pdf); res.StatusCode != 200 || len(codes) != 2 || codes[1].Invitation != b["id"] {
		t.Fatalf("forms: %d %+v", res.StatusCode, codes)
	}
	// A dossier already answered refuses the batch, naming it.
	if res := g.AnswerAsCitizen(gwtest.Token(b), "A1=5&A2=5&A3=5&A4=5&B1=5&B2=5&B3=5&B4=5&B5=5&C1=5&C2=5&C3=5&C4=5&C5=5&C6=5&D1=5&D2=5&D3=5&E1=5&E2=5&E3=5&E4=5"); res.StatusCode != 303 {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	res, out = g.API("POST", "/api/v1/forms", map[string]any{"dossier_codes": []string{"PAPER-1", "PAPER-2"}})
	if e := out["error"].(map[string]any); res.StatusCode != 409 || e["field"] != "dossier_codes[1]" || !strings.Contains(e["message"].(string), "PAPER-2") {
		t.Fatalf("answered dossier: %d %v", res.StatusCode, out)
	}
	res, out = g.API("POST", "/api/v1/forms", map[string]any{"dossier_codes": []string{"NOPE-1"}})
	if res.StatusCode != 404 || out["error"].(map[string]any)["field"] != "dossier_codes[0]" {
		t.Fatalf("unknown dossier: %d %v", res.StatusCode, out)
	}
	res, out = g.API("POST", "/api/v1/forms", map[string]any{})
	if res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "invitation_ids" {
		t.Fatalf("empty: %d %v", res.StatusCode, out)
	}
	// Another branch's key cannot print this unit's forms.
	other := g.Key(t, "agency", "000.00.13.H49")
	if res, _ := g.As(other, "GET", "/api/v1/invitations/"+id+"/form.pdf", nil); res.StatusCode != 403 {
		t.Fatalf("another branch printed the form: %d", res.StatusCode)
	}

	// The geometry scanning vendors place marks by.
	res, out = g.API("GET", "/api/v1/forms/layout?survey=sipas", nil)
	if res.StatusCode != 200 || len(out["boxes"].([]any)) != 22*6 || out["page"].(map[string]any)["width_mm"] != 210.0 || len(out["marks"].([]any)) != 4 {
		t.Fatalf("layout: %d %v", res.StatusCode, out)
	}
	if res, _ := g.API("GET", "/api/v1/forms/layout?survey=sipas&version=9", nil); res.StatusCode != 404 {
		t.Fatalf("unknown version: %d", res.StatusCode)
	}
}

// A page in review is settled through the API once, by a key above the
// rated agency: its answers land as the dossier's response, channel
// paper; the unit's own key may not read its unsure forms for it.
func TestResolveScannedPage(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Tree(t)
	const unit = "000.01.12.H49"
	g.Invite("PAPER-R1", unit, map[string]any{"survey": "sipas-5"})
	id := g.FileForReview(t, "PAPER-R1", map[string]int{"A": 5, "B": 4, "D": 5, "E": 0}, store.ScanQuestion{Question: "C", Status: "multiple", Marked: []int{2, 3}})

	own, parent := g.Key(t, "agency", unit), g.Key(t, "agency", "000.00.12.H49")
	res, list := g.As(parent, "GET", "/api/v1/forms/review", nil)
	if res.StatusCode != 200 || list["total"] != 1.0 {
		t.Fatalf("queue: %d %v", res.StatusCode, list)
	}
	if res, img := g.Raw(parent, "GET", "/api/v1/forms/review/"+id+"/page.jpg", nil); res.StatusCode != 200 || len(img) < 1000 {
		t.Fatalf("page image: %d, %d bytes", res.StatusCode, len(img))
	}
	answers := map[string]any{"A": 5, "B": 4, "C": 3, "D": 5, "E": 0}
	if res, out := g.As(own, "POST", "/api/v1/forms/review/"+id+"/resolve", map[string]any{"answers": answers}); res.StatusCode != 403 {
		t.Fatalf("the rated unit read its own form: %d %v", res.StatusCode, out)
	}
	if res, out := g.As(parent, "POST", "/api/v1/forms/review/"+id+"/resolve", map[string]any{"answers": map[string]any{"A": 7}}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "answers.A" {
		t.Fatalf("a score off the scale: %d %v", res.StatusCode, out)
	}
	res, out := g.As(parent, "POST", "/api/v1/forms/review/"+id+"/resolve", map[string]any{"answers": answers, "comment": "Chờ lâu quá, gọi 0912345678"})
	if res.StatusCode != 200 || out["status"] != store.ScanRecorded {
		t.Fatalf("resolve: %d %v", res.StatusCode, out)
	}
	if res, _ := g.As(parent, "POST", "/api/v1/forms/review/"+id+"/resolve", map[string]any{"answers": answers}); res.StatusCode != 409 {
		t.Fatalf("a second resolve: %d", res.StatusCode)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("PAPER-R1").ID)
	if err != nil || r.Channel != "paper" || r.Provenance == nil || r.Provenance.VerifiedBy != store.VerifiedPaper || strings.Contains(r.Comment, "0912345678") {
		t.Fatalf("the response: %+v %v", r, err)
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&agency="+unit, nil)
	if rep["responses"] != 1.0 {
		t.Fatalf("report: %v", rep)
	}
}

// An office prints its poster and slips; a slip that comes back is kept
// for an operator above the office to type, and typing it opens a
// feedback case (channel paper), once, never counted in the index.
func TestPosterAndSlips(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Tree(t)
	const unit = "000.01.12.H49"
	own, parent := g.Key(t, "agency", unit), g.Key(t, "agency", "000.00.12.H49")
	res, pdf := g.Raw(own, "GET", "/api/v1/agencies/"+unit+"/poster.pdf", nil)
	if res.StatusCode != 200 {
		t.Fatalf("poster: %d %s", res.StatusCode, pdf)
	}
	_, ag := g.API("GET", "/api/v1/agencies/"+unit, nil)
	if got := gwtest.DecodeQR(t, gwtest.PDFPages(t, pdf, 100)[0]); got != ag["feedback_url"] {
		t.Fatalf("the poster's QR is %q, the feedback page %v", got, ag["feedback_url"])
	}
	if res, _ := g.As(g.Key(t, "agency", "000.00.13.H49"), "GET", "/api/v1/agencies/"+unit+"/poster.pdf", nil); res.StatusCode != 403 {
		t.Fatalf("another branch printed the poster: %d", res.StatusCode)
	}
	if res, out := g.As(own, "GET", "/api/v1/agencies/"+unit+"/slips.pdf?count=0", nil); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "count" {
		t.Fatalf("count=0: %d %v", res.StatusCode, out)
	}
	res, pdf = g.Raw(own, "GET", "/api/v1/agencies/"+unit+"/slips.pdf?count=2", nil)
	codes := gwtest.PDFCodes(t, pdf)
	if res.StatusCode != 200 || len(codes) != 2 || codes[0].Survey != "gopy" || codes[0] != codes[1] {
		t.Fatalf("slips: %d %+v", res.StatusCode, codes)
	}

	admin := &core.Principal{Role: core.RoleAdmin}
	sc, err := g.Core.FilePaper(t.Context(), admin, core.PaperPage{File: "box.pdf", Page: 1, Code: &codes[0], Image: []byte("slip")})
	if err != nil || sc.Status != store.ScanReview || sc.Agency != unit {
		t.Fatalf("a slip: %+v %v", sc, err)
	}
	forged := codes[0]
	forged.Invitation = "0123456789abcdef01234567"
	if sc, _ := g.Core.FilePaper(t.Context(), admin, core.PaperPage{File: "box.pdf", Page: 2, Code: &forged}); sc.Status != store.ScanUnreadable {
		t.Fatalf("a slip of no office: %+v", sc)
	}
	typed := map[string]any{"feedback": map[string]any{"type": "complaint", "text": "Phải chờ rất lâu mới được tiếp nhận hồ sơ."}}
	if res, _ := g.As(own, "POST", "/api/v1/forms/review/"+sc.ID+"/resolve", typed); res.StatusCode != 403 {
		t.Fatalf("the office typed its own slip: %d", res.StatusCode)
	}
	if res, out := g.As(parent, "POST", "/api/v1/forms/review/"+sc.ID+"/resolve", map[string]any{"feedback": map[string]any{"type": "praise", "text": "x"}}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "feedback.type" {
		t.Fatalf("a bad type: %d %v", res.StatusCode, out)
	}
	res, out := g.As(parent, "POST", "/api/v1/forms/review/"+sc.ID+"/resolve", typed)
	if res.StatusCode != 200 || out["status"] != store.ScanRecorded || out["case_id"] == nil {
		t.Fatalf("typed: %d %v", res.StatusCode, out)
	}
	res, c := g.As(parent, "GET", "/api/v1/cases/"+out["case_id"].(string), nil)
	if res.StatusCode != 200 || c["kind"] != "feedback" || c["channel"] != "paper" || c["agency_code"] != unit {
		t.Fatalf("the slip's case: %d %v", res.StatusCode, c)
	}
	g.Drain()
	if _, rep := g.API("GET", "/api/v1/reports/sipas?agency="+unit, nil); rep["responses"] != 0.0 {
		t.Fatalf("a slip counted in the index: %v", rep)
	}
}
