package core

import (
	"fmt"
	"time"

	"github.com/sipasvn/gateway/store"
)

// DefaultMaxMonths is the widest period one request covers when the
// service is given none (GATEWAY_MAX_MONTHS).
const DefaultMaxMonths = 24

// MonthLimit is the widest period one request may cover.
func (s *Service) MonthLimit() int {
	if s.MaxMonths > 0 {
		return s.MaxMonths
	}
	return DefaultMaxMonths
}

// CheckPeriod refuses a period of months from..to (YYYY-MM, inclusive)
// longer than MaxMonths, with a 400 naming from (or to, when it is the
// end in the future that makes it long) and the nearest month that would
// do. Every operator request that takes a period (reports in every
// format, exports, comments, cases, the console's pages) goes through it,
// so none reads more months than the setting allows however the dates
// are typed. An empty to is the current month (Vietnam time). A period
// without from is the whole history, which the reports and exports take
// by default: it costs what the data holds, not what a client writes.
// A to before from is the caller's to refuse.
func (s *Service) CheckPeriod(from, to string) error {
	return checkPeriod(from, to, s.now(), s.MonthLimit())
}

func checkPeriod(from, to string, now time.Time, limit int) error {
	if from == "" {
		return nil
	}
	f, ok := monthNumber(from)
	if !ok {
		return Errorf(Invalid, "from", "%q: write the month as YYYY-MM", from)
	}
	current, _ := monthNumber(store.MonthOf(now))
	end, endName := current, "now ("+store.MonthOf(now)+")"
	if to != "" {
		if end, ok = monthNumber(to); !ok {
			return Errorf(Invalid, "to", "%q: write the month as YYYY-MM", to)
		}
		endName = to
	}
	span := end - f + 1
	if span <= limit {
		return nil
	}
	if end > current && min(end, current)-f+1 <= limit {
		return Errorf(Invalid, "to", "from %s to %s is %d months; one request covers at most %d (GATEWAY_MAX_MONTHS): set to to %s or earlier, or ask for the period in parts",
			from, endName, span, limit, monthName(f+limit-1))
	}
	return Errorf(Invalid, "from", "from %s to %s is %d months; one request covers at most %d (GATEWAY_MAX_MONTHS): set from to %s or later, or ask for the period in parts",
		from, endName, span, limit, monthName(end-limit+1))
}

// monthNumber counts months from year 0 (YYYY-MM → 12·YYYY + MM − 1).
func monthNumber(m string) (int, bool) {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return 0, false
	}
	return t.Year()*12 + int(t.Month()) - 1, true
}

func monthName(n int) string { return fmt.Sprintf("%04d-%02d", n/12, n%12+1) }
