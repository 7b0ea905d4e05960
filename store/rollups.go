package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// AllQuestions is the question of the cell that counts whole responses.
const AllQuestions = "*"

// OperatorRead is the question of the cell that counts responses an
// operator read from a citizen's message the gateway did not understand.
const OperatorRead = "#operator"

// CellKey names one roll-up cell: agency × month × survey × channel ×
// question. Dim, when set, makes the cell part of a second family broken
// down by procedure ("procedure:1.011442…") or field ("field:G03-GD10")
// instead of by channel (Channel is then "*"), so those breakdowns do not
// multiply the main family.
type CellKey struct {
	Agency    string `bson:"agency"`
	Month     string `bson:"month"`
	Survey    string `bson:"survey"`
	Channel   string `bson:"channel"`
	Question  string `bson:"question"`
	Criterion string `bson:"criterion"`
	Dim       string `bson:"dim,omitempty"`
}

// AnyChannel is the channel of cells in the procedure and field families.
const AnyChannel = "*"

func (k CellKey) id() string {
	id := strings.Join([]string{k.Agency, k.Month, k.Survey, k.Channel, k.Question}, "|")
	if k.Dim != "" {
		id += "|" + k.Dim
	}
	return id
}

// Counts holds how many answers gave each level (index 0 = no opinion) and,
// on the AllQuestions cell, how many responses there were.
type Counts struct {
	Levels    [6]int64
	Responses int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	for i := range c.Levels {
		c.Levels[i] += o.Levels[i]
	}
	c.Responses += o.Responses
}

// Cells maps cell keys to counts.
type Cells map[CellKey]Counts

// Add adds counts to the cell k.
func (cs Cells) Add(k CellKey, c Counts) {
	cur := cs[k]
	cur.Add(c)
	cs[k] = cur
}

// ordered lists the keys in a fixed order, response-count cells last.
func (cs Cells) ordered() []CellKey {
	keys := make([]CellKey, 0, len(cs))
	for k := range cs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		ai, aj := keys[i].Question == AllQuestions, keys[j].Question == AllQuestions
		if ai != aj {
			return aj
		}
		return keys[i].id() < keys[j].id()
	})
	return keys
}

// rollupDoc is a cell as stored.
type rollupDoc struct {
	ID        string `bson:"_id"`
	CellKey   `bson:",inline"`
	N0        int64 `bson:"n0"`
	N1        int64 `bson:"n1"`
	N2        int64 `bson:"n2"`
	N3        int64 `bson:"n3"`
	N4        int64 `bson:"n4"`
	N5        int64 `bson:"n5"`
	Responses int64 `bson:"responses"`
	Batch     int64 `bson:"batch"` // last batch applied to this cell
}

func (d rollupDoc) counts() Counts {
	return Counts{Levels: [6]int64{d.N0, d.N1, d.N2, d.N3, d.N4, d.N5}, Responses: d.Responses}
}

func newDoc(k CellKey, c Counts, batch int64) rollupDoc {
	l := c.Levels
	return rollupDoc{ID: k.id(), CellKey: k, N0: l[0], N1: l[1], N2: l[2], N3: l[3], N4: l[4], N5: l[5], Responses: c.Responses, Batch: batch}
}

// Rollups is the report roll-up collection and the state of its one writer.
type Rollups struct {
	c     *mongo.Collection
	state *mongo.Collection
}

func (s *Rollups) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c,
		index(bson.D{{Key: "survey", Value: 1}, {Key: "agency", Value: 1}, {Key: "month", Value: 1}}, false))
}

// Apply adds cells to the stored roll-ups as batch number batch. Each cell
// takes a batch once: a cell whose recorded batch is already ≥ batch is left
// alone, so replaying a batch after a crash does not count twice. Callers
// must apply batches one at a time, in increasing order (see report.Applier).
//
// The response-count cells go last, so a report read while a batch is being
// applied never counts a response whose answers are not all in.
//
// replay says the batch may have been applied in part before (a journalled
// batch taken up again): only then are the cells read, each by _id, to
// skip those that took it. A batch applied for the first time cannot have
// touched any cell, so its cost is its bulk writes alone, whatever the
// number of stored cells.
func (s *Rollups) Apply(ctx context.Context, batch int64, cells Cells, replay bool) error {
	taken := map[string]bool{}
	if replay {
		ids := make([]string, 0, len(cells))
		for k := range cells {
			ids = append(ids, k.id())
		}
		type seen struct {
			ID    string `bson:"_id"`
			Batch int64  `bson:"batch"`
		}
		had, err := byIDs[seen](ctx, s.c, ids, options.FindOne().SetProjection(bson.D{{Key: "batch", Value: 1}}))
		if err != nil {
			return fmt.Errorf("apply batch %d: read cells: %w", batch, err)
		}
		for _, h := range had {
			taken[h.ID] = h.Batch >= batch
		}
	}
	// Unordered bulk writes (answer cells, then response-count cells): a
	// round trip per bulkChunk cells instead of one per cell.
	var answers, counts []mongo.WriteModel
	for _, k := range cells.ordered() {
		if taken[k.id()] {
			continue
		}
		c := cells[k]
		l := c.Levels
		inc := bson.D{{Key: "n0", Value: l[0]}, {Key: "n1", Value: l[1]}, {Key: "n2", Value: l[2]},
			{Key: "n3", Value: l[3]}, {Key: "n4", Value: l[4]}, {Key: "n5", Value: l[5]}, {Key: "responses", Value: c.Responses}}
		m := mongo.NewUpdateOneModel().
			SetFilter(bson.D{{Key: "_id", Value: k.id()}}).
			SetUpdate(bson.D{
				{Key: "$inc", Value: inc},
				{Key: "$set", Value: bson.D{{Key: "batch", Value: batch}}},
				{Key: "$setOnInsert", Value: bson.D{{Key: "agency", Value: k.Agency}, {Key: "month", Value: k.Month},
					{Key: "survey", Value: k.Survey}, {Key: "channel", Value: k.Channel},
					{Key: "question", Value: k.Question}, {Key: "criterion", Value: k.Criterion}, {Key: "dim", Value: k.Dim}}},
			}).SetUpsert(true)
		if k.Question == AllQuestions {
			counts = append(counts, m)
		} else {
			answers = append(answers, m)
		}
	}
	for _, models := range [][]mongo.WriteModel{answers, counts} {
		if len(models) == 0 {
			continue
		}
		if err := bulkWrite(ctx, s.c, models); err != nil {
			return fmt.Errorf("apply batch %d: %w", batch, err)
		}
	}
	return nil
}

// writeErrors returns err without the bulk write errors ok accepts (nil
// when nothing else is left).
func writeErrors(err error, ok func(mongo.BulkWriteError) bool) error {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return err
	}
	for _, e := range bwe.WriteErrors {
		if !ok(e) {
			return err
		}
	}
	return nil
}

// Filter selects roll-up cells; empty fields match everything. Months are
// YYYY-MM and inclusive.
type Filter struct {
	Survey    string
	Agencies  []string
	Channel   string
	FromMonth string
	ToMonth   string
	// Procedure or Field selects that family's cells (Channel must then be
	// empty); neither selects the main family.
	Procedure, Field string
	// ProcedureFamily selects every procedure cell, for grouping by procedure.
	ProcedureFamily bool
	// WithFunnel adds the response-rate cells (FunnelSurvey) of the same
	// agencies and months to those of Survey, in the same read.
	WithFunnel bool
}

// Query returns the cells that match f.
func (s *Rollups) Query(ctx context.Context, f Filter) (Cells, error) {
	q := bson.D{}
	switch {
	case f.Survey != "" && f.WithFunnel:
		q = append(q, bson.E{Key: "survey", Value: bson.D{{Key: "$in", Value: bson.A{f.Survey, FunnelSurvey}}}})
	case f.Survey != "":
		q = append(q, bson.E{Key: "survey", Value: f.Survey})
	}
	if len(f.Agencies) > 0 {
		q = append(q, bson.E{Key: "agency", Value: bson.D{{Key: "$in", Value: f.Agencies}}})
	}
	if f.Channel != "" {
		q = append(q, bson.E{Key: "channel", Value: f.Channel})
	}
	switch {
	case f.Procedure != "":
		q = append(q, bson.E{Key: "dim", Value: "procedure:" + f.Procedure})
	case f.Field != "":
		q = append(q, bson.E{Key: "dim", Value: "field:" + f.Field})
	case f.ProcedureFamily:
		q = append(q, bson.E{Key: "dim", Value: bson.D{{Key: "$regex", Value: "^procedure:"}}})
	default: // the main family; cells written before dims existed have none
		q = append(q, bson.E{Key: "dim", Value: bson.D{{Key: "$in", Value: bson.A{nil, ""}}}})
	}
	months := bson.D{}
	if f.FromMonth != "" {
		months = append(months, bson.E{Key: "$gte", Value: f.FromMonth})
	}
	if f.ToMonth != "" {
		months = append(months, bson.E{Key: "$lte", Value: f.ToMonth})
	}
	if len(months) > 0 {
		q = append(q, bson.E{Key: "month", Value: months})
	}
	docs, err := findAll[rollupDoc](ctx, s.c, q)
	if err != nil {
		return nil, err
	}
	out := Cells{}
	for _, d := range docs {
		out.Add(d.CellKey, d.counts())
	}
	return out, nil
}

// ReplaceAll swaps every stored cell for cells, marked as batch. Reports read
// during the swap may see partial figures; it is meant for the rebuild command.
func (s *Rollups) ReplaceAll(ctx context.Context, cells Cells, batch int64) error {
	if _, err := s.c.DeleteMany(ctx, bson.D{}); err != nil {
		return fmt.Errorf("clear rollups: %w", err)
	}
	docs := make([]any, 0, len(cells))
	for k, c := range cells {
		docs = append(docs, newDoc(k, c, batch))
	}
	for len(docs) > 0 {
		n := min(len(docs), 500)
		if _, err := s.c.InsertMany(ctx, docs[:n]); err != nil {
			return fmt.Errorf("insert rollups: %w", err)
		}
		docs = docs[n:]
	}
	return nil
}

// ApplierState is the roll-up writer's journal: the last batch number and,
// while a batch is being applied, the responses in it.
type ApplierState struct {
	Batch   int64    `bson:"batch"`
	Pending []string `bson:"pending"`
	// EventsFrom and EventsTo are the ids of the first and last invitation
	// events in the batch (see Funnel), empty when it has none.
	EventsFrom string `bson:"events_from,omitempty"`
	EventsTo   string `bson:"events_to,omitempty"`
	Done       bool   `bson:"done"`
	// Funnel says the response-rate cells were built from the invitations
	// once (see report.Applier.Run): a database from before they existed
	// gets them by a rebuild at the writer's first start.
	Funnel bool `bson:"funnel"`
	// Stored says the journal was read from the database (false: a new
	// database, whose every invitation is counted as it is made).
	Stored bool `bson:"-"`
}

const stateID = "rollups"

// State returns the writer's journal; a new database starts at batch 0, done.
func (s *Rollups) State(ctx context.Context) (ApplierState, error) {
	var st ApplierState
	err := s.state.FindOne(ctx, bson.D{{Key: "_id", Value: stateID}}).Decode(&st)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ApplierState{Done: true}, nil
	}
	if err != nil {
		return st, fmt.Errorf("read rollup state: %w", err)
	}
	st.Stored = true
	return st, nil
}

// ErrLostRace means another writer moved the journal first.
var ErrLostRace = errors.New("another roll-up writer moved first")

// SaveState moves the journal from batch prev to next. It only succeeds if the
// journal is still at prev, so two writers can never both claim a batch.
func (s *Rollups) SaveState(ctx context.Context, prev int64, next ApplierState) error {
	if next.Pending == nil {
		next.Pending = []string{}
	}
	doc := bson.D{{Key: "batch", Value: next.Batch}, {Key: "pending", Value: next.Pending}, {Key: "done", Value: next.Done},
		{Key: "events_from", Value: next.EventsFrom}, {Key: "events_to", Value: next.EventsTo}, {Key: "funnel", Value: next.Funnel}}
	res, err := s.state.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: stateID}, {Key: "batch", Value: prev}},
		bson.D{{Key: "$set", Value: doc}}, options.Update().SetUpsert(prev == 0))
	if mongo.IsDuplicateKeyError(err) {
		return ErrLostRace
	}
	if err != nil {
		return fmt.Errorf("save rollup state: %w", err)
	}
	if res.MatchedCount == 0 && res.UpsertedCount == 0 {
		return ErrLostRace
	}
	return nil
}
