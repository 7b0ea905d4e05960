package report

import (
	"context"
	"errors"
	"testing"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Grouping stops once its context ends (the client left), whether it is
// splitting cells or computing groups; before, it ran through every cell.
func TestGroupsStopWhenTheContextEnds(t *testing.T) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	cells := store.Cells{}
	for i := range 10_000 {
		k := store.CellKey{Agency: "000.00.00.H22", Month: "2026-06", Survey: string(def.ID), Channel: "kiosk.q" + string(rune('a'+i%26)) + "." + string(rune('a'+i/26%26)) + string(rune('a'+i/676))}
		k.Question = store.AllQuestions
		cells.Add(k, store.Counts{Responses: 1})
		for _, q := range def.Questions[:2] {
			k.Question, k.Criterion = string(q.ID), q.Criterion
			cells.Add(k, store.Counts{Levels: [6]int64{0, 0, 0, 0, 1, 1}})
		}
	}
	compute := func(cs store.Cells) Report { return Compute(def, cs) }
	if groups, err := Groups(context.Background(), compute, cells, "desk"); err != nil || len(groups) != 26 {
		t.Fatalf("groups: %d, %v", len(groups), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, by := range []string{"channel", "desk", "month"} {
		if groups, err := Groups(ctx, compute, cells, by); !errors.Is(err, context.Canceled) || groups != nil {
			t.Errorf("group_by=%s after the context ended: %d groups, %v", by, len(groups), err)
		}
	}
}
