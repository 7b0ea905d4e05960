package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// The target: a unit's drivers over a year of answers (about
// 10,000 responses on the full form, over channels, desks and 30
// procedures, in a province of 60,000) in under 200 ms at the API. The
// report of the same unit and year, measured in the same run, is the
// baseline: both read roll-ups only.
//
//	./test.sh -run '^$' -bench BenchmarkDriversYear ./server/
func BenchmarkDriversYear(b *testing.B) {
	g := gwtest.New(b, "")
	g.Tree(b)
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	rng := rand.New(rand.NewPCG(1, 2))
	cells := store.Cells{}
	agencies := []string{"000.00.12.H49", "000.00.13.H49", "000.01.12.H49", "000.00.00.H49"}
	channels := []string{"web", "sms.esms", "zalo.oa", "kiosk.quay-1.nguyen-van-a", "kiosk.quay-2.tran-thi-b"}
	for i := range 60_000 {
		agency := agencies[i%len(agencies)]
		if i%6 == 0 {
			agency = "000.00.12.H49"
		}
		at := time.Date(2025, 12, 1, 3, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(365*24)) * time.Hour)
		r := &store.Response{AgencyCode: agency, Month: store.MonthOf(at), SubmittedAt: at, Survey: string(def.ID), Channel: channels[rng.IntN(len(channels))],
			ProcedureCode: fmt.Sprintf("1.%06d", rng.IntN(30))}
		level := 1 + 4*rng.Float64()
		for _, q := range def.Questions {
			r.Answers = append(r.Answers, store.Answer{Question: string(q.ID), Criterion: q.Criterion, Score: int(max(1, min(5, level+rng.NormFloat64())))})
		}
		for k, c := range report.CellsOf(r, nil) {
			cells.Add(k, c)
		}
	}
	ctx := context.Background()
	applied, err := g.Mongo.Rollups.Apply(ctx, store.Version{Batch: 1}, cells)
	if err != nil {
		b.Fatal(err)
	}
	if err := g.Mongo.Rollups.Journal.Publish(ctx, nil, store.View{N: 1, Months: applied.Months, Layout: store.Layout}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{
		{"report", "/api/v1/reports/sipas?agency=000.00.12.H49&from=2025-12&to=2026-11"},
		{"report_by_procedure", "/api/v1/reports/sipas?agency=000.00.12.H49&from=2025-12&to=2026-11&group_by=procedure"},
		{"drivers", "/api/v1/reports/sipas/drivers?agency=000.00.12.H49&from=2025-12&to=2026-11"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			res, out := g.API("GET", bc.path, nil)
			if res.StatusCode != 200 || out["responses"].(float64) < 9_000 {
				b.Fatalf("%s: %d, %v responses", bc.path, res.StatusCode, out["responses"])
			}
			for b.Loop() {
				g.API("GET", bc.path, nil)
			}
		})
	}
}
