package core

import (
	"cmp"
	"math"
	"time"

	"github.com/sipasvn/gateway/store"
)

// provenance is how r came, from what the channel told (c) and the
// session: how its respondent was tied to the dossier, the seconds from
// the invitation's creation (a kiosk: the presentation) to the first view
// and to the completion, the answering time where the channel has one,
// and for the web keyed hashes of the client's address and device.
func (s *Service) provenance(ss *Session, c Completion, now time.Time) *store.Provenance {
	inv := ss.Invitation
	start := inv.CreatedAt
	if !c.Start.IsZero() {
		start = c.Start
	}
	p := &store.Provenance{VerifiedBy: c.VerifiedBy, SecondsToComplete: seconds(now.Sub(start)), By: cmp.Or(c.EnteredBy, c.ScannedBy)}
	if !ss.FirstView.IsZero() {
		v := seconds(ss.FirstView.Sub(start))
		p.SecondsToFirstView = &v
	}
	if from := answeringFrom(ss, c); !from.IsZero() {
		a := seconds(now.Sub(from))
		p.SecondsAnswering = &a
	}
	if addr, ok := clientAddr(c.Address); ok {
		p.Address = s.addressHash(addr)
	}
	if c.Device != "" {
		p.Device = s.Sealer.Hash("device:" + c.Device)
	}
	return p
}

// answeringFrom is when the citizen began answering: what the channel
// says, or for the web the first view of the page or the first step
// saved, whichever came first. Zero where the channel has no answering
// time: an SMS that carries every score at once, an operator's entry.
func answeringFrom(ss *Session, c Completion) time.Time {
	if !c.Answering.IsZero() || c.VerifiedBy != store.VerifiedToken {
		return c.Answering
	}
	from := ss.FirstView // the earlier, should Redis have lost the view
	if at := ss.Invitation.StartedAt; at != nil && (from.IsZero() || at.Before(from)) {
		from = *at
	}
	return from
}

// seconds is d in seconds to the millisecond, never negative (clocks of
// two replicas may disagree by a little).
func seconds(d time.Duration) float64 {
	return math.Round(max(d, 0).Seconds()*1000) / 1000
}
