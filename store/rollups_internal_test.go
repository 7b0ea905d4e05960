package store

import "testing"

func TestResponseCountCellsApplyLast(t *testing.T) {
	cs := Cells{}
	for _, q := range []string{"Z9", AllQuestions, "A1", "M5"} {
		cs.Add(CellKey{Agency: "X", Question: q}, Counts{Responses: 1})
	}
	cs.Add(CellKey{Agency: "A", Question: AllQuestions}, Counts{Responses: 1})
	keys := cs.ordered()
	for i, k := range keys {
		if (k.Question == AllQuestions) != (i >= len(keys)-2) {
			t.Fatalf("order %v", keys)
		}
	}
}
