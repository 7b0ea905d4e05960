package server_test

import (
	"bytes"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/survey"
)

// officeGateway answers in a province of three units: last month two
// citizens of Sở Tư pháp (12) all 5; this month three of it (all 5; all
// 2 but A1 no opinion; all 4) and one of Sở Xây dựng (13, all 3), under
// the minimum of 2, and none of Phòng Hộ tịch. It returns this month.
func officeGateway(t *testing.T) (*gwtest.Gateway, string) {
	g := gwtest.New(t, "", func(c *config.Config) { c.RankMin = 2 })
	g.Tree(t)
	submit := func(dossier, agency, form string) {
		t.Helper()
		tok := gwtest.Token(g.Invite(dossier, agency, nil))
		if res := g.Form("/s/"+tok, form); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d %s", dossier, res.StatusCode, gwtest.Body(res))
		}
	}
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Now().In(ict)
	before := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, ict).AddDate(0, 0, -10) // in last month
	g.Core.Clock = func() time.Time { return before }
	submit("O-1", "000.00.12.H49", answerAll("5"))
	submit("O-2", "000.00.12.H49", answerAll("5"))
	g.Core.Clock = nil
	submit("N-1", "000.00.12.H49", answerAll("5"))
	v, _ := url.ParseQuery(answerAll("2"))
	v.Set("A1", "0")
	submit("N-2", "000.00.12.H49", v.Encode())
	submit("N-3", "000.00.12.H49", answerAll("4"))
	submit("N-4", "000.00.13.H49", answerAll("3"))
	g.Drain()
	return g, now.Format("2006-01")
}

// figure reads a number of the JSON report at path (keys and indexes).
func figure(t *testing.T, v any, path ...any) float64 {
	t.Helper()
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v is not a number: %v", path, v)
	}
	return f
}

// The printed report reads as its figures say, in Vietnamese letters and
// numbers, with every font embedded; lang=en prints it in English.
func TestReportPrinted(t *testing.T) {
	g, month := officeGateway(t)
	filters := "from=" + month + "&to=" + month
	_, js := g.API("GET", "/api/v1/reports/sipas?"+filters, nil)
	res, pdf := g.Raw(gwtest.AdminKey, "GET", "/api/v1/reports/sipas.pdf?"+filters, nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("sipas.pdf: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), pdf)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="sipas-`+month+"-"+month+`.pdf"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	text, bare := gwtest.PDFText(t, pdf)
	if len(bare) > 0 {
		t.Errorf("fonts not embedded: %q", bare)
	}
	words := strings.Join(strings.Fields(text), " ")
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	a1, _ := def.Question("A1")
	overall := locale.Percent("vi", figure(t, js, "overall", "satisfaction_rate"), 2)
	change := locale.Signed("vi", figure(t, js, "previous", "overall", "change"), 2)
	for _, want := range []string{
		"BÁO CÁO CHỈ SỐ HÀI LÒNG VỀ SỰ PHỤC VỤ HÀNH CHÍNH", "UBND tỉnh Quảng Nam", "Tháng " + locale.Month("vi", month),
		"Ngày in: " + locale.Date("vi", time.Now().In(time.FixedZone("ICT", 7*3600))),
		a1.Text.VI, "50,76%", overall, "66,67%", change, "Trang 1/", "5. Tiếp cận và chi phí", "Chi phí/phiếu (đ)",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("the printed report does not read %q:\n%s", want, text)
		}
	}
	if overall != "50,76%" || change != "−49,24" {
		t.Errorf("the JSON report says %s, %s: the answers above make 50,76%% and −49,24", overall, change)
	}
	units := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		for _, code := range []string{"000.00.12.H49", "000.00.13.H49", "000.01.12.H49"} {
			if strings.Contains(line, code) {
				units[code] = strings.Join(strings.Fields(line), " ")
			}
		}
	}
	if l := units["000.00.12.H49"]; !strings.HasPrefix(l, "1 000.00.12.H49 Sở Tư pháp 3 ") || strings.Contains(l, "chưa đủ mẫu") {
		t.Errorf("Sở Tư pháp, 3 responses, ranks first: %q", l)
	}
	for _, code := range []string{"000.00.13.H49", "000.01.12.H49"} {
		if l := units[code]; !strings.HasPrefix(l, "– "+code) || !strings.HasSuffix(l, "chưa đủ mẫu") {
			t.Errorf("%s is under the minimum: %q", code, l)
		}
	}

	_, pdf = g.Raw(gwtest.AdminKey, "GET", "/api/v1/reports/sipas.pdf?lang=en&"+filters, nil)
	text, _ = gwtest.PDFText(t, pdf)
	words = strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"REPORT ON SATISFACTION", a1.Text.EN, "50.76%", "too few answers", "Page 1 of"} {
		if !strings.Contains(words, want) {
			t.Errorf("the English report does not read %q:\n%s", want, text)
		}
	}
}

// The workbook holds the report's tables, a sheet each, its figures
// stored as numbers with their formats and equal to the JSON report's.
func TestReportWorkbook(t *testing.T) {
	g, month := officeGateway(t)
	filters := "from=" + month + "&to=" + month
	_, js := g.API("GET", "/api/v1/reports/sipas?"+filters, nil)
	res, raw := g.Raw(gwtest.AdminKey, "GET", "/api/v1/reports/sipas?format=xlsx&"+filters, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") {
		t.Fatalf("xlsx: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="sipas-`+month+"-"+month+`.xlsx"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Tổng hợp", "Tiêu chí", "Chỉ số", "Xếp hạng đơn vị", "So sánh kỳ trước", "Tiếp cận và chi phí"}
	if got := f.GetSheetList(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	for _, sheet := range want {
		if p, err := f.GetPanes(sheet); err != nil || !p.Freeze || p.YSplit != 1 {
			t.Errorf("%s: the head row is not frozen: %+v %v", sheet, p, err)
		}
		if w, _ := f.GetColWidth(sheet, "B"); w < 10 { // Excel's default is 8.43
			t.Errorf("%s: column B is %.1f wide: widths not set", sheet, w)
		}
	}
	// number reads a cell as stored and checks its format.
	number := func(sheet, addr, format string) float64 {
		t.Helper()
		v, err := f.GetCellValue(sheet, addr, excelize.Options{RawCellValue: true})
		n, perr := strconv.ParseFloat(v, 64)
		if err != nil || perr != nil {
			t.Fatalf("%s!%s = %q is not a number (%v)", sheet, addr, v, err)
		}
		id, _ := f.GetCellStyle(sheet, addr)
		st, err := f.GetStyle(id)
		if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != format {
			t.Errorf("%s!%s: number format %v, want %s", sheet, addr, st, format)
		}
		return n
	}
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: the workbook has %v, the JSON report %v", what, got, want)
		}
	}
	// Indicators: code, name, rate, interval from and to, mean, answers.
	for i := range 22 {
		row := strconv.Itoa(i + 2)
		id, _ := f.GetCellValue("Chỉ số", "A"+row)
		if id != js["indicators"].([]any)[i].(map[string]any)["id"] {
			t.Fatalf("Chỉ số row %s is %q", row, id)
		}
		near(id+" rate", 100*number("Chỉ số", "C"+row, "0.00%"), figure(t, js, "indicators", i, "satisfaction_rate"))
		near(id+" low", 100*number("Chỉ số", "D"+row, "0.00%"), figure(t, js, "indicators", i, "interval", "low"))
		near(id+" high", 100*number("Chỉ số", "E"+row, "0.00%"), figure(t, js, "indicators", i, "interval", "high"))
		near(id+" mean", number("Chỉ số", "F"+row, "0.00"), figure(t, js, "indicators", i, "mean_score"))
		near(id+" answers", number("Chỉ số", "G"+row, "#,##0"), figure(t, js, "indicators", i, "answers"))
	}
	for i := range 5 {
		row := strconv.Itoa(i + 2)
		near(fmt.Sprint("criterion ", i), 100*number("Tiêu chí", "C"+row, "0.00%"), figure(t, js, "criteria", i, "satisfaction_rate"))
	}
	rows, _ := f.GetRows("Tổng hợp")
	for i, r := range rows {
		switch r[0] {
		case "Số phiếu trả lời":
			near("responses", number("Tổng hợp", fmt.Sprintf("B%d", i+1), "#,##0"), figure(t, js, "responses"))
		case "Chỉ số hài lòng chung":
			near("overall", 100*number("Tổng hợp", fmt.Sprintf("B%d", i+1), "0.00%"), figure(t, js, "overall", "satisfaction_rate"))
		}
	}
	near("change", number("So sánh kỳ trước", "D2", "+0.00;-0.00;0.00"), figure(t, js, "previous", "overall", "change"))
	// Reach: the overall row, as the JSON report's reach.
	if head, _ := f.GetCellValue("Tiếp cận và chi phí", "A2"); head != "Tất cả" {
		t.Errorf("reach's first row is %q", head)
	}
	near("invited", number("Tiếp cận và chi phí", "B2", "#,##0"), figure(t, js, "reach", "invited"))
	near("completed", number("Tiếp cận và chi phí", "F2", "#,##0"), figure(t, js, "reach", "completed"))
	near("completion", 100*number("Tiếp cận và chi phí", "G2", "0.00%"), figure(t, js, "reach", "rates", "completed", "rate"))
	rank, _ := f.GetRows("Xếp hạng đơn vị")
	if len(rank) < 4 || rank[1][0] != "1" || rank[1][1] != "000.00.12.H49" || rank[2][0] != "" || rank[2][1] != "000.00.13.H49" || rank[2][len(rank[2])-1] != "chưa đủ mẫu" ||
		rank[3][1] != "000.01.12.H49" || rank[3][len(rank[3])-1] != "chưa đủ mẫu" || len(rank[4]) > 0 {
		t.Errorf("ranking: %q", rank)
	}
}

// The printed report and the workbook keep the JSON report's rules: a
// viewer reads them, an agency key only its subtree, and a bad filter is
// the same 400.
func TestReportFilesScopeAndErrors(t *testing.T) {
	g, month := officeGateway(t)
	viewer, agency := g.Key(t, "viewer", ""), g.Key(t, "agency", "000.00.12.H49")
	paths := []string{"/api/v1/reports/sipas?format=xlsx&", "/api/v1/reports/sipas.pdf?"}
	for _, p := range paths {
		if res, body := g.Raw(viewer, "GET", p+"from="+month, nil); res.StatusCode != 200 {
			t.Errorf("viewer %s: %d %s", p, res.StatusCode, body)
		}
	}
	_, pdf := g.Raw(agency, "GET", "/api/v1/reports/sipas.pdf", nil)
	text, _ := gwtest.PDFText(t, pdf)
	if !strings.Contains(text, "Sở Tư pháp") || !strings.Contains(text, "000.01.12.H49") || strings.Contains(text, "000.00.13.H49") || strings.Contains(text, "Quảng Nam") {
		t.Errorf("an agency key's report holds its subtree only:\n%s", text)
	}
	res, raw := g.Raw(agency, "GET", "/api/v1/reports/sipas?format=xlsx", nil)
	f, err := excelize.OpenReader(bytes.NewReader(raw))
	if res.StatusCode != 200 || err != nil {
		t.Fatalf("agency xlsx: %d %v", res.StatusCode, err)
	}
	if rank, _ := f.GetRows("Xếp hạng đơn vị"); len(rank) < 4 || rank[1][1] != "000.00.12.H49" || rank[2][1] != "000.01.12.H49" || len(rank[3]) > 0 {
		t.Errorf("an agency key's ranking: %q", rank)
	}
	for _, q := range []string{"agency=000.00.13.H49", "from=yesterday", "from=2026-05&to=2026-01", "survey=nps", "procedure=P&field=F"} {
		wantRes, want := g.Raw(agency, "GET", "/api/v1/reports/sipas?"+q, nil)
		if wantRes.StatusCode != 400 && wantRes.StatusCode != 403 {
			t.Fatalf("%s: the JSON report answers %d", q, wantRes.StatusCode)
		}
		for _, p := range paths {
			res, got := g.Raw(agency, "GET", p+q, nil)
			if res.StatusCode != wantRes.StatusCode || !bytes.Equal(got, want) {
				t.Errorf("%s%s: %d %s, the JSON report %d %s", p, q, res.StatusCode, got, wantRes.StatusCode, want)
			}
		}
	}
	for q, field := range map[string]string{
		"/api/v1/reports/sipas?format=pdf":                  "format",
		"/api/v1/reports/sipas?format=xlsx&group_by=agency": "group_by",
		"/api/v1/reports/sipas.pdf?group_by=month":          "group_by",
		"/api/v1/reports/sipas.pdf?lang=fr":                 "lang",
		"/api/v1/reports/sipas?format=xlsx&lang=vietnamese": "lang",
	} {
		res, out := g.As(viewer, "GET", q, nil)
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != field {
			t.Errorf("%s: %d %v, want a 400 naming %s", q, res.StatusCode, out, field)
		}
	}
}
