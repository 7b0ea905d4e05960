package web

import (
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// A queue row says how the answer came in words, when in Vietnam time,
// and offers the review only above the rated agency.
func TestFlaggedRow(t *testing.T) {
	cs := &console{api: &server.API{Zone: time.FixedZone("ICT", 7*3600)}}
	view, answering := 12.4, 83.2
	r := &store.Response{ID: "r1", DossierCode: "H49-1", AgencyCode: "000.01.12.H49", Channel: "web", SubmittedAt: time.Date(2026, 3, 4, 17, 5, 0, 0, time.UTC),
		Answers:    []store.Answer{{Question: "A", Score: 5}, {Question: "B", Score: 4}},
		Provenance: &store.Provenance{VerifiedBy: store.VerifiedToken, SecondsToFirstView: &view, SecondsToComplete: 95.6, SecondsAnswering: &answering},
		Flags:      []string{store.FlagOfficeNetwork, "future_signal"},
		Review: &store.Review{Status: store.ReviewCleared, History: []store.ReviewEvent{
			{At: time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC), By: "k1 (Sở Tư pháp)", Action: "clear", Note: "công dân gọi lại xác nhận"}}}}
	name := func(code string) string { return "Phòng Hộ tịch" }
	for _, c := range []struct {
		lang       string
		p          core.Principal
		can, own   bool
		provenance string
		history    string
	}{
		{"vi", core.Principal{Role: core.RoleAgency, Agency: "000.00.12.H49"}, true, false,
			"Mã QR hoặc đường dẫn; mở sau 12 giây · xong sau 96 giây, trả lời trong 83 giây", "05/03/2026 08:00 · Bỏ cờ · k1 (Sở Tư pháp): công dân gọi lại xác nhận"},
		{"vi", core.Principal{Role: core.RoleAgency, Agency: "000.01.12.H49"}, false, true, "", ""},
		{"vi", core.Principal{Role: core.RoleAdmin}, true, false, "", ""},
		{"en", core.Principal{Role: core.RoleViewer}, false, false, "QR code or survey link; opened after 12 s · completed after 96 s, answering for 83 s", ""},
	} {
		row := cs.flaggedRow(c.lang, &c.p, r, name)
		if row.CanReview != c.can || row.Own != c.own {
			t.Errorf("%+v: can review %v, own %v", c.p, row.CanReview, row.Own)
		}
		if got := row.VerifiedBy + "; " + row.Seconds; c.provenance != "" && got != c.provenance {
			t.Errorf("%s provenance %q, want %q", c.lang, got, c.provenance)
		}
		if h := row.History[0]; c.history != "" && h.At+" · "+h.Action+" · "+h.By+": "+h.Note != c.history {
			t.Errorf("history %+v", h)
		}
		if row.At != "05/03/2026 00:05" || row.Answers != "A5 B4" || len(row.Flags) != 2 || row.Flags[1].Name != "future_signal" {
			t.Errorf("row %+v", row)
		}
		if c.lang == "vi" && (row.Status != "Đã bỏ cờ" || !strings.HasPrefix(row.Flags[0].Why, "Gửi từ mạng nội bộ của cơ quan")) {
			t.Errorf("row %+v", row)
		}
	}
}
