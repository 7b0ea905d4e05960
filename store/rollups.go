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

// Negated is c with every count's sign turned.
func (c Counts) Negated() Counts {
	for i := range c.Levels {
		c.Levels[i] = -c.Levels[i]
	}
	c.Responses, c.Satisfied, c.Score = -c.Responses, -c.Satisfied, -c.Score
	return c
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

// Rollups is the report roll-ups and the journal of their one writer.
//
// Cells are stored in pages, not one document per cell: each month's
// agencies are dealt into groups of up to pageAgencies, in the order the
// writer first meets them, and a page holds every cell of one group and
// month (the procedure family in a page of its own), packed in one string.
// A month's index document lists its agencies and their groups. A report
// reads the journal's current view (which names each month's index), the
// index of each month it covers, then only the pages holding its
// agencies, all by _id: the only lookup FerretDB's SQLite backend serves
// from an index. Its cost follows the months and agencies asked for, never
// the number of cells stored; one document per cell made a report read the
// whole collection there (measured: 60 µs a cell, seconds for a
// province-year). On MongoDB these are _id lookups too.
//
// Pages and indexes are never changed in place: a batch writes new
// versions ("<id>@<batch>") and the view it publishes names them (see
// Journal), so a batch cut short leaves the published figures whole, and
// a replay writes the same versions again.
type Rollups struct {
	db      *mongo.Database
	Journal *Journal
	cache   batchCache[cellEntry]
	ixCache batchCache[*monthIndex]
	// old is the one-document-per-cell collection of earlier versions,
	// dropped by the rebuild that moves a database to pages.
	old *mongo.Collection
}

// pages is the page collection of generation g.
func (s *Rollups) pages(g int) *mongo.Collection { return s.db.Collection(GenName("rollup_pages", g)) }

// pageAgencies bounds the agencies of a page. A page's main cells are at
// most surveys × channels × questions an agency (about 250); its procedure
// page holds the agency's procedures × questions (a busy department's 30
// procedures: 1,500), so 32 agencies keep pages well under a megabyte.
const pageAgencies = 32

// Layout is the roll-up layout a database is in (View.Layout): 2 =
// pages, 3 = with criterion cells, 4 = procedure summaries apart, 5 = with
// comment pages, 6 = versioned pages in generations, 7 = with the
// integrity families and the group signals' counts, 8 = the response-rate
// cells kept by the invitation's survey, 9 = with the drivers' and the
// days' families, 10 = with the reach steps (queued, reminded, opened,
// started, completed after a reminder, and sent and opened on any
// channel) and the messages' spends, counted from the invitations and
// the cost log, 11 = with the survey calls' outcomes and answers. A
// database in an older layout is rebuilt once.
const Layout = 11

func monthIndexID(month string) string { return "#month|" + month }

// verID is the id of version v of the document id.
func verID(id string, v int64) string { return id + "@" + strconv.FormatInt(v, 10) }

// ErrReplaced means a version the view names was deleted meanwhile (a
// later view replaced it): a reader reads the current view again; a
// writer that lost its lease stops there.
var ErrReplaced = errors.New("a roll-up version was replaced meanwhile")

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
	restPage             = "|r"
	dayPage              = "|d" // + the day of the month, 01…31: a batch rewrites today's alone
)

// RestDim is the Dim of the drivers' family: per agency, month and survey,
// for each question, the sums behind the correlation of its answer with
// the respondent's mean over the other questions (see RestSums).
const RestDim = "rest"

// DayDim prefixes the Dim of the days' family ("day:07"): each answer,
// topic and response counted again by the day of the month (Vietnam
// time), so a plan's before and after windows are cut at a day.
const DayDim = "day:"

// RestScale is the fixed point of the rest means in RestSums.
const RestScale = 10_000

// RestSums are the sums of a RestDim cell, kept in its Counts: over the
// respondents who answered the question (1–5) and at least one other,
// N, the sums of x (the answer), x², M (the mean of the others ×
// RestScale, rounded), M² and x·M.
type RestSums struct{ N, X, XX, M, MM, XM int64 }

// RestCounts packs r into a cell's counts.
func RestCounts(r RestSums) Counts {
	return Counts{Responses: r.N, Levels: [6]int64{r.X, r.XX, r.M, r.MM, r.XM, 0}}
}

// Rest unpacks a RestDim cell's counts.
func (c Counts) Rest() RestSums {
	return RestSums{N: c.Responses, X: c.Levels[0], XX: c.Levels[1], M: c.Levels[2], MM: c.Levels[3], XM: c.Levels[4]}
}

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
	case k.Dim == RestDim:
		return restPage
	case strings.HasPrefix(k.Dim, DayDim):
		return dayPage + strings.TrimPrefix(k.Dim, DayDim)
	}
	return mainPage
}

// summaryCell says k counts responses rather than answers to a question:
// the response count, the operator-read count or a criterion cell.
func summaryCell(k CellKey) bool {
	return k.Question == AllQuestions || k.Question == OperatorRead || strings.HasPrefix(k.Question, CriterionCell) || strings.HasPrefix(k.Question, FlagCell)
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
	// Reads are by _id alone; this makes the journal exist from the start
	// (so the embedded store's _id lookup index is there too). Page
	// collections are made by the generation that writes them: creating
	// generation 0's here would bring back, at every start, what the
	// switch to a later one dropped.
	return createIndexes(ctx, s.Journal.c, index(bson.D{{Key: "n", Value: 1}}, false))
}

// Version says where a batch's documents go: generation Gen, as version
// Batch, on top of the month indexes Parent names (month → version).
type Version struct {
	Gen    int
	Batch  int64
	Parent map[string]int64
	// Private says the generation is a rebuild's own, which no reader
	// sees until it is published and no other writer writes: its
	// documents are rewritten in place, slice after slice.
	Private bool
}

// Applied is what one batch wrote: the new version of each month's index
// it touched, and the versions it replaced.
type Applied struct {
	Months  map[string]int64
	Garbage []string
}

// Merge returns parent with the months a batch wrote.
func Merge(parent, written map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(parent)+len(written))
	for _, m := range []map[string]int64{parent, written} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Apply adds cells to the roll-ups w.Parent names, writing the pages and
// month indexes they change as version w.Batch. The work is bounded by
// the batch: the index of each month it touches, and the pages holding
// its cells. Everything it writes follows from w and cells alone, so a
// replay (after a crash, or by a writer that lost its lease) writes the
// same documents, refused as already there.
func (s *Rollups) Apply(ctx context.Context, w Version, cells Cells) (Applied, error) {
	out := Applied{Months: map[string]int64{}}
	byMonth := map[string][]string{}
	for k := range cells {
		byMonth[k.Month] = append(byMonth[k.Month], k.Agency)
	}
	months := make([]string, 0, len(byMonth))
	for m := range byMonth {
		months = append(months, m)
	}
	sort.Strings(months)
	c := s.pages(w.Gen)
	index, err := s.indexes(ctx, w.Gen, w.Parent, months, false) // placed into below: fresh copies
	if err != nil {
		return out, fmt.Errorf("apply batch %d: %w", w.Batch, err)
	}
	adds := map[string]Cells{}
	for _, m := range months {
		ix := index[m]
		if ix == nil {
			ix = &monthIndex{Agencies: []string{}, Groups: []int{}, PageBatches: PageBatches{Pages: []string{}, Batches: []int64{}}}
			index[m] = ix
		}
		ix.place(byMonth[m])
	}
	groups := map[string]map[string]int{}
	for _, m := range months {
		groups[m] = index[m].groupOf()
	}
	for k, cs := range cells {
		id := pageID(k.Month, groups[k.Month][k.Agency], pageKind(k))
		if adds[id] == nil {
			adds[id] = Cells{}
		}
		adds[id].Add(k, cs)
	}
	docs, garbage, err := s.pageVersions(ctx, w, index, adds)
	if err != nil {
		return out, fmt.Errorf("apply batch %d: %w", w.Batch, err)
	}
	if err := Write(ctx, "rollups.pages", func(ctx context.Context) error { return putVersions(ctx, c, w.Private, docs) }); err != nil {
		return out, fmt.Errorf("apply batch %d: %w", w.Batch, err)
	}
	// Then the indexes naming them: a replay finds every agency where the
	// first try put it, since it starts from the same parent.
	var ixDocs []any
	for _, m := range months {
		ix := index[m]
		if v := w.Parent[m]; v > 0 && v != w.Batch {
			garbage = append(garbage, verID(monthIndexID(m), v))
		}
		ix.ID = verID(monthIndexID(m), w.Batch)
		ixDocs = append(ixDocs, ix)
		out.Months[m] = w.Batch
	}
	if err := Write(ctx, "rollups.index", func(ctx context.Context) error { return putVersions(ctx, c, w.Private, ixDocs) }); err != nil {
		return out, fmt.Errorf("apply batch %d: month indexes: %w", w.Batch, err)
	}
	out.Garbage = garbage
	return out, nil
}

// pageVersions computes the new version of each page adds touches (its
// cells, from the version the month's index names, plus adds), records it
// in the index, and returns the documents and the versions they replace.
func (s *Rollups) pageVersions(ctx context.Context, w Version, index map[string]*monthIndex, adds map[string]Cells) (docs []any, garbage []string, err error) {
	ids, pages, err := readVersions(ctx, s.pages(w.Gen), adds, func(id string) int64 { return index[monthOfPage(id)].batchOf(id) },
		func(p *page) string { return p.ID })
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		ix := index[monthOfPage(id)]
		sum := Cells{}
		if b := ix.batchOf(id); b > 0 {
			p := pages[verID(id, b)]
			if p == nil {
				return nil, nil, fmt.Errorf("roll-up page %s: %w", verID(id, b), ErrReplaced)
			}
			if err := decodeCells(p, sum); err != nil {
				return nil, nil, err
			}
			if b != w.Batch {
				garbage = append(garbage, verID(id, b))
			}
		}
		month := ""
		for k, c := range adds[id] {
			sum.Add(k, c)
			month = k.Month
			if sum[k] == (Counts{}) {
				delete(sum, k) // a recount took all it held away
			}
		}
		docs = append(docs, page{ID: verID(id, w.Batch), Month: month, Cells: encodeCells(sum), Batch: w.Batch})
		ix.setBatch(id, w.Batch)
	}
	return docs, garbage, nil
}

// readVersions reads the version of each page of adds that version names
// (0: none yet), and returns the page ids in order and what it read, by
// versioned id.
func readVersions[P, A any](ctx context.Context, c *mongo.Collection, adds map[string]A, version func(id string) int64, idOf func(*P) string) ([]string, map[string]*P, error) {
	ids := make([]string, 0, len(adds))
	var fetch []string
	for id := range adds {
		ids = append(ids, id)
		if b := version(id); b > 0 {
			fetch = append(fetch, verID(id, b))
		}
	}
	sort.Strings(ids)
	found, err := mapByIDs(ctx, c, fetch, idOf)
	return ids, found, err
}

// monthOfPage is the month a page id (month|group…) names.
func monthOfPage(id string) string { m, _, _ := strings.Cut(id, "|"); return m }

// putVersions writes new versions: inserted once (a version already there
// is the same document, written by an earlier try), or, in a private
// generation, replaced.
func putVersions(ctx context.Context, c *mongo.Collection, private bool, docs []any) error {
	if len(docs) == 0 {
		return nil
	}
	if !private {
		for len(docs) > 0 {
			n := min(len(docs), bulkChunk)
			if _, err := insertSkippingDuplicates(ctx, c, docs[:n]); err != nil {
				return err
			}
			docs = docs[n:]
		}
		return nil
	}
	models := make([]mongo.WriteModel, len(docs))
	for i, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			return err
		}
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: bson.Raw(raw).Lookup("_id").StringValue()}}).SetReplacement(raw).SetUpsert(true)
	}
	return bulkWrite(ctx, c, models)
}

// DeleteVersions deletes versions a published view replaced.
func DeleteVersions(ctx context.Context, c *mongo.Collection, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}})
	}
	return bulkWrite(ctx, c, models)
}

// Collect deletes the versions v replaced in its generation.
func (s *Rollups) Collect(ctx context.Context, v *View) error {
	return Write(ctx, "rollups.collect", func(ctx context.Context) error { return DeleteVersions(ctx, s.pages(v.Gen), v.Garbage) })
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
	// WithFunnel adds the response-rate and case cells (IsFunnel) of the
	// same agencies and months to those of Survey, in the same read.
	// Survey FunnelSurvey selects those cells alone, of every survey.
	WithFunnel bool
	// FoldAgencies and FoldMonths add up the cells of every agency (or
	// month) into one with an empty Agency (or Month): a caller that does
	// not break figures down by them gets a few thousand cells instead of
	// a province-year's hundreds of thousands.
	FoldAgencies, FoldMonths bool
	// Standing adds the standing families' cells (flagged, confirmed and
	// cleared answers: see StandingDim) of the family selected.
	Standing bool
	// Rest selects the drivers' family (RestDim), Days the days' family
	// (DayDim), instead of the main one.
	Rest, Days bool
}

// Groups returns, for each month given, the roll-up group of each of its
// agencies in generation gen, from the month indexes versions names.
func (s *Rollups) Groups(ctx context.Context, gen int, versions map[string]int64, months []string) (map[string]map[string]int, error) {
	index, err := s.indexes(ctx, gen, versions, months, false)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int{}
	for m, ix := range index {
		out[m] = ix.groupOf()
	}
	return out, nil
}

// indexes reads the index documents of months in generation gen, at the
// versions given (a month without one has no index yet), by month.
// Readers take them cached (a version never changes); the writer, which
// places agencies into them, reads its own copies.
func (s *Rollups) indexes(ctx context.Context, gen int, versions map[string]int64, months []string, cached bool) (map[string]*monthIndex, error) {
	out := make(map[string]*monthIndex, len(months))
	var fetch []string
	for _, m := range months {
		v := versions[m]
		if v == 0 {
			continue // no index yet
		}
		if cached {
			if ix, ok := s.ixCache.get(indexCacheKey(gen, m), v); ok {
				out[m] = ix[0]
				continue
			}
		}
		fetch = append(fetch, verID(monthIndexID(m), v))
	}
	if len(fetch) == 0 {
		return out, nil
	}
	found, err := mapByIDs(ctx, s.pages(gen), fetch, func(ix *monthIndex) string { return ix.ID })
	if err != nil {
		return nil, err
	}
	if len(found) < len(fetch) {
		return nil, fmt.Errorf("roll-up month index: %w", ErrReplaced)
	}
	for _, ix := range found {
		m := monthOfIndex(ix.ID)
		out[m] = ix
		if cached {
			s.ixCache.put(indexCacheKey(gen, m), versions[m], []*monthIndex{ix}) // readers only read it
		}
	}
	return out, nil
}

func monthOfIndex(id string) string {
	month, _, _ := strings.Cut(strings.TrimPrefix(id, "#month|"), "@")
	return month
}

// indexCacheKey keys a month's index in the cache of generation gen; the
// cache keeps it under the version read (a version never changes).
func indexCacheKey(gen int, month string) string { return strconv.Itoa(gen) + "|" + month }

// keep says whether the cell k is one f selects (pages hold more).
func (f Filter) keep(k CellKey) bool {
	switch {
	case f.Survey == "":
	case k.Survey == f.Survey:
	case (f.WithFunnel || f.Survey == FunnelSurvey) && IsFunnel(k.Survey):
	default:
		return false
	}
	if f.Channel != "" && k.Channel != f.Channel && !strings.HasPrefix(k.Channel, f.Channel+".") {
		return false // a family (sms, kiosk) covers its channels (sms.esms, kiosk.quay-3…)
	}
	if f.FromMonth != "" && k.Month < f.FromMonth || f.ToMonth != "" && k.Month > f.ToMonth {
		return false
	}
	dim, status := SplitDim(k.Dim)
	if status != "" && !f.Standing {
		return false
	}
	switch {
	case f.Rest:
		return dim == RestDim
	case f.Days:
		return strings.HasPrefix(dim, DayDim)
	case f.Procedure != "":
		return dim == "procedure:"+f.Procedure
	case f.Field != "":
		return dim == "field:"+f.Field
	case f.ProcedureFamily:
		return strings.HasPrefix(dim, "procedure:")
	default:
		return dim == ""
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
	case f.Rest:
		kinds = []string{restPage}
	case f.Days:
		kinds = dayPages
	}
	return s.read(ctx, f, kinds, f.keep)
}

// All returns every stored cell, of every family (for checks).
func (s *Rollups) All(ctx context.Context) (Cells, error) {
	return s.read(ctx, Filter{}, append([]string{mainPage, procedurePage, procedureSummaryPage, fieldPage, restPage}, dayPages...), nil)
}

// dayPages are the page kinds of the days' family, one a day of the month.
var dayPages = func() []string {
	out := make([]string, 31)
	for d := range out {
		out[d] = fmt.Sprintf("%s%02d", dayPage, d+1)
	}
	return out
}()

// read reads the cells of the current view, again from a newer one if a
// version it names is replaced meanwhile.
func (s *Rollups) read(ctx context.Context, f Filter, kinds []string, keep func(CellKey) bool) (Cells, error) {
	for try := 0; ; try++ {
		v, err := s.Journal.ForReading(ctx, try)
		if err != nil {
			return nil, err
		}
		cells, err := s.readView(ctx, &v, f, kinds, keep)
		if errors.Is(err, ErrReplaced) && try < 4 {
			continue
		}
		return cells, err
	}
}

func (s *Rollups) readView(ctx context.Context, v *View, f Filter, kinds []string, keep func(CellKey) bool) (Cells, error) {
	var months []string
	for m := range v.Months {
		if (f.FromMonth == "" || m >= f.FromMonth) && (f.ToMonth == "" || m <= f.ToMonth) {
			months = append(months, m)
		}
	}
	indexes, err := s.indexes(ctx, v.Gen, v.Months, months, true)
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
	// Versions never change, so a page decoded once is good for as long
	// as the index names the same version (keyed by generation too).
	gen := strconv.Itoa(v.Gen) + "|"
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
				b := ix.batchOf(id)
				if b == 0 {
					continue // a kind of page the group has no cells of
				}
				if entries, ok := s.cache.get(gen+id, b); ok {
					add(entries)
				} else {
					fetch = append(fetch, verID(id, b))
				}
			}
		}
	}
	pages, err := byIDs[page](ctx, s.pages(v.Gen), fetch)
	if err != nil {
		return nil, err
	}
	if len(pages) < len(fetch) {
		return nil, fmt.Errorf("roll-up pages: %w", ErrReplaced)
	}
	for i := range pages {
		if err := ctx.Err(); err != nil {
			return nil, err // the client left: decoding a year's pages is most of a wide report's work
		}
		p := &pages[i]
		entries, err := decodeEntries(p)
		if err != nil {
			return nil, err
		}
		if id, _, _ := strings.Cut(p.ID, "@"); !strings.HasSuffix(id, procedurePage) {
			s.cache.put(gen+id, p.Batch, entries)
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

// indexCacheSize bounds the month indexes kept for readers: one version
// per generation and month.
const indexCacheSize = 4096
