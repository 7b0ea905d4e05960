package store

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// InsertBulk inserts many invitations at once, for filling a store (the
// load tool's -fill), not for serving requests: one unordered InsertMany of
// the invitations, then one of their lookups (token, dossier code and, for
// those with a phone, respondent; see writeLookups). An invitation refused
// as a duplicate (its dossier code or token is taken) is skipped, and so are
// its lookups; any other refusal is an error. Nothing is written to Redis
// and no roll-up changes: the caller owns what Create's callers do on top.
func (s *Invitations) InsertBulk(ctx context.Context, invs []*Invitation) error {
	if len(invs) == 0 {
		return nil
	}
	docs := make([]any, len(invs))
	for i, inv := range invs {
		docs[i] = inv
	}
	refused, err := insertSkippingDuplicates(ctx, s.c, docs)
	if err != nil {
		return fmt.Errorf("insert %d invitations: %w", len(invs), err)
	}
	keys := make([]any, 0, 2*len(invs))
	for i, inv := range invs {
		if refused[i] {
			continue
		}
		keys = append(keys, lookup{"t:" + inv.Token, inv.ID}, lookup{"d:" + inv.DossierCode, inv.ID})
		if inv.Respondent != "" {
			keys = append(keys, lookup{"r:" + inv.Respondent, inv.ID})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := insertSkippingDuplicates(ctx, s.keys, keys); err != nil { // duplicates: already there
		return fmt.Errorf("insert lookups of %d invitations: %w", len(invs), err)
	}
	return nil
}

// insertSkippingDuplicates inserts docs unordered and returns the indexes a
// unique index refused; any other failure is an error.
func insertSkippingDuplicates(ctx context.Context, c *mongo.Collection, docs []any) (map[int]bool, error) {
	_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil, nil
	}
	var bw mongo.BulkWriteException
	if !errors.As(err, &bw) || bw.WriteConcernError != nil {
		return nil, err
	}
	refused := map[int]bool{}
	for _, e := range bw.WriteErrors {
		if !mongo.IsDuplicateKeyError(e.WriteError) {
			return nil, err
		}
		refused[e.Index] = true
	}
	return refused, nil
}
