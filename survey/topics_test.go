package survey

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func topicsOf(l *Lexicon, text string) string {
	var out []string
	for _, t := range l.Classify(text) {
		out = append(out, t.ID+":"+string(t.Polarity))
	}
	return strings.Join(out, ",")
}

func TestClassifyExamples(t *testing.T) {
	l, err := LoadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"Phải chờ lâu quá": "waiting:complaint",
		"cho lau qua":      "waiting:complaint",
		"không phải chờ lâu, cán bộ nhiệt tình": "attitude:praise,waiting:praise",
		"cb ko nhiet tinh":        "attitude:complaint",
		"chowf laau":              "waiting:complaint",
		"cho72 la6u":              "waiting:complaint",
		"nhieetj tinhf":           "attitude:praise",
		"nhiet tihn":              "attitude:praise",
		"hướng dẫn không rõ ràng": "guidance:complaint",
		"cán bộ hướng dẫn tận tình, cảm ơn":        "guidance:praise,praise:praise",
		"phải bồi dưỡng mới được làm nhanh":        "payments:complaint,waiting:praise",
		"không thu thêm phí":                       "payments:praise",
		"trả kết quả đúng hẹn":                     "late:praise",
		"trễ hẹn 2 lần":                            "late:complaint",
		"không có ghế ngồi, nóng":                  "facilities:complaint",
		"mạng chậm, hệ thống bị lỗi":               "online:complaint",
		"ok":                                       "",
		"5 4 5 4 5":                                "",
		"Rất hài lòng":                             "praise:praise",
		"đăng ký khai sinh cho trẻ, trả lời nhanh": "waiting:praise",
	} {
		if got := topicsOf(l, text); got != want {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
}

// labelled reads testdata/topics.tsv: comments written for the purpose
// and labelled by hand (topic:polarity, comma-separated).
func labelled(t testing.TB) [][2]string {
	b, err := os.ReadFile("testdata/topics.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if i == 0 || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		text, labels, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("line %d: no tab", i+1)
		}
		out = append(out, [2]string{text, labels})
	}
	return out
}

// score is precision and recall per topic over a table: a topic found
// with the labelled polarity is right; found with another, or not
// labelled, is a false positive; labelled and not found (or found with
// another polarity) is a miss.
type score struct{ tp, fp, fn int }

func scoreTable(l *Lexicon, table [][2]string, variant func(string) string) (map[string]*score, []string) {
	per := map[string]*score{}
	for _, d := range l.Topics {
		per[d.ID] = &score{}
	}
	var wrong []string
	for _, row := range table {
		want := map[string]bool{}
		for _, lab := range strings.Split(row[1], ",") {
			if lab != "" {
				want[lab] = true
			}
		}
		got := map[string]bool{}
		for _, tp := range l.Classify(variant(row[0])) {
			got[tp.ID+":"+string(tp.Polarity)] = true
		}
		for lab := range got {
			id, _, _ := strings.Cut(lab, ":")
			if want[lab] {
				per[id].tp++
			} else {
				per[id].fp++
			}
		}
		for lab := range want {
			id, _, _ := strings.Cut(lab, ":")
			if per[id] == nil {
				per[id] = &score{}
			}
			if !got[lab] {
				per[id].fn++
			}
		}
		if g := topicsOf(l, variant(row[0])); g != row[1] {
			wrong = append(wrong, fmt.Sprintf("%q: got %q, want %q", row[0], g, row[1]))
		}
	}
	return per, wrong
}

func (s score) precision() float64 { return ratio(s.tp, s.tp+s.fp) }
func (s score) recall() float64    { return ratio(s.tp, s.tp+s.fn) }
func (s score) f1() float64 {
	p, r := s.precision(), s.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func macroF1(per map[string]*score) float64 {
	var sum float64
	for _, s := range per {
		sum += s.f1()
	}
	return sum / float64(len(per))
}

func report(per map[string]*score) string {
	ids := make([]string, 0, len(per))
	for id := range per {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %9s %6s %5s  (tp fp fn)\n", "topic", "precision", "recall", "F1")
	for _, id := range ids {
		s := per[id]
		fmt.Fprintf(&b, "%-11s %9.2f %6.2f %5.2f  (%d %d %d)\n", id, s.precision(), s.recall(), s.f1(), s.tp, s.fp, s.fn)
	}
	fmt.Fprintf(&b, "macro F1 %.3f", macroF1(per))
	return b.String()
}

// The classifier meets its target on the labelled table, reads NFD text as
// NFC, and is printed per topic (go test -run TestTopicQuality -v).
func TestTopicQuality(t *testing.T) {
	l, err := LoadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	table := labelled(t)
	per, wrong := scoreTable(l, table, func(s string) string { return s })
	t.Logf("%d labelled comments\n%s", len(table), report(per))
	if testing.Verbose() {
		for _, w := range wrong {
			t.Log(w)
		}
	}
	if f := macroF1(per); f < 0.85 {
		t.Errorf("macro F1 %.3f, below the 0.85 target", f)
	}
	unaccented, _ := scoreTable(l, table, Unaccent)
	t.Logf("the same comments without diacritics: macro F1 %.3f", macroF1(unaccented))
	nfd, _ := scoreTable(l, table, norm.NFD.String)
	for id, s := range per {
		if *nfd[id] != *s {
			t.Errorf("%s: NFD text read otherwise than NFC: %+v vs %+v", id, *nfd[id], *s)
		}
	}
}

// BenchmarkClassify is the cost of classifying one labelled comment (with
// -benchmem); BenchmarkTopicQuality prints precision and recall per topic.
func BenchmarkClassify(b *testing.B) {
	l, err := LoadLexicon()
	if err != nil {
		b.Fatal(err)
	}
	table := labelled(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.Classify(table[i%len(table)][0])
		i++
	}
}

func BenchmarkTopicQuality(b *testing.B) {
	l, err := LoadLexicon()
	if err != nil {
		b.Fatal(err)
	}
	table := labelled(b)
	var per map[string]*score
	for b.Loop() {
		per, _ = scoreTable(l, table, func(s string) string { return s })
	}
	b.ReportMetric(macroF1(per), "macroF1")
	b.Logf("%d labelled comments\n%s", len(table), report(per))
	unaccented, _ := scoreTable(l, table, Unaccent)
	b.Logf("the same comments without diacritics: macro F1 %.3f", macroF1(unaccented))
}

// TestTopicQualityHalves logs macro F1 on the even- and odd-numbered rows
// of the labelled table apart: tuning the lexicon on one half's errors and
// checking the other tells whether it generalises (go test -run
// TestTopicQualityHalves -v; TOPICS_HALF_ERRORS=even|odd lists that
// half's errors too).
func TestTopicQualityHalves(t *testing.T) {
	l, err := LoadLexicon()
	if err != nil {
		t.Fatal(err)
	}
	var halves [2][][2]string
	for i, row := range labelled(t) {
		halves[i%2] = append(halves[i%2], row)
	}
	for i, name := range []string{"even", "odd"} {
		per, wrong := scoreTable(l, halves[i], func(s string) string { return s })
		t.Logf("%s rows (%d comments)\n%s", name, len(halves[i]), report(per))
		if os.Getenv("TOPICS_HALF_ERRORS") == name {
			for _, w := range wrong {
				t.Log(w)
			}
		}
	}
}
