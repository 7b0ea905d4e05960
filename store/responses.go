package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Answer is one scored question in a response; 0 means no opinion.
type Answer struct {
	Question  string `bson:"question" json:"question"`
	Criterion string `bson:"criterion" json:"criterion"`
	Score     int    `bson:"score" json:"score"`
}

// Response is one citizen's completed survey, normalised whatever the channel.
type Response struct {
	ID            string   `bson:"_id"`
	InvitationID  string   `bson:"invitation_id"`
	Survey        string   `bson:"survey"`
	SurveyVersion int      `bson:"survey_version"`
	DossierCode   string   `bson:"dossier_code"`
	AgencyCode    string   `bson:"agency_code"`
	ProcedureCode string   `bson:"procedure_code,omitempty"`
	FieldCode     string   `bson:"field_code,omitempty"`
	Channel       string   `bson:"channel"`
	Answers       []Answer `bson:"answers"`
	Comment       string   `bson:"comment,omitempty"`
	Locale        string   `bson:"locale"`
	Respondent    string   `bson:"respondent,omitempty"`
	Month         string   `bson:"month"` // YYYY-MM in Vietnam time, the roll-up period
	// InvitedAt is when its invitation was made: the response rate counts
	// completions in the month their invitation was made. Zero on
	// responses saved before it existed (their own month stands in).
	InvitedAt time.Time `bson:"invited_at,omitempty"`
	// InvitedSurvey is the survey its invitation named, which the
	// response rate counts it under: an SMS answer to a sipas invitation
	// answers sipas-5 (Survey) and completes a sipas invitation. Empty
	// on responses saved before it was kept: the roll-up writer reads it
	// from the invitation (see Invitations.Surveys).
	InvitedSurvey string    `bson:"invited_survey,omitempty"`
	StartedAt     time.Time `bson:"started_at"`
	SubmittedAt   time.Time `bson:"submitted_at"`
	// OpenedAt is when its survey page was first seen (web answers): the
	// roll-up writer counts that opening with the answer, in one update
	// of its invitation (see Funnel.Hold).
	OpenedAt *time.Time `bson:"opened_at,omitempty"`
	// Reminded says its invitation's reminder went out before it was
	// submitted (the reach figures' completed_after_reminder).
	Reminded bool `bson:"reminded,omitempty"`
	// EnteredBy names the operator who read the scores from the citizen's
	// own message (CitizenText) when the gateway could not; empty when
	// the citizen's answer was read by the gateway.
	EnteredBy   string `bson:"entered_by,omitempty"`
	CitizenText string `bson:"citizen_text,omitempty"`
	// Provenance is how the answer came (nil on responses saved before it
	// existed); Flags the integrity signals it raised, at saving or after
	// (see Integrity); Review, once flagged, whether someone above the
	// rated agency confirmed or cleared them.
	Provenance *Provenance `bson:"provenance,omitempty"`
	Flags      []string    `bson:"flags,omitempty"`
	Review     *Review     `bson:"review,omitempty"`
}

// Responses is the responses collection.
type Responses struct {
	c         *mongo.Collection
	uncounted *mongo.Collection // copies of responses the roll-ups do not count yet
	changes   *mongo.Collection // notes of responses to recount (see Change)
	db        *mongo.Database   // holds each generation's counted marks
}

// counted holds generation g's counted marks, {_id: response id, batch}.
func (s *Responses) counted(g int) *mongo.Collection {
	return s.db.Collection(GenName("counted_responses", g))
}

func (s *Responses) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c,
		index(bson.D{{Key: "invitation_id", Value: 1}}, true),
		index(bson.D{{Key: "agency_code", Value: 1}, {Key: "submitted_at", Value: 1}}, false),
	)
}

// InsertMany saves rs and notes each as not yet counted (see Uncounted).
// The uncounted copies go first: a process that dies between the two
// writes leaves a copy whose response is missing, which the roll-up writer
// finds in its next batch (see Settle), never a response nobody will count
// (finding those would mean reading every response). errs[i] is nil when
// rs[i] is stored (now, or by an earlier attempt), ErrDuplicate when
// another response of its invitation is (the unique index keeps exactly
// one per invitation whatever the channel), or why MongoDB refused it. err
// is set when the write as a whole failed (MongoDB unavailable): then
// nothing is known of any.
func (s *Responses) InsertMany(ctx context.Context, rs []*Response) (errs []error, err error) {
	raws := encodeResponses(rs) // once, for the copy and the response
	if err := s.noteUncounted(ctx, rs, raws); err != nil {
		return nil, fmt.Errorf("note %d responses uncounted: %w", len(rs), err)
	}
	errs, err = s.insert(ctx, rs, raws)
	if err != nil {
		return nil, err
	}
	var refused []string
	for i, r := range rs {
		if errs[i] != nil {
			refused = append(refused, r.ID)
		}
	}
	// Left behind (a crash), the writer drops them in its batch.
	_ = s.DropUncounted(ctx, refused, false)
	return errs, nil
}

// encodeResponses returns the BSON of each of rs (see appendBSON).
func encodeResponses(rs []*Response) []bson.Raw {
	raws := make([]bson.Raw, len(rs))
	for i, r := range rs {
		raws[i] = r.appendBSON(nil)
	}
	return raws
}

// insert writes rs in one unordered round trip; see InsertMany for errs.
// raws, when set, are their BSON (encodeResponses).
func (s *Responses) insert(ctx context.Context, rs []*Response, raws []bson.Raw) (errs []error, err error) {
	errs = make([]error, len(rs))
	docs := anys(rs)
	for i, b := range raws {
		docs[i] = b
	}
	_, err = s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		if err != nil {
			return nil, fmt.Errorf("insert %d responses: %w", len(rs), err)
		}
		return errs, nil
	}
	for _, e := range bwe.WriteErrors {
		r := rs[e.Index]
		if e.Code != 11000 {
			errs[e.Index] = fmt.Errorf("insert response %s: %s", r.ID, e.Message)
			continue
		}
		// Its own earlier attempt, or another response for the invitation?
		ours, err := s.Exists(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("insert response %s: %w", r.ID, err)
		}
		if !ours {
			errs[e.Index] = ErrDuplicate
		}
	}
	return errs, nil
}

// InvitedMonth is the month (Vietnam time) of the response's invitation.
func (r *Response) InvitedMonth() string {
	if r.InvitedAt.IsZero() {
		return r.Month
	}
	return MonthOf(r.InvitedAt)
}

// RateSurvey is the survey whose response rate the response counts in:
// its invitation's, or, when that is unknown (no invitation found), the
// one it answered.
func (r *Response) RateSurvey() string {
	if r.InvitedSurvey != "" {
		return r.InvitedSurvey
	}
	return r.Survey
}

// Exists reports whether a response with this id is stored.
func (s *Responses) Exists(ctx context.Context, id string) (bool, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "_id", Value: id}}, options.Count().SetLimit(1))
	return n > 0, err
}

// Response returns one response by its id (a case's id is its
// response's), or ErrNotFound.
func (s *Responses) Response(ctx context.Context, id string) (*Response, error) {
	return findOne[Response](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// ByInvitation returns the response of an invitation.
func (s *Responses) ByInvitation(ctx context.Context, invitationID string) (*Response, error) {
	return findOne[Response](ctx, s.c, bson.D{{Key: "invitation_id", Value: invitationID}})
}

// Uncounted returns up to limit responses saved but not yet counted in the
// roll-ups, in the order they were noted (oldest first, near enough:
// counting does not depend on the order). They come from a small
// collection of copies (uncounted_responses) written with each batch of
// responses and removed once counted: FerretDB's SQLite backend reads a
// whole collection for any query with a filter or a sort, so the roll-up
// writer must not query the responses, and asks for its batch with
// neither: then FerretDB passes the limit to SQLite and reads only the
// batch, however long the backlog.
func (s *Responses) Uncounted(ctx context.Context, limit int64) ([]Response, error) {
	docs, err := findAll[bson.Raw](ctx, s.uncounted, bson.D{}, options.Find().SetLimit(limit))
	if err != nil {
		return nil, err
	}
	out := make([]Response, len(docs))
	for i, d := range docs {
		if err := decodeCopy(d, &out[i]); err != nil {
			return nil, fmt.Errorf("read uncounted copy %s: %w", d.Lookup("_id"), err)
		}
	}
	return out, nil
}

// copyField holds an uncounted copy's response, encoded (see
// NoteUncounted).
const copyField = "r"

// decodeCopy reads the response of an uncounted copy: the document in its
// copyField, or, in a copy written before copies were kept so, the copy
// itself.
func decodeCopy(d bson.Raw, r *Response) error {
	if v, err := d.LookupErr(copyField); err == nil {
		_, b, ok := v.BinaryOK()
		if !ok {
			return fmt.Errorf("field %q is a %s, not a response", copyField, v.Type)
		}
		return unmarshalResponseBSON(b, r)
	}
	return unmarshalResponseBSON(d, r)
}

// NoteUncounted writes uncounted copies of rs (those already there stay):
// a response written again after its process died between the two writes.
// A copy is {_id, r: the response's BSON}: one opaque field is what
// FerretDB's SQLite backend decodes and encodes cheapest, and it decodes
// every copy it inserts, reads in a batch or scans for a delete. Measured
// against a pinned `gateway mongo-server`, µs of its CPU a copy of a
// 22-answer response: insert 335 → 50, read 760 → 110; of a 5-answer one
// 175 → 35 and 270 → 60. A copy is only ever read whole: in the writer's
// batch (no filter) or by _id.
func (s *Responses) NoteUncounted(ctx context.Context, rs []*Response) error {
	return s.noteUncounted(ctx, rs, encodeResponses(rs))
}

// noteUncounted is NoteUncounted with rs's BSON.
func (s *Responses) noteUncounted(ctx context.Context, rs []*Response, raws []bson.Raw) error {
	if len(rs) == 0 {
		return nil
	}
	docs := make([]any, len(rs))
	for i, r := range rs {
		docs[i] = bson.Raw(appendCopy(make([]byte, 0, 32+len(r.ID)+len(raws[i])), r.ID, raws[i]))
	}
	_, err := s.uncounted.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	return writeErrors(err, func(e mongo.BulkWriteError) bool { return e.Code == 11000 })
}

// MarkCounted records that batch counts ids in generation gen, and
// returns those it may count: ids no other batch counted. The marks are
// inserted (a unique _id decides, cheaply even on FerretDB), so a copy
// noted again after a retry is not counted twice, and replaying a batch
// finds its own marks: batch numbers are claimed once (Journal.Claim), so
// a mark of the same number is this batch's own. states holds the
// standing each is counted as (Standing.Key; missing: none), kept on the
// mark so a later recount knows what to take away.
func (s *Responses) MarkCounted(ctx context.Context, gen int, batch int64, ids []string, states map[string]string) (map[string]bool, error) {
	return markCounted(ctx, s.counted(gen), batch, ids, states)
}

// CountedMark is a response's counted mark in one generation: the batch
// that counted it, the standing it is counted as (State), and, when a
// recount changed that, the batch of the recount and the standing before
// it (a replay of that batch starts from Before again).
type CountedMark struct {
	ID     string `bson:"_id"`
	Batch  int64  `bson:"batch"`
	State  string `bson:"state,omitempty"`
	SBatch int64  `bson:"sbatch,omitempty"`
	Before string `bson:"before,omitempty"`
}

// CountedMarks returns the counted marks of ids in generation gen (none
// for a response not counted there yet).
func (s *Responses) CountedMarks(ctx context.Context, gen int, ids []string) (map[string]*CountedMark, error) {
	return mapByIDs(ctx, s.counted(gen), ids, func(m *CountedMark) string { return m.ID })
}

// Recounted records recounts on the marks of generation gen (the roll-up
// writer is their one writer), one update by _id each.
func (s *Responses) Recounted(ctx context.Context, gen int, marks []CountedMark) error {
	if len(marks) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(marks))
	for i, m := range marks {
		models[i] = mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: m.ID}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{
			{Key: "state", Value: m.State}, {Key: "sbatch", Value: m.SBatch}, {Key: "before", Value: m.Before}}}})
	}
	return Write(ctx, "counted.recount", func(ctx context.Context) error { return bulkWrite(ctx, s.counted(gen), models) })
}

func markCounted(ctx context.Context, c *mongo.Collection, batch int64, ids []string, states map[string]string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	docs := make([]any, len(ids))
	for i, id := range ids {
		docs[i] = bson.Raw(CountedMark{ID: id, Batch: batch, State: states[id]}.appendBSON(nil))
		out[id] = true
	}
	var dups []string
	err := Write(ctx, "counted."+c.Name(), func(ctx context.Context) error {
		_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		dups = dups[:0]
		return writeErrors(err, func(e mongo.BulkWriteError) bool {
			if e.Code == 11000 {
				dups = append(dups, ids[e.Index])
			}
			return e.Code == 11000
		})
	})
	if err != nil {
		return nil, fmt.Errorf("mark %d counted in %s: %w", len(ids), c.Name(), err)
	}
	if len(dups) > 0 {
		marks, err := byIDs[CountedMark](ctx, c, dups)
		if err != nil {
			return nil, err
		}
		var again []mongo.WriteModel
		for _, m := range marks {
			out[m.ID] = m.Batch == batch
			if m.Batch == batch && m.State != states[m.ID] {
				// A replay counts the standing as it is now.
				again = append(again, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: m.ID}}).
					SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: states[m.ID]}}}}))
			}
		}
		if len(again) > 0 {
			if err := bulkWrite(ctx, c, again); err != nil {
				return nil, fmt.Errorf("mark %d counted in %s: %w", len(again), c.Name(), err)
			}
		}
	}
	return out, nil
}

// Settle returns the copies among uncounted whose response is stored, in
// their order, so the roll-up writer counts only those. known are those
// noted stored beside their copies (Outbox.Stored): they are taken as
// they are. Each other one is looked up by _id (the cost is the batch's,
// not the collection's): a copy older than before whose response is
// missing was left by a process that died between its two writes, and the
// response is written from it now (the answer was acknowledged), unless
// another response of the invitation is stored, and then the copy is
// dropped uncounted. Younger copies without a response belong to writes
// still under way and wait for a later batch. A copy counts with the
// flags it was saved with: the writer keeps the note of a flag or review
// on a response until the response is counted (see report.Applier).
func (s *Responses) Settle(ctx context.Context, uncounted []Response, before time.Time, known map[string]bool) ([]Response, error) {
	var ids []string
	for _, r := range uncounted {
		if !known[r.ID] {
			ids = append(ids, r.ID)
		}
	}
	ok, err := existing(ctx, s.c, ids)
	if err != nil {
		return nil, err
	}
	for id := range known {
		ok[id] = true
	}
	var orphans []*Response
	for i := range uncounted {
		if r := &uncounted[i]; !ok[r.ID] && r.SubmittedAt.Before(before) {
			orphans = append(orphans, r)
		}
	}
	if len(orphans) > 0 {
		errs, err := s.insert(ctx, orphans, nil)
		if err != nil {
			return nil, err
		}
		var refused []string
		for i, r := range orphans {
			if ok[r.ID] = errs[i] == nil; !ok[r.ID] {
				refused = append(refused, r.ID)
			}
		}
		if err := s.DropUncounted(ctx, refused, false); err != nil {
			return nil, err
		}
	}
	out := uncounted[:0:0]
	for _, r := range uncounted {
		if ok[r.ID] {
			out = append(out, r)
		}
	}
	return out, nil
}

// Queued says which of ids have an uncounted copy.
func (s *Responses) Queued(ctx context.Context, ids []string) (map[string]bool, error) {
	return existing(ctx, s.uncounted, ids)
}

// existing says which of ids c holds, each looked up by _id.
func existing(ctx context.Context, c *mongo.Collection, ids []string) (map[string]bool, error) {
	found, err := byIDs[struct {
		ID string `bson:"_id"`
	}](ctx, c, ids, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, r := range found {
		out[r.ID] = true
	}
	return out, nil
}

// DropUncounted removes the uncounted copies of ids. few says the
// collection holds not many more copies than a few times ids: then one
// delete by {_id: {$in: ids}} removes them, which FerretDB's SQLite
// backend runs as one read of that small collection and one transaction
// (about 60 µs of its CPU a copy read), where a delete by _id costs a
// transaction each (about 370 µs). Otherwise each is deleted by _id, so a
// long backlog is never read whole.
func (s *Responses) DropUncounted(ctx context.Context, ids []string, few bool) error {
	var err error
	if few && len(ids) > 0 {
		err = Write(ctx, "uncounted.drop", func(ctx context.Context) error {
			_, err := s.uncounted.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
			return err
		})
	} else {
		err = deleteByIDs(ctx, s.uncounted, "uncounted.drop.each", ids)
	}
	if err != nil {
		return fmt.Errorf("drop %d uncounted copies: %w", len(ids), err)
	}
	return nil
}

// deleteByIDs deletes the documents ids of c, one delete by _id each in
// one bulk write (the write point named point): FerretDB looks each up by
// its _id index, where a single $in filter reads the whole collection.
func deleteByIDs(ctx context.Context, c *mongo.Collection, point string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}})
	}
	return Write(ctx, point, func(ctx context.Context) error {
		_, err := c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
		return err
	})
}

// ByIDs returns the responses with the given ids (those that exist).
func (s *Responses) ByIDs(ctx context.Context, ids []string) ([]Response, error) {
	return byIDs[Response](ctx, s.c, ids)
}

// Each streams every response to fn in id order, without holding them all in
// memory; fn's error stops the stream.
func (s *Responses) Each(ctx context.Context, fn func(*Response) error) error {
	return s.EachMatching(ctx, ExportFilter{}, fn)
}

// ExportFilter selects responses to export; empty fields match all.
type ExportFilter struct {
	Survey   string
	Surveys  []string // any of these (the cross-form view), when Survey is empty
	Agencies []string
	Channel  string
	From, To time.Time // submitted_at, From inclusive, To exclusive
}

func (f ExportFilter) bson() bson.D {
	q := bson.D{}
	if f.Survey != "" {
		q = append(q, bson.E{Key: "survey", Value: f.Survey})
	} else if len(f.Surveys) > 0 {
		q = append(q, bson.E{Key: "survey", Value: bson.D{{Key: "$in", Value: f.Surveys}}})
	}
	if len(f.Agencies) > 0 {
		q = append(q, bson.E{Key: "agency_code", Value: bson.D{{Key: "$in", Value: f.Agencies}}})
	}
	if f.Channel != "" {
		q = append(q, bson.E{Key: "channel", Value: f.Channel})
	}
	return between(q, "submitted_at", f.From, f.To)
}

// EachMatching streams the responses f selects, in the order stored
// (about the order they were saved). Not sorted: FerretDB sorts a whole
// collection in memory before the first document, which took over the
// 10 s operation limit at 30,000 responses and failed exports and rebuilds.
func (s *Responses) EachMatching(ctx context.Context, f ExportFilter, fn func(*Response) error) error {
	return each(ctx, s.c, f.bson(), options.Find().SetBatchSize(500), fn)
}
