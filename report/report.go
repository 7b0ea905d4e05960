// Package report owns the SIPAS index: it turns responses into roll-up cells,
// computes rates and means from cells as DOMAIN.md defines them, and runs the
// one writer that keeps the stored roll-ups current.
package report

import (
	"context"
	"fmt"
	"maps"
	"math"
	"sort"
	"strings"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// CellsOf returns the roll-up counts one response adds, as it stands
// (its flags and review): the main family by channel, the procedure and
// field families when the response has them (each with its comment's
// topics), and its invitation's completion in the response-rate cells
// of its invitation's survey (see store.Response.RateSurvey), and there
// again as completed after a reminder when its reminder went out first.
// (The start a completion implies is an event, counted once with a noted
// start: see reachEvents.)
// A confirmed response (filled by staff, as someone above the agency
// found) is left out of those families; a flagged one is counted in them
// and again in its standing's family of the same shape (Dim
// "<family>#pending", see store.StandingDim), so a report can take the
// flagged answers out (index_excluding_flagged) and count them by
// signal.
func CellsOf(r *store.Response, topics []survey.Topic) store.Cells {
	cells := store.Cells{}
	AddCellsOf(cells, r, topics)
	return cells
}

// AddCellsOf adds CellsOf(r, topics) to cells, without a map of r's own
// (the roll-up writer adds a batch's responses to one).
func AddCellsOf(cells store.Cells, r *store.Response, topics []survey.Topic) {
	family, _, _ := strings.Cut(r.Channel, ".")
	cells.Add(store.InvitationCell(r.AgencyCode, r.InvitedMonth(), r.RateSurvey(), store.FunnelCompleted, family), store.Counts{Responses: 1})
	if r.Reminded {
		cells.Add(store.InvitationCell(r.AgencyCode, r.InvitedMonth(), r.RateSurvey(), store.FunnelAfterReminder, family), store.Counts{Responses: 1})
	}
	st := store.StandingOf(r)
	bases := []store.CellKey{{Agency: r.AgencyCode, Month: r.Month, Survey: r.Survey, Channel: r.Channel}}
	if r.ProcedureCode != "" {
		bases = append(bases, store.CellKey{Agency: r.AgencyCode, Month: r.Month, Survey: r.Survey, Channel: store.AnyChannel, Dim: "procedure:" + r.ProcedureCode})
	}
	if r.FieldCode != "" {
		bases = append(bases, store.CellKey{Agency: r.AgencyCode, Month: r.Month, Survey: r.Survey, Channel: store.AnyChannel, Dim: "field:" + r.FieldCode})
	}
	if st.Status != store.ReviewConfirmed {
		addRest(cells, bases[0], r)
		if store.MonthOf(r.SubmittedAt) == r.Month { // always, for answers the gateway took
			k := bases[0]
			k.Channel, k.Dim = store.AnyChannel, store.DayDim+store.DayOf(r.SubmittedAt)
			addDay(cells, k, r, topics)
		}
	}
	for _, base := range bases {
		if st.Status != store.ReviewConfirmed {
			addCells(cells, base, r, topics)
		}
		if st.Status == "" {
			continue
		}
		k := base
		k.Dim = store.StandingDim(base.Dim, st.Status)
		if st.Status == store.ReviewPending {
			addCells(cells, k, r, topics) // the whole shape: a report subtracts it
		} else {
			k.Question = store.AllQuestions
			cells.Add(k, store.Counts{Responses: 1})
		}
		for _, f := range st.Flags {
			k.Question, k.Criterion = store.FlagCell+f, ""
			cells.Add(k, store.Counts{Responses: 1})
		}
	}
}

// CellsBetween is what recounting r as standing now instead of as it
// was counted adds (negative counts take away): its counts as now minus
// its counts as was.
func CellsBetween(r *store.Response, topics []survey.Topic, was, now store.Standing) store.Cells {
	out := CellsOf(r.WithStanding(now), topics)
	for k, c := range CellsOf(r.WithStanding(was), topics) {
		out.Add(k, c.Negated())
	}
	for k, c := range out {
		if c == (store.Counts{}) {
			delete(out, k)
		}
	}
	return out
}

func addCells(cells store.Cells, base store.CellKey, r *store.Response, topics []survey.Topic) {
	addAnswers(cells, base, r, topics)
	// Each criterion's cell weighs the response once (the cross-form view).
	type crit struct{ valid, satisfied, sum int64 }
	var order []string
	per := map[string]*crit{}
	for _, a := range r.Answers {
		if a.Score < 1 || a.Score > 5 {
			continue
		}
		c := per[a.Criterion]
		if c == nil {
			c = &crit{}
			per[a.Criterion] = c
			order = append(order, a.Criterion)
		}
		c.valid++
		c.sum += int64(a.Score)
		if a.Score >= 4 {
			c.satisfied++
		}
	}
	for _, code := range order {
		c := per[code]
		k := base
		k.Question, k.Criterion = store.CriterionCell+code, code
		cells.Add(k, store.Counts{Responses: 1, Satisfied: c.satisfied * store.CriterionScale / c.valid, Score: c.sum * store.CriterionScale / c.valid})
	}
	if r.EnteredBy != "" {
		k := base
		k.Question = store.OperatorRead
		cells.Add(k, store.Counts{Responses: 1})
	}
	if base.Dim == "" { // the group signals' counts, by channel (desk, officer)
		for _, q := range groupSignals(r) {
			k := base
			k.Question = q
			cells.Add(k, store.Counts{Responses: 1})
		}
	}
	k := base
	k.Question = store.AllQuestions
	cells.Add(k, store.Counts{Responses: 1})
}

// addAnswers adds r's comment's topics and its answers, by level.
func addAnswers(cells store.Cells, base store.CellKey, r *store.Response, topics []survey.Topic) {
	for _, t := range topics {
		k := base
		k.Question = store.TopicCell + t.ID + ":" + string(t.Polarity)
		cells.Add(k, store.Counts{Responses: 1})
	}
	for _, a := range r.Answers {
		if a.Score < 0 || a.Score > 5 {
			continue // never stored by the gateway; ignore rather than count wrong
		}
		k := base
		k.Question, k.Criterion = a.Question, a.Criterion
		var c store.Counts
		c.Levels[a.Score] = 1
		cells.Add(k, c)
	}
}

// addRest adds r to the drivers' family (store.RestDim): for each answer
// 1–5 beside at least one other, the answer x and the mean m of the
// others, as the sums store.RestSums keeps.
func addRest(cells store.Cells, base store.CellKey, r *store.Response) {
	var valid []store.Answer
	var sum int64
	for _, a := range r.Answers {
		if a.Score >= 1 && a.Score <= 5 {
			valid = append(valid, a)
			sum += int64(a.Score)
		}
	}
	if len(valid) < 2 {
		return
	}
	base.Channel, base.Dim = store.AnyChannel, store.RestDim
	others := int64(len(valid) - 1)
	for _, a := range valid {
		x := int64(a.Score)
		m := ((sum-x)*store.RestScale + others/2) / others // rounded; every part is positive
		k := base
		k.Question, k.Criterion = a.Question, a.Criterion
		cells.Add(k, store.RestCounts(store.RestSums{N: 1, X: x, XX: x * x, M: m, MM: m * m, XM: x * m}))
	}
}

// addDay adds r to the days' family: its answers, its comment's topics
// and the response, by the day it came.
func addDay(cells store.Cells, base store.CellKey, r *store.Response, topics []survey.Topic) {
	addAnswers(cells, base, r, topics)
	k := base
	k.Question = store.AllQuestions
	cells.Add(k, store.Counts{Responses: 1})
}

// The counts behind the group signals (see Integrity): responses whose
// every valid answer is the top level and that carry no comment; web
// answers through the survey link with a known time from the
// invitation's creation, and those of them completed within QuickAfter.
const (
	AllTopCell = "#alltop"
	TimedCell  = "#timed"
	QuickCell  = "#quick"
)

// QuickAfter is how soon after its invitation's creation a web answer
// counts as quick: a citizen scans the QR on the returned dossier later,
// staff filling the survey in do it at once.
const QuickAfter = 10 * 60 // seconds

func groupSignals(r *store.Response) []string {
	var out []string
	valid, top := 0, 0
	for _, a := range r.Answers {
		if a.Score >= 1 && a.Score <= 5 {
			valid++
			if a.Score == 5 {
				top++
			}
		}
	}
	if valid > 0 && top == valid && strings.TrimSpace(r.Comment) == "" {
		out = append(out, AllTopCell)
	}
	if p := r.Provenance; p != nil && p.VerifiedBy == store.VerifiedToken {
		out = append(out, TimedCell)
		if p.SecondsToComplete < QuickAfter {
			out = append(out, QuickCell)
		}
	}
	return out
}

// TopicsOf are the topics of r's comment (none without a lexicon).
func TopicsOf(r *store.Response, lex *survey.Lexicon) []survey.Topic {
	if lex == nil || strings.TrimSpace(r.Comment) == "" {
		return nil
	}
	return lex.Classify(r.Comment)
}

// CommentOf is r's comment as the comments panel keeps it (phone numbers
// redacted, with the response's mean score and its topics), or false when
// r has none.
func CommentOf(r *store.Response, topics []survey.Topic) (store.Comment, bool) {
	text := survey.CleanCitizenText(r.Comment) // again: a response kept before the cleaning was there
	if text == "" {
		return store.Comment{}, false
	}
	var sum, n int
	for _, a := range r.Answers {
		if a.Score >= 1 && a.Score <= 5 {
			sum += a.Score
			n++
		}
	}
	c := store.Comment{ResponseID: r.ID, Agency: r.AgencyCode, Procedure: r.ProcedureCode, Survey: r.Survey, Channel: r.Channel,
		At: r.SubmittedAt, Text: text, Topics: topics}
	if n > 0 {
		c.Score = math.Round(100*float64(sum)/float64(n)) / 100
	}
	return c, true
}

// Figure is a rate and a mean over valid answers (1–5), with the number
// of answers behind them and the rate's 95% Wilson interval.
type Figure struct {
	SatisfactionRate float64  `json:"satisfaction_rate"`
	MeanScore        float64  `json:"mean_score"`
	Answers          int64    `json:"answers"`
	Interval         Interval `json:"interval"`
}

// Interval is a 95% Wilson score interval of a rate, in percent.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Wilson is the 95% Wilson score interval of a rate (percent) measured
// over n answers; for n = 0 it is the whole range.
func Wilson(rate float64, n int64) Interval {
	lo, hi := wilsonAt(rate/100, n, z95)
	return Interval{Low: round2(100 * lo), High: round2(100 * hi)}
}

// figure rounds a rate and mean for display and adds n and the interval.
func figure(rate, mean float64, n int64) Figure {
	return Figure{SatisfactionRate: round2(rate), MeanScore: round2(mean), Answers: n, Interval: Wilson(rate, n)}
}

// Indicator is one question's figures.
type Indicator struct {
	ID        string `json:"id"`
	Criterion string `json:"criterion"`
	Figure
	Distribution map[string]int64 `json:"distribution"`
	rate, mean   float64
}

// Criterion is one criterion's figures: the mean of its indicators' (in
// the cross-form view, of its responses').
type Criterion struct {
	Code string `json:"code"`
	Figure
	Distribution map[string]int64 `json:"distribution"`
}

// Report is the index over a set of cells.
type Report struct {
	Survey    string `json:"survey"`
	Responses int64  `json:"responses"`
	// ReadByOperators counts the responses an operator read from a
	// citizen's message the gateway could not understand.
	ReadByOperators int64       `json:"read_by_operators"`
	Overall         Figure      `json:"overall"`
	Criteria        []Criterion `json:"criteria"`
	Indicators      []Indicator `json:"indicators"`
	// Topics count the comments by what they speak of, most complained
	// of first.
	Topics []TopicCount `json:"topics"`
	Integrity
}

// Integrity is how many of a report's answers raised a signal and how
// their review stands, and the index without any of them.
type Integrity struct {
	// Flagged counts the responses with a flag, whatever their review;
	// Confirmed those someone above the agency confirmed (left out of
	// the index), Cleared those found genuine, PendingReview the rest.
	Flagged       int64 `json:"flagged"`
	Confirmed     int64 `json:"confirmed"`
	Cleared       int64 `json:"cleared"`
	PendingReview int64 `json:"pending_review"`
	// ByFlag counts the flagged responses by signal (one response may
	// raise several).
	ByFlag map[string]int64 `json:"by_flag"`
	// IndexExcludingFlagged is the overall index without the flagged
	// answers not cleared (pending or confirmed).
	IndexExcludingFlagged *Figure `json:"index_excluding_flagged,omitempty"`
	// The group signals' counts (of the answers in the index): answers
	// all at the top level without a comment, web answers through the
	// link with a known creation time, and those completed within ten
	// minutes of it.
	AllTopNoComment int64 `json:"all_top_no_comment"`
	WebTimed        int64 `json:"web_timed"`
	WebQuick        int64 `json:"web_quick"`
}

// WithIntegrity computes a report with compute from cells that include
// the standing families (store.Filter.Standing): the index from every
// answer but the confirmed ones, index_excluding_flagged from those less
// the answers pending review, and the flagged counts.
func WithIntegrity(compute func(store.Cells) Report) func(store.Cells) Report {
	return func(cells store.Cells) Report {
		main := make(store.Cells, len(cells))
		fam := map[string]store.Cells{}
		for k, c := range cells {
			if _, st := store.SplitDim(k.Dim); st != "" {
				if fam[st] == nil {
					fam[st] = store.Cells{}
				}
				fam[st][k] = c
			} else {
				main[k] = c
			}
		}
		rep := compute(main)
		rep.ByFlag = map[string]int64{}
		excluding := rep.Overall
		if len(fam[store.ReviewPending]) > 0 {
			less := maps.Clone(main)
			for k, c := range fam[store.ReviewPending] {
				less.Add(k, c.Negated()) // the main family less the pending answers
			}
			excluding = compute(less).Overall
		}
		rep.IndexExcludingFlagged = &excluding
		count := func(cells store.Cells, question string) int64 {
			only := store.Cells{}
			for k, c := range cells {
				if k.Question == question {
					k.Question = store.AllQuestions
					only.Add(k, c)
				}
			}
			if len(only) == 0 {
				return 0
			}
			return compute(only).Responses // so the report's survey choice holds
		}
		rep.AllTopNoComment, rep.WebTimed, rep.WebQuick = count(main, AllTopCell), count(main, TimedCell), count(main, QuickCell)
		rep.PendingReview = count(fam[store.ReviewPending], store.AllQuestions)
		rep.Confirmed = count(fam[store.ReviewConfirmed], store.AllQuestions)
		rep.Cleared = count(fam[store.ReviewCleared], store.AllQuestions)
		rep.Flagged = rep.PendingReview + rep.Confirmed + rep.Cleared
		if rep.Flagged > 0 {
			all := store.Cells{}
			for _, cs := range fam {
				for k, c := range cs {
					all[k] = c
				}
			}
			for _, f := range store.Flags {
				if n := count(all, store.FlagCell+f); n > 0 {
					rep.ByFlag[f] = n
				}
			}
		}
		return rep
	}
}

// TopicCount is how many comments spoke of a topic, by polarity.
type TopicCount struct {
	Topic     string `json:"topic"`
	Comments  int64  `json:"comments"`
	Complaint int64  `json:"complaint"`
	Praise    int64  `json:"praise"`
	Neutral   int64  `json:"neutral"`
}

// topicCounts adds up the topic cells of the surveys keep takes.
func topicCounts(cells store.Cells, keep func(survey string) bool) []TopicCount {
	by := map[string]*TopicCount{}
	for k, c := range cells {
		rest, ok := strings.CutPrefix(k.Question, store.TopicCell)
		if !ok || !keep(k.Survey) {
			continue
		}
		id, polarity, _ := strings.Cut(rest, ":")
		t := by[id]
		if t == nil {
			t = &TopicCount{Topic: id}
			by[id] = t
		}
		t.Comments += c.Responses
		switch survey.Polarity(polarity) {
		case survey.Complaint:
			t.Complaint += c.Responses
		case survey.Praise:
			t.Praise += c.Responses
		default:
			t.Neutral += c.Responses
		}
	}
	out := make([]TopicCount, 0, len(by))
	for _, t := range by {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Complaint != out[j].Complaint {
			return out[i].Complaint > out[j].Complaint
		}
		if out[i].Comments != out[j].Comments {
			return out[i].Comments > out[j].Comments
		}
		return out[i].Topic < out[j].Topic
	})
	return out
}

// round2 rounds to two decimals for display; sums use full precision.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// indicator computes one question's figures from its level counts.
func indicator(q survey.Question, c store.Counts) Indicator {
	in := Indicator{ID: string(q.ID), Criterion: q.Criterion, Distribution: distribution(c)}
	var sum, n int64
	for level := 1; level <= 5; level++ {
		n += c.Levels[level]
		sum += int64(level) * c.Levels[level]
	}
	if n > 0 {
		in.rate = 100 * float64(c.Levels[4]+c.Levels[5]) / float64(n)
		in.mean = float64(sum) / float64(n)
	}
	in.Figure = figure(in.rate, in.mean, n)
	return in
}

func distribution(c store.Counts) map[string]int64 {
	return map[string]int64{"0": c.Levels[0], "1": c.Levels[1], "2": c.Levels[2], "3": c.Levels[3], "4": c.Levels[4], "5": c.Levels[5]}
}

// meanOf averages the rates and means of indicators that have answers:
// an indicator nobody could rate is left out rather than counted as 0.
// Its interval is taken over the mean number of answers an indicator had
// (about the respondents): the answers of one respondent to several
// indicators are not independent, so their total would overstate the
// precision.
func meanOf(ins []Indicator) Figure {
	var rate, mean float64
	var n, answers int64
	for _, in := range ins {
		if in.Answers > 0 {
			rate += in.rate
			mean += in.mean
			answers += in.Answers
			n++
		}
	}
	if n == 0 {
		return figure(0, 0, 0)
	}
	f := figure(rate/float64(n), mean/float64(n), (answers+n/2)/n)
	f.Answers = answers
	return f
}

// Compute builds the report of def from cells: indicator figures from their
// counts, each criterion the mean of its indicators, and the overall index the
// mean over all indicators (so a criterion weighs by its indicator count).
func Compute(def *survey.Survey, cells store.Cells) Report {
	byQ := map[string]store.Counts{}
	rep := Report{Survey: string(def.ID), Criteria: []Criterion{}, Indicators: []Indicator{}}
	for k, c := range cells {
		if k.Survey != string(def.ID) {
			continue
		}
		if k.Question == store.AllQuestions {
			rep.Responses += c.Responses
			continue
		}
		if k.Question == store.OperatorRead {
			rep.ReadByOperators += c.Responses
			continue
		}
		cur := byQ[k.Question]
		cur.Add(c)
		byQ[k.Question] = cur
	}
	for _, q := range def.Questions {
		rep.Indicators = append(rep.Indicators, indicator(q, byQ[string(q.ID)]))
	}
	for _, cr := range def.Criteria {
		var ins []Indicator
		var total store.Counts
		for _, in := range rep.Indicators {
			if in.Criterion == cr.Code {
				ins = append(ins, in)
				total.Add(byQ[in.ID])
			}
		}
		rep.Criteria = append(rep.Criteria, Criterion{Code: cr.Code, Figure: meanOf(ins), Distribution: distribution(total)})
	}
	rep.Overall = meanOf(rep.Indicators)
	sort.SliceStable(rep.Criteria, func(i, j int) bool { return rep.Criteria[i].Code < rep.Criteria[j].Code })
	rep.Topics = topicCounts(cells, func(s string) bool { return s == string(def.ID) })
	return rep
}

// AllForms is the survey name of the cross-form view.
const AllForms = "all"

// Forms are the surveys the cross-form view of def covers: those whose
// every criterion is one of def's (the full SIPAS form and its short form;
// not a one-question rating).
func Forms(cat *survey.Catalog, def *survey.Survey) map[string]bool {
	codes := map[string]bool{}
	for _, c := range def.Criteria {
		codes[c.Code] = true
	}
	out := map[string]bool{}
	for _, s := range cat.All() {
		ok := len(s.Criteria) > 0
		for _, c := range s.Criteria {
			ok = ok && codes[c.Code]
		}
		if ok {
			out[string(s.ID)] = true
		}
	}
	return out
}

// ComputeAll builds the cross-form view of def over the forms given, at
// criterion level: each response weighs once in each criterion it
// answered, with its share of that criterion's valid answers at 4 or 5 (a
// one-question criterion gives 0 or 1) and its mean score there. The
// overall index weighs each criterion by def's indicator count (4/5/6/3/4
// for SIPAS), as the overall mean over indicators does for one form.
// There are no indicator figures: the forms do not share indicators.
func ComputeAll(def *survey.Survey, forms map[string]bool, cells store.Cells) Report {
	rep := Report{Survey: AllForms, Criteria: []Criterion{}, Indicators: []Indicator{}}
	crit := map[string]store.Counts{}
	dist := map[string]store.Counts{}
	for k, c := range cells {
		if !forms[k.Survey] {
			continue
		}
		switch {
		case k.Question == store.AllQuestions:
			rep.Responses += c.Responses
		case k.Question == store.OperatorRead:
			rep.ReadByOperators += c.Responses
		case strings.HasPrefix(k.Question, store.CriterionCell):
			cur := crit[k.Criterion]
			cur.Add(c)
			crit[k.Criterion] = cur
		default:
			cur := dist[k.Criterion]
			cur.Add(c)
			dist[k.Criterion] = cur
		}
	}
	var rate, mean, weights float64
	var answers int64
	for _, cr := range def.Criteria {
		c := crit[cr.Code]
		out := Criterion{Code: cr.Code, Figure: figure(0, 0, 0), Distribution: distribution(dist[cr.Code])}
		if c.Responses > 0 {
			n := float64(c.Responses) * store.CriterionScale
			r, m := 100*float64(c.Satisfied)/n, float64(c.Score)/n
			out.Figure = figure(r, m, c.Responses)
			w := float64(def.NumQuestionsOf(cr.Code))
			rate += w * r
			mean += w * m
			weights += w
			answers += c.Responses
		}
		rep.Criteria = append(rep.Criteria, out)
	}
	if weights > 0 {
		rep.Overall = figure(rate/weights, mean/weights, rep.Responses)
		rep.Overall.Answers = answers
	} else {
		rep.Overall = figure(0, 0, 0)
	}
	sort.SliceStable(rep.Criteria, func(i, j int) bool { return rep.Criteria[i].Code < rep.Criteria[j].Code })
	rep.Topics = topicCounts(cells, func(s string) bool { return forms[s] })
	return rep
}

// Group is one group of a grouped report.
type Group struct {
	Group           string       `json:"group"`
	Responses       int64        `json:"responses"`
	ReadByOperators int64        `json:"read_by_operators"`
	Overall         Figure       `json:"overall"`
	Criteria        []Criterion  `json:"criteria"`
	Topics          []TopicCount `json:"topics"`
	Integrity
	// Reach is the group's invitations' reach and cost, when the report
	// is grouped by agency or month (the funnel cells have no other
	// breakdown).
	Reach *Reach `json:"reach,omitempty" doc:"with group_by=agency or month: how far this group's invitations got, and their cost"`
}

// GroupKey is how group_by=by names a cell's group: agency, month,
// channel, procedure, desk or officer; anything else is an error that
// lists them. A report is grouped by one of them at a time.
func GroupKey(by string) (func(store.CellKey) string, error) {
	switch by {
	case "agency":
		return func(k store.CellKey) string { return k.Agency }, nil
	case "month":
		return func(k store.CellKey) string { return k.Month }, nil
	case "channel":
		return func(k store.CellKey) string { return k.Channel }, nil
	case "procedure":
		return func(k store.CellKey) string {
			dim, _ := store.SplitDim(k.Dim)
			return strings.TrimPrefix(dim, "procedure:")
		}, nil
	case "desk":
		return func(k store.CellKey) string { return store.KioskDesk(k.Channel) }, nil
	case "officer":
		return func(k store.CellKey) string { return store.KioskOfficer(k.Channel) }, nil
	}
	return nil, fmt.Errorf("%q: use agency, month, channel, procedure, desk or officer", by)
}

// groupCheckEvery is how many cells Groups splits between looks at its
// context.
const groupCheckEvery = 4096

// Groups splits cells by agency, month, channel, procedure, desk or
// officer and computes each group's figures with compute (Compute of one
// form, or ComputeAll); groups without responses are left out. Desks and
// officers come from kiosk channels (kiosk.<desk>.<officer>): other
// channels' cells are in no desk or officer group. A province's cells
// run to hundreds of thousands: it stops with ctx's error once ctx ends
// (the client left).
func Groups(ctx context.Context, compute func(store.Cells) Report, cells store.Cells, by string) ([]Group, error) {
	key, err := GroupKey(by)
	if err != nil {
		return nil, err
	}
	parts := map[string]store.Cells{}
	n := 0
	for k, c := range cells {
		if n++; n%groupCheckEvery == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		g := key(k)
		if g == "" && (by == "desk" || by == "officer") {
			continue
		}
		if parts[g] == nil {
			parts[g] = store.Cells{}
		}
		parts[g].Add(k, c)
	}
	rows := make([]Group, 0, len(parts))
	for g, cs := range parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		r := compute(cs)
		if r.Responses > 0 || r.Confirmed > 0 { // a unit whose every answer was confirmed stays in view
			rows = append(rows, Group{Group: g, Responses: r.Responses, ReadByOperators: r.ReadByOperators, Overall: r.Overall, Criteria: r.Criteria, Topics: r.Topics, Integrity: r.Integrity})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Group < rows[j].Group })
	return rows, nil
}
