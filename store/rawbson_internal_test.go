package store

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// The client's registry writes a bson.Raw, at the top or inside another
// document, byte for byte as the driver's default one does, and refuses
// what it refuses.
func TestRawIsWrittenAsTheDriverWritesIt(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	var docs []bson.Raw
	for range 300 {
		docs = append(docs, randomBSONResponse(r).appendBSON(nil))
	}
	docs = append(docs,
		(&Message{ID: "m1", Channel: "sms", Kind: "reply", At: time.UnixMilli(1e12), Parts: 2}).appendBSON(nil),
		CountedMark{ID: "p:1", Batch: 7, State: "x"}.appendBSON(nil),
		appendCopy(nil, "r1", docs[0]),
		bson.Raw{5, 0, 0, 0, 0},
	)
	odd, _ := bson.Marshal(bson.D{{Key: "not known", Value: 1}, {Key: "", Value: "empty name"}, {Key: "n", Value: bson.D{{Key: "deep", Value: bson.A{1, "x"}}}}})
	docs = append(docs, odd)
	for _, d := range docs {
		for _, v := range []any{d, struct {
			A bson.Raw `bson:"a"`
			B int      `bson:"b"`
		}{d, 1}} {
			want, errWant := bson.Marshal(v)
			got, errGot := bson.MarshalWithRegistry(registry, v)
			if (errGot == nil) != (errWant == nil) || !bytes.Equal(got, want) {
				t.Fatalf("%x: the client's registry %x (%v), the default %x (%v)", d, got, errGot, want, errWant)
			}
		}
	}
	for _, bad := range []bson.Raw{nil, {5, 0, 0}, {6, 0, 0, 0, 0, 0}, {9, 0, 0, 0, 0x10, 'a', 0, 1, 0}, {12, 0, 0, 0, 0x02, 'a', 0, 9, 0, 0, 0, 0}} {
		if _, err := bson.MarshalWithRegistry(registry, bad); err == nil {
			t.Errorf("%x: written", bad)
		}
		if _, err := bson.Marshal(bad); err == nil {
			t.Errorf("%x: the default registry writes it", bad)
		}
	}
}
