package report

import (
	"math"

	"github.com/sipasvn/gateway/store"
)

// Reach is how far a group's invitations got, overall and by channel
// family, and what their messages cost (docs/reports.md, Reach and cost).
type Reach struct {
	ReachFigures
	ByChannel map[string]ReachFigures `json:"by_channel" doc:"by channel family: web, sms, zalo always, kiosk, voice and others when they have figures"`
	Calls     *Calls                  `json:"calls,omitempty" doc:"the survey calls (voice channels), when there were any"`
}

// Calls are the survey calls' figures: how the calls went, what they
// cost in minutes, how many questions were answered in them, and how many
// invitations the phone completed.
type Calls struct {
	Calls          int64   `json:"calls" doc:"calls that ended: placed by the gateway (every try) or made by citizens"`
	Answered       int64   `json:"answered" doc:"picked up by a person"`
	Busy           int64   `json:"busy"`
	NoAnswer       int64   `json:"no_answer" doc:"not picked up (or cancelled)"`
	Machine        int64   `json:"machine" doc:"picked up by an answering machine: hung up at once, tried again like no answer"`
	Failed         int64   `json:"failed" doc:"could not be connected"`
	Minutes        int64   `json:"minutes" doc:"billed minutes (each call's started minutes)"`
	Answers        int64   `json:"answers" doc:"questions answered in the calls"`
	AnswersPerCall float64 `json:"answers_per_call" doc:"answers per answered call, two decimals"`
	Completed      int64   `json:"completed" doc:"invitations completed by phone"`
	CompletionRate Rate    `json:"completion_rate" doc:"completed by phone over the invitations called (sent on voice)"`
}

// callsOf are the call figures of family voice's step counts, nil when
// no call ended.
func callsOf(s map[string]int64) *Calls {
	c := &Calls{Answered: s[store.CallStep+"answered"], Busy: s[store.CallStep+"busy"], NoAnswer: s[store.CallStep+"no_answer"],
		Machine: s[store.CallStep+"machine"], Failed: s[store.CallStep+"failed"], Minutes: s[store.FunnelSpent],
		Answers: s[store.CallAnswersStep], Completed: s[store.FunnelCompleted]}
	c.Calls = c.Answered + c.Busy + c.NoAnswer + c.Machine + c.Failed
	if c.Calls == 0 {
		return nil
	}
	if c.Answered > 0 {
		c.AnswersPerCall = round2(float64(c.Answers) / float64(c.Answered))
	}
	c.CompletionRate = rateOf(c.Completed, s[store.FunnelSent])
	return c
}

// ReachFigures are one row of the reach: counts of invitations at each
// step, their rates over Base with 95% Wilson intervals, and the cost.
type ReachFigures struct {
	Base                   string     `json:"base" doc:"what the rates are over: invited, or sent on the channels that send (sms, zalo, voice)"`
	Invited                int64      `json:"invited" doc:"overall: invitations made; web: every invitation (each carries the link and QR code); sms, zalo, voice: those asked to go out on it; kiosk and others: those put before the citizen on it"`
	Sent                   int64      `json:"sent" doc:"overall: sent on at least one channel; web: every invitation; sms, zalo, voice: sent or delivered on it; kiosk: asked on a desk's kiosk"`
	Reminded               int64      `json:"reminded" doc:"whose one reminder went out (on this channel)"`
	Opened                 *int64     `json:"opened" nullable:"true" doc:"opened: the survey page seen (web) or the chat opened (zalo); overall on either; null where the gateway cannot see it (sms, kiosk, voice)"`
	Started                int64      `json:"started" doc:"with a first answer saved (on this channel), or completed"`
	Completed              int64      `json:"completed" doc:"completed (on this channel)"`
	CompletedAfterReminder int64      `json:"completed_after_reminder" doc:"of completed, those whose reminder went out before the answer"`
	Rates                  ReachRates `json:"rates"`
	Units                  int64      `json:"units,omitempty" doc:"what was paid for on this channel: SMS parts, Zalo template (ZNS) messages, call minutes"`
	Cost                   *int64     `json:"cost" nullable:"true" doc:"đồng: units times the channel's price (GATEWAY_PRICES); 0 where nothing is paid (web, kiosk); null without prices, or with a channel's price missing"`
	CostPerAnswer          *int64     `json:"cost_per_answer" nullable:"true" doc:"đồng, rounded: cost over completed (overall: total cost over all completed); null without a cost or without completions"`
}

// ReachRates are the reach's steps over its base, in percent (sent is
// always over invited: how many of those asked for went out).
type ReachRates struct {
	Sent                   Rate  `json:"sent"`
	Reminded               Rate  `json:"reminded"`
	Opened                 *Rate `json:"opened" nullable:"true"`
	Started                Rate  `json:"started"`
	Completed              Rate  `json:"completed"`
	CompletedAfterReminder Rate  `json:"completed_after_reminder"`
}

// Rate is a share in percent with its 95% Wilson interval.
type Rate struct {
	Rate     float64  `json:"rate"`
	Interval Interval `json:"interval"`
}

// A step above its base (the base's events lost with a Redis that kept
// nothing, the embedded default's, while the answers were kept) makes the
// base that step: a rate never passes 100%, nor its interval.
func rateOf(part, whole int64) Rate {
	whole = max(whole, part)
	r := 0.0
	if whole > 0 {
		r = 100 * float64(part) / float64(whole)
	}
	return Rate{Rate: round2(r), Interval: Wilson(r, whole)}
}

// sendingFamilies send the invitation themselves: their rates are over
// those sent, and what they send is paid for.
var sendingFamilies = map[string]bool{"sms": true, "zalo": true, "voice": true}

// seenOpened are the families where the gateway sees an invitation opened.
var seenOpened = map[string]bool{"web": true, "zalo": true}

// ReachOf computes the reach of the invitations in cells (the funnel
// cells: see store.FunnelSurveyOf) whose survey keep takes, and, with
// cases, the spends of the follow-up cases' answers that have no
// invitation (feedback cases). prices are đồng per unit by family
// (config's GATEWAY_PRICES); none: no cost figures. It is nil when cells
// hold no invitation.
func ReachOf(cells store.Cells, keep func(survey string) bool, cases bool, prices map[string]int64) *Reach {
	steps := map[string]map[string]int64{} // family (AnyChannel: on any) → step → count
	add := func(family, step string, n int64) {
		if steps[family] == nil {
			steps[family] = map[string]int64{}
		}
		steps[family][step] += n
	}
	for k, c := range cells {
		if s, ok := store.InvitedSurvey(k.Survey); ok && keep(s) {
			add(k.Channel, k.Question, c.Responses)
		} else if cases && k.Survey == store.FunnelSurvey && k.Question == store.FunnelSpent {
			add(k.Channel, k.Question, c.Responses)
		}
	}
	created := steps[store.AnyChannel][store.FunnelCreated]
	if created == 0 && len(steps) == 0 {
		return nil
	}
	out := &Reach{ByChannel: map[string]ReachFigures{}}
	for _, f := range []string{"web", "sms", "zalo"} {
		if steps[f] == nil {
			steps[f] = map[string]int64{}
		}
	}
	for f, s := range steps {
		if f != store.AnyChannel {
			out.ByChannel[f] = familyReach(f, s, created, prices)
		}
	}
	out.ReachFigures = overallReach(steps, created, out.ByChannel, prices)
	out.Calls = callsOf(steps["voice"])
	return out
}

// familyReach is the row of family f from its step counts.
func familyReach(f string, s map[string]int64, created int64, prices map[string]int64) ReachFigures {
	r := ReachFigures{Base: "invited", Reminded: s[store.FunnelReminded], Started: s[store.FunnelStarted], Completed: s[store.FunnelCompleted],
		CompletedAfterReminder: s[store.FunnelAfterReminder], Units: s[store.FunnelSpent]}
	switch {
	case f == "web":
		r.Invited, r.Sent = created, created
	case sendingFamilies[f]:
		r.Invited, r.Sent, r.Base = max(s[store.FunnelQueued], s[store.FunnelSent]), s[store.FunnelSent], "sent"
	default:
		r.Invited, r.Sent = max(s[store.FunnelQueued], s[store.FunnelSent]), s[store.FunnelSent]
	}
	if seenOpened[f] {
		n := s[store.FunnelOpened]
		r.Opened = &n
	}
	if len(prices) > 0 {
		if p, ok := prices[f]; ok || r.Units == 0 {
			c := r.Units * p
			r.Cost = &c
		}
	}
	r.rate()
	return r
}

// overallReach is the overall row: invitations made, sent and opened on
// any channel (each counted once), the rest summed over the families
// (one start and one reminder an invitation), the cost summed (unknown
// when one family's is).
func overallReach(steps map[string]map[string]int64, created int64, fams map[string]ReachFigures, prices map[string]int64) ReachFigures {
	anyCh := steps[store.AnyChannel]
	opened := anyCh[store.FunnelOpened]
	r := ReachFigures{Base: "invited", Invited: created, Sent: anyCh[store.FunnelSent], Opened: &opened,
		Started: anyCh[store.FunnelStarted], Completed: anyCh[store.FunnelCompleted], CompletedAfterReminder: anyCh[store.FunnelAfterReminder]}
	known := len(prices) > 0
	var cost int64
	for _, f := range fams {
		r.Reminded += f.Reminded
		r.Started += f.Started
		r.Completed += f.Completed
		r.CompletedAfterReminder += f.CompletedAfterReminder
		if f.Cost == nil {
			known = false
		} else {
			cost += *f.Cost
		}
	}
	if known {
		r.Cost = &cost
	}
	r.rate()
	return r
}

// rate fills in the rates and the cost per answer from the counts.
func (r *ReachFigures) rate() {
	base := r.Invited
	if r.Base == "sent" {
		base = r.Sent
	}
	r.Rates = ReachRates{Sent: rateOf(r.Sent, r.Invited), Reminded: rateOf(r.Reminded, base), Started: rateOf(r.Started, base),
		Completed: rateOf(r.Completed, base), CompletedAfterReminder: rateOf(r.CompletedAfterReminder, base)}
	if r.Opened != nil {
		o := rateOf(*r.Opened, base)
		r.Rates.Opened = &o
	}
	if r.Cost != nil && r.Completed > 0 {
		per := int64(math.Round(float64(*r.Cost) / float64(r.Completed)))
		r.CostPerAnswer = &per
	}
}
