package web_test

import (
	"bytes"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/locale"
)

// The dashboard's print and Excel links carry its filters, and open the
// API's report with the session's key: a viewer's, in the console's
// language.
func TestConsoleReportFiles(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for i, agency := range []string{"000.00.12.H49", "000.00.13.H49"} {
		tok := gwtest.Token(g.Invite("RF-"+agency, agency, map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, "A=5&B=4&C=4&D=5&E="+string(rune('2'+i))); res.StatusCode != 303 {
			t.Fatalf("submit: %d", res.StatusCode)
		}
	}
	g.Drain()
	cookie, _ := signIn(t, g, g.Key(t, "viewer", ""))
	month := time.Now().In(time.FixedZone("ICT", 7*3600)).Format("2006-01")
	_, page := g.Page("/console/dashboard?agency=000.00.12.H49&from="+month+"&to="+month+"&lang=en", cookie)
	links := regexp.MustCompile(`<p id="report-files"[^>]*><a href="([^"]+)">Print the report \(PDF\)</a> · <a href="([^"]+)">Download Excel</a></p>`).FindStringSubmatch(page)
	if links == nil {
		t.Fatalf("no report links on the dashboard:\n%s", page)
	}
	query := "agency=000.00.12.H49&from=" + month + "&survey=sipas&to=" + month
	if pdf, xlsx := html.UnescapeString(links[1]), html.UnescapeString(links[2]); pdf != "/console/report.pdf?"+query || xlsx != "/console/report.xlsx?"+query {
		t.Fatalf("links %q %q, want the dashboard's filters", pdf, xlsx)
	}
	get := func(path string) []byte {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(cookie)
		req.AddCookie(&http.Cookie{Name: "gw_lang", Value: "en"}) // as the dashboard's lang=en set it
		res := g.Do(req)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		return body
	}
	text, _ := gwtest.PDFText(t, get(html.UnescapeString(links[1])))
	words := strings.Join(strings.Fields(text), " ")
	_, js := g.API("GET", "/api/v1/reports/sipas?"+query, nil)
	overall := js["overall"].(map[string]any)
	index := locale.Percent("en", overall["satisfaction_rate"].(float64), 2)
	if overall["answers"].(float64) == 0 {
		index = "–" // the dashboard's sipas form has no answers here
	}
	for _, want := range []string{"REPORT ON SATISFACTION", "Sở Tư pháp", "Satisfaction with public administrative services", "Overall satisfaction index " + index} {
		if !strings.Contains(words, want) {
			t.Errorf("the printed report does not read %q:\n%s", want, text)
		}
	}
	if strings.Contains(words, "Sở Xây dựng") {
		t.Errorf("the report is not cut to the dashboard's agency:\n%s", text)
	}
	f, err := excelize.OpenReader(bytes.NewReader(get(html.UnescapeString(links[2]))))
	if err != nil {
		t.Fatal(err)
	}
	if sheets := strings.Join(f.GetSheetList(), "|"); sheets != "Summary|Criteria|Indicators|Unit ranking|Previous period" {
		t.Errorf("sheets %s", sheets)
	}
	// Without a session the files are not served.
	if status, _ := g.Page("/console/report.pdf", nil); status != 303 {
		t.Errorf("report.pdf without a session: %d", status)
	}
}
