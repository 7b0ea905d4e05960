package web

import (
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/survey"
)

// verdictLabels say an effect's verdict (report.Measure) in words.
var verdictLabels = map[string]string{
	report.Improved:      "Đã cải thiện",
	report.NoClearChange: "Chưa thấy thay đổi rõ",
	report.Worse:         "Kém đi",
	report.TooFew:        "Chưa đủ phiếu để kết luận",
}

// effectView is a plan's effect as its page shows it.
type effectView struct {
	Verdict, VerdictCode, Before, After, Level string
	Days                                       int
	Rows                                       []effectRow
}

// effectRow is one target's before and after.
type effectRow struct {
	Name, Before, After, Change, Interval, Verdict, VerdictCode string
}

// effectOf writes e for the page in lang; nil for none.
func effectOf(a *server.API, lang string, e *report.Effect) *effectView {
	if e == nil {
		return nil
	}
	v := &effectView{Verdict: translate(lang, verdictLabels[e.Verdict]), VerdictCode: e.Verdict, Days: e.Days, Level: locale.Percent(lang, 100*e.Level, 1)}
	if e.Days > 0 {
		v.Before = dayOf(lang, e.Before.From) + " – " + dayOf(lang, e.Before.To)
		v.After = dayOf(lang, e.After.From) + " – " + dayOf(lang, e.After.To)
	}
	share := func(s report.Share) string {
		if s.Whole == 0 {
			return "—"
		}
		return locale.Percent(lang, s.Rate, 1) + " (" + locale.Int(lang, s.Part) + "/" + locale.Int(lang, s.Whole) + ")"
	}
	for _, t := range e.Targets {
		r := effectRow{Before: share(t.Before), After: share(t.After), VerdictCode: t.Verdict, Verdict: translate(lang, verdictLabels[t.Verdict])}
		if t.Kind == report.TargetTopic {
			r.Name = translate(lang, "Phàn nàn về: %s", topicName(a, lang, t.ID))
		} else {
			r.Name = criterionName(a.Core.Surveys, lang, string(survey.SIPAS), t.ID)
		}
		if t.Verdict != report.TooFew {
			r.Change = translate(lang, "%s điểm", locale.Signed(lang, t.Change, 1))
			r.Interval = translate(lang, "%s đến %s", locale.Signed(lang, t.Interval.Low, 1), locale.Signed(lang, t.Interval.High, 1))
		}
		v.Rows = append(v.Rows, r)
	}
	return v
}
