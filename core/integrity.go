package core

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sipasvn/gateway/store"
)

// A response's flags and review change after it is saved in two ways:
// a later answer raises a flag on earlier ones (FlagLater), and someone
// above the rated agency confirms or clears them (Review). Neither edits
// a count: each leaves a change note, and the roll-up writer recounts the
// response as it then stands (report.Applier), once.

// responseLockTTL is how long a response's lock lasts.
const responseLockTTL = 10 * time.Second

// HoldResponse runs fn under response id's lock: its review and the flags
// the roll-up writer adds are written one at a time (on FerretDB two
// updates of one document can undo each other).
func (s *Service) HoldResponse(ctx context.Context, id string, fn func(context.Context) error) error {
	lease, err := s.Locks.Acquire(ctx, "response:"+id, responseLockTTL)
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, responseLockTTL) // fn's context ends if the lock is lost
	defer stop()
	return fn(ctx)
}

// FlagLater notes that flag applies to responses saved earlier (the third
// dossier one browser answered in a day flags the first two): the roll-up
// writer adds it to each and recounts them, once the response is stored
// if it is not yet.
func (s *Service) FlagLater(ctx context.Context, responseIDs []string, flag string) error {
	now := s.now()
	cs := make([]store.Change, 0, len(responseIDs))
	for _, id := range responseIDs {
		if id == "" {
			continue
		}
		cs = append(cs, store.Change{ID: id + "|" + flag, Response: id, Add: []string{flag}, By: "gateway", At: now})
	}
	if err := s.Mongo.Responses.NoteChanges(ctx, cs...); err != nil {
		return err
	}
	if s.Saved != nil && len(cs) > 0 {
		s.Saved(0) // wakes the roll-up writer
	}
	return nil
}

// ReviewInput is the body of a confirm or clear.
type ReviewInput struct {
	Note string `json:"note"`
}

// maxReviewNote bounds a review's note.
const maxReviewNote = 1000

// Review confirms (the answer leaves the index) or clears (it was the
// citizen's) a flagged response, with a note, audited. Only a key above
// the rated agency may: its parent's, the province's or an admin's, never
// the agency's own. A response reviewed already may be reviewed again
// (a mistake mended); each change is kept in its history.
func (s *Service) Review(ctx context.Context, p *Principal, id, action string, in ReviewInput) (*store.Response, error) {
	status := map[string]string{"confirm": store.ReviewConfirmed, "clear": store.ReviewCleared}[action]
	if status == "" {
		return nil, Errorf(NotFound, "", "no review action %q; use confirm or clear", action)
	}
	note := strings.TrimSpace(in.Note)
	switch {
	case note == "":
		return nil, Errorf(Invalid, "note", "say why (what was checked) in note; the review is audited")
	case len([]rune(note)) > maxReviewNote:
		return nil, Errorf(Invalid, "note", "note is %d characters; keep it to %d", len([]rune(note)), maxReviewNote)
	}
	if p.Role != RoleAdmin && p.Role != RoleAgency {
		return nil, Errorf(Denied, "", "a %s key cannot review answers; an admin's or a parent agency's key can", p.Role)
	}
	var out *store.Response
	err := s.HoldResponse(ctx, id, func(ctx context.Context) error {
		r, err := s.Mongo.Responses.Get(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(NotFound, "", "no response %s", id)
		}
		if err != nil {
			return err
		}
		if err := s.HeldScope(ctx, p, r.AgencyCode, "", "response "+id); err != nil {
			return err
		}
		if ok, err := s.above(ctx, p, r.AgencyCode); err != nil {
			return err
		} else if !ok {
			return Errorf(Denied, "", "agency %s is the one being rated: its flagged answers are reviewed by a parent agency or the province, so the index stays objective", r.AgencyCode)
		}
		if len(r.Flags) == 0 {
			return Errorf(Conflict, "", "response %s has no flag to review", id)
		}
		now := store.Millis(s.now())
		if r.Review == nil {
			r.Review = &store.Review{}
		}
		r.Review.Status = status
		r.Review.History = append(r.Review.History, store.ReviewEvent{At: now, By: p.Who(), Action: action, Note: note})
		// The note first: the writer that reads it before this write
		// finds nothing changed, and the note of the next change follows.
		if err := s.Mongo.Responses.NoteChanges(ctx, store.Change{ID: id + "|review|" + newID(), Response: id, By: p.Who(), At: now}); err != nil {
			return err
		}
		if err := s.Mongo.Responses.SetStanding(ctx, r); err != nil {
			return err
		}
		// The queue moves it at once (the writer does again when it
		// recounts it).
		if err := s.FlaggedIndex.Add(ctx, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if errors.Is(err, store.ErrLocked) {
		return nil, Errorf(Conflict, "", "response %s is being changed right now; try again", id)
	}
	if err != nil {
		return nil, err
	}
	if s.Saved != nil {
		s.Saved(0)
	}
	return out, s.Audit(ctx, p, "response."+action, id, map[string]any{"status": status, "note": note})
}

// FlaggedFilter selects the review queue.
type FlaggedFilter struct {
	Agency, Flag, Status string
	Limit, Offset        int
}

// FlaggedPage is one page of the review queue.
type FlaggedPage struct {
	Total     int              `json:"total"`
	Responses []store.Response `json:"-"`
}

// Flagged lists the flagged responses of p's subtree (or f.Agency's),
// newest first, with the flag and status f asks for.
func (s *Service) Flagged(ctx context.Context, p *Principal, f FlaggedFilter) (*FlaggedPage, error) {
	if f.Flag != "" && !slices.Contains(store.Flags, f.Flag) {
		return nil, Errorf(Invalid, "flag", "unknown flag %q; one of %s", f.Flag, strings.Join(store.Flags, ", "))
	}
	switch f.Status {
	case "", store.ReviewPending, store.ReviewConfirmed, store.ReviewCleared:
	default:
		return nil, Errorf(Invalid, "status", "unknown status %q; one of pending, confirmed, cleared", f.Status)
	}
	root := f.Agency
	if root == "" {
		root = p.Agency
	} else if err := s.AgencyScope(ctx, p, root); err != nil {
		return nil, err
	}
	var agencies []string // nil: every agency with a flagged answer
	if root != "" {
		sub, err := s.Subtree(ctx, root)
		if err != nil {
			return nil, err
		}
		agencies = sub
	}
	ids, err := s.FlaggedIndex.List(ctx, agencies, f.Status, f.Flag)
	if err != nil {
		return nil, err
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	out := &FlaggedPage{Total: len(ids)}
	if f.Offset >= len(ids) {
		return out, nil
	}
	page := ids[f.Offset:min(f.Offset+limit, len(ids))]
	rs, err := s.Mongo.Responses.ByIDs(ctx, page)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*store.Response, len(rs))
	for i := range rs {
		byID[rs[i].ID] = &rs[i]
	}
	for _, id := range page {
		if r := byID[id]; r != nil && (f.Status == "" || store.StandingOf(r).Status == f.Status) {
			out.Responses = append(out.Responses, *r)
		}
	}
	return out, nil
}
