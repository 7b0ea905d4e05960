package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

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
	c     *mongo.Collection
	cache batchCache[Comment]
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

func (s *Comments) ensureIndexes(ctx context.Context) error {
	// Reads are by _id alone; this creates the collection at start, so the
	// embedded store's _id lookup index is there from the first page.
	return createIndexes(ctx, s.c, index(bson.D{{Key: "batch", Value: 1}}, false))
}

// Apply adds comments as batch number batch; group gives each comment's
// agency its roll-up group in the comment's month (Rollups.Groups).
// Batches are applied one at a time, in increasing order.
func (s *Comments) Apply(ctx context.Context, batch int64, comments []Comment, group func(month, agency string) int) error {
	if len(comments) == 0 {
		return nil
	}
	adds := map[string][]Comment{}
	months := map[string]bool{}
	for _, c := range comments {
		month := MonthOf(c.At)
		id := commentPageID(month, group(month, c.Agency), c.At.In(vietnam).Day())
		adds[id] = append(adds[id], c)
		months[month] = true
	}
	ids := make([]string, 0, len(adds))
	for id := range adds {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	have, err := mapByIDs(ctx, s.c, ids, func(p *commentPage) string { return p.ID })
	if err != nil {
		return fmt.Errorf("apply comments of batch %d: %w", batch, err)
	}
	var models []mongo.WriteModel
	took := map[string]*commentPage{}
	for _, id := range ids {
		p := have[id]
		if p == nil {
			p = &commentPage{ID: id}
		}
		if p.Batch < batch {
			p.Comments = append(p.Comments, adds[id]...)
			p.Batch = batch
			models = append(models, mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(p).SetUpsert(true))
		}
		took[id] = p
	}
	if err := bulkWrite(ctx, s.c, models); err != nil {
		return fmt.Errorf("apply comments of batch %d: %w", batch, err)
	}
	// The index after the pages: it never names a batch a page lacks.
	for month := range months {
		var ix commentIndex
		got, err := byIDs[commentIndex](ctx, s.c, []string{monthIndexID(month)})
		if err != nil {
			return err
		}
		if len(got) == 1 {
			ix = got[0]
		}
		ix.ID = monthIndexID(month)
		for id, p := range took {
			if !strings.HasPrefix(id, month+"|") {
				continue
			}
			agencies := map[string]bool{}
			for _, c := range p.Comments {
				agencies[c.Agency] = true
			}
			names := make([]string, 0, len(agencies))
			for a := range agencies {
				names = append(names, a)
			}
			sort.Strings(names)
			i, _ := ix.setBatch(id, p.Batch)
			if i == len(ix.Agencies) {
				ix.Agencies = append(ix.Agencies, "")
			}
			ix.Agencies[i] = strings.Join(names, ",")
		}
		if _, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: ix.ID}}, ix, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("apply comments of batch %d: index %s: %w", batch, month, err)
		}
	}
	return nil
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
// months from the latest back and, within a month, days from the latest
// back, stopping once limit comments are found: the first page of a
// panel reads a few days' pages, a search a whole period's.
func (s *Comments) Newest(ctx context.Context, f CommentFilter, limit int) ([]Comment, error) {
	wanted := map[string]bool{}
	for _, a := range f.Agencies {
		wanted[a] = true
	}
	out := []Comment{}
	for month := f.ToMonth; month >= f.FromMonth && len(out) < limit; month = prevMonth(month) {
		if !f.Before.IsZero() && month > MonthOf(f.Before) {
			continue
		}
		got, err := byIDs[commentIndex](ctx, s.c, []string{monthIndexID(month)})
		if err != nil {
			return nil, err
		}
		if len(got) == 0 {
			continue
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
				if cs, ok := s.cache.get(ix.Pages[i], ix.Batches[i]); ok {
					found = append(found, cs...)
				} else {
					fetch = append(fetch, ix.Pages[i])
				}
			}
			pages, err := byIDs[commentPage](ctx, s.c, fetch)
			if err != nil {
				return nil, err
			}
			for _, p := range pages {
				s.cache.put(p.ID, p.Batch, p.Comments)
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

// ReplaceAll swaps every stored comment for comments, as batch (the
// rebuild).
func (s *Comments) ReplaceAll(ctx context.Context, batch int64, comments []Comment, group func(month, agency string) int) error {
	if _, err := s.c.DeleteMany(ctx, bson.D{}); err != nil {
		return fmt.Errorf("clear comments: %w", err)
	}
	return s.Apply(ctx, batch, comments, group)
}
