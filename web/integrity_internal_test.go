package web

import (
	"testing"

	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
)

// A unit's row: its share flagged of every answer it received (the
// confirmed ones too), its signals by name, and its quick answers judged
// against the province's, raised only from 30 timed answers.
func TestUnitRow(t *testing.T) {
	province := report.Integrity{WebTimed: 1000, WebQuick: 100}
	g := report.Group{Group: "000.01.12.H49", Responses: 38, Integrity: report.Integrity{Flagged: 4, Confirmed: 2, PendingReview: 2,
		ByFlag: map[string]int64{store.FlagSpeeder: 3, store.FlagOfficeNetwork: 1}, WebTimed: 30, WebQuick: 12}}
	u := unitOf("vi", g, "Phòng Hộ tịch", province, 1, 1)
	if u.Answers != 40 || u.FlaggedShare != 10 || u.PaperShare != 100.0/38 || len(u.ByFlag) != 2 ||
		u.ByFlag[0].Name != "Mạng nội bộ cơ quan" || u.ByFlag[1].Link != "/console/flagged?agency=000.01.12.H49&flag=speeder&status=" {
		t.Fatalf("row %+v", u)
	}
	if !u.Quick.Raised || u.Quick.Share != 40 || u.Quick.Expected != 10 || u.Raised != 2 {
		t.Fatalf("12 of 30 quick against 10%%: %+v, %d raised", u.Quick, u.Raised)
	}
	g.WebTimed, g.WebQuick = 29, 29
	if u := unitOf("vi", g, "", province, 0, 0); u.Quick.Raised || u.Raised != 0 {
		t.Fatalf("29 timed answers are too few: %+v", u.Quick)
	}
}
