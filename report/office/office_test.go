package office

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/survey"
)

func TestPeriodInWords(t *testing.T) {
	for _, c := range []struct{ lang, from, to, want string }{
		{"vi", "2025-01", "2025-12", "Tháng 01/2025 – 12/2025"},
		{"vi", "2025-03", "2025-03", "Tháng 03/2025"},
		{"vi", "2025-03", "", "Từ tháng 03/2025"},
		{"vi", "", "2025-03", "Đến tháng 03/2025"},
		{"vi", "", "", "Toàn bộ thời gian"},
		{"en", "2025-01", "2025-12", "Jan 2025 – Dec 2025"},
	} {
		r := &Report{Lang: c.lang, From: c.from, To: c.to}
		if got := r.Period(); got != c.want {
			t.Errorf("%s %s..%s: %q, want %q", c.lang, c.from, c.to, got, c.want)
		}
	}
}

func unit(code string, n int64, rate float64) Unit {
	return Unit{Code: code, Name: "Đơn vị " + code, Responses: n, Overall: report.Figure{SatisfactionRate: rate, Answers: n * 22, Interval: report.Wilson(rate, n)}}
}

// The ranking keeps every unit: the ranked ones by index, highest first,
// ties sharing a rank, then those under the minimum, marked.
func TestRankingListsEveryUnit(t *testing.T) {
	r := &Report{Lang: "vi", MinSample: 10, Units: []Unit{unit("A", 50, 80), unit("B", 9, 99), unit("C", 40, 90), unit("D", 12, 80), unit("E", 0, 0)}}
	var got []string
	for _, row := range r.ranking().rows {
		got = append(got, r.words(row[0])+" "+row[1].s+" "+row[7].s)
	}
	want := []string{"1 C ", "2 A ", "2 D ", "– B chưa đủ mẫu", "– E chưa đủ mẫu"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("ranking %q, want %q", got, want)
	}
}

// pdfText is the PDF's text as pdftotext -layout reads it, one page a
// string.
func pdfText(t *testing.T, pdf []byte) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testenv.Tool(t, "pdftotext"), "-layout", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(norm.NFC.String(string(out)), "\f\n"), "\f")
}

// A ranking longer than a page goes on over the next with its head
// again, and every page is numbered of the whole.
func TestPrintedTablesRunOverPages(t *testing.T) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	r := &Report{Lang: "vi", Unit: "UBND tỉnh Quảng Nam", From: "2025-01", To: "2025-12", Survey: def, MinSample: 30,
		Printed: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Figures: report.Report{Survey: "sipas"}}
	for i := range 90 {
		r.Units = append(r.Units, unit(fmt.Sprintf("000.%02d.12.H49", i), int64(i), 70+float64(i)/10))
	}
	var b bytes.Buffer
	if err := WritePDF(&b, r); err != nil {
		t.Fatal(err)
	}
	pages := pdfText(t, b.Bytes())
	if len(pages) < 3 {
		t.Fatalf("%d pages for 90 units", len(pages))
	}
	heads := 0
	for i, p := range pages {
		if want := fmt.Sprintf("Trang %d/%d", i+1, len(pages)); !strings.Contains(p, want) {
			t.Errorf("page %d does not read %q", i+1, want)
		}
		if !strings.Contains(p, "Chỉ số hài lòng: tỉ lệ câu trả lời mức 4") {
			t.Errorf("page %d has no definition in its footer", i+1)
		}
		if strings.Contains(p, "Mã đơn vị") {
			heads++
		}
	}
	if heads < 2 {
		t.Errorf("the ranking's head is on %d pages, want it on each it runs over", heads)
	}
	all := strings.Join(pages, "\n")
	for _, want := range []string{"Tháng 01/2025 – 12/2025", "Ngày in: 06/12/2026", "000.89.12.H49", "chưa đủ mẫu", "không có số liệu kỳ trước"} {
		if !strings.Contains(all, want) {
			t.Errorf("the report does not read %q", want)
		}
	}
}
