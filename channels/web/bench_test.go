package web

import (
	"bytes"
	"compress/gzip"
	"testing"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// BenchmarkRenderStep renders the largest step of the 22-question survey
// (server time of a survey page without the stores) and reports its size
// as sent: HTML gzipped, as browsers ask for it.
func BenchmarkRenderStep(b *testing.B) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	ss := &core.Session{Survey: def, Invitation: &store.Invitation{Token: "AbCdEfGhIjKlMnOp", Locale: "vi", ExpiresAt: time.Now().Add(time.Hour)}}
	largest, size := 1, 0
	for n := range steps(def) {
		out, err := render("step", stepPage(newPage("vi", "/s/AbCdEfGhIjKlMnOp?"), ss, n+1, map[string]string{}, nil))
		if err != nil {
			b.Fatal(err)
		}
		if len(out) > size {
			largest, size = n+1, len(out)
		}
	}
	var out []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, err = render("step", stepPage(newPage("vi", "/s/AbCdEfGhIjKlMnOp?"), ss, largest, map[string]string{}, nil)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	_, _ = w.Write(out)
	_ = w.Close()
	b.ReportMetric(float64(len(out)), "html-bytes")
	b.ReportMetric(float64(z.Len()), "gzip-bytes")
}

// BenchmarkRenderStepBlank is BenchmarkRenderStep for a first view (no
// saved answer): the page is kept once, the same for every invitation.
func BenchmarkRenderStepBlank(b *testing.B) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	ss := &core.Session{Survey: def, Invitation: &store.Invitation{Token: "AbCdEfGhIjKlMnOp", Locale: "vi", ExpiresAt: time.Now().Add(time.Hour)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := blankStepOf(newPage("vi", ""), ss, 1); err != nil {
			b.Fatal(err)
		}
	}
}
