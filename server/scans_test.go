package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// upload posts files as the scan upload's multipart body.
func upload(g *gwtest.Gateway, key string, files map[string][]byte, order ...string) (*http.Response, map[string]any) {
	g.T.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, name := range order {
		part, _ := w.CreateFormFile("file", name)
		part.Write(files[name])
	}
	w.Close()
	req := httptest.NewRequest("POST", "/api/v1/forms/scans", &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res := g.Do(req)
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res, out
}

// A form printed from the API, marked, photographed and uploaded lands as
// a response in the report; an unsure one waits in review; a form whose
// dossier was answered on the web, and the same form scanned again, are
// kept as duplicates; what is not a form says why.
func TestScannedFormsLandInTheReport(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	const unit = "000.01.12.H49"
	for _, d := range []string{"SCAN-1", "SCAN-2", "SCAN-3"} {
		g.Invite(d, unit, map[string]any{"survey": "sipas-5"})
	}
	clear := map[string][]int{"A": {5}, "B": {4}, "C": {2}, "D": {5}, "E": {0}}
	files := map[string][]byte{
		"one.jpg":   g.Photo(t, "SCAN-1", "sipas-5", clear, 11),
		"two.jpg":   g.Photo(t, "SCAN-2", "sipas-5", map[string][]int{"A": {4}, "B": {4}, "C": {2, 3}, "D": {4}, "E": {4}}, 12),
		"three.jpg": g.Photo(t, "SCAN-3", "sipas-5", clear, 13),
		"cat.gif":   []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
	}
	// SCAN-3 is answered on the web before its paper form comes back.
	if res := g.AnswerAsCitizen(gwtest.Token(map[string]any{"survey_url": g.Core.SurveyURL(g.MustInvitation("SCAN-3"))}), "A=5&B=5&C=5&D=5&E=5"); res.StatusCode != 303 {
		t.Fatalf("web answer: %d", res.StatusCode)
	}
	desk := g.Key(t, "agency", unit)
	res, out := upload(g, desk, files, "one.jpg", "two.jpg", "three.jpg", "cat.gif")
	if res.StatusCode != 200 {
		t.Fatalf("upload: %d %v", res.StatusCode, out)
	}
	pages := out["pages"].([]any)
	want := []struct{ dossier, status, reason string }{
		{"SCAN-1", store.ScanRecorded, ""}, {"SCAN-2", store.ScanReview, "C"}, {"SCAN-3", store.ScanDuplicate, "web"}, {"", store.ScanUnreadable, "GIF"},
	}
	if len(pages) != len(want) {
		t.Fatalf("%d pages: %v", len(pages), pages)
	}
	for i, w := range want {
		p := pages[i].(map[string]any)
		if p["status"] != w.status || (w.dossier != "" && p["dossier_code"] != w.dossier) || !strings.Contains(fmt.Sprint(p["reason"]), w.reason) {
			t.Errorf("page %d: %v, want %+v", i+1, p, w)
		}
	}
	if got := pages[0].(map[string]any)["answers"]; fmt.Sprint(got) != "map[A:5 B:4 C:2 D:5 E:0]" {
		t.Errorf("SCAN-1 read as %v", got)
	}
	// The same form again is a duplicate, not a second answer.
	_, out = upload(g, desk, files, "one.jpg")
	if p := out["pages"].([]any)[0].(map[string]any); p["status"] != store.ScanDuplicate || !strings.Contains(p["reason"].(string), "paper") {
		t.Errorf("a second scan: %v", p)
	}
	g.Flush()
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&agency="+unit+"&group_by=channel", nil)
	if rep["responses"] != 2.0 { // SCAN-1 on paper, SCAN-3 on the web
		t.Fatalf("report: %v", rep)
	}
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("SCAN-1").ID)
	if err != nil || r.Channel != "paper" || r.Provenance.VerifiedBy != store.VerifiedPaper || r.Provenance.By == "" {
		t.Fatalf("SCAN-1's response: %+v %v", r, err)
	}
	_, queue := g.API("GET", "/api/v1/forms/review", nil)
	if queue["total"] != 1.0 {
		t.Fatalf("review queue: %v", queue)
	}
}

// Only a key that may upload gets past 64 KB, decided before the body is
// read; a viewer's key and no key are refused at the common limit.
func TestScanUploadLimits(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	g.Listen() // fasthttp answers 413 on a connection, not to app.Test
	big := map[string][]byte{"big.jpg": bytes.Repeat([]byte{0xFF}, 200<<10)}
	// The refusal comes from the headers alone: the body is never sent
	// (sending it races the server's close after its 413).
	for _, key := range []string{"", g.Key(t, "viewer", "")} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /api/v1/forms/scans HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n", key, 200<<10)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || res.StatusCode != 413 {
			t.Errorf("key %q: %v %v", key, res, err)
		}
		conn.Close()
	}
	res, out := upload(g, g.Key(t, "agency", "000.00.12.H49"), big, "big.jpg")
	if res.StatusCode != 200 || out["pages"].([]any)[0].(map[string]any)["status"] != store.ScanUnreadable {
		t.Errorf("an agency's upload: %d %v", res.StatusCode, out)
	}
	if res, out := upload(g, gwtest.AdminKey, nil); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "file" {
		t.Errorf("no file: %d %v", res.StatusCode, out)
	}
}
