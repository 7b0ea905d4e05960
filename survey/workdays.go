package survey

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"time"
)

//go:embed holidays/vn.json
var holidaysJSON []byte

// Calendar counts working days at a Vietnamese one-stop desk: Monday to
// Friday, less public holidays (holidays/vn.json, plus a province's own).
type Calendar struct {
	off map[string]bool // YYYY-MM-DD
	loc *time.Location
}

// NewCalendar is the built-in holiday list plus extra days (YYYY-MM-DD),
// counted in Vietnam time.
func NewCalendar(extra ...string) (*Calendar, error) {
	var f struct {
		Days []string `json:"days"`
	}
	if err := json.Unmarshal(holidaysJSON, &f); err != nil {
		return nil, err
	}
	c := &Calendar{off: map[string]bool{}, loc: time.FixedZone("ICT", 7*3600)}
	for _, d := range append(f.Days, extra...) {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("holiday %q: write it as YYYY-MM-DD", d)
		}
		c.off[d] = true
	}
	return c, nil
}

// Working reports whether t's day (Vietnam time) is a working day.
func (c *Calendar) Working(t time.Time) bool {
	t = t.In(c.loc)
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.off[t.Format(time.DateOnly)]
}

// Between is the number of working days from from's day to to's day:
// 0 the same day, 1 the next working day, and so on.
func (c *Calendar) Between(from, to time.Time) int {
	d := from.In(c.loc)
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc)
	end := to.In(c.loc)
	end = time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, c.loc)
	n := 0
	for d.Before(end) && n < 400 {
		d = d.AddDate(0, 0, 1)
		if c.Working(d) {
			n++
		}
	}
	return n
}

// Due is the end (23:59:59, Vietnam time) of the n-th working day after
// from's day: opened on Monday with n = 5, due at the end of next Monday.
func (c *Calendar) Due(from time.Time, n int) time.Time {
	d := from.In(c.loc)
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.loc)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if c.Working(d) {
			n--
		}
	}
	return d.Add(24*time.Hour - time.Second).UTC()
}
