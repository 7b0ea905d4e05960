package survey

import (
	"testing"
	"time"
)

func TestDueCountsWorkingDays(t *testing.T) {
	c, err := NewCalendar("2026-12-24")
	if err != nil {
		t.Fatal(err)
	}
	vn := time.FixedZone("ICT", 7*3600)
	for _, tc := range []struct{ from, want string }{
		{"2026-11-23 10:00", "2026-11-30"}, // Monday → next Monday
		{"2026-11-27 16:00", "2026-12-04"}, // Friday → next Friday
		{"2026-11-28 09:00", "2026-12-04"}, // Saturday counts from Monday
		{"2026-12-21 09:00", "2026-12-29"}, // a province's own holiday on the 24th
		{"2026-02-12 09:00", "2026-02-26"}, // across Tết 2026 (16–20 Feb)
		{"2026-04-24 09:00", "2026-05-06"}, // Hùng Kings (27 Apr), 30 Apr and 1 May
	} {
		from, _ := time.ParseInLocation("2006-01-02 15:04", tc.from, vn)
		got := c.Due(from, 5).In(vn)
		if got.Format(time.DateOnly) != tc.want || got.Hour() != 23 {
			t.Errorf("5 working days from %s: %s, want the end of %s", tc.from, got, tc.want)
		}
	}
	if _, err := NewCalendar("24/12/2026"); err == nil {
		t.Error("a holiday written otherwise than YYYY-MM-DD was taken")
	}
}
