package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the SQLite FerretDB itself links, one library per process
)

// IDLookup is the expression FerretDB 1.24's SQLite backend looks documents
// up by when a find, update or delete names one _id
// (metadata.IDColumn: `_ferretdb_sjson->'$._id'`). Its own unique _id index
// is on `_ferretdb_sjson->"_id"`, which yields the same value, but SQLite only
// matches an expression index written exactly like the query, so without a
// second index every _id lookup reads the whole table.
const IDLookup = `_ferretdb_sjson->'$._id'`

// idIndexSuffix names our index: FerretDB names its own `<table>_<mongo
// index name>`, and no Mongo index of ours is called this. The index is
// UNIQUE (_id is, and FerretDB's own index keeps it so): SQLite then knows
// FerretDB's `UPDATE … WHERE <IDLookup> = ?` and deletes by _id touch at
// most one row and runs them in one pass without a statement journal,
// which copied every page an update changed (15% of FerretDB's CPU in
// updates by _id; an update cost about 25% less without it, measured).
const idIndexSuffix = "_gateway_id_unique"

// oldIDIndexSuffix names the plain index earlier versions made: dropped
// once the unique one stands.
const oldIDIndexSuffix = "_gateway_id_lookup"

// IDIndexer keeps an index on IDLookup on every collection table of the
// FerretDB SQLite files in one folder: at start, then every interval, so a
// collection the gateway creates later (or a database) has one within that
// time. It opens the files beside FerretDB, through the same SQLite library;
// FerretDB lists only the indexes in its own metadata, so ours stays
// invisible to MongoDB clients and goes with the table when it is dropped.
type IDIndexer struct {
	dir string
	log *slog.Logger
	mu  sync.Mutex
	dbs map[string]*sql.DB // by file
}

// NewIDIndexer returns an indexer for the SQLite files in dir.
func NewIDIndexer(dir string, log *slog.Logger) *IDIndexer {
	return &IDIndexer{dir: dir, log: log, dbs: map[string]*sql.DB{}}
}

// Run indexes now and then every interval until ctx ends.
func (x *IDIndexer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := x.Ensure(ctx); err != nil && ctx.Err() == nil {
			x.log.Error("index FerretDB _id lookups; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Ensure adds the index to every collection table that lacks it and returns
// how many it added.
func (x *IDIndexer) Ensure(ctx context.Context) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	files, err := filepath.Glob(filepath.Join(x.dir, "*.sqlite"))
	if err != nil {
		return 0, err
	}
	added := 0
	for _, f := range files {
		db, err := x.open(f)
		if err != nil {
			return added, err
		}
		n, err := ensureFile(ctx, db)
		added += n
		if err != nil {
			return added, fmt.Errorf("%s: %w", filepath.Base(f), err)
		}
	}
	return added, nil
}

// Close closes the files.
func (x *IDIndexer) Close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for f, db := range x.dbs {
		_ = db.Close()
		delete(x.dbs, f)
	}
}

func (x *IDIndexer) open(file string) (*sql.DB, error) {
	if db, ok := x.dbs[file]; ok {
		return db, nil
	}
	u := "file:" + (&url.URL{Path: file}).EscapedPath() + "?_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", u)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", file, err)
	}
	db.SetMaxOpenConns(1)
	x.dbs[file] = db
	return db, nil
}

// ensureFile indexes the collection tables of one database file.
func ensureFile(ctx context.Context, db *sql.DB) (int, error) {
	tables, err := missing(ctx, db)
	if err != nil {
		return 0, err
	}
	for i, t := range tables {
		q := fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %q ON %q (%s); DROP INDEX IF EXISTS %q`,
			t+idIndexSuffix, t, IDLookup, t+oldIDIndexSuffix)
		if _, err := db.ExecContext(ctx, q); err != nil {
			if strings.Contains(err.Error(), "no such table") {
				continue // dropped meanwhile
			}
			return i, fmt.Errorf("index %s: %w", t, err)
		}
	}
	return len(tables), nil
}

// missing lists the collection tables without our index. A file FerretDB
// has not set up yet (no metadata table) has none.
func missing(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT c.table_name FROM _ferretdb_collections c
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m
		                  WHERE m.type = 'index' AND m.name = c.table_name || ?)
		  AND EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'table' AND m.name = c.table_name)`,
		idIndexSuffix)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil
		}
		return nil, fmt.Errorf("list collections: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
