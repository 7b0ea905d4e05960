package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// An operator opens the paper forms from the header, reads a page whose
// reader was unsure of a question (its marks outlined on the image),
// chooses the mark, types the comment and records it; the next page
// opens saying so. A photo of a marked form uploaded from the browser is
// recorded. Each paper page passes axe-core in both languages.
func TestConsolePaperReview(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	g.Tree(t)
	const unit = "000.01.12.H49"
	g.Invite("PHIEU-1", unit, nil)
	g.Invite("PHIEU-2", unit, map[string]any{"survey": "sipas-5"})
	g.Invite("PHIEU-3", unit, map[string]any{"survey": "sipas-5"})
	g.Invite("PHIEU-4", unit, map[string]any{"survey": "sipas-5"})
	answers := map[string]int{}
	for i, q := range []string{"A1", "A2", "A3", "A4", "B1", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "E1", "E2", "E3", "E4"} {
		answers[q] = 3 + i%3
	}
	first := g.FileForReview(t, "PHIEU-1", answers, store.ScanQuestion{Question: "B2", Status: "multiple", Marked: []int{2, 4}})
	second := g.FileForReview(t, "PHIEU-2", map[string]int{"A": 5, "B": 4, "D": 5, "E": 4}, store.ScanQuestion{Question: "C", Status: "faint", Marked: []int{3}})

	ctx := browser(t)
	text := texter(t, ctx)
	err := chromedp.Do(ctx, signIn(g, "/console/dashboard"),
		chromedp.Click(chromedp.CSS(`.top nav a[href="/console/paper"]`)), chromedp.WaitVisible(chromedp.ID("paper-queue")))
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#paper-total"); got != "Trang 1–2 trên 2, cũ nhất trước" {
		t.Fatalf("queue %q", got)
	}
	shot(t, ctx, "console-paper-queue.png")
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#paper-queue tbody tr:first-child a`)), chromedp.WaitVisible(chromedp.ID("record")))
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#why-B2"); got != "Nhiều ô được đánh dấu: ô 2, 4" {
		t.Fatalf("why %q", got)
	}
	shot(t, ctx, "console-paper-review.png")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="q_B2"][value="4"]`)),
		chromedp.SendKeys(chromedp.ID("comment"), "Phòng chờ hơi nóng"),
		chromedp.Click(chromedp.CSS(`#record button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(".notice"); got != "Đã ghi nhận phiếu của hồ sơ PHIEU-1." {
		t.Fatalf("notice %q", got)
	}
	if got := text("h1"); got != "Phiếu của hồ sơ PHIEU-2" {
		t.Fatalf("the next page is %q", got)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("PHIEU-1").ID)
	if err != nil || r.Comment != "Phòng chờ hơi nóng" || len(r.Answers) != 22 {
		t.Fatalf("recorded %+v %v", r, err)
	}

	paths := []string{"/console/paper", "/console/paper/print", "/console/paper/upload", "/console/paper/scans/" + second, "/console/paper/scans/" + first}
	paths = append(paths, inEnglish(paths[:4])...)
	for _, path := range paths {
		if err := chromedp.Do(ctx, chromedp.Navigate(g.URL+path), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		axeCheck(t, ctx, path)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(g.URL+"/console/paper/print"), chromedp.WaitVisible(chromedp.ID("codes")),
		chromedp.SendKeys(chromedp.ID("codes"), "PHIEU-3\nPHIEU-1\nKHONG-CO"), chromedp.Click(chromedp.CSS(`#print button.primary`)),
		chromedp.WaitVisible(chromedp.ID("misses")))
	if err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "console-paper-print.png")
	axeCheck(t, ctx, "the print page with its refused lines")

	// A photo of a marked form, chosen in the browser's file input and
	// sent with the form's token in the multipart body, is recorded.
	photo := filepath.Join(t.TempDir(), "phieu-4.jpg")
	jpg := g.Photo(t, "PHIEU-4", "sipas-5", map[string][]int{"A": {5}, "B": {4}, "C": {4}, "D": {5}, "E": {3}}, 41)
	if err := os.WriteFile(photo, jpg, 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, chromedp.Navigate(g.URL+"/console/paper/upload?lang=vi"), chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{photo}), chromedp.Click(chromedp.CSS(`#upload button.primary`)),
		chromedp.WaitVisible(chromedp.ID("upload-results")))
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#upload-total"); got != "1 trang: 1 đã ghi nhận" {
		t.Fatalf("upload %q", got)
	}
	if got := text(`#upload-results tbody tr`); !strings.Contains(got, "phieu-4.jpg") || !strings.Contains(got, "PHIEU-4") {
		t.Fatalf("upload row %q", got)
	}
	shot(t, ctx, "console-paper-upload.png")
	axeCheck(t, ctx, "the upload's results")
}
