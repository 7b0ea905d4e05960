package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	gwconfig "github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// What the search scenarios type: a code's start, and the part from its
// middle that a day's dossiers share.
func TestSearchParts(t *testing.T) {
	for _, c := range []struct{ code, start, part string }{
		{"000.00.12.H49-261203-0042", "000.00.12.H49-261203-00", "H49-261203"},
		{"000.03.22.H49-250101-1234", "000.03.22.H49-250101-12", "H49-250101"},
		{"H49-250101-0001", "H49-250101-00", "H49-250101"},
	} {
		if got := codeStart(c.code); got != c.start {
			t.Errorf("codeStart(%q) = %q, want %q", c.code, got, c.start)
		}
		if got := codePart(c.code); got != c.part {
			t.Errorf("codePart(%q) = %q, want %q", c.code, got, c.part)
		}
	}
}

// On a filled store the search scenarios refuse to measure until the
// search index holds the filler's invitations (as after gateway
// rebuild), then every one of them finds what it looks for and sends
// requests without an error.
func TestSearchScenariosFindFilledDossiers(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Listen()
	db := g.Mongo.DB.Name()
	t.Cleanup(func() {
		_, _ = g.Mongo.Client.Database(fillProgDB).Collection("fill").DeleteOne(t.Context(), bson.D{{Key: "_id", Value: db}})
	})
	const n = 3000
	anchor, err := fill(io.Discard, g.Mongo, db, n, 2)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fillSearchable(n, 20, anchor)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	gn := &gen{targets: []string{g.URL}, key: gwtest.AdminKey, client: client, setup: client, run: "t", conns: 2}
	o := config{duration: 200 * time.Millisecond, conns: 2, search: s}
	var rs []result
	add := func(r result) { rs = append(rs, r) }
	if err := gn.searches(o, add); err == nil || !strings.Contains(err.Error(), "gateway rebuild") {
		t.Fatalf("before the index was built: %v", err)
	}
	if _, err := g.Core.IndexSearch(t.Context(), gwconfig.Defaults().Retention, true); err != nil { // as gateway rebuild does
		t.Fatal(err)
	}
	rs = nil
	if err := gn.searches(o, add); err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(searchScenarios) {
		t.Fatalf("%d results, want %d", len(rs), len(searchScenarios))
	}
	for i, r := range rs {
		if r.name != searchScenarios[i] || r.n == 0 || r.errors != 0 {
			t.Fatalf("%s: %d requests, %d errors", r.name, r.n, r.errors)
		}
	}
}
