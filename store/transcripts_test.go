package store_test

import (
	"testing"
	"time"

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
