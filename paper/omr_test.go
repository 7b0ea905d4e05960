package paper_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/sipasvn/gateway/internal/scansim"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/paper"
)

var (
	sheetsOnce sync.Once
	sheets     map[string]*scansim.Sheet
	sheetsErr  error
)

// sheet is a survey's form rendered at 300 dpi, once per test binary.
func sheet(t testing.TB, id string) *scansim.Sheet {
	t.Helper()
	pdftoppm := testenv.Tool(t, "pdftoppm")
	sheetsOnce.Do(func() {
		sheets = map[string]*scansim.Sheet{}
		for _, s := range paper.Surveys() {
			var sh *scansim.Sheet
			if sh, sheetsErr = scansim.Render(pdftoppm, s); sheetsErr != nil {
				return
			}
			sheets[s] = sh
		}
	})
	if sheetsErr != nil {
		t.Fatal(sheetsErr)
	}
	return sheets[id]
}

// scanner is a flatbed scan at 150 dpi, a little turned, lossless: small
// and quick to make under the race detector.
func scanner() scansim.Camera {
	return scansim.Camera{DPI: 150, Rotate: 0.7, White: 242, Black: 20, Background: 250, Blur: 0.03, Noise: 2}
}

// phone is a phone's photograph: turned, in perspective, unevenly lit,
// a shadow across it, on a grey table.
func phone() scansim.Camera {
	return scansim.Camera{DPI: 160, Rotate: -8, Keystone: 0.12, Margin: 0.05, Background: 90, White: 215, Black: 40,
		Blur: 0.08, Light: 0.35, Shadow: 0.45, ShadowSoft: 12, Noise: 3, JPEG: 80}
}

type mark struct {
	q    string
	v    int
	m    scansim.Mark
	ink  func(*rand.Rand) scansim.Ink
	note string
}

// TestReadMarks reads one page of each way of marking, and the pages a
// reader must refuse, each as a scan and as a phone's photograph.
func TestReadMarks(t *testing.T) {
	sh := sheet(t, "sipas-5")
	cases := []struct {
		name    string
		marks   []mark
		inkQR   bool
		status  string
		answers map[string]int
		reason  string            // the Reason starts so
		qs      map[string]string // question statuses
	}{
		{
			name: "pen and pencil, every way",
			marks: []mark{
				{q: "A", v: 5, m: scansim.Cross, ink: scansim.PenInk},
				{q: "B", v: 4, m: scansim.Tick, ink: scansim.PenInk},
				{q: "C", v: 1, m: scansim.Fill, ink: scansim.PenInk},
				{q: "D", v: 0, m: scansim.Cross, ink: scansim.PencilInk},
			},
			status:  paper.StatusRead,
			answers: map[string]int{"A": 5, "B": 4, "C": 1, "D": 0},
			qs:      map[string]string{"E": paper.QuestionBlank},
		},
		{
			name: "a correction",
			marks: []mark{
				{q: "A", v: 2, m: scansim.Fill, ink: scansim.PenInk},
				{q: "A", v: 4, m: scansim.Cross, ink: scansim.PenInk},
				{q: "B", v: 3, m: scansim.Cross, ink: scansim.PenInk},
			},
			status:  paper.StatusReview,
			answers: map[string]int{"B": 3},
			reason:  "question A has a box filled in and another marked",
			qs:      map[string]string{"A": paper.QuestionCorrected},
		},
		{
			name: "two marks",
			marks: []mark{
				{q: "C", v: 1, m: scansim.Tick, ink: scansim.PenInk},
				{q: "C", v: 3, m: scansim.Tick, ink: scansim.PenInk},
				{q: "E", v: 5, m: scansim.Fill, ink: scansim.PencilInk},
			},
			status:  paper.StatusReview,
			answers: map[string]int{"E": 5},
			reason:  "question C has 2 marks",
			qs:      map[string]string{"C": paper.QuestionMultiple},
		},
		{
			name:   "no mark",
			status: paper.StatusUnreadable,
			reason: "blank form: no box is marked",
		},
		{
			name:   "the QR inked over",
			marks:  []mark{{q: "A", v: 5, m: scansim.Cross, ink: scansim.PenInk}},
			inkQR:  true,
			status: paper.StatusUnreadable,
			reason: "the QR cannot be read",
		},
	}
	for _, cam := range []struct {
		name string
		cam  scansim.Camera
	}{{"scan", scanner()}, {"photo", phone()}} {
		for ci, c := range cases {
			t.Run(cam.name+"/"+c.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(ci), 7))
				img := sh.Blank()
				for _, m := range c.marks {
					sh.Draw(img, m.q, m.v, m.m, m.ink(r), r)
				}
				if c.inkQR {
					sh.InkOverQR(img, r)
				}
				page, _ := cam.cam.Shoot(img, r)
				rd, err := paper.Read(page)
				if err != nil {
					t.Fatal(err)
				}
				if rd.Status != c.status || !strings.HasPrefix(rd.Reason, c.reason) {
					t.Fatalf("read %s (%s), want %s (%s)", rd.Status, rd.Reason, c.status, c.reason)
				}
				if c.status == paper.StatusUnreadable && c.reason != "blank form: no box is marked" {
					return
				}
				if rd.Code != sh.Code || rd.Layout != sh.Layout {
					t.Errorf("code %+v, want %+v", rd.Code, sh.Code)
				}
				if len(rd.Answers) != len(c.answers) {
					t.Errorf("answers %v, want %v", rd.Answers, c.answers)
				}
				for q, v := range c.answers {
					if got, ok := rd.Answers[q]; !ok || got != v {
						t.Errorf("answer %s = %d (%v), want %d", q, got, ok, v)
					}
				}
				for _, q := range rd.Questions {
					want, ok := c.qs[q.Question]
					if !ok {
						want = paper.QuestionBlank
						if _, answered := c.answers[q.Question]; answered {
							want = paper.QuestionOK
						}
					}
					if q.Status != want {
						t.Errorf("question %s is %s, want %s (fills %v)", q.Question, q.Status, want, q.Fill)
					}
				}
			})
		}
	}
}

// TestReadNoForm: a blank sheet, and a page of something else.
func TestReadNoForm(t *testing.T) {
	sh := sheet(t, "overall")
	r := rand.New(rand.NewPCG(1, 1))
	white := image.NewGray(sh.Image.Rect)
	for i := range white.Pix {
		white.Pix[i] = 255
	}
	text := sh.Blank()
	// The form without its corner squares: a page of text and boxes.
	for _, m := range sh.Layout.Marks {
		x0, y0 := int(m.X*scansim.DPI/25.4)-3, int(m.Y*scansim.DPI/25.4)-3
		for y := y0; y < y0+int(m.H*scansim.DPI/25.4)+7; y++ {
			for x := x0; x < x0+int(m.W*scansim.DPI/25.4)+7; x++ {
				text.SetGray(x, y, white.GrayAt(x, y))
			}
		}
	}
	for name, img := range map[string]*image.Gray{"blank sheet": white, "no corner squares": text} {
		for _, cam := range []scansim.Camera{scanner(), phone()} {
			page, _ := cam.Shoot(img, r)
			rd, err := paper.Read(page)
			if err != nil {
				t.Fatal(err)
			}
			if rd.Status != paper.StatusUnreadable || !strings.HasPrefix(rd.Reason, "no form found") && !strings.Contains(rd.Reason, "corner squares are not all on the page") {
				t.Errorf("%s: read %s (%s)", name, rd.Status, rd.Reason)
			}
			if name == "blank sheet" && cam.Margin == 0 && rd.Reason != "no form found: the page is blank" {
				t.Errorf("blank sheet: %q", rd.Reason)
			}
		}
	}
	if _, err := paper.Read(nil); err == nil {
		t.Error("Read(nil) gave no error")
	}
}

// TestReadUpsideDown: a page fed upside down, one turned the most a
// reader must take, and one sideways, with a long form's small boxes.
func TestReadUpsideDown(t *testing.T) {
	sh := sheet(t, "sipas")
	r := rand.New(rand.NewPCG(3, 3))
	img := sh.Blank()
	want := map[string]int{}
	for i, row := range sh.Layout.Rows {
		if row.Question == "" || i%3 == 0 {
			continue
		}
		v := paper.Values[i%6]
		sh.Draw(img, row.Question, v, scansim.Mark(i%3), scansim.PenInk(r), r)
		want[row.Question] = v
	}
	for _, cam := range []scansim.Camera{
		{DPI: 150, UpsideDown: true, White: 240, Black: 20, Background: 250, Blur: 0.03, Noise: 2, JPEG: 85},
		{DPI: 200, Rotate: 15, Margin: 0.05, Background: 60, White: 220, Black: 35, Blur: 0.05, Noise: 3, JPEG: 85},
		{DPI: 150, Rotate: 90, White: 240, Black: 20, Background: 250, Noise: 2}, // a photo's EXIF lost
	} {
		page, _ := cam.Shoot(img, r)
		rd, err := paper.Read(page)
		if err != nil {
			t.Fatal(err)
		}
		if rd.Status != paper.StatusRead {
			t.Fatalf("%+v: read %s (%s)", cam, rd.Status, rd.Reason)
		}
		if len(rd.Answers) != len(want) {
			t.Errorf("%d answers, want %d", len(rd.Answers), len(want))
		}
		for q, v := range want {
			if rd.Answers[q] != v {
				t.Errorf("answer %s = %d, want %d", q, rd.Answers[q], v)
			}
		}
		if rd.DPI < cam.DPI*0.95 || rd.DPI > cam.DPI*1.05 {
			t.Errorf("DPI %.0f, want %.0f", rd.DPI, cam.DPI)
		}
	}
}

// TestRectified: the page rendered upright at 100 dpi, and a box's crop.
func TestRectified(t *testing.T) {
	sh := sheet(t, "overall")
	r := rand.New(rand.NewPCG(5, 5))
	img := sh.Blank()
	sh.Draw(img, "O", 4, scansim.Fill, scansim.PenInk(r), r)
	page, _ := phone().Shoot(img, r)
	rd, err := paper.Read(page)
	if err != nil || rd.Status != paper.StatusRead {
		t.Fatalf("read %v %v", rd, err)
	}
	// The same page inside a larger image reads the same.
	big := image.NewGray(image.Rect(-40, -30, page.Rect.Dx()+60, page.Rect.Dy()+50))
	for i := range big.Pix {
		big.Pix[i] = 90
	}
	sub := big.SubImage(image.Rect(0, 0, page.Rect.Dx(), page.Rect.Dy())).(*image.Gray)
	for y := 0; y < page.Rect.Dy(); y++ {
		copy(sub.Pix[y*sub.Stride:y*sub.Stride+page.Rect.Dx()], page.Pix[y*page.Stride:])
	}
	if rs, err := paper.Read(sub); err != nil || rs.Status != paper.StatusRead || rs.Answers["O"] != 4 {
		t.Errorf("a sub-image reads %v %v", rs, err)
	}
	rect := rd.Rectified(100)
	if b := rect.Bounds(); b.Dx() != 827 || b.Dy() != 1169 {
		t.Errorf("rectified is %v, want 827×1169", b)
	}
	mean := func(img *image.Gray) float64 {
		sum := 0
		for _, v := range img.Pix {
			sum += int(v)
		}
		return float64(sum) / float64(len(img.Pix))
	}
	for _, b := range sh.Layout.Boxes {
		in := paper.Rect{X: b.X + 1, Y: b.Y + 1, W: b.W - 2, H: b.H - 2}
		m := mean(rd.Crop(in, 200))
		if b.Value == 4 && m > 120 || b.Value != 4 && m < 150 {
			t.Errorf("box %d's crop has mean %.0f", b.Value, m)
		}
	}
	// The top left corner square lands at the top left of the rectified page.
	mk := sh.Layout.Marks[0]
	if v := rect.GrayAt(int((mk.X+mk.W/2)/25.4*100), int((mk.Y+mk.H/2)/25.4*100)).Y; v > 100 {
		t.Errorf("the corner square's centre is %d on the rectified page", v)
	}
}

// TestCorpus runs omrbench on a few hundred pages (20 of each kind of
// distortion, a fixed seed) in a binary built without the race
// detector: its pixel loops run ten times slower under it. Its figures
// must meet the targets: no answer stored wrong, 99.5% of boxes right,
// 3% of clear pages to review at most, every ambiguous page to review,
// every blank or unreadable page reported so.
func TestCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of CPU")
	}
	testenv.Tool(t, "pdftoppm")
	dir := t.TempDir()
	bin := filepath.Join(dir, "omrbench")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", bin, "github.com/sipasvn/gateway/paper/omrbench")
	build.Env = withoutRace(os.Environ())
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build omrbench: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-n", "20", "-seed", "7", "-json", "-speed", "0", "-workers", "2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		t.Fatalf("omrbench: %v\n%s", err, stderr.String())
	}
	var sum struct {
		Kinds []struct {
			Kind            string  `json:"kind"`
			Boxes           int     `json:"boxes"`
			BoxesRightPct   float64 `json:"boxes_right_pct"`
			AnswersStored   int     `json:"answers_stored"`
			AnswersWrong    int     `json:"answers_wrong"`
			AmbiguousPages  int     `json:"ambiguous_pages"`
			AmbiguousReview int     `json:"ambiguous_review"`
			UnreadablePages int     `json:"unreadable_pages"`
			UnreadableRight int     `json:"unreadable_right"`
		} `json:"kinds"`
		Total struct {
			Boxes           int     `json:"boxes"`
			BoxesRightPct   float64 `json:"boxes_right_pct"`
			AnswersStored   int     `json:"answers_stored"`
			AnswersWrong    int     `json:"answers_wrong"`
			ClearPages      int     `json:"clear_pages"`
			ClearReviewPct  float64 `json:"clear_review_pct"`
			AmbiguousPages  int     `json:"ambiguous_pages"`
			AmbiguousReview int     `json:"ambiguous_review"`
			FaintPages      int     `json:"faint_pages"`
			FaintReview     int     `json:"faint_review"`
		} `json:"total"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("omrbench's summary: %v\n%s", err, out)
	}
	if len(sum.Kinds) != len(scansim.Kinds) || sum.Total.Boxes < 10000 || sum.Total.AnswersStored < 1000 {
		t.Fatalf("omrbench read too little: %s", out)
	}
	for _, k := range sum.Kinds {
		if k.AnswersWrong > 0 {
			t.Errorf("%s: %d of %d answers stored wrong", k.Kind, k.AnswersWrong, k.AnswersStored)
		}
		if k.BoxesRightPct < 99.5 {
			t.Errorf("%s: %.2f%% of %d boxes read right, under 99.5%%", k.Kind, k.BoxesRightPct, k.Boxes)
		}
		if k.AmbiguousReview < k.AmbiguousPages {
			t.Errorf("%s: %d of %d ambiguous pages not sent to review", k.Kind, k.AmbiguousPages-k.AmbiguousReview, k.AmbiguousPages)
		}
		if k.UnreadableRight < k.UnreadablePages {
			t.Errorf("%s: %d of %d blank or unreadable pages not reported so", k.Kind, k.UnreadablePages-k.UnreadableRight, k.UnreadablePages)
		}
	}
	if sum.Total.ClearReviewPct > 3 {
		t.Errorf("%.1f%% of %d clear pages sent to review, over 3%%", sum.Total.ClearReviewPct, sum.Total.ClearPages)
	}
	t.Logf("%d boxes, %.3f%% right; %d answers stored, %d wrong; clear pages to review %.1f%% of %d; ambiguous to review %d/%d; faint to review %d/%d",
		sum.Total.Boxes, sum.Total.BoxesRightPct, sum.Total.AnswersStored, sum.Total.AnswersWrong, sum.Total.ClearReviewPct, sum.Total.ClearPages,
		sum.Total.AmbiguousReview, sum.Total.AmbiguousPages, sum.Total.FaintReview, sum.Total.FaintPages)
	if t.Failed() {
		t.Logf("pages read wrong:\n%s", stderr.String())
	}
}

// withoutRace is env with -race taken out of GOFLAGS.
func withoutRace(env []string) []string {
	var out []string
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "GOFLAGS="); ok {
			var keep []string
			for _, f := range strings.Fields(v) {
				if f != "-race" && f != "-race=true" {
					keep = append(keep, f)
				}
			}
			e = "GOFLAGS=" + strings.Join(keep, " ")
		}
		out = append(out, e)
	}
	return out
}

// BenchmarkRead300dpi reads a clear 300 dpi scan of the long form.
func BenchmarkRead300dpi(b *testing.B) {
	page := cleanPage(b)
	b.ResetTimer()
	for b.Loop() {
		if rd, err := paper.Read(page.Image); err != nil || rd.Status != paper.StatusRead {
			b.Fatalf("%v %v", rd.Status, err)
		}
	}
}

// BenchmarkDecodeRead300dpi decodes the same page from a JPEG file (q90)
// and reads it.
func BenchmarkDecodeRead300dpi(b *testing.B) {
	page := cleanPage(b)
	var f bytes.Buffer
	if err := jpeg.Encode(&f, page.Image, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		img, err := jpeg.Decode(bytes.NewReader(f.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := paper.Read(img.(*image.Gray)); err != nil {
			b.Fatal(err)
		}
	}
}

func cleanPage(b *testing.B) *scansim.Page {
	sheet(b, "sipas")
	c := &scansim.Corpus{Sheets: sheets, Seed: 1}
	for i := 1; ; i++ {
		if scansim.RoleOf(i) != scansim.Clear {
			continue
		}
		if p := c.Page("clean", i); p.Truth.Survey == "sipas" {
			return p
		}
	}
}
