package server_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A comment a spreadsheet would run as a formula reaches the CSV as text.
func TestCSVCellsAreNeverFormulas(t *testing.T) {
	g := gwtest.New(t, "")
	for i, comment := range []string{"=cmd|'/C calc'!A0", "+SUM(1,2)", "-2+3", "@A1", "\tx", "bình thường"} {
		tok := gwtest.Token(g.Invite("D-CSV-"+string(rune('a'+i)), "000.00.12.H49", map[string]any{"survey": "overall"}))
		if res := g.Form("/s/"+tok, "O=4&comment="+url.QueryEscape(comment)); res.StatusCode != 303 {
			t.Fatalf("submit %q: %d %s", comment, res.StatusCode, gwtest.Body(res))
		}
	}
	g.Drain()
	_, _, body := get(g, gwtest.AdminKey, "/api/v1/responses?survey=overall&format=csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 7 {
		t.Fatalf("%v %v", rows, err)
	}
	col := len(rows[0]) - 3 // comment, entered_by, citizen_text
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[col]] = true
	}
	for _, want := range []string{"'=cmd|'/C calc'!A0", "'+SUM(1,2)", "'-2+3", "'@A1", "bình thường"} {
		if !seen[want] {
			t.Errorf("no cell %q in %v", want, seen)
		}
	}
	for c := range seen {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Errorf("a cell starts a formula: %q", c)
		}
	}
}

// An export that fails half-way is a broken download, never a clean 200
// with a short file.
func TestFailingExportBreaksTheDownload(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	tok := gwtest.Token(g.Invite("D-EXP-BROKEN", "000.00.12.H49", map[string]any{"survey": "overall"}))
	g.Form("/s/"+tok, "O=4")
	g.Drain()
	gone, err := store.OpenMongo(context.Background(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(context.Background())
	down := *g.Mongo
	down.Responses = gone.Responses
	g.Core.Mongo = &down
	for _, format := range []string{"csv", "jsonl"} {
		req, _ := http.NewRequest("GET", g.URL+"/api/v1/responses?survey=overall&format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		res, err := http.DefaultClient.Do(req)
		if err == nil { // the headers may have gone out; the body must break
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if err == nil {
			t.Errorf("%s: a failed export read as a complete file", format)
		}
	}
}
