package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
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

// CriterionCell prefixes the question of the cells that weigh each
// response once per criterion ("@A"): the cross-form view reads them.
const CriterionCell = "@"

// TopicCell prefixes the question of the cells that count comments by
// topic and polarity: "#topic:waiting:complaint".
const TopicCell = "#topic:"

// CriterionScale is what criterion cells multiply shares and mean scores
// by: the least common multiple of 1…12, so a criterion of up to 12
// indicators keeps them exact in integers.
const CriterionScale = 27720

// Counts holds how many answers gave each level (index 0 = no opinion) and,
// on the AllQuestions cell, how many responses there were. On a criterion
// cell, Responses counts the responses with a valid answer in the
// criterion, Satisfied sums each one's share of those answers at 4 or 5,
// and Score each one's mean score, both × CriterionScale.
type Counts struct {
	Levels           [6]int64
	Responses        int64
	Satisfied, Score int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	for i := range c.Levels {
		c.Levels[i] += o.Levels[i]
	}
	c.Responses += o.Responses
	c.Satisfied += o.Satisfied
	c.Score += o.Score
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

// Rollups is the report roll-up collection and the state of its one writer.
//
// Cells are stored in pages, not one document per cell: each month's
// agencies are dealt into groups of up to pageAgencies, in the order the
// writer first meets them, and a page holds every cell of one group and
// month (the procedure family in a page of its own), packed in one string.
// A month's index document lists its agencies and their groups. A report
// reads the index of each month it covers, then only the pages holding its
// agencies, all by _id: the only lookup FerretDB's SQLite backend serves
// from an index. Its cost follows the months and agencies asked for, never
// the number of cells stored; one document per cell made a report read the
// whole collection there (measured: 60 µs a cell, seconds for a
// province-year). On MongoDB these are _id lookups too.
type Rollups struct {
	c     *mongo.Collection
	state *mongo.Collection
	cache batchCache[cellEntry]
	// old is the one-document-per-cell collection of earlier versions,
	// dropped by the rebuild that moves a database to pages.
	old *mongo.Collection
}

// pageAgencies bounds the agencies of a page. A page's main cells are at
// most surveys × channels × questions an agency (about 250); its procedure
// page holds the agency's procedures × questions (a busy department's 30
// procedures: 1,500), so 32 agencies keep pages well under a megabyte.
const pageAgencies = 32

// Layout is the roll-up layout a database is in (ApplierState.Layout):
// 2 = pages, 3 = with criterion cells, 4 = procedure summaries apart,
// 5 = with comment pages. A database in an older layout is rebuilt once.
const Layout = 5

const monthsID = "#months"

func monthIndexID(month string) string { return "#month|" + month }

// Page kinds: the main family (with the response-rate cells), and the
// procedure and field families, each in pages of their own so a report
// reads only the family it asks for. The procedure family, the largest,
// is split once more: its response counts and criterion cells (all the
// cross-form view reads, a quarter of the lines) apart from its
// per-question cells.
const (
	mainPage             = ""
	procedurePage        = "|p"
	procedureSummaryPage = "|ps"
	fieldPage            = "|f"
)

func pageID(month string, group int, kind string) string {
	return month + "|" + strconv.Itoa(group) + kind
}

func pageKind(k CellKey) string {
	switch {
	case strings.HasPrefix(k.Dim, "procedure:") && summaryCell(k):
		return procedureSummaryPage
	case strings.HasPrefix(k.Dim, "procedure:"):
		return procedurePage
	case strings.HasPrefix(k.Dim, "field:"):
		return fieldPage
	}
	return mainPage
}

// summaryCell says k counts responses rather than answers to a question:
// the response count, the operator-read count or a criterion cell.
func summaryCell(k CellKey) bool {
	return k.Question == AllQuestions || k.Question == OperatorRead || strings.HasPrefix(k.Question, CriterionCell)
}

// page is a group's cells of one month.
type page struct {
	ID    string `bson:"_id"`
	Month string `bson:"month"`
	// Cells holds one line per cell: agency, survey, channel, question,
	// criterion and dim, then n0…n5 and responses (and on criterion cells
	// satisfied and score), tab-separated.
	Cells string `bson:"cells"`
	Batch int64  `bson:"batch"` // the last batch applied to the page
}

// monthIndex lists a month's agencies and the group of each, and the last
// batch each of its pages took (so a reader knows which pages it holds
// already without reading them).
type monthIndex struct {
	ID          string   `bson:"_id"`
	Agencies    []string `bson:"agencies"`
	Groups      []int    `bson:"groups"`
	PageBatches `bson:",inline"`
}

func (ix *monthIndex) groupOf() map[string]int {
	g := make(map[string]int, len(ix.Agencies))
	for i, a := range ix.Agencies {
		if i < len(ix.Groups) {
			g[a] = ix.Groups[i]
		}
	}
	return g
}

// place gives agencies the index has not met a group: the last one while it
// has room, then a new one. Sorted first, so a replayed batch places them
// the same way.
func (ix *monthIndex) place(agencies []string) bool {
	have := ix.groupOf()
	var fresh []string
	for _, a := range agencies {
		if _, ok := have[a]; !ok {
			have[a] = -1
			fresh = append(fresh, a)
		}
	}
	sort.Strings(fresh)
	for _, a := range fresh {
		g, n := 0, 0
		if len(ix.Groups) > 0 {
			g = ix.Groups[len(ix.Groups)-1]
			for _, x := range ix.Groups {
				if x == g {
					n++
				}
			}
		}
		if n >= pageAgencies {
			g++
		}
		ix.Agencies = append(ix.Agencies, a)
		ix.Groups = append(ix.Groups, g)
	}
	return len(fresh) > 0
}

// cleaner keeps a cell's fields on one line of one column; the gateway's
// codes never hold tabs or line breaks, so it only guards the format.
var cleaner = strings.NewReplacer("\t", " ", "\n", " ")

func encodeCells(cs Cells) string {
	var b strings.Builder
	for _, k := range cs.ordered() {
		c := cs[k]
		for _, f := range []string{k.Agency, k.Survey, k.Channel, k.Question, k.Criterion, k.Dim} {
			b.WriteString(cleaner.Replace(f))
			b.WriteByte('\t')
		}
		for _, n := range c.Levels {
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteByte('\t')
		}
		b.WriteString(strconv.FormatInt(c.Responses, 10))
		if c.Satisfied != 0 || c.Score != 0 {
			b.WriteByte('\t')
			b.WriteString(strconv.FormatInt(c.Satisfied, 10))
			b.WriteByte('\t')
			b.WriteString(strconv.FormatInt(c.Score, 10))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// decodeCells adds the cells of p to out.
func decodeCells(p *page, out Cells) error {
	entries, err := decodeEntries(p)
	for _, e := range entries {
		out.Add(e.k, e.c)
	}
	return err
}

// decodeEntries parses p's cells in place (the keys' strings share the
// page's): a province-year's procedure family is hundreds of thousands of
// lines.
func decodeEntries(p *page) ([]cellEntry, error) {
	s := p.Cells
	out := make([]cellEntry, 0, strings.Count(s, "\n"))
	var f [15]string
	for s != "" {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		n := 0
		for n < 14 {
			i := strings.IndexByte(line, '\t')
			if i < 0 {
				break
			}
			f[n], line = line[:i], line[i+1:]
			n++
		}
		f[n] = line
		if n != 12 && n != 14 { // criterion cells carry two more numbers
			return nil, fmt.Errorf("roll-up page %s: a line with %d fields", p.ID, n+1)
		}
		k := CellKey{Agency: f[0], Month: p.Month, Survey: f[1], Channel: f[2], Question: f[3], Criterion: f[4], Dim: f[5]}
		var c Counts
		for i := 0; i < n-5; i++ {
			v, err := strconv.ParseInt(f[6+i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("roll-up page %s: %w", p.ID, err)
			}
			switch {
			case i < 6:
				c.Levels[i] = v
			case i == 6:
				c.Responses = v
			case i == 7:
				c.Satisfied = v
			default:
				c.Score = v
			}
		}
		out = append(out, cellEntry{k, c})
	}
	return out, nil
}

func (s *Rollups) ensureIndexes(ctx context.Context) error {
	// Reads are by _id alone; this index makes the collection exist from
	// the start (so the embedded store's _id lookup index is there too) and
	// serves the rebuild's clean-up on MongoDB.
	return createIndexes(ctx, s.c, index(bson.D{{Key: "month", Value: 1}}, false))
}

// Apply adds cells to the stored roll-ups as batch number batch. Callers
// must apply batches one at a time, in increasing order (see report.Applier).
// A page takes a batch whole, in one write, and records it: a page that took
// the batch already (a journalled batch replayed after a crash) is left
// alone, so nothing counts twice. The work is bounded by the batch: the
// index of each month it touches, and the pages holding its cells.
func (s *Rollups) Apply(ctx context.Context, batch int64, cells Cells) error {
	byMonth := map[string][]string{}
	for k := range cells {
		byMonth[k.Month] = append(byMonth[k.Month], k.Agency)
	}
	months := make([]string, 0, len(byMonth))
	for m := range byMonth {
		months = append(months, m)
	}
	sort.Strings(months)
	index, err := s.monthIndexes(ctx, months)
	if err != nil {
		return fmt.Errorf("apply batch %d: %w", batch, err)
	}
	// The indexes are written before the pages: a replay finds every
	// agency where the first try put it.
	var newMonths []any
	for _, m := range months {
		ix := index[m]
		if ix == nil {
			ix = &monthIndex{ID: monthIndexID(m), Agencies: []string{}, Groups: []int{}, PageBatches: PageBatches{Pages: []string{}, Batches: []int64{}}}
			index[m] = ix
			newMonths = append(newMonths, m)
		}
		if !ix.place(byMonth[m]) {
			continue
		}
		if _, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: ix.ID}}, ix, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("apply batch %d: month index %s: %w", batch, m, err)
		}
	}
	if len(newMonths) > 0 {
		if _, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: monthsID}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "months", Value: bson.D{{Key: "$each", Value: newMonths}}}}}},
			options.Update().SetUpsert(true)); err != nil {
			return fmt.Errorf("apply batch %d: list months: %w", batch, err)
		}
	}
	adds := map[string]Cells{}
	groups := map[string]map[string]int{}
	for k, c := range cells {
		g := groups[k.Month]
		if g == nil {
			g = index[k.Month].groupOf()
			groups[k.Month] = g
		}
		id := pageID(k.Month, g[k.Agency], pageKind(k))
		if adds[id] == nil {
			adds[id] = Cells{}
		}
		adds[id].Add(k, c)
	}
	ids := make([]string, 0, len(adds))
	for id := range adds {
		ids = append(ids, id)
	}
	pages, err := mapByIDs(ctx, s.c, ids, func(p *page) string { return p.ID })
	if err != nil {
		return fmt.Errorf("apply batch %d: %w", batch, err)
	}
	var models []mongo.WriteModel
	took := map[string]int64{} // the batch each page holds once this one is in
	for _, id := range ids {
		p := pages[id]
		if p != nil && p.Batch >= batch {
			took[id] = p.Batch
			continue
		}
		took[id] = batch
		sum := Cells{}
		if p != nil {
			if err := decodeCells(p, sum); err != nil {
				return err
			}
		}
		month := ""
		for k, c := range adds[id] {
			sum.Add(k, c)
			month = k.Month
		}
		doc := page{ID: id, Month: month, Cells: encodeCells(sum), Batch: batch}
		models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(doc).SetUpsert(true))
	}
	if err := bulkWrite(ctx, s.c, models); err != nil {
		return fmt.Errorf("apply batch %d: %w", batch, err)
	}
	// Then the pages' batches in their month's index, after the pages
	// themselves: an index never names a batch its page has not taken.
	for _, m := range months {
		ix, changed := index[m], false
		for id, b := range took {
			if strings.HasPrefix(id, m+"|") {
				_, ch := ix.setBatch(id, b)
				changed = changed || ch
			}
		}
		if !changed {
			continue
		}
		if _, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: ix.ID}}, ix, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("apply batch %d: month index %s: %w", batch, m, err)
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
	// FoldAgencies and FoldMonths add up the cells of every agency (or
	// month) into one with an empty Agency (or Month): a caller that does
	// not break figures down by them gets a few thousand cells instead of
	// a province-year's hundreds of thousands.
	FoldAgencies, FoldMonths bool
}

// Groups returns, for each month given, the roll-up group of each of its
// agencies (from the month indexes, by _id).
func (s *Rollups) Groups(ctx context.Context, months []string) (map[string]map[string]int, error) {
	index, err := s.monthIndexes(ctx, months)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for m, ix := range index {
		out[m] = ix.groupOf()
	}
	return out, nil
}

// monthIndexes reads the index documents of months (those that exist), by
// month.
func (s *Rollups) monthIndexes(ctx context.Context, months []string) (map[string]*monthIndex, error) {
	ids := make([]string, len(months))
	for i, m := range months {
		ids[i] = monthIndexID(m)
	}
	return mapByIDs(ctx, s.c, ids, func(ix *monthIndex) string { return strings.TrimPrefix(ix.ID, "#month|") })
}

// keep says whether the cell k is one f selects (pages hold more).
func (f Filter) keep(k CellKey) bool {
	switch {
	case f.Survey == "":
	case k.Survey == f.Survey:
	case f.WithFunnel && k.Survey == FunnelSurvey:
	default:
		return false
	}
	if f.Channel != "" && k.Channel != f.Channel && !strings.HasPrefix(k.Channel, f.Channel+".") {
		return false // a family (sms, kiosk) covers its channels (sms.esms, kiosk.quay-3…)
	}
	if f.FromMonth != "" && k.Month < f.FromMonth || f.ToMonth != "" && k.Month > f.ToMonth {
		return false
	}
	switch {
	case f.Procedure != "":
		return k.Dim == "procedure:"+f.Procedure
	case f.Field != "":
		return k.Dim == "field:"+f.Field
	case f.ProcedureFamily:
		return strings.HasPrefix(k.Dim, "procedure:")
	default:
		return k.Dim == ""
	}
}

// Query returns the cells that match f: the month list, the index of each
// month in f's range, then the pages holding f's agencies, all read by _id.
func (s *Rollups) Query(ctx context.Context, f Filter) (Cells, error) {
	kinds := []string{mainPage}
	switch {
	case (f.Procedure != "" || f.ProcedureFamily) && f.Survey == "":
		kinds = []string{procedureSummaryPage} // the cross-form view reads no question cells
	case f.Procedure != "" || f.ProcedureFamily:
		kinds = []string{procedureSummaryPage, procedurePage}
	case f.Field != "":
		kinds = []string{fieldPage}
	}
	return s.read(ctx, f, kinds, f.keep)
}

// All returns every stored cell, of every family (for checks).
func (s *Rollups) All(ctx context.Context) (Cells, error) {
	return s.read(ctx, Filter{}, []string{mainPage, procedurePage, procedureSummaryPage, fieldPage}, nil)
}

func (s *Rollups) read(ctx context.Context, f Filter, kinds []string, keep func(CellKey) bool) (Cells, error) {
	var list struct {
		Months []string `bson:"months"`
	}
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: monthsID}}).Decode(&list)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return Cells{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read roll-up months: %w", err)
	}
	var months []string
	for _, m := range list.Months {
		if (f.FromMonth == "" || m >= f.FromMonth) && (f.ToMonth == "" || m <= f.ToMonth) {
			months = append(months, m)
		}
	}
	indexes, err := s.monthIndexes(ctx, months)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, a := range f.Agencies {
		wanted[a] = true
	}
	out := Cells{}
	add := func(entries []cellEntry) {
		for _, e := range entries {
			if (len(wanted) == 0 || wanted[e.k.Agency]) && (keep == nil || keep(e.k)) {
				k := e.k
				if f.FoldAgencies {
					k.Agency = ""
				}
				if f.FoldMonths {
					k.Month = ""
				}
				out.Add(k, e.c)
			}
		}
	}
	var fetch []string
	for month, ix := range indexes {
		seen := map[int]bool{}
		for a, g := range ix.groupOf() {
			if seen[g] || len(wanted) > 0 && !wanted[a] {
				continue
			}
			seen[g] = true
			for _, kind := range kinds {
				id := pageID(month, g, kind)
				if entries, ok := s.cache.get(id, ix.batchOf(id)); ok {
					add(entries)
				} else {
					fetch = append(fetch, id)
				}
			}
		}
	}
	pages, err := byIDs[page](ctx, s.c, fetch)
	if err != nil {
		return nil, err
	}
	for i := range pages {
		p := &pages[i]
		entries, err := decodeEntries(p)
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(p.ID, procedurePage) {
			s.cache.put(p.ID, p.Batch, entries)
		}
		add(entries)
	}
	return out, nil
}

// cellEntry is one decoded cell of a page.
type cellEntry struct {
	k CellKey
	c Counts
}

// pageCacheCells bounds the roll-up cells kept decoded (some 150 bytes
// each): a province's main and field families for several years. The
// procedure family's per-question pages, the largest, are not kept.
const pageCacheCells = 400_000

// Clear deletes every stored cell and the one-document-per-cell collection
// of earlier versions, before a rebuild applies them again. Reports read
// meanwhile see partial figures.
func (s *Rollups) Clear(ctx context.Context) error {
	if _, err := s.c.DeleteMany(ctx, bson.D{}); err != nil {
		return fmt.Errorf("clear rollups: %w", err)
	}
	if s.old != nil {
		if err := s.old.Drop(ctx); err != nil {
			return fmt.Errorf("drop the old roll-ups: %w", err)
		}
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
	// Layout is the roll-up layout the database is in (see Layout): a
	// database from before the current one is rebuilt at the writer's
	// first start (see report.Applier.Run).
	Layout int `bson:"layout"`
	// Lexicon is the version of the comment-topic lexicon the topic cells
	// and comment pages were classified with; another one at start
	// rebuilds them once.
	Lexicon string `bson:"lexicon"`
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
		{Key: "events_from", Value: next.EventsFrom}, {Key: "events_to", Value: next.EventsTo}, {Key: "layout", Value: next.Layout}, {Key: "lexicon", Value: next.Lexicon}}
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
