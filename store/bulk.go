package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Created is what became of one invitation given to CreateMany.
type Created struct {
	Invitation *Invitation // the one stored: the given one, or the dossier's existing one
	Created    bool        // false: the dossier already had Invitation
	// First says the invitation is the first ever made for its phone
	// (false when unsure), so no other invitation of that phone is open.
	First bool
	Err   error // this invitation alone could not be stored
}

// CreateMany inserts invitations in two round trips whatever their number:
// one unordered InsertMany of the invitations, one of their lookups (token,
// dossier code and, with a phone, respondent; see writeLookups). The unique
// index on dossier_code decides between concurrent creations of one
// dossier, within the batch or not: a refused one gets the dossier's
// existing invitation. Concurrent requests share a batch (core's group
// commit): on FerretDB each write waits for SQLite's one writer lock, and
// many writers at once wait out its busy handler's sleeps.
func (s *Invitations) CreateMany(ctx context.Context, invs []*Invitation) ([]Created, error) {
	return s.createMany(ctx, invs, true)
}

// createMany is CreateMany; resolve says whether refused invitations get
// the dossier's existing one (else they are left empty).
func (s *Invitations) createMany(ctx context.Context, invs []*Invitation, resolve bool) ([]Created, error) {
	out := make([]Created, len(invs))
	if len(invs) == 0 {
		return out, nil
	}
	refused, err := insertSkippingDuplicates(ctx, s.c, anys(invs))
	if err != nil {
		return nil, fmt.Errorf("insert %d invitations: %w", len(invs), err)
	}
	keys := make([]any, 0, 3*len(invs))
	firstAt := map[int]int{} // index in keys of a respondent lookup → index in invs
	for i, inv := range invs {
		if refused[i] {
			continue
		}
		out[i] = Created{Invitation: inv, Created: true}
		keys = append(keys, lookup{"t:" + inv.Token, inv.ID}, lookup{"d:" + inv.DossierCode, inv.ID})
		if inv.Respondent != "" {
			firstAt[len(keys)] = i
			keys = append(keys, lookup{"r:" + inv.Respondent, inv.ID})
		}
	}
	if len(keys) > 0 {
		had, err := insertSkippingDuplicates(ctx, s.keys, keys) // duplicates: already there
		if err != nil {
			return nil, fmt.Errorf("insert lookups of %d invitations: %w", len(invs), err)
		}
		for k, i := range firstAt {
			out[i].First = !had[k]
		}
	}
	for i, inv := range invs {
		if refused[i] && resolve {
			out[i] = s.existing(ctx, inv.DossierCode)
		}
	}
	return out, nil
}

// existing is the invitation a dossier already has. The one place a
// lookup may be missing once backfilled is a creation cut short between
// the invitation and its lookups and retried: the query finds it and
// writes them.
func (s *Invitations) existing(ctx context.Context, code string) Created {
	inv, err := s.lookupOrScan(ctx, "d:"+code, "dossier_code", code, func(i *Invitation) bool { return i.DossierCode == code }, true)
	if err != nil {
		return Created{Err: fmt.Errorf("invitation %s exists but cannot be read: %w", code, err)}
	}
	return Created{Invitation: inv}
}

// InsertBulk inserts many invitations at once, for filling a store (the
// load tool's -fill): CreateMany, with duplicates skipped and not looked
// up. Nothing is written to Redis and no roll-up changes: the caller owns
// what Create's callers do on top.
func (s *Invitations) InsertBulk(ctx context.Context, invs []*Invitation) error {
	_, err := s.createMany(ctx, invs, false)
	return err
}

// insertSkippingDuplicates inserts docs unordered and returns the indexes a
// unique index refused; any other failure is an error.
func insertSkippingDuplicates(ctx context.Context, c *mongo.Collection, docs []any) (map[int]bool, error) {
	refused := map[int]bool{}
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	err = writeErrors(err, func(e mongo.BulkWriteError) bool {
		refused[e.Index] = e.Code == 11000
		return refused[e.Index]
	})
	return refused, err
}

// InsertBulk inserts many responses at once, for filling a store (the load
// tool's -fill): no uncounted copies, so they reach the roll-ups only
// through a rebuild. A response already stored is skipped.
func (s *Responses) InsertBulk(ctx context.Context, rs []*Response) error {
	errs, err := s.insert(ctx, rs, nil)
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil && !errors.Is(e, ErrDuplicate) {
			return e
		}
	}
	return nil
}
