package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Line is one text of an invitation's conversation: sent by the gateway
// (an invitation, a reply) or received from the citizen.
type Line struct {
	Key      string    `bson:"k" json:"-"` // the message record's id: a line written twice is kept once
	At       time.Time `bson:"at" json:"at"`
	Channel  string    `bson:"ch" json:"channel"`
	Kind     string    `bson:"kind" json:"kind"` // invite, reply, received
	Text     string    `bson:"text" json:"text"`
	Encoding string    `bson:"enc,omitempty" json:"encoding,omitempty"`
	Parts    int       `bson:"parts,omitempty" json:"parts"`
}

// Received is the kind of a line the citizen sent.
const Received = "received"

// Transcript is the conversation of one invitation. It is stored as
// parts, each written once and never updated (an update costs FerretDB
// a transaction of its own, about 1 ms, against 75 µs for an insert in a
// batch): the first part's _id is the invitation's, the next ones' the
// invitation's then "#1", "#2"…, so reading it costs one lookup by _id a
// part, in order until one is missing.
type Transcript struct {
	ID         string    `bson:"_id"`
	Respondent string    `bson:"respondent,omitempty"`
	Created    time.Time `bson:"created_at"` // its first line's time: the retention sweep counts from it
	Lines      []Line    `bson:"m"`
}

// part is a transcript part as stored: its lines packed in one field
// (Packed: the BSON of packedLines), which FerretDB's SQLite backend
// decodes and encodes far cheaper than as many fields as the lines have
// (it decodes every field of every document it inserts, reads or scans:
// the retention sweep and an erasure scan the collection). Parts written
// by earlier versions keep their lines in Lines.
type part struct {
	ID         string    `bson:"_id"`
	Respondent string    `bson:"respondent,omitempty"`
	Created    time.Time `bson:"created_at"`
	Lines      []Line    `bson:"m,omitempty"`
	Packed     []byte    `bson:"p,omitempty"`
}

// packedLines is what a part's Packed holds.
type packedLines struct {
	Lines []Line `bson:"m"`
}

// lines are the part's lines, wherever it keeps them.
func (p *part) lines() ([]Line, error) {
	if len(p.Packed) == 0 {
		return p.Lines, nil
	}
	var l packedLines
	if err := bson.Unmarshal(p.Packed, &l); err != nil {
		return nil, fmt.Errorf("transcript part %s: %w", p.ID, err)
	}
	return append(p.Lines, l.Lines...), nil
}

// Transcripts keeps each invitation's conversation.
type Transcripts struct {
	c  *mongo.Collection
	mu sync.Mutex // one append at a time in a process, for next
	// next is the part each invitation's next append takes, as this
	// process last wrote it: a guess, corrected when the part is taken
	// (a retry). older is the previous generation of guesses.
	next, older map[string]int
	turned      time.Time
}

// Guesses last one to two nextPartsFor, at most maxNextParts a
// generation. A guess is short-lived because another process's deletion
// (an erasure) could leave it past a gap, where Get would not read.
const (
	maxParts     = 10_000 // a transcript's, bounding Append's retries
	nextPartsFor = 10 * time.Minute
	maxNextParts = 100_000
)

// guess is where invitation's next part probably goes.
func (s *Transcripts) guess(invitation string) int {
	if n, ok := s.next[invitation]; ok {
		return n
	}
	return s.older[invitation]
}

func (s *Transcripts) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "created_at", Value: 1}}, false), // the retention sweep
		index(bson.D{{Key: "respondent", Value: 1}}, false)) // erasure
}

// partID is the _id of an invitation's transcript part n.
func partID(invitation string, n int) string {
	if n == 0 {
		return invitation
	}
	return invitation + "#" + strconv.Itoa(n)
}

// Appended is lines to add to an invitation's transcript.
type Appended struct {
	Invitation, Respondent string
	Lines                  []Line
}

// Append adds lines to invitations' transcripts, a new part each, in one
// round trip; a part already taken (another process's, or this one's
// guess was stale) is written again as the next part, in one more round
// trip for all of them. A batch written again after a failure adds its
// lines again, and Get keeps each line once.
func (s *Transcripts) Append(ctx context.Context, batch ...Appended) error {
	parts := make([]part, 0, len(batch))
	for _, a := range batch {
		if len(a.Lines) == 0 {
			continue
		}
		first := Millis(a.Lines[0].At)
		for i := range a.Lines {
			a.Lines[i].At = Millis(a.Lines[i].At)
			if a.Lines[i].At.Before(first) {
				first = a.Lines[i].At
			}
		}
		parts = append(parts, part{ID: a.Invitation, Respondent: a.Respondent, Created: first, Packed: appendPacked(nil, a.Lines)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if now := time.Now(); s.next == nil || len(s.next) > maxNextParts || now.Sub(s.turned) > nextPartsFor {
		s.next, s.older, s.turned = map[string]int{}, s.next, now
	}
	at := make([]int, len(parts))
	for i := range parts {
		at[i] = s.guess(parts[i].ID)
	}
	for round := 0; len(parts) > 0; round++ {
		if round == maxParts {
			return fmt.Errorf("append to transcript %s: %d parts taken", parts[0].ID, maxParts)
		}
		docs := make([]any, len(parts))
		for i, p := range parts {
			docs[i] = bson.Raw(appendPart(nil, partID(p.ID, at[i]), p.Respondent, p.Created, p.Packed))
		}
		taken := map[int]bool{}
		_, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		err = writeErrors(err, func(e mongo.BulkWriteError) bool {
			taken[e.Index] = e.Code == 11000
			return e.Code == 11000
		})
		if err != nil {
			return fmt.Errorf("append to %d transcripts: %w", len(parts), err)
		}
		var again []part
		var againAt []int
		for i := range parts {
			if taken[i] {
				again, againAt = append(again, parts[i]), append(againAt, at[i]+1)
				continue
			}
			s.next[parts[i].ID] = at[i] + 1
		}
		parts, at = again, againAt
	}
	return nil
}

// Get returns an invitation's transcript, its lines in time order, each
// once; an invitation without one has an empty transcript.
func (s *Transcripts) Get(ctx context.Context, invitation string) (*Transcript, error) {
	t := &Transcript{ID: invitation}
	seen := map[string]bool{}
	for n := 0; ; n++ {
		p, err := findOne[part](ctx, s.c, bson.D{{Key: "_id", Value: partID(invitation, n)}})
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		if n == 0 || p.Created.Before(t.Created) {
			t.Created = p.Created
		}
		t.Respondent = cmp.Or(p.Respondent, t.Respondent)
		lines, err := p.lines()
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			if l.Key == "" || !seen[l.Key] {
				seen[l.Key] = true
				t.Lines = append(t.Lines, l)
			}
		}
	}
	slices.SortStableFunc(t.Lines, func(a, b Line) int { return a.At.Compare(b.At) })
	return t, nil
}

// DeleteBefore removes the conversation texts of the transcript parts
// begun before t (the retention sweep: a periodic pass, which reads the
// whole collection on FerretDB) and returns how many transcripts they
// were part of. A transcript with no later part is deleted whole. One
// that went on after t keeps its old parts as blanks (no lines, no
// phone), so Get still walks through them to the later lines; a later
// sweep deletes them with the rest.
func (s *Transcripts) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	old := map[string][]int{}  // invitation → its parts begun before t
	full := map[string][]int{} // … of which those not blank yet
	err := each(ctx, s.c, bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: Millis(t)}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "blank", Value: 1}}), func(p *struct {
			ID    string `bson:"_id"`
			Blank bool   `bson:"blank"`
		}) error {
			inv, n := splitPartID(p.ID)
			old[inv] = append(old[inv], n)
			if !p.Blank {
				full[inv] = append(full[inv], n)
			}
			return nil
		})
	if err != nil {
		return 0, fmt.Errorf("delete transcripts: %w", err)
	}
	invs := slices.Sorted(maps.Keys(old))
	var n int64
	for len(invs) > 0 {
		k := min(len(invs), sweepChunk)
		swept, err := s.sweep(ctx, invs[:k], old, full)
		n += swept
		if err != nil {
			return n, fmt.Errorf("delete transcripts: %w", err)
		}
		invs = invs[k:]
	}
	return n, nil
}

// sweepChunk is how many transcripts a sweep settles under the append
// lock at a time, so this process's appends wait a chunk, not the sweep.
const sweepChunk = 500

// sweep deletes or blanks the old parts of invs (see DeleteBefore) and
// returns how many transcripts it changed. It holds the append lock, so
// no append of this process falls between the check for a later part and
// the writes, and forgets this process's guesses of next parts, so none
// is written past a gap.
func (s *Transcripts) sweep(ctx context.Context, invs []string, old, full map[string][]int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next, s.older = nil, nil
	later := make([]string, len(invs)) // the part after each one's last old one
	for i, inv := range invs {
		later[i] = partID(inv, slices.Max(old[inv])+1)
	}
	went, err := existing(ctx, s.c, later)
	if err != nil {
		return 0, err
	}
	var gone []string
	var blank []mongo.WriteModel
	var n int64
	for i, inv := range invs {
		switch {
		case !went[later[i]]:
			for _, k := range old[inv] {
				gone = append(gone, partID(inv, k))
			}
			n++
		case len(full[inv]) > 0: // the conversation went on after t
			for _, k := range full[inv] {
				blank = append(blank, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: partID(inv, k)}}).SetUpdate(bson.D{
					{Key: "$set", Value: bson.D{{Key: "blank", Value: true}}},
					{Key: "$unset", Value: bson.D{{Key: "m", Value: ""}, {Key: "p", Value: ""}, {Key: "respondent", Value: ""}}}}))
			}
			n++
		}
	}
	if err := deleteByIDs(ctx, s.c, "transcripts.sweep", gone); err != nil {
		return 0, err
	}
	if err := bulkWrite(ctx, s.c, blank); err != nil {
		return 0, fmt.Errorf("blank old parts: %w", err)
	}
	return n, nil
}

// splitPartID is the invitation and number of a transcript part's _id.
func splitPartID(id string) (string, int) {
	inv, n, ok := strings.Cut(id, "#")
	if !ok {
		return inv, 0
	}
	k, _ := strconv.Atoi(n)
	return inv, k
}

// delete deletes the parts filter selects and returns how many
// transcripts they were part of; this process's guesses of next parts are
// forgotten, so no line is written past a gap.
func (s *Transcripts) delete(ctx context.Context, filter bson.D) (int64, error) {
	of := map[string]bool{}
	err := each(ctx, s.c, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}), func(p *struct {
		ID string `bson:"_id"`
	}) error {
		inv, _ := splitPartID(p.ID)
		of[inv] = true
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.next, s.older = nil, nil
	defer s.mu.Unlock()
	if _, err := s.c.DeleteMany(ctx, filter); err != nil {
		return 0, err
	}
	return int64(len(of)), nil
}

// EraseRespondent deletes a person's transcripts (erasure) and returns how
// many there were.
func (s *Transcripts) EraseRespondent(ctx context.Context, respondent string) (int64, error) {
	n, err := s.delete(ctx, bson.D{{Key: "respondent", Value: respondent}})
	if err != nil {
		return 0, fmt.Errorf("erase transcripts: %w", err)
	}
	return n, nil
}
