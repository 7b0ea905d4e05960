package web

import (
	"slices"
	"sort"

	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/report"
)

// reachTable is the dashboard's funnel: a row overall and one a channel
// family, each step's count with its share of the row's base, and the
// cost per answer when prices are set.
type reachTable struct {
	Rows     []reachRow
	ShowCost bool
}

// reachRow is one row of the funnel, every figure written the page's way.
type reachRow struct {
	Key, Name, CostPerAnswer string
	Cells                    []reachCell
}

// reachCell is one step: its count and, but for invited, its share.
type reachCell struct{ Count, Share string }

// familyOrder is the order of the funnel's rows after the overall one;
// other families follow by name.
var familyOrder = []string{"web", "sms", "zalo", "kiosk", "voice"}

func reachTableOf(lang string, r *report.Reach) *reachTable {
	if r == nil || r.Invited == 0 {
		return nil
	}
	fams := make([]string, 0, len(r.ByChannel))
	for f := range r.ByChannel {
		fams = append(fams, f)
	}
	rank := func(f string) int {
		if i := slices.Index(familyOrder, f); i >= 0 {
			return i
		}
		return len(familyOrder)
	}
	sort.Slice(fams, func(i, j int) bool {
		if rank(fams[i]) != rank(fams[j]) {
			return rank(fams[i]) < rank(fams[j])
		}
		return fams[i] < fams[j]
	})
	t := &reachTable{ShowCost: r.Cost != nil}
	t.Rows = append(t.Rows, reachRowOf(lang, "all", translate(lang, "Mọi kênh"), r.ReachFigures))
	for _, f := range fams {
		if fig := r.ByChannel[f]; fig.Invited > 0 || fig.Completed > 0 {
			t.Rows = append(t.Rows, reachRowOf(lang, f, channelWords(lang, f), fig))
		}
		t.ShowCost = t.ShowCost || r.ByChannel[f].Cost != nil
	}
	return t
}

func reachRowOf(lang, key, name string, f report.ReachFigures) reachRow {
	cell := func(n int64, r report.Rate) reachCell {
		return reachCell{Count: locale.Int(lang, n), Share: locale.Percent(lang, r.Rate, 1)}
	}
	row := reachRow{Key: key, Name: name, CostPerAnswer: "—", Cells: []reachCell{{Count: locale.Int(lang, f.Invited)}, cell(f.Sent, f.Rates.Sent),
		cell(f.Reminded, f.Rates.Reminded), {Count: "—"}, cell(f.Started, f.Rates.Started), cell(f.Completed, f.Rates.Completed),
		cell(f.CompletedAfterReminder, f.Rates.CompletedAfterReminder)}}
	if f.Opened != nil && f.Rates.Opened != nil {
		row.Cells[3] = cell(*f.Opened, *f.Rates.Opened)
	}
	if f.CostPerAnswer != nil {
		row.CostPerAnswer = translate(lang, "%s đ", locale.Int(lang, *f.CostPerAnswer))
	}
	return row
}
