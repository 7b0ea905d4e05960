package generic_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/survey"
)

// citizen is one simulated citizen: when (after the text) they would
// answer of their own accord, if ever, and whether and how soon a
// reminder would move them.
type citizen struct {
	phone     string
	own       time.Duration // after the invitation's text; 0: never
	moved     bool          // answers after a reminder (if not done by then)
	movedWait time.Duration // after the reminder
	created   time.Duration // after the simulation's start
}

// The behaviour is assumed, not measured (no province's data is at hand):
// 30% answer the text on their own, most within hours (log-normal, median
// 90 minutes), 5% days later; of those still silent at the reminder, 18%
// answer it (median an hour). Published SMS and web surveys find a
// reminder adds about a third to the responses; these figures give that.
func citizens(n int, seed uint64) []citizen {
	r := rand.New(rand.NewPCG(seed, 1))
	lognormal := func(median time.Duration, sigma float64) time.Duration {
		return time.Duration(float64(median) * math.Exp(sigma*r.NormFloat64()))
	}
	out := make([]citizen, n)
	for i := range out {
		c := citizen{phone: fmt.Sprintf("09%08d", 10_000_000+i), created: time.Duration(r.IntN(9*60)) * time.Minute}
		switch u := r.Float64(); {
		case u < 0.30:
			c.own = min(lognormal(90*time.Minute, 1.2), 20*time.Hour) + time.Minute
		case u < 0.35:
			c.own = 24*time.Hour + time.Duration(r.IntN(4*24*60))*time.Minute
		}
		c.moved = r.Float64() < 0.18
		c.movedWait = min(lognormal(time.Hour, 1.0), 48*time.Hour) + time.Minute
		out[i] = c
	}
	return out
}

// simulated is what one run of the simulation counted itself and read
// from the report.
type simulated struct {
	completed, afterReminder, reminded int
	units                              int64 // SMS parts sent and replied
	report                             map[string]any
}

// simulate runs the citizens through a gateway with the reminder after
// reminder (0: none), on a clock moved in 15-minute steps over 10 days:
// each step delivers the answers due, then runs a send pass.
func simulate(t *testing.T, people []citizen, reminder time.Duration) simulated {
	g, fake, c := reachSetup(t, "2026-12-08 08:00", func(cfg *config.Config) {
		cfg.ReminderAfter, cfg.Prices = reminder, "sms_part=850,zns=300,call_minute=1500"
	})
	start := c.Now()
	type state struct {
		id, token      string
		sentAt, remAt  time.Time
		answerAt       time.Time
		done, reminded bool
	}
	st := make([]state, len(people))
	var out simulated
	parts := func(text string) int64 { _, p := survey.SMSParts(text); return int64(p) }
	seen := 0 // provider requests read so far
	step := 15 * time.Minute
	for now := start; now.Before(start.Add(10 * 24 * time.Hour)); now = now.Add(step) {
		c.ms.Store(now.UnixMilli())
		for i, p := range people {
			s := &st[i]
			if s.id == "" && !start.Add(p.created).After(now) {
				inv := g.Invite(fmt.Sprintf("SIM-%04d", i), "000.00.12.H49", map[string]any{"phone": p.phone, "send": []string{"sms"}})
				s.id, s.token = inv["id"].(string), gwtest.Token(inv)
			}
			if s.done || s.answerAt.IsZero() || s.answerAt.After(now) {
				continue
			}
			for _, r := range replies(t, g, text(p.phone, "sim-"+s.id, "5 4 5 4 4")) {
				out.units += parts(r)
			}
			s.done = true
			out.completed++
			if s.reminded {
				out.afterReminder++
			}
		}
		drain(t, g)
		reqs := fake.Requests()
		for _, r := range reqs[seen:] {
			var m struct{ To, Text string }
			_ = json.Unmarshal([]byte(r.Body), &m)
			out.units += parts(m.Text)
			i := phoneIndex(people, m.To)
			s, p := &st[i], people[i]
			switch {
			case strings.HasPrefix(m.Text, "Nhac lai"):
				if s.done {
					t.Fatalf("%s was reminded after answering", p.phone)
				}
				s.reminded = true
				out.reminded++
				if p.moved && (s.answerAt.IsZero() || s.answerAt.After(now.Add(p.movedWait))) {
					s.answerAt = now.Add(p.movedWait)
				}
			default:
				s.sentAt = now
				if p.own > 0 {
					s.answerAt = now.Add(p.own)
				}
			}
		}
		seen = len(reqs)
		if now.Minute() == 0 {
			g.Drain() // the workers run all along: the message log and the roll-ups stay small
		}
	}
	g.Drain()
	g.Drain() // the spends the message log noted in the first
	_, out.report = g.API("GET", "/api/v1/reports/sipas?survey=all&from=2026-12&to=2026-12", nil)
	return out
}

func phoneIndex(people []citizen, to string) int {
	for i, p := range people {
		if "84"+p.phone[1:] == to {
			return i
		}
	}
	panic("a text to no simulated citizen: " + to)
}

// The reminder simulation: the same citizens with and without the one
// reminder. It prints the completion rates and the cost per answer, and
// checks the report counts exactly what the simulation saw: the reminders
// sent, the answers after them, and every SMS part at its price.
func TestReminderSimulation(t *testing.T) {
	people := citizens(300, 31)
	without := simulate(t, people, 0)
	with := simulate(t, people, 24*time.Hour)
	if without.reminded != 0 || with.reminded == 0 {
		t.Fatalf("reminders sent: %d without, %d with", without.reminded, with.reminded)
	}
	for _, run := range []struct {
		name string
		s    simulated
	}{{"without", without}, {"with", with}} {
		reach := run.s.report["reach"].(map[string]any)
		sms := reach["by_channel"].(map[string]any)["sms"].(map[string]any)
		if got := reach["completed"]; got != float64(run.s.completed) {
			t.Errorf("%s reminder: report completed %v, the simulation %d", run.name, got, run.s.completed)
		}
		if sms["reminded"] != float64(run.s.reminded) || reach["completed_after_reminder"] != float64(run.s.afterReminder) {
			t.Errorf("%s reminder: report reminded %v and completed after it %v; the simulation %d and %d",
				run.name, sms["reminded"], reach["completed_after_reminder"], run.s.reminded, run.s.afterReminder)
		}
		if sms["units"] != float64(run.s.units) || sms["cost"] != float64(850*run.s.units) {
			t.Errorf("%s reminder: report %v parts costing %v, the simulation %d parts", run.name, sms["units"], sms["cost"], run.s.units)
		}
		t.Logf("%s reminder: %d of %d completed (%.1f%%), %d after the reminder; %d SMS parts, %v đồng, %v đồng an answer",
			run.name, run.s.completed, len(people), 100*float64(run.s.completed)/float64(len(people)), run.s.afterReminder,
			run.s.units, sms["cost"], reach["cost_per_answer"])
	}
	if with.completed <= without.completed {
		t.Errorf("with the reminder %d completed, without %d", with.completed, without.completed)
	}
}
