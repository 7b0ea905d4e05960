package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/sipasvn/gateway/survey"
)

// Comment is a citizen's free text and what it was about, as the comments
// panel and API show it. Its text never holds a phone number: numbers are
// redacted before it is kept.
type Comment struct {
	ResponseID string    `bson:"r" json:"response_id"`
	Agency     string    `bson:"a" json:"agency_code"`
	Procedure  string    `bson:"p,omitempty" json:"procedure_code,omitempty"`
	Survey     string    `bson:"s" json:"survey"`
	Channel    string    `bson:"c" json:"channel"`
	At         time.Time `bson:"t" json:"submitted_at"`
	Text       string    `bson:"x" json:"text"`
	// Score is the response's mean over its valid answers (0: none).
	Score float64 `bson:"m" json:"mean_score"`
	// Topics are what it speaks of (survey.Lexicon), by topic id.
	Topics []survey.Topic `bson:"k,omitempty" json:"topics"`
}

// Comments keeps comments in pages by month, roll-up group (see Rollups)
// and day, written by the one roll-up writer and read by _id only: a
// panel asking for the newest reads the latest days' pages, and a search
// over a period reads that period's pages, never a scan of responses.
// A page takes a batch whole and records it, as roll-up pages do, so a
// replayed batch adds nothing twice; a day's page of 32 agencies stays
// small enough to rewrite at every batch.
type Comments struct {
	db      *mongo.Database
	journal *Journal
	cache   batchCache[Comment]
}

// pages is the comment page collection of generation g.
func (s *Comments) pages(g int) *mongo.Collection {
	return s.db.Collection(GenName("comment_pages", g))
}

// commentIndex lists a month's comment pages, the agencies in each
// (comma-separated: FerretDB stores no nested arrays) and the batch each
// took.
type commentIndex struct {
	ID          string `bson:"_id"`
	PageBatches `bson:",inline"`
	Agencies    []string `bson:"agencies"` // of each page, in the order of Pages
}

type commentPage struct {
	ID       string    `bson:"_id"`
	Batch    int64     `bson:"batch"`
	Comments []Comment `bson:"comments"`
}

func commentPageID(month string, group, day int) string {
	return fmt.Sprintf("%s|%d|%02d", month, group, day)
}

// pageDay is the day of month a page id names.
func pageDay(id string) int {
	d, _ := strconv.Atoi(id[strings.LastIndexByte(id, '|')+1:])
	return d
}

// Apply adds comments to the comment pages w.Parent names (month →
// version of its comment index), writing the pages and indexes they
// change as version w.Batch, as Rollups.Apply does; group gives each
// comment's agency its roll-up group in the comment's month.
func (s *Comments) Apply(ctx context.Context, w Version, comments []Comment, group func(month, agency string) int) (Applied, error) {
	out := Applied{Months: map[string]int64{}}
	if len(comments) == 0 {
		return out, nil
	}
	c := s.pages(w.Gen)
	adds := map[string][]Comment{}
	months := map[string]bool{}
	for _, cm := range comments {
		month := MonthOf(cm.At)
		id := commentPageID(month, group(month, cm.Agency), cm.At.In(vietnam).Day())
		adds[id] = append(adds[id], cm)
		months[month] = true
	}
	index := map[string]*commentIndex{}
	var ixIDs []string
	for m := range months {
		if v := w.Parent[m]; v > 0 {
			ixIDs = append(ixIDs, verID(monthIndexID(m), v))
		}
	}
	got, err := byIDs[commentIndex](ctx, c, ixIDs)
	if err != nil {
		return out, fmt.Errorf("apply comments of batch %d: %w", w.Batch, err)
	}
	if len(got) < len(ixIDs) {
		return out, fmt.Errorf("apply comments of batch %d: %w", w.Batch, ErrReplaced)
	}
	for i := range got {
		month, _, _ := strings.Cut(strings.TrimPrefix(got[i].ID, "#month|"), "@")
		index[month] = &got[i]
	}
	for m := range months {
		if index[m] == nil {
			index[m] = &commentIndex{}
		}
	}
	docs, garbage, err := s.pageVersions(ctx, w, index, adds)
	if err != nil {
		return out, fmt.Errorf("apply comments of batch %d: %w", w.Batch, err)
	}
	if err := Write(ctx, "comments.pages", func(ctx context.Context) error { return putVersions(ctx, c, w.Private, docs) }); err != nil {
		return out, fmt.Errorf("apply comments of batch %d: %w", w.Batch, err)
	}
	// The indexes after the pages: an index never names a page not there.
	var ixDocs []any
	for m := range months {
		if v := w.Parent[m]; v > 0 && v != w.Batch {
			garbage = append(garbage, verID(monthIndexID(m), v))
		}
		index[m].ID = verID(monthIndexID(m), w.Batch)
		ixDocs = append(ixDocs, index[m])
		out.Months[m] = w.Batch
	}
	if err := Write(ctx, "comments.index", func(ctx context.Context) error { return putVersions(ctx, c, w.Private, ixDocs) }); err != nil {
		return out, fmt.Errorf("apply comments of batch %d: indexes: %w", w.Batch, err)
	}
	out.Garbage = garbage
	return out, nil
}

// pageVersions computes the new version of each page adds touches and
// records it, with the agencies it holds, in its month's index.
func (s *Comments) pageVersions(ctx context.Context, w Version, index map[string]*commentIndex, adds map[string][]Comment) (docs []any, garbage []string, err error) {
	ids, have, err := readVersions(ctx, s.pages(w.Gen), adds, func(id string) int64 { return index[monthOfPage(id)].batchOf(id) },
		func(p *commentPage) string { return p.ID })
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		ix := index[monthOfPage(id)]
		p := &commentPage{}
		if b := ix.batchOf(id); b > 0 {
			if p = have[verID(id, b)]; p == nil {
				return nil, nil, fmt.Errorf("comment page %s: %w", verID(id, b), ErrReplaced)
			}
			if b != w.Batch {
				garbage = append(garbage, verID(id, b))
			}
		}
		p.ID, p.Batch = verID(id, w.Batch), w.Batch
		p.Comments = append(p.Comments, adds[id]...)
		docs = append(docs, p)
		agencies := map[string]bool{}
		for _, c := range p.Comments {
			agencies[c.Agency] = true
		}
		names := make([]string, 0, len(agencies))
		for a := range agencies {
			names = append(names, a)
		}
		sort.Strings(names)
		i, _ := ix.setBatch(id, w.Batch)
		if i == len(ix.Agencies) {
			ix.Agencies = append(ix.Agencies, "")
		}
		ix.Agencies[i] = strings.Join(names, ",")
	}
	return docs, garbage, nil
}

// Collect deletes the versions v replaced in its generation.
func (s *Comments) Collect(ctx context.Context, v *View) error {
	return Write(ctx, "comments.collect", func(ctx context.Context) error { return DeleteVersions(ctx, s.pages(v.Gen), v.CommentGarbage) })
}

// CommentFilter selects comments; empty fields match all.
type CommentFilter struct {
	Agencies []string // any of these (a subtree)
	// Months are YYYY-MM, inclusive; both are needed (the caller bounds
	// the period it reads).
	FromMonth, ToMonth string
	// Before, when set, takes only comments older than it (the next page
	// of a newest-first list).
	Before time.Time
	// Keep, when set, accepts or refuses each comment (channel, score
	// band, text search).
	Keep func(*Comment) bool
}

// Newest returns up to limit comments f selects, newest first. It reads
// the months that have comments from the latest back and, within a month,
// days from the latest back, stopping once limit comments are found: the
// first page of a panel reads a few days' pages, a search a whole
// period's. A version replaced meanwhile makes it read the new view.
func (s *Comments) Newest(ctx context.Context, f CommentFilter, limit int) ([]Comment, error) {
	for try := 0; ; try++ {
		v, err := s.journal.ForReading(ctx, try)
		if err != nil {
			return nil, err
		}
		out, err := s.newest(ctx, &v, f, limit)
		if errors.Is(err, ErrReplaced) && try < 4 {
			continue
		}
		return out, err
	}
}

func (s *Comments) newest(ctx context.Context, v *View, f CommentFilter, limit int) ([]Comment, error) {
	wanted := map[string]bool{}
	for _, a := range f.Agencies {
		wanted[a] = true
	}
	var months []string
	for m := range v.Comments {
		if m >= f.FromMonth && m <= f.ToMonth && (f.Before.IsZero() || m <= MonthOf(f.Before)) {
			months = append(months, m)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(months)))
	gen := strconv.Itoa(v.Gen) + "|"
	out := []Comment{}
	for _, month := range months {
		if len(out) >= limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		got, err := byIDs[commentIndex](ctx, s.pages(v.Gen), []string{verID(monthIndexID(month), v.Comments[month])})
		if err != nil {
			return nil, err
		}
		if len(got) == 0 {
			return nil, fmt.Errorf("comment index %s: %w", month, ErrReplaced)
		}
		ix := got[0]
		byDay := map[int][]int{} // day → positions in the index
		for i, id := range ix.Pages {
			if len(wanted) > 0 && !anyOf(strings.Split(ix.Agencies[i], ","), wanted) {
				continue
			}
			byDay[pageDay(id)] = append(byDay[pageDay(id)], i)
		}
		for day := 31; day >= 1 && len(out) < limit; day-- {
			pos := byDay[day]
			if len(pos) == 0 {
				continue
			}
			var fetch []string
			var found []Comment
			for _, i := range pos {
				if cs, ok := s.cache.get(gen+ix.Pages[i], ix.Batches[i]); ok {
					found = append(found, cs...)
				} else {
					fetch = append(fetch, verID(ix.Pages[i], ix.Batches[i]))
				}
			}
			pages, err := byIDs[commentPage](ctx, s.pages(v.Gen), fetch)
			if err != nil {
				return nil, err
			}
			if len(pages) < len(fetch) {
				return nil, fmt.Errorf("comment pages of %s: %w", month, ErrReplaced)
			}
			for _, p := range pages {
				id, _, _ := strings.Cut(p.ID, "@")
				s.cache.put(gen+id, p.Batch, p.Comments)
				found = append(found, p.Comments...)
			}
			for i := range found {
				c := &found[i]
				if (len(wanted) == 0 || wanted[c.Agency]) && (f.Before.IsZero() || c.At.Before(f.Before)) && (f.Keep == nil || f.Keep(c)) {
					out = append(out, *c)
				}
			}
		}
	}
	// A day's pages hold several groups: sort, then cut. Whole days are
	// read, so nothing newer than the last one kept was left out.
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.After(out[j].At)
		}
		return out[i].ResponseID > out[j].ResponseID
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// commentCacheMax bounds the comment pages kept decoded in the process.
const commentCacheMax = 2000

func anyOf(xs []string, set map[string]bool) bool {
	for _, x := range xs {
		if set[x] {
			return true
		}
	}
	return false
}

// prevMonth is the month before m (YYYY-MM).
func prevMonth(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return ""
	}
	return t.AddDate(0, -1, 0).Format("2006-01")
}
