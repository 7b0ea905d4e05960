package store_test

import (
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A batch written again (its acknowledgement lost) adds no line twice, and
// lines come back in time order whatever order they were written in.
func TestTranscriptAppendIsIdempotent(t *testing.T) {
	m := testenv.Mongo(t)
	t0 := time.Now().UTC()
	reply := store.Line{Key: "r:1", At: t0.Add(time.Second), Channel: "sms", Kind: "reply", Text: "Cam on", Parts: 1}
	in := store.Line{Key: "i:1", At: t0, Channel: "sms", Kind: store.Received, Text: "5 4 5 4 5 chờ lâu"}
	for range 2 {
		if err := m.Transcripts.Append(ctx, store.Appended{Invitation: "inv-1", Respondent: "who", Lines: []store.Line{reply, in}},
			store.Appended{Invitation: "inv-2", Lines: []store.Line{in}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := m.Transcripts.Get(ctx, "inv-1")
	if err != nil || len(got.Lines) != 2 || got.Lines[0].Key != "i:1" || got.Lines[1].Text != "Cam on" || got.Respondent != "who" {
		t.Fatalf("transcript %+v %v", got, err)
	}
	if !got.Created.Equal(store.Millis(t0)) {
		t.Fatalf("created %v, want the first line's time %v", got.Created, store.Millis(t0))
	}
	if none, err := m.Transcripts.Get(ctx, "inv-none"); err != nil || len(none.Lines) != 0 {
		t.Fatalf("no transcript: %+v %v", none, err)
	}
	if n, err := m.Transcripts.DeleteBefore(ctx, t0.Add(time.Millisecond)); err != nil || n != 2 {
		t.Fatalf("deleted %d %v", n, err)
	}
}

// Two processes appending to one transcript take parts in turn, each
// finding the part the other took; after an erasure, the process that
// erased writes from the first part again, not past a gap Get stops at.
func TestTranscriptPartsFromTwoProcesses(t *testing.T) {
	a := testenv.Mongo(t)
	b, err := store.OpenMongo(ctx, testenv.MongoURI(t), a.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	t0 := time.Now().UTC()
	line := func(k string, s int) store.Line {
		return store.Line{Key: k, At: t0.Add(time.Duration(s) * time.Second), Channel: "sms", Kind: "reply", Text: k}
	}
	for i, m := range []*store.Mongo{a, b, a, b, b} {
		if err := m.Transcripts.Append(ctx, store.Appended{Invitation: "inv", Respondent: "who", Lines: []store.Line{line(fmt.Sprint("k", i), i)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Transcripts.Get(ctx, "inv")
	if err != nil || len(got.Lines) != 5 {
		t.Fatalf("transcript %+v %v", got, err)
	}
	for i, l := range got.Lines {
		if l.Key != fmt.Sprint("k", i) {
			t.Fatalf("line %d is %s: %+v", i, l.Key, got.Lines)
		}
	}
	if n, err := a.Transcripts.EraseRespondent(ctx, "who"); err != nil || n != 1 {
		t.Fatalf("erased %d %v", n, err)
	}
	if got, err := b.Transcripts.Get(ctx, "inv"); err != nil || len(got.Lines) != 0 {
		t.Fatalf("after erasure %+v %v", got, err)
	}
	if err := a.Transcripts.Append(ctx, store.Appended{Invitation: "inv", Lines: []store.Line{line("after", 9)}}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Transcripts.Get(ctx, "inv"); err != nil || len(got.Lines) != 1 || got.Lines[0].Key != "after" {
		t.Fatalf("a line after the erasure: %+v %v", got, err)
	}
}

// A part keeps its lines packed in one field (what FerretDB decodes
// cheapest); a transcript whose first parts an earlier version wrote
// with their lines as an array reads whole, each line once, and the
// retention sweep blanks such a part too.
func TestTranscriptPartsPackedAndAsBefore(t *testing.T) {
	m := testenv.Mongo(t)
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	parts := m.DB.Collection("transcripts")
	old := bson.D{{Key: "_id", Value: "inv-p"}, {Key: "respondent", Value: "who"}, {Key: "created_at", Value: t0},
		{Key: "m", Value: bson.A{
			bson.D{{Key: "k", Value: "i:1"}, {Key: "at", Value: t0}, {Key: "ch", Value: "sms"}, {Key: "kind", Value: store.Received}, {Key: "text", Value: "5 4 5 4 5"}},
			bson.D{{Key: "k", Value: "r:1"}, {Key: "at", Value: t0.Add(time.Second)}, {Key: "ch", Value: "sms"}, {Key: "kind", Value: "reply"}, {Key: "text", Value: "Cảm ơn"}, {Key: "parts", Value: 1}},
		}}}
	if _, err := parts.InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	later := []store.Line{
		{Key: "r:1", At: t0.Add(time.Second), Channel: "sms", Kind: "reply", Text: "Cảm ơn", Parts: 1}, // written again
		{Key: "i:2", At: t0.Add(40 * time.Minute), Channel: "sms", Kind: store.Received, Text: "góp ý: chờ lâu", Encoding: "ucs2"},
	}
	if err := m.Transcripts.Append(ctx, store.Appended{Invitation: "inv-p", Respondent: "who", Lines: later}); err != nil {
		t.Fatal(err)
	}
	var stored bson.M
	if err := parts.FindOne(ctx, bson.D{{Key: "_id", Value: "inv-p#1"}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if _, ok := stored["p"]; !ok || stored["m"] != nil || len(stored) != 4 {
		t.Fatalf("part stored as %v, want _id, respondent, created_at and p", stored)
	}
	got, err := m.Transcripts.Get(ctx, "inv-p")
	if err != nil || len(got.Lines) != 3 || got.Lines[0].Text != "5 4 5 4 5" || got.Lines[1].Parts != 1 ||
		got.Lines[2].Text != "góp ý: chờ lâu" || got.Lines[2].Encoding != "ucs2" || !got.Lines[2].At.Equal(t0.Add(40*time.Minute)) || !got.Created.Equal(t0) {
		t.Fatalf("transcript %+v %v", got, err)
	}
	// A later part: the sweep blanks the two first, old parts.
	last := store.Line{Key: "i:3", At: t0.Add(50 * time.Minute), Channel: "sms", Kind: store.Received, Text: "5"}
	if err := m.Transcripts.Append(ctx, store.Appended{Invitation: "inv-p", Respondent: "who", Lines: []store.Line{last}}); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Transcripts.DeleteBefore(ctx, t0.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep: %d transcripts, %v", n, err)
	}
	if got, err := m.Transcripts.Get(ctx, "inv-p"); err != nil || len(got.Lines) != 1 || got.Lines[0].Key != "i:3" {
		t.Fatalf("after the sweep: %+v %v (want only the later line)", got, err)
	}
	for _, id := range []string{"inv-p", "inv-p#1"} {
		var p bson.M
		if err := parts.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&p); err != nil || len(p) != 3 || p["blank"] != true {
			t.Fatalf("old part %s kept %v %v (want _id, created_at and blank alone)", id, p, err)
		}
	}
}

// The retention sweep takes the texts of a transcript's old parts at
// once, but a conversation that went on keeps showing its later lines
// (its old parts stay as blanks Get walks through); once every part is
// old, the whole transcript goes.
func TestTranscriptSweepKeepsLaterLines(t *testing.T) {
	m := testenv.Mongo(t)
	t0 := time.Now().UTC().Add(-time.Hour)
	line := func(k string, at time.Time) store.Line {
		return store.Line{Key: k, At: at, Channel: "sms", Kind: store.Received, Text: "text " + k}
	}
	for i, at := range []time.Time{t0, t0.Add(time.Second), t0.Add(30 * time.Minute)} {
		if err := m.Transcripts.Append(ctx, store.Appended{Invitation: "inv-s", Respondent: "who", Lines: []store.Line{line(fmt.Sprint("k", i), at)}}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := m.Transcripts.DeleteBefore(ctx, t0.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("first sweep: %d transcripts, %v", n, err)
	}
	got, err := m.Transcripts.Get(ctx, "inv-s")
	if err != nil || len(got.Lines) != 1 || got.Lines[0].Key != "k2" {
		t.Fatalf("after the first sweep: %+v %v (want only the later line)", got, err)
	}
	parts := m.DB.Collection("transcripts")
	for _, id := range []string{"inv-s", "inv-s#1"} {
		var p bson.M
		if err := parts.FindOne(ctx, map[string]string{"_id": id}).Decode(&p); err != nil || len(p) != 3 || p["blank"] != true || p["created_at"] == nil {
			t.Fatalf("old part %s kept %v %v (want _id, created_at and blank alone)", id, p, err)
		}
	}
	if n, err := m.Transcripts.DeleteBefore(ctx, t0.Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("the same sweep again: %d transcripts, %v", n, err)
	}
	if n, err := m.Transcripts.DeleteBefore(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("last sweep: %d transcripts, %v", n, err)
	}
	if n, err := parts.CountDocuments(ctx, map[string]any{}); err != nil || n != 0 {
		t.Fatalf("%d parts left, %v", n, err)
	}
}

// A sweep of more transcripts than it settles at a time (500) takes them
// all, chunk after chunk.
func TestTranscriptSweepInChunks(t *testing.T) {
	m := testenv.Mongo(t)
	t0 := time.Now().UTC().Add(-time.Hour)
	var batch []store.Appended
	for i := range 1001 {
		batch = append(batch, store.Appended{Invitation: fmt.Sprint("inv-c", i), Respondent: "who",
			Lines: []store.Line{{Key: fmt.Sprint("k", i), At: t0, Channel: "sms", Kind: store.Received, Text: "5 5 5 5 5"}}})
	}
	if err := m.Transcripts.Append(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Transcripts.DeleteBefore(ctx, t0.Add(time.Minute)); err != nil || n != 1001 {
		t.Fatalf("swept %d transcripts, %v", n, err)
	}
	if n, err := m.DB.Collection("transcripts").CountDocuments(ctx, map[string]any{}); err != nil || n != 0 {
		t.Fatalf("%d parts left, %v", n, err)
	}
}
