package embedded

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// plan is SQLite's plan for the statement FerretDB runs to find one
// document by _id (internal/backends/sqlite/collection.go, Query).
//
// EXPLAIN compiles against the schema the connection last read, and only a
// statement that reads a table checks whether another connection changed
// it (then it is compiled again, as FerretDB's own queries are): one such
// read goes first.
func plan(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	if _, err := db.Exec(`SELECT count(*) FROM "` + table + `" WHERE 0`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "`+table+`" WHERE `+IDLookup+` = ?`, `"x"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; ")
}

// opcodes is the program SQLite compiles for the statement FerretDB runs
// to update one document by _id (collection.go, UpdateAll).
func opcodes(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	if _, err := db.Exec(`SELECT count(*) FROM "` + table + `" WHERE 0`); err != nil { // see plan
		t.Fatal(err)
	}
	rows, err := db.Query(`EXPLAIN UPDATE "`+table+`" SET _ferretdb_sjson = ? WHERE `+IDLookup+` = ?`, `{}`, `"x"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ops []string
	for rows.Next() {
		var addr, p1, p2, p3 int
		var op string
		var p4, p5, comment any
		if err := rows.Scan(&addr, &op, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, op)
	}
	return strings.Join(ops, " ")
}

func TestFindByIDSearchesAnIndex(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	uri, stop, err := StartMongo(dir, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	things := client.Database("sipas").Collection("things")
	docs := []any{}
	for i := range 500 {
		docs = append(docs, bson.D{{Key: "_id", Value: "id-" + string(rune('a'+i%26)) + time.Duration(i).String()}, {Key: "n", Value: i}})
	}
	if _, err := things.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}

	ix := NewIDIndexer(filepath.Join(dir, "ferretdb"), log)
	defer ix.Close()
	if _, err := ix.Ensure(ctx); err != nil { // the running indexer may have been first
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "ferretdb", "sipas.sqlite")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'things'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, db, table); !strings.Contains(p, "USING INDEX "+table+idIndexSuffix) {
		t.Fatalf("find by _id: plan %q, want a search of %s", p, table+idIndexSuffix)
	}

	// Being unique, it lets SQLite update one document by _id in one pass,
	// without first gathering the rows in a table of their own (and a
	// statement journal, as for a write of several rows).
	if ops := opcodes(t, db, table); strings.Contains(ops, "OpenEphemeral") {
		t.Fatalf("update by _id gathers rows first: %s", ops)
	}

	// Without our index, FerretDB's own _id index does not serve its query.
	if _, err := db.Exec(`DROP INDEX "` + table + idIndexSuffix + `"`); err != nil {
		t.Fatal(err)
	}
	if p := plan(t, db, table); !strings.HasPrefix(p, "SCAN") {
		t.Fatalf("without our index the plan is %q, want a scan (FerretDB changed its lookup?)", p)
	}
	// The plain index earlier versions made serves it, in two passes; Ensure
	// replaces it with the unique one.
	if _, err := db.Exec(`CREATE INDEX "` + table + oldIDIndexSuffix + `" ON "` + table + `" (` + IDLookup + `)`); err != nil {
		t.Fatal(err)
	}
	if ops := opcodes(t, db, table); !strings.Contains(ops, "OpenEphemeral") {
		t.Fatalf("update by _id through a plain index: %s, want two passes (did SQLite change?)", ops)
	}
	if n, err := ix.Ensure(ctx); err != nil || n != 1 {
		t.Fatalf("Ensure after the index was dropped: added %d, %v; want 1", n, err)
	}
	if p := plan(t, db, table); !strings.Contains(p, "USING INDEX "+table+idIndexSuffix) {
		t.Fatalf("after Ensure: plan %q", p)
	}
	var old int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = ?`, table+oldIDIndexSuffix).Scan(&old); err != nil || old != 0 {
		t.Fatalf("the plain index is still there (%d, %v)", old, err)
	}

	// FerretDB still answers right through it, and lists only its own indexes.
	var got bson.M
	want := docs[123].(bson.D)[0].Value
	if err := things.FindOne(ctx, bson.D{{Key: "_id", Value: want}}).Decode(&got); err != nil || got["n"] != int32(123) {
		t.Fatalf("find by _id: %v %v", got, err)
	}
	if _, err := things.UpdateOne(ctx, bson.D{{Key: "_id", Value: want}}, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: -1}}}}); err != nil {
		t.Fatal(err)
	}
	if err := things.FindOne(ctx, bson.D{{Key: "_id", Value: want}}).Decode(&got); err != nil || got["n"] != int32(-1) {
		t.Fatalf("after update: %v %v", got, err)
	}
	specs, err := things.Indexes().ListSpecifications(ctx)
	if err != nil || len(specs) != 1 || specs[0].Name != "_id_" {
		t.Fatalf("indexes seen by clients: %v %v", specs, err)
	}

	// A collection made later is indexed by the running indexer.
	if _, err := client.Database("sipas").Collection("later").InsertOne(ctx, bson.D{{Key: "_id", Value: "x"}}); err != nil {
		t.Fatal(err)
	}
	var later string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'later'`).Scan(&later); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * IndexEvery)
	for !strings.Contains(plan(t, db, later), "USING INDEX") {
		if time.Now().After(deadline) {
			t.Fatalf("a new collection got no index within %s", 10*IndexEvery)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
