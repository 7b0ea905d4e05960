package survey

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
)

// Hours is the daily window messages to citizens may go out in, Vietnam
// time: from Open to Close, minutes after midnight (Close 1440: until
// midnight). WorkingDays limits it to the calendar's working days (calls).
// The zero Hours is no window at all: always open.
type Hours struct {
	Open, Close int
	WorkingDays bool
}

// ParseHours reads "HH:MM-HH:MM" (e.g. 07:00-21:00; 24:00 closes at
// midnight). The error says what is wrong with it, for a field's message.
func ParseHours(s string) (Hours, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Hours{}, fmt.Errorf("%q: write the window as HH:MM-HH:MM, e.g. 07:00-21:00", s)
	}
	open, err := clock(from)
	if err != nil {
		return Hours{}, err
	}
	close, err := clock(to)
	if err != nil {
		return Hours{}, err
	}
	if close <= open {
		return Hours{}, fmt.Errorf("%q: the window must close after it opens, on the same day (e.g. 07:00-21:00)", s)
	}
	if close-open < 60 {
		return Hours{}, fmt.Errorf("%q: keep the window open at least an hour, so what waited overnight can go out", s)
	}
	return Hours{Open: open, Close: close}, nil
}

func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh > 24 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("%q is not a time of day: write HH:MM, 00:00 to 24:00", s)
	}
	return hh*60 + mm, nil
}

// String is h as ParseHours reads it.
func (h Hours) String() string {
	if h.Close == 0 {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", h.Open/60, h.Open%60, h.Close/60, h.Close%60)
}

// always says h puts no limit on the time.
func (h Hours) always() bool {
	return h.Close == 0 || h.Open == 0 && h.Close >= 24*60 && !h.WorkingDays
}

// Contains reports whether t is inside the window (cal decides working
// days; nil: Monday to Friday).
func (h Hours) Contains(t time.Time, cal *Calendar) bool {
	if h.always() {
		return true
	}
	t = t.In(vietnam)
	if h.WorkingDays && !working(t, cal) {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	return m >= h.Open && m < h.Close
}

// Next is the window's next opening at or after t: t itself when inside.
func (h Hours) Next(t time.Time, cal *Calendar) time.Time {
	if h.Contains(t, cal) {
		return t
	}
	d := t.In(vietnam)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, vietnam)
	for i := 0; i < 400; i++ {
		open := day.Add(time.Duration(h.Open) * time.Minute)
		if (!h.WorkingDays || working(day, cal)) && !open.Before(t) {
			return open
		}
		day = day.AddDate(0, 0, 1)
	}
	return t
}

// Later is when something due at t may go: t inside the window, else the
// window's next opening plus a share of its first hour picked by key, so
// what waited overnight goes out spread over an hour (at most half the
// window) rather than all at the opening minute. The same key always
// gets the same share.
func (h Hours) Later(t time.Time, key string, cal *Calendar) time.Time {
	next := h.Next(t, cal)
	if next.Equal(t) {
		return t
	}
	return next.Add(h.share(key))
}

// NextDay is the window's first opening after t's day (Vietnam time),
// spread by key like Later: for a phone whose messages of the day are
// used up.
func (h Hours) NextDay(t time.Time, key string, cal *Calendar) time.Time {
	d := t.In(vietnam)
	midnight := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, vietnam).AddDate(0, 0, 1)
	return h.Next(midnight, cal).Add(h.share(key))
}

// share is key's offset into the window's first hour (at most half the
// window).
func (h Hours) share(key string) time.Duration {
	window := 24 * time.Hour
	if !h.always() {
		window = time.Duration(h.Close-h.Open) * time.Minute
	}
	spread := min(time.Hour, window/2)
	f := fnv.New64a()
	_, _ = f.Write([]byte(key))
	return time.Duration(f.Sum64()%uint64(spread/time.Second)) * time.Second
}

var vietnam = time.FixedZone("ICT", 7*3600)

func working(t time.Time, cal *Calendar) bool {
	if cal != nil {
		return cal.Working(t)
	}
	wd := t.In(vietnam).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}
