// Package store owns persistence: invitations, responses and report roll-ups
// in MongoDB (or the embedded FerretDB), and short-lived state — survey
// progress and locks — in Redis. Each aggregate has its own small type.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"
	"golang.org/x/sync/errgroup"
)

// ErrNotFound means the record does not exist.
var ErrNotFound = errors.New("not found")

// ErrDuplicate means a unique index refused the write: the record exists.
var ErrDuplicate = errors.New("already exists")

// Mongo is the document database and the collections the gateway uses.
type Mongo struct {
	Client      *mongo.Client
	DB          *mongo.Database
	Invitations *Invitations
	Responses   *Responses
	Rollups     *Rollups
	Comments    *Comments
	Channels    *Channels
	OptOuts     *OptOuts
	Messages    *Messages
	Transcripts *Transcripts
	Cases       *Cases
	Plans       *Plans
	Unread      *Unread
	Links       *Links
	Agencies    *Agencies
	Keys        *Keys
	Audit       *Audit
	Users       *Users
	Desks       *Desks
	Scans       *Scans
	Slips       *Slips
}

// OpenMongo connects to uri, checks the server answers and makes sure the
// indexes the gateway relies on exist.
func OpenMongo(ctx context.Context, uri, database string) (*Mongo, error) {
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).
		SetTimeout(10 * time.Second).
		SetRegistry(registry)
	c, err := mongo.Connect(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect mongo: %w", err)
	}
	if err := c.Ping(ctx, readpref.Primary()); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, fmt.Errorf("ping mongo: %w", err)
	}
	db := c.Database(database)
	journal := &Journal{c: db.Collection("rollup_state"), legacyID: "rollups"}
	m := &Mongo{
		Client:      c,
		DB:          db,
		Invitations: &Invitations{c: db.Collection("invitations"), keys: db.Collection("invitation_keys")},
		Responses:   &Responses{c: db.Collection("responses"), uncounted: db.Collection("uncounted_responses"), changes: db.Collection("response_changes"), db: db},
		Rollups: &Rollups{db: db, Journal: journal, old: db.Collection("rollups"),
			cache:   batchCache[cellEntry]{max: pageCacheCells, weigh: func(e []cellEntry) int { return len(e) }},
			ixCache: batchCache[*monthIndex]{max: indexCacheSize, weigh: func([]*monthIndex) int { return 1 }}},
		Comments: &Comments{db: db, journal: journal,
			cache: batchCache[Comment]{max: commentCacheMax, weigh: func([]Comment) int { return 1 }}},
		Channels:    &Channels{c: db.Collection("channels")},
		OptOuts:     &OptOuts{c: db.Collection("optouts")},
		Messages:    &Messages{c: db.Collection("messages")},
		Transcripts: &Transcripts{c: db.Collection("transcripts")},
		Cases:       &Cases{c: db.Collection("cases"), index: db.Collection("case_index")},
		Plans:       &Plans{c: db.Collection("plans"), index: db.Collection("plan_index")},
		Unread:      &Unread{c: db.Collection("unread_replies")},
		Links:       &Links{c: db.Collection("chat_links")},
		Agencies:    &Agencies{c: db.Collection("agencies")},
		Keys:        &Keys{c: db.Collection("api_keys")},
		Audit:       &Audit{c: db.Collection("audit")},
		Users:       &Users{c: db.Collection("users")},
		Desks:       &Desks{c: db.Collection("desks"), devices: db.Collection("kiosk_devices"), presented: db.Collection("kiosk_presented")},
		Scans:       &Scans{c: db.Collection("scans")},
		Slips:       &Slips{c: db.Collection("slips")},
	}
	for _, ix := range []interface{ ensureIndexes(context.Context) error }{m.Invitations, m.Responses, m.Rollups, m.Channels, m.OptOuts, m.Messages, m.Transcripts, m.Cases, m.Plans, m.Unread, m.Links, m.Agencies, m.Keys, m.Audit, m.Users, m.Desks, m.Scans} {
		if err := ix.ensureIndexes(ctx); err != nil {
			_ = c.Disconnect(context.Background())
			return nil, err
		}
	}
	return m, nil
}

// Ping checks that the primary answers.
func (m *Mongo) Ping(ctx context.Context) error { return m.Client.Ping(ctx, readpref.Primary()) }

// Close disconnects.
func (m *Mongo) Close(ctx context.Context) error { return m.Client.Disconnect(ctx) }

func index(keys any, unique bool) mongo.IndexModel {
	o := options.Index()
	if unique {
		o.SetUnique(true)
	}
	return mongo.IndexModel{Keys: keys, Options: o}
}

// createIndexes makes each index one call at a time: FerretDB 1.24 panics on a
// createIndexes command that lists several indexes which all exist already
// (as on every restart), while one at a time is fine on both servers.
func createIndexes(ctx context.Context, c *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := c.Indexes().CreateOne(ctx, m); err != nil {
			return fmt.Errorf("create index on %s: %w", c.Name(), err)
		}
	}
	return nil
}

// findAll runs a query and decodes every document.
func findAll[T any](ctx context.Context, c *mongo.Collection, filter any, opts ...*options.FindOptions) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts...)
	if err != nil {
		return nil, fmt.Errorf("find in %s: %w", c.Name(), err)
	}
	out := []T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read %s: %w", c.Name(), err)
	}
	return out, nil
}

// each streams the documents filter selects to fn, decoding one at a time
// (never all in memory); fn's error stops the stream.
func each[T any](ctx context.Context, c *mongo.Collection, filter bson.D, opts *options.FindOptions, fn func(*T) error) error {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return fmt.Errorf("stream %s: %w", c.Name(), err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var v T
		if err := cur.Decode(&v); err != nil {
			return fmt.Errorf("decode from %s: %w", c.Name(), err)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return cur.Err()
}

// findOne decodes the one document matching filter, or ErrNotFound.
func findOne[T any](ctx context.Context, c *mongo.Collection, filter any, opts ...*options.FindOneOptions) (*T, error) {
	var v T
	if err := c.FindOne(ctx, filter, opts...).Decode(&v); err != nil {
		return nil, notFound(err)
	}
	return &v, nil
}

// byIDs returns the documents with the given ids (those that exist), one
// find each, a few at a time. A filter on _id alone is the only one
// FerretDB's SQLite backend looks up by index; {_id: {$in: …}} reads the
// whole collection, so a batch of n ids costs n lookups instead of a scan
// that grows with the collection. On MongoDB both are index lookups.
func byIDs[T any](ctx context.Context, c *mongo.Collection, ids []string, opts ...*options.FindOneOptions) ([]T, error) {
	out := make([]*T, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range ids {
		g.Go(func() error {
			v, err := findOne[T](gctx, c, bson.D{{Key: "_id", Value: id}}, opts...)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %s %s: %w", c.Name(), id, err)
			}
			out[i] = v
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	found := make([]T, 0, len(ids))
	for _, v := range out {
		if v != nil {
			found = append(found, *v)
		}
	}
	return found, nil
}

// mapByIDs is byIDs as a map from each found document's id (id reads it).
func mapByIDs[T any](ctx context.Context, c *mongo.Collection, ids []string, id func(*T) string) (map[string]*T, error) {
	found, err := byIDs[T](ctx, c, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(found))
	for i := range found {
		out[id(&found[i])] = &found[i]
	}
	return out, nil
}

// bulkChunk bounds the statements of one bulk write command. FerretDB 1.24
// holds one SQLite connection per statement of an update command until the
// command ends, from a pool of 100: a command of 100 or more updates
// deadlocks the server for good (measured: 99 take 0.2 s, 150 never
// return).
const bulkChunk = 50

// bulkWrite runs models as unordered bulk writes of at most bulkChunk each.
func bulkWrite(ctx context.Context, c *mongo.Collection, models []mongo.WriteModel) error {
	for len(models) > 0 {
		n := min(len(models), bulkChunk)
		if _, err := c.BulkWrite(ctx, models[:n], options.BulkWrite().SetOrdered(false)); err != nil {
			return err
		}
		models = models[n:]
	}
	return nil
}

// notFound maps the driver's no-documents error to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return ErrNotFound
	}
	return err
}

// Millis truncates t to what MongoDB stores, so what we return equals what we
// read back later.
func Millis(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// vietnam is the zone months are counted in (UTC+7, no daylight saving).
var vietnam = time.FixedZone("ICT", 7*3600)

// MonthOf is t's month, YYYY-MM, in Vietnam time: the period of roll-ups.
func MonthOf(t time.Time) string { return t.In(vietnam).Format("2006-01") }

// DayOf is t's day of the month in Vietnam time, "01"…"31".
func DayOf(t time.Time) string { return t.In(vietnam).Format("02") }

// between appends a half-open time range on key (from inclusive, to
// exclusive) to q; zero bounds are left out.
func between(q bson.D, key string, from, to time.Time) bson.D {
	at := bson.D{}
	if !from.IsZero() {
		at = append(at, bson.E{Key: "$gte", Value: from})
	}
	if !to.IsZero() {
		at = append(at, bson.E{Key: "$lt", Value: to})
	}
	if len(at) > 0 {
		q = append(q, bson.E{Key: key, Value: at})
	}
	return q
}
