package report

import (
	"math"
	"strings"
	"time"

	"github.com/sipasvn/gateway/store"
)

// Did a plan work: for each indicator, criterion and complaint topic it
// targets, the same number of days before and after its start (at most
// MaxEffectDays), compared by a two-proportion z test (pooled): the share
// of answers satisfied (4–5) for an indicator or a criterion, the share of
// responses complaining of the topic for a topic. Each target is tested
// in each direction at EffectLevel divided by the number of targets
// (Bonferroni), so a plan that changed nothing is called improved on any
// of its targets at most 4% of the time, and worse at most 4%; a window
// with fewer than EffectMinAnswers answers (responses for a topic) on a
// side is too_few_answers.

// Verdicts.
const (
	Improved      = "improved"
	NoClearChange = "no_clear_change"
	Worse         = "worse"
	TooFew        = "too_few_answers"
)

const (
	// MaxEffectDays bounds each window.
	MaxEffectDays = 90
	// EffectLevel is the chance, for each direction, of a verdict on a
	// plan that changed nothing, shared among its targets.
	EffectLevel = 0.04
	// EffectMinAnswers is the least a window needs on each side.
	EffectMinAnswers = 30
)

// Target kinds an effect is measured for.
const (
	TargetIndicator = "indicator"
	TargetCriterion = "criterion"
	TargetTopic     = "topic"
)

// Target is one thing a plan means to change.
type Target struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Share is part of whole, as a percent.
type Share struct {
	Part  int64   `json:"part"`
	Whole int64   `json:"whole"`
	Rate  float64 `json:"rate"`
}

// TargetEffect is one target's before and after.
type TargetEffect struct {
	Target
	Before Share `json:"before"`
	After  Share `json:"after"`
	// Change is after − before in points; for a topic a fall is the
	// improvement. Interval is its Newcombe interval at the level of the
	// test (1 − 2·EffectLevel/targets).
	Change   float64  `json:"change"`
	Interval Interval `json:"interval"`
	Z        float64  `json:"z"`
	Verdict  string   `json:"verdict"`
}

// Effect is a plan's before and after.
type Effect struct {
	Start   string         `json:"start"` // YYYY-MM-DD
	Days    int            `json:"days"`  // each window's
	Before  Period         `json:"before"`
	After   Period         `json:"after"`
	Level   float64        `json:"level"` // each direction's, per target
	Targets []TargetEffect `json:"targets"`
	Verdict string         `json:"verdict"`
	// Score ranks plans: the mean change in points over the targets with
	// enough answers, a topic's fall counted as a rise.
	Score float64 `json:"score"`
}

// Period is a window of days, both ends included (YYYY-MM-DD).
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// EffectWindows are a plan's windows: after from start to the day before
// today, at most MaxEffectDays; before as many days up to the day before
// start. Days is 0 when start is today or later.
func EffectWindows(start, today time.Time) (days int, before, after [2]time.Time) {
	days = min(MaxEffectDays, int(today.Sub(start).Hours()/24+0.5))
	if days < 1 {
		return 0, before, after
	}
	after = [2]time.Time{start, start.AddDate(0, 0, days-1)}
	before = [2]time.Time{start.AddDate(0, 0, -days), start.AddDate(0, 0, -1)}
	return days, before, after
}

// EffectMonths are the roll-up months the windows span.
func EffectMonths(before, after [2]time.Time) (from, to string) {
	return before[0].Format("2006-01"), after[1].Format("2006-01")
}

// dayOf is the date of a cell of the days' family.
func dayOf(k store.CellKey) (time.Time, bool) {
	d, ok := strings.CutPrefix(k.Dim, store.DayDim)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", k.Month+"-"+d)
	return t, err == nil
}

// Measure computes the effect on targets from the days' cells (any
// agencies, folded or not) of the surveys forms names (the index's
// forms: an indicator is the full form's question, a criterion pools its
// answers on every form, a topic counts over every response).
func Measure(targets []Target, start, today time.Time, days store.Cells, forms map[string]bool) Effect {
	n, before, after := EffectWindows(start, today)
	e := Effect{Start: start.Format("2006-01-02"), Days: n, Targets: []TargetEffect{}}
	if n > 0 {
		e.Before = Period{before[0].Format("2006-01-02"), before[1].Format("2006-01-02")}
		e.After = Period{after[0].Format("2006-01-02"), after[1].Format("2006-01-02")}
	}
	if len(targets) == 0 {
		e.Verdict = TooFew
		return e
	}
	e.Level = EffectLevel / float64(len(targets))
	z := normalQuantile(1 - e.Level)
	side := func(t time.Time) int {
		switch {
		case n == 0:
		case !t.Before(before[0]) && !t.After(before[1]):
			return 0
		case !t.Before(after[0]) && !t.After(after[1]):
			return 1
		}
		return -1
	}
	var responses [2]int64
	parts := make([][2]int64, len(targets))
	wholes := make([][2]int64, len(targets))
	for k, c := range days {
		t, ok := dayOf(k)
		if !ok {
			continue
		}
		s := side(t)
		if s < 0 || !forms[k.Survey] {
			continue
		}
		if k.Question == store.AllQuestions {
			responses[s] += c.Responses
			continue
		}
		for i, tg := range targets {
			switch {
			case tg.Kind == TargetTopic && k.Question == store.TopicCell+tg.ID+":complaint":
				parts[i][s] += c.Responses
			case tg.Kind == TargetIndicator && k.Question == tg.ID && !strings.HasPrefix(k.Question, "#"),
				tg.Kind == TargetCriterion && k.Criterion == tg.ID && !strings.HasPrefix(k.Question, "#"):
				parts[i][s] += c.Levels[4] + c.Levels[5]
				wholes[i][s] += c.Levels[1] + c.Levels[2] + c.Levels[3] + c.Levels[4] + c.Levels[5]
			}
		}
	}
	var sum float64
	var measured, improved, worse int
	for i, tg := range targets {
		if tg.Kind == TargetTopic {
			wholes[i] = responses
		}
		te := TargetEffect{Target: tg, Before: shareOf(parts[i][0], wholes[i][0]), After: shareOf(parts[i][1], wholes[i][1])}
		if wholes[i][0] < EffectMinAnswers || wholes[i][1] < EffectMinAnswers {
			te.Verdict = TooFew
			e.Targets = append(e.Targets, te)
			continue
		}
		p1, p0 := float64(parts[i][1])/float64(wholes[i][1]), float64(parts[i][0])/float64(wholes[i][0])
		te.Change = round2(100 * (p1 - p0))
		lo, hi := diffInterval(p1, wholes[i][1], p0, wholes[i][0], z)
		te.Interval = Interval{Low: round2(100 * lo), High: round2(100 * hi)}
		te.Z = math.Round(100*pooledZ(parts[i][1], wholes[i][1], parts[i][0], wholes[i][0])) / 100
		better := te.Z
		if tg.Kind == TargetTopic {
			better = -better // fewer complaints
		}
		switch {
		case better >= z:
			te.Verdict = Improved
			improved++
		case better <= -z:
			te.Verdict = Worse
			worse++
		default:
			te.Verdict = NoClearChange
		}
		gain := te.Change
		if tg.Kind == TargetTopic {
			gain = -gain
		}
		sum += gain
		measured++
		e.Targets = append(e.Targets, te)
	}
	switch {
	case measured == 0:
		e.Verdict = TooFew
	case improved > 0 && worse == 0:
		e.Verdict = Improved
	case worse > 0 && improved == 0:
		e.Verdict = Worse
	default:
		e.Verdict = NoClearChange
	}
	if measured > 0 {
		e.Score = round2(sum / float64(measured))
	}
	return e
}

func shareOf(part, whole int64) Share {
	s := Share{Part: part, Whole: whole}
	if whole > 0 {
		s.Rate = round2(100 * float64(part) / float64(whole))
	}
	return s
}

// pooledZ is the two-proportion z statistic of x1/n1 against x0/n0 with
// the pooled variance; 0 when every answer is alike.
func pooledZ(x1, n1, x0, n0 int64) float64 {
	p := float64(x1+x0) / float64(n1+n0)
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n0)))
	if se == 0 {
		return 0
	}
	return (float64(x1)/float64(n1) - float64(x0)/float64(n0)) / se
}

// normalQuantile is the standard normal quantile of p (0 < p < 1), by
// bisection on the distribution function: a few dozen steps, exact to
// 1e-9.
func normalQuantile(p float64) float64 {
	lo, hi := -10.0, 10.0
	for hi-lo > 1e-9 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
