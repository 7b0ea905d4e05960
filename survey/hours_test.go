package survey

import (
	"strings"
	"testing"
	"time"
)

func vn(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, vietnam)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseHours(t *testing.T) {
	h, err := ParseHours("07:00-21:00")
	if err != nil || h.Open != 420 || h.Close != 1260 || h.String() != "07:00-21:00" {
		t.Fatalf("07:00-21:00: %+v %v", h, err)
	}
	if h, err := ParseHours(" 00:00-24:00 "); err != nil || h.Close != 1440 {
		t.Fatalf("00:00-24:00: %+v %v", h, err)
	}
	for in, want := range map[string]string{
		"7-21":        "not a time of day",
		"0700-2100":   "write HH:MM",
		"21:00-07:00": "close after it opens",
		"07:00-07:30": "at least an hour",
		"07:60-21:00": "not a time of day",
		"24:30-25:00": "not a time of day",
		"":            "HH:MM-HH:MM",
	} {
		if _, err := ParseHours(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
}

func TestHoursWindow(t *testing.T) {
	send, _ := ParseHours("07:00-21:00")
	cases := []struct{ at, next string }{
		{"2026-12-07 22:30", "2026-12-08 07:00"}, // late evening: tomorrow's opening
		{"2026-12-07 03:10", "2026-12-07 07:00"}, // night: this morning's
		{"2026-12-07 07:00", "2026-12-07 07:00"}, // opening minute is inside
		{"2026-12-07 20:59", "2026-12-07 20:59"},
		{"2026-12-07 21:00", "2026-12-08 07:00"}, // closing minute is outside
	}
	for _, c := range cases {
		if got := send.Next(vn(c.at), nil); !got.Equal(vn(c.next)) {
			t.Errorf("send hours, %s: next %s, want %s", c.at, got.In(vietnam), c.next)
		}
	}
	cal, err := NewCalendar("2026-12-14")
	if err != nil {
		t.Fatal(err)
	}
	call, _ := ParseHours("08:00-17:00")
	call.WorkingDays = true
	for _, c := range []struct{ at, next string }{
		{"2026-12-11 17:30", "2026-12-15 08:00"}, // Friday evening, a Monday off: Tuesday
		{"2026-12-12 10:00", "2026-12-15 08:00"}, // Saturday
		{"2026-12-10 09:00", "2026-12-10 09:00"},
		{"2026-12-31 18:00", "2027-01-04 08:00"}, // New Year's Day off, then the weekend
	} {
		if got := call.Next(vn(c.at), cal); !got.Equal(vn(c.next)) {
			t.Errorf("call hours, %s: next %s, want %s", c.at, got.In(vietnam), c.next)
		}
	}
	if !(Hours{}).Contains(vn("2026-12-07 03:00"), nil) {
		t.Error("the zero Hours must be always open")
	}
}

func TestHoursSpreadWhatWaited(t *testing.T) {
	send, _ := ParseHours("07:00-21:00")
	night := vn("2026-12-07 23:00")
	open := vn("2026-12-08 07:00")
	seen := map[time.Duration]bool{}
	for i := range 200 {
		key := "inv" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		at := send.Later(night, key, nil)
		if at.Before(open) || !at.Before(open.Add(time.Hour)) {
			t.Fatalf("%s goes at %s, outside the first hour after 07:00", key, at.In(vietnam))
		}
		if !send.Later(night, key, nil).Equal(at) {
			t.Fatal("the same key must get the same time")
		}
		seen[at.Sub(open)/time.Minute] = true
	}
	if len(seen) < 30 {
		t.Errorf("200 jobs fell in only %d distinct minutes: not spread", len(seen))
	}
	if in := vn("2026-12-07 10:00"); !send.Later(in, "x", nil).Equal(in) {
		t.Error("inside the window a job goes at once")
	}
	next := send.NextDay(vn("2026-12-07 10:00"), "x", nil)
	if next.Before(vn("2026-12-08 07:00")) || !next.Before(vn("2026-12-08 08:00")) {
		t.Errorf("next day's window: %s", next.In(vietnam))
	}
	short, _ := ParseHours("08:00-09:00")
	if at := short.Later(night, "y", nil); !at.Before(vn("2026-12-08 08:30")) {
		t.Errorf("an hour's window spreads over its first half: %s", at.In(vietnam))
	}
}
