// Command omrbench measures the paper package's optical mark reader on a
// made-up corpus: forms printed (pdftoppm renders them), marked as
// citizens mark them and scanned or photographed with each kind of
// distortion (see scansim.Kinds), then read back with paper.Read. It
// prints, per kind, the share of boxes read right, the answers stored
// wrong (must be 0), the clear pages sent to review, the ambiguous pages
// sent to review, the blank and unreadable pages reported as such, and
// the reader's speed at 300 dpi.
//
// It exits 1 when a target is missed (99.5% of boxes right per kind, no
// answer stored wrong, 3% of clear pages to review at most, every
// ambiguous page to review, every unreadable page reported so), 2 when
// it cannot run (pdftoppm, from poppler-utils, must be installed).
//
//	go run ./paper/omrbench -n 200 -seed 1 -speed 20   # 2,000 pages, ~200,000 boxes
//	go run ./paper/omrbench -n 20 -seed 7 -json        # TestCorpus's run
package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipasvn/gateway/internal/scansim"
	"github.com/sipasvn/gateway/paper"
)

// Targets a run must meet.
const (
	targetBoxesRight  = 99.5 // % of boxes read right, at least
	targetClearReview = 3.0  // % of clear pages sent to review, at most
)

// KindResult is one kind of distortion's figures.
type KindResult struct {
	Kind            string  `json:"kind"`
	Pages           int     `json:"pages"`
	Boxes           int     `json:"boxes"`
	BoxesRight      int     `json:"boxes_right"`
	BoxesRightPct   float64 `json:"boxes_right_pct"`
	AnswersStored   int     `json:"answers_stored"`
	AnswersWrong    int     `json:"answers_wrong"`
	ClearPages      int     `json:"clear_pages"`
	ClearReview     int     `json:"clear_review"`
	ClearReviewPct  float64 `json:"clear_review_pct"`
	ClearUnreadable int     `json:"clear_unreadable"`
	AmbiguousPages  int     `json:"ambiguous_pages"`
	AmbiguousReview int     `json:"ambiguous_review"`
	FaintPages      int     `json:"faint_pages"`
	FaintReview     int     `json:"faint_review"`
	UnreadablePages int     `json:"unreadable_pages"`
	UnreadableRight int     `json:"unreadable_right"`
	ReadMS          float64 `json:"read_ms_mean"`
	MakeMS          float64 `json:"make_ms_mean"`
}

// Speed is the reader's speed on 300 dpi pages, one core.
type Speed struct {
	Pages             int     `json:"pages"`
	ReadMS            float64 `json:"read_ms_mean"`
	ReadMaxMS         float64 `json:"read_ms_max"`
	ReadPagesPerS     float64 `json:"read_pages_per_s"`
	DecodeReadMS      float64 `json:"jpeg_decode_read_ms_mean"`
	DecodeReadPagesPS float64 `json:"jpeg_decode_read_pages_per_s"`
}

// Summary is the whole run, as -json prints it.
type Summary struct {
	Seed         uint64       `json:"seed"`
	PagesPerKind int          `json:"pages_per_kind"`
	Kinds        []KindResult `json:"kinds"`
	Total        KindResult   `json:"total"`
	Speed        Speed        `json:"speed"`
	Failures     []string     `json:"failures"`
}

func main() {
	n := flag.Int("n", 30, "pages per kind of distortion")
	seed := flag.Uint64("seed", 1, "seed of the corpus")
	kinds := flag.String("kinds", strings.Join(scansim.Kinds, ","), "kinds of distortion, comma-separated")
	asJSON := flag.Bool("json", false, "print the summary as JSON")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "pages made and read at once")
	speedPages := flag.Int("speed", 12, "300 dpi pages timed one at a time (0: none)")
	dump := flag.String("dump", "", "write every box's fill and truth to this CSV file")
	save := flag.String("save", "", "save the images of pages read wrong in this directory")
	only := flag.Int("page", -1, "make and read only this page index of each kind")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the speed measure to this file")
	flag.Parse()

	pdftoppm, err := exec.LookPath("pdftoppm")
	if err != nil {
		fail("pdftoppm is not installed (Debian's poppler-utils): %v", err)
	}
	corpus, err := scansim.NewCorpus(pdftoppm, *seed)
	if err != nil {
		fail("render the forms: %v", err)
	}
	sum := Summary{Seed: *seed, PagesPerKind: *n}
	var dumpW *csv.Writer
	if *dump != "" {
		f, err := os.Create(*dump)
		if err != nil {
			fail("%v", err)
		}
		defer f.Close()
		dumpW = csv.NewWriter(f)
		defer dumpW.Flush()
		_ = dumpW.Write([]string{"kind", "page", "role", "survey", "question", "value", "truth", "fill", "status", "pencil", "dpi", "style"})
	}
	var mu sync.Mutex
	for _, kind := range strings.Split(*kinds, ",") {
		res := KindResult{Kind: kind}
		jobs := make(chan int)
		var wg sync.WaitGroup
		var readTime, makeTime time.Duration
		for w := 0; w < max(1, *workers); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					t0 := time.Now()
					p := corpus.Page(kind, i)
					m := time.Since(t0)
					t0 = time.Now()
					rd, err := paper.Read(p.Image)
					d := time.Since(t0)
					if err != nil {
						fail("page %s/%d: %v", kind, i, err)
					}
					mu.Lock()
					readTime += d
					makeTime += m
					bad := score(&res, p, rd, corpus, dumpW)
					if bad != "" && *save != "" {
						savePage(*save, p, rd, bad)
					}
					if bad != "" && !*asJSON {
						fmt.Fprintf(os.Stderr, "%s/%d (%s %s): %s — read %s: %s\n", kind, i, p.Truth.Role, p.Truth.Survey, bad, rd.Status, rd.Reason)
					}
					mu.Unlock()
				}
			}()
		}
		for i := 0; i < *n; i++ {
			if *only >= 0 && i != *only {
				continue
			}
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		res.ReadMS = ms(readTime) / float64(max(1, res.Pages))
		res.MakeMS = ms(makeTime) / float64(max(1, res.Pages))
		finish(&res)
		sum.Kinds = append(sum.Kinds, res)
		addTo(&sum.Total, res)
	}
	sum.Total.Kind = "total"
	sum.Total.ReadMS = 0
	finish(&sum.Total)
	if *speedPages > 0 {
		sum.Speed = speed(corpus, *speedPages, *cpuprofile)
	}
	for _, k := range sum.Kinds {
		sum.Failures = append(sum.Failures, check(k)...)
	}
	if dumpW != nil {
		dumpW.Flush()
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		_ = enc.Encode(sum)
	} else {
		printTable(sum)
	}
	if len(sum.Failures) > 0 {
		os.Exit(1)
	}
}

// score adds a page's reading to its kind's figures; it returns what was
// wrong with it, if anything.
func score(res *KindResult, p *scansim.Page, rd *paper.Reading, c *scansim.Corpus, dump *csv.Writer) string {
	t := p.Truth
	res.Pages++
	var bad []string
	// Answers stored wrong: any decided answer that is not the truth's,
	// whatever the page's status.
	for q, v := range rd.Answers {
		res.AnswersStored++
		if want, ok := t.Answers[q]; !ok || want != v {
			res.AnswersWrong++
			bad = append(bad, fmt.Sprintf("WRONG ANSWER %s=%d (truth %v)", q, v, t.Marked[q]))
		}
	}
	if rd.Layout != nil && (rd.Code != c.Sheets[t.Survey].Code) {
		bad = append(bad, "wrong code "+rd.Code.String())
	}
	switch t.Role {
	case scansim.BlankSheet, scansim.Unmarked, scansim.Defaced:
		res.UnreadablePages++
		want := map[string]string{scansim.BlankSheet: "no form found", scansim.Unmarked: "blank form", scansim.Defaced: "the QR cannot be read"}[t.Role]
		if rd.Status == paper.StatusUnreadable && strings.HasPrefix(rd.Reason, want) {
			res.UnreadableRight++
		} else {
			bad = append(bad, "should be unreadable: "+want)
		}
	case scansim.Clear:
		res.ClearPages++
		switch rd.Status {
		case paper.StatusReview:
			res.ClearReview++
			bad = append(bad, "clear page to review")
		case paper.StatusUnreadable:
			res.ClearUnreadable++
			bad = append(bad, "clear page unreadable")
		}
	case scansim.Ambiguous:
		res.AmbiguousPages++
		if rd.Status == paper.StatusReview {
			res.AmbiguousReview++
		} else {
			bad = append(bad, "ambiguous page not to review")
		}
	case scansim.Faint:
		// The faint mark must not be stored (answers wrong counts that);
		// the page goes to review, or the mark reads as blank.
		res.FaintPages++
		if rd.Status == paper.StatusReview {
			res.FaintReview++
		}
	}
	// Boxes: each box of a form whose truth is clear (a faint mark by
	// design may be read faint or marked) is right when it is read marked
	// exactly when it is.
	if t.Role != scansim.BlankSheet && t.Role != scansim.Defaced {
		l := c.Sheets[t.Survey].Layout
		got := map[string]*paper.QuestionReading{}
		for i := range rd.Questions {
			got[rd.Questions[i].Question] = &rd.Questions[i]
		}
		wrongBoxes := 0
		for _, b := range l.Boxes {
			if fv, ok := t.Faint[b.Question]; ok && fv == b.Value {
				if dump != nil {
					dumpBox(dump, p, b, "faint", got[b.Question], rd)
				}
				continue
			}
			want := slices.Contains(t.Marked[b.Question], b.Value)
			res.Boxes++
			q := got[b.Question]
			if q != nil && slices.Contains(q.Marked, b.Value) == want {
				res.BoxesRight++
			} else {
				wrongBoxes++
			}
			if dump != nil {
				dumpBox(dump, p, b, strconv.FormatBool(want), q, rd)
			}
		}
		if wrongBoxes > 0 {
			bad = append(bad, fmt.Sprintf("%d boxes wrong", wrongBoxes))
		}
	}
	return strings.Join(bad, "; ")
}

func dumpBox(w *csv.Writer, p *scansim.Page, b paper.Box, truth string, q *paper.QuestionReading, rd *paper.Reading) {
	fill, status := "", ""
	if q != nil {
		fill = strconv.FormatFloat(q.Fill[b.Value], 'f', 4, 64)
		status = q.Status
	}
	_ = w.Write([]string{p.Kind, strconv.Itoa(p.Index), p.Truth.Role, p.Truth.Survey, b.Question, strconv.Itoa(b.Value),
		truth, fill, status, strconv.FormatBool(p.Truth.Pencil), strconv.FormatFloat(rd.DPI, 'f', 0, 64), p.Truth.Style[b.Question]})
}

func savePage(dir string, p *scansim.Page, rd *paper.Reading, why string) {
	_ = os.MkdirAll(dir, 0o755)
	base := filepath.Join(dir, fmt.Sprintf("%s-%03d", p.Kind, p.Index))
	if f, err := os.Create(base + ".png"); err == nil {
		_ = png.Encode(f, p.Image)
		_ = f.Close()
	}
	if rd.Transform != nil {
		if f, err := os.Create(base + "-rect.png"); err == nil {
			_ = png.Encode(f, rd.Rectified(100))
			_ = f.Close()
		}
	}
	b, _ := json.MarshalIndent(map[string]any{"why": why, "truth": p.Truth, "reading": rd}, "", " ")
	_ = os.WriteFile(base+".json", b, 0o644)
}

func finish(r *KindResult) {
	r.BoxesRightPct = pct(r.BoxesRight, r.Boxes)
	r.ClearReviewPct = pct(r.ClearReview+r.ClearUnreadable, r.ClearPages)
}

func addTo(t *KindResult, r KindResult) {
	t.Pages += r.Pages
	t.Boxes += r.Boxes
	t.BoxesRight += r.BoxesRight
	t.AnswersStored += r.AnswersStored
	t.AnswersWrong += r.AnswersWrong
	t.ClearPages += r.ClearPages
	t.ClearReview += r.ClearReview
	t.ClearUnreadable += r.ClearUnreadable
	t.AmbiguousPages += r.AmbiguousPages
	t.AmbiguousReview += r.AmbiguousReview
	t.FaintPages += r.FaintPages
	t.FaintReview += r.FaintReview
	t.UnreadablePages += r.UnreadablePages
	t.UnreadableRight += r.UnreadableRight
}

// check lists the targets a kind misses.
func check(r KindResult) []string {
	var out []string
	if r.AnswersWrong > 0 {
		out = append(out, fmt.Sprintf("%s: %d answers stored wrong", r.Kind, r.AnswersWrong))
	}
	if r.Boxes > 0 && r.BoxesRightPct < targetBoxesRight {
		out = append(out, fmt.Sprintf("%s: %.2f%% of boxes read right, under %.1f%%", r.Kind, r.BoxesRightPct, targetBoxesRight))
	}
	if r.ClearPages > 0 && r.ClearReviewPct > targetClearReview {
		out = append(out, fmt.Sprintf("%s: %.1f%% of clear pages sent to review or unreadable, over %.0f%%", r.Kind, r.ClearReviewPct, targetClearReview))
	}
	if r.AmbiguousReview < r.AmbiguousPages {
		out = append(out, fmt.Sprintf("%s: %d of %d ambiguous pages not sent to review", r.Kind, r.AmbiguousPages-r.AmbiguousReview, r.AmbiguousPages))
	}
	if r.UnreadableRight < r.UnreadablePages {
		out = append(out, fmt.Sprintf("%s: %d of %d blank or unreadable pages not reported so", r.Kind, r.UnreadablePages-r.UnreadableRight, r.UnreadablePages))
	}
	return out
}

// speed times Read, and JPEG decoding then Read, on clear 300 dpi pages
// (the clean kind's), one page at a time.
func speed(c *scansim.Corpus, n int, profile string) Speed {
	var pages []*scansim.Page
	var files [][]byte
	for i := 0; len(pages) < n; i++ {
		if scansim.RoleOf(i) != scansim.Clear {
			continue
		}
		p := c.Page("clean", i)
		var b bytes.Buffer
		if err := jpeg.Encode(&b, p.Image, &jpeg.Options{Quality: 90}); err != nil {
			fail("%v", err)
		}
		pages = append(pages, p)
		files = append(files, b.Bytes())
	}
	runtime.GC()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			fail("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	s := Speed{Pages: n}
	var total, worst time.Duration
	for _, p := range pages {
		t0 := time.Now()
		if _, err := paper.Read(p.Image); err != nil {
			fail("%v", err)
		}
		d := time.Since(t0)
		total += d
		worst = max(worst, d)
	}
	s.ReadMS = ms(total) / float64(n)
	s.ReadMaxMS = ms(worst)
	s.ReadPagesPerS = 1000 / s.ReadMS
	total = 0
	for _, f := range files {
		t0 := time.Now()
		img, err := jpeg.Decode(bytes.NewReader(f))
		if err != nil {
			fail("%v", err)
		}
		if _, err := paper.Read(img.(*image.Gray)); err != nil {
			fail("%v", err)
		}
		total += time.Since(t0)
	}
	s.DecodeReadMS = ms(total) / float64(n)
	s.DecodeReadPagesPS = 1000 / s.DecodeReadMS
	return s
}

func printTable(s Summary) {
	fmt.Printf("omrbench: seed %d, %d pages per kind\n\n", s.Seed, s.PagesPerKind)
	fmt.Printf("%-12s %6s %8s %9s %7s %13s %10s %8s %11s %8s\n", "kind", "pages", "boxes", "right %", "wrong", "review %", "ambiguous", "faint", "unreadable", "read ms")
	row := func(r KindResult) {
		fmt.Printf("%-12s %6d %8d %9.3f %7d %5.1f %7s %10s %8s %11s %8.1f\n", r.Kind, r.Pages, r.Boxes, r.BoxesRightPct,
			r.AnswersWrong, r.ClearReviewPct, fmt.Sprintf("%d/%d", r.ClearReview+r.ClearUnreadable, r.ClearPages),
			fmt.Sprintf("%d/%d", r.AmbiguousReview, r.AmbiguousPages), fmt.Sprintf("%d/%d", r.FaintReview, r.FaintPages),
			fmt.Sprintf("%d/%d", r.UnreadableRight, r.UnreadablePages), r.ReadMS)
	}
	for _, k := range s.Kinds {
		row(k)
	}
	row(s.Total)
	fmt.Println()
	fmt.Println("right %: boxes read marked or blank as they are (of clear, ambiguous and unmarked pages);")
	fmt.Println("wrong: answers stored wrong, on any page; review %: clear pages sent to review or unreadable;")
	fmt.Println("ambiguous: pages with a corrected or double mark sent to review (all must be); faint: pages whose")
	fmt.Println("one faint mark sent them to review (the others read it as blank; none may store it);")
	fmt.Println("unreadable: blank sheets, unmarked forms and inked-over QRs reported as such (all must be).")
	if s.Speed.Pages > 0 {
		fmt.Printf("\nspeed at 300 dpi (2480×3508), one core, %d pages: Read %.1f ms (max %.1f) = %.1f pages/s; JPEG decode + Read %.1f ms = %.1f pages/s\n",
			s.Speed.Pages, s.Speed.ReadMS, s.Speed.ReadMaxMS, s.Speed.ReadPagesPerS, s.Speed.DecodeReadMS, s.Speed.DecodeReadPagesPS)
	}
	if len(s.Failures) > 0 {
		fmt.Println("\nTARGETS MISSED:")
		for _, f := range s.Failures {
			fmt.Println("  " + f)
		}
	} else {
		fmt.Println("\nall targets met")
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "omrbench: "+format+"\n", args...)
	os.Exit(2)
}
