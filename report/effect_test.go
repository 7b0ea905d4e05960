package report

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sipasvn/gateway/store"
)

var sipasForms = map[string]bool{"sipas": true, "sipas-5": true}

// window plants n answers to question A1 (criterion A) over a window's
// days, each satisfied with probability p, and as many responses, a share
// complaint of them complaining of waiting.
func window(rng *rand.Rand, cells store.Cells, from time.Time, days, n int, p, complaint float64) {
	type day struct {
		levels                [6]int64
		responses, complaints int64
	}
	per := make([]day, days)
	for range n {
		d := &per[rng.IntN(days)]
		if rng.Float64() < p {
			d.levels[4+rng.IntN(2)]++
		} else {
			d.levels[1+rng.IntN(3)]++
		}
		d.responses++
		if rng.Float64() < complaint {
			d.complaints++
		}
	}
	for i, d := range per {
		if d.responses == 0 {
			continue
		}
		at := from.AddDate(0, 0, i)
		base := store.CellKey{Agency: "U", Month: at.Format("2006-01"), Survey: "sipas", Channel: store.AnyChannel, Dim: store.DayDim + at.Format("02")}
		k := base
		k.Question, k.Criterion = "A1", "A"
		cells.Add(k, store.Counts{Levels: d.levels})
		k = base
		k.Question = store.AllQuestions
		cells.Add(k, store.Counts{Responses: d.responses})
		if d.complaints > 0 {
			k.Question = store.TopicCell + "waiting:complaint"
			cells.Add(k, store.Counts{Responses: d.complaints})
		}
	}
}

// The targets: a rise of one indicator's share satisfied from
// 70% to 80% with 400 answers a window is called improved at least 90% of
// the time; no change is called improved at most 5% of the time.
func TestEffectDetectsAPlantedRiseAndRarelyANull(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	today := start.AddDate(0, 0, 90)
	rng := rand.New(rand.NewPCG(7, 11))
	const runs = 1000
	rate := func(after float64, kind string) float64 {
		hits := 0
		for range runs {
			cells := store.Cells{}
			window(rng, cells, start.AddDate(0, 0, -90), 90, 400, 0.7, 0.20)
			complaint := 0.20
			if kind == TargetTopic && after > 0.7 {
				complaint = 0.13
			}
			window(rng, cells, start, 90, 400, after, complaint)
			target := Target{Kind: kind, ID: "A1"}
			if kind == TargetTopic {
				target.ID = "waiting"
			}
			if e := Measure([]Target{target}, start, today, cells, sipasForms); e.Targets[0].Verdict == Improved {
				hits++
			}
		}
		return float64(hits) / runs
	}
	power, null := rate(0.8, TargetIndicator), rate(0.7, TargetIndicator)
	t.Logf("indicator 70%% → 80%%, 400 answers a window: called improved %.1f%% of %d runs; no change: %.1f%%", 100*power, runs, 100*null)
	if power < 0.90 || null > 0.05 {
		t.Fatalf("detection %.3f (want ≥ 0.90), false alarms %.3f (want ≤ 0.05)", power, null)
	}
	tpower, tnull := rate(0.8, TargetTopic), rate(0.7, TargetTopic)
	t.Logf("topic complaints 20%% → 13%%: called improved %.1f%%; no change: %.1f%%", 100*tpower, 100*tnull)
	if tnull > 0.05 || tpower < 0.5 {
		t.Fatalf("topic: detection %.3f, false alarms %.3f", tpower, tnull)
	}
}

func TestEffectVerdicts(t *testing.T) {
	start := time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 1))
	cells := store.Cells{}
	window(rng, cells, start.AddDate(0, 0, -30), 30, 500, 0.85, 0.1)
	window(rng, cells, start, 30, 500, 0.55, 0.1)
	// Thirty days after start: 30-day windows; answers outside them and
	// another criterion's are not counted.
	window(rng, cells, start.AddDate(0, 0, -60), 30, 500, 0.1, 0.9)
	e := Measure([]Target{{TargetIndicator, "A1"}, {TargetCriterion, "A"}, {TargetCriterion, "B"}}, start, start.AddDate(0, 0, 30), cells, sipasForms)
	if e.Days != 30 || e.Before != (Period{"2026-05-11", "2026-06-09"}) || e.After != (Period{"2026-06-10", "2026-07-09"}) {
		t.Fatalf("windows %+v", e)
	}
	if e.Targets[0].Before.Whole != 500 || e.Targets[0].After.Whole != 500 || e.Targets[0].Verdict != Worse || e.Targets[1].Verdict != Worse {
		t.Fatalf("a fall from 85%% to 55%%: %+v", e.Targets[:2])
	}
	if e.Targets[2].Verdict != TooFew || e.Verdict != Worse || e.Level != EffectLevel/3 {
		t.Fatalf("verdicts %+v", e)
	}
	if iv := e.Targets[0].Interval; !(iv.Low < e.Targets[0].Change && e.Targets[0].Change < iv.High && iv.High < 0) {
		t.Fatalf("interval %+v around %v", iv, e.Targets[0].Change)
	}
	// A plan started today has no window yet.
	if e := Measure([]Target{{TargetIndicator, "A1"}}, start, start, cells, sipasForms); e.Days != 0 || e.Verdict != TooFew {
		t.Fatalf("started today: %+v", e)
	}
}

func TestNormalQuantile(t *testing.T) {
	for p, want := range map[float64]float64{0.975: 1.959964, 0.98: 2.053749, 0.5: 0} {
		if got := normalQuantile(p); got-want > 1e-6 || want-got > 1e-6 {
			t.Errorf("quantile %v: %v, want %v", p, got, want)
		}
	}
}
