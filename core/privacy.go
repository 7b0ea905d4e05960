package core

import (
	"context"
	"log/slog"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Erase carries out a citizen's request to erase their personal data
// (Personal Data Protection Law): their phone number and every keyed hash of
// it go; their answers stay, unlinked, so the figures do not change.
func (s *Service) Erase(ctx context.Context, p *Principal, phone string) (store.Erased, error) {
	number, err := survey.CanonicalPhone(phone)
	if err != nil {
		return store.Erased{}, Errorf(Invalid, "phone", "%v", err)
	}
	who := s.Sealer.Hash(number)
	// Answers still in the outbox would reach MongoDB linked after the
	// erasure: write them first.
	if err := s.FlushOutbox(ctx); err != nil {
		return store.Erased{}, err
	}
	e, err := s.Mongo.EraseRespondent(ctx, who)
	if err != nil {
		return e, err
	}
	// The working copies of their open invitations held the number too
	// (every invitation with a phone is in its citizen's index); read
	// again, they come without it.
	if s.Cache != nil {
		open, _, err := s.Conversations.IndexedInvitations(ctx, who)
		if err != nil {
			return e, err
		}
		for _, inv := range open {
			if err := s.Cache.Forget(ctx, inv.ID); err != nil {
				return e, err
			}
		}
	}
	if err := s.Conversations.Forget(ctx, who); err != nil {
		return e, err
	}
	if s.Signals != nil { // the dossiers the phone answered by code: no more counted under its hash
		if err := s.Signals.Forget(ctx, countPhone, who); err != nil {
			return e, err
		}
	}
	return e, s.Audit(ctx, p, "erasure", survey.MaskPhone(number), map[string]any{"erased": e})
}

// Swept counts what a retention sweep removed: phone numbers,
// conversation texts, scanned pages' images, and months of the dossier
// index.
type Swept struct {
	Phones, Transcripts, ScanImages int64
	SearchMonths                    int
}

// Sweep erases phone numbers, conversation texts and the images of
// scanned paper forms older than retention (a page's record and what
// became of it stay); run it periodically.
func (s *Service) Sweep(ctx context.Context, retention time.Duration) (Swept, error) {
	var w Swept
	var err error
	before := s.now().Add(-retention)
	if w.Phones, err = s.Mongo.ErasePhonesBefore(ctx, before); err != nil {
		return w, err
	}
	if w.Transcripts, err = s.Mongo.Transcripts.DeleteBefore(ctx, before); err != nil {
		return w, err
	}
	if w.ScanImages, err = s.Mongo.Scans.DropImagesBefore(ctx, before); err != nil {
		return w, err
	}
	// The dossier index keeps whole months: one leaves it once all of it
	// is past retention (no invitation within retention is dropped).
	if s.Dossiers != nil {
		w.SearchMonths, err = s.Dossiers.DropBefore(ctx, store.MonthOf(before))
	}
	return w, err
}

// RunSweeper sweeps daily until ctx ends, under a lease so that one
// replica sweeps at a time. The sweep's query reads every invitation on
// FerretDB (an index range on MongoDB); retention is counted in days, so
// once a day is enough.
func (s *Service) RunSweeper(ctx context.Context, retention time.Duration, log *slog.Logger) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		err := s.Locks.Holding(ctx, "retention:"+s.Mongo.DB.Name(), time.Minute, func(ctx context.Context) error {
			n, err := s.Sweep(ctx, retention)
			if n != (Swept{}) {
				log.Info("retention sweep erased phone numbers, texts and scans", "invitations", n.Phones, "transcripts", n.Transcripts, "scan_images", n.ScanImages, "search_months", n.SearchMonths)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Error("retention sweep failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepEvery is how often the retention sweep runs.
const sweepEvery = 24 * time.Hour
