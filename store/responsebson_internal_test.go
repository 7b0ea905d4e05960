package store

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// randomBSONResponse is randomResponse with what only BSON keeps: a
// review's history, and an opening that is a zero time.
func randomBSONResponse(r *rand.Rand) *Response {
	res := randomResponse(r)
	pick := func() string { return invTexts[r.IntN(len(invTexts))] }
	if r.IntN(4) == 0 {
		res.OpenedAt = new(time.Time)
	}
	if r.IntN(4) == 0 {
		res.Review = &Review{Status: pick()}
		for range r.IntN(3) {
			h := ReviewEvent{At: time.UnixMilli(r.Int64N(4e12)), By: pick(), Action: pick(), Note: pick()}
			if r.IntN(2) == 0 {
				h.Flags = []string{pick()}
			}
			res.Review.History = append(res.Review.History, h)
		}
		if r.IntN(3) == 0 {
			res.Review.History = []ReviewEvent{}
		}
	}
	if r.IntN(5) == 0 {
		res.Answers = []Answer{}
	}
	if r.IntN(7) == 0 {
		res.SurveyVersion = 1 << 40 // an int64
	}
	return res
}

func TestResponseBSONIsTheDriversEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for range 3000 {
		res := randomBSONResponse(r)
		want, err := bson.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.appendBSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("%+v\nby hand  %x\nthe driver %x", res, got, want)
		}
		copyWant, err := bson.Marshal(bson.D{{Key: "_id", Value: res.ID}, {Key: copyField, Value: want}})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendCopy(nil, res.ID, want); !bytes.Equal(got, copyWant) {
			t.Fatalf("copy by hand %x\nthe driver %x", got, copyWant)
		}
		var a, b Response
		in := bsonIn{s: string(want)}
		if !in.response(&a) || in.i != len(want) {
			t.Fatalf("%+v: not read by hand", res)
		}
		if err := bson.Unmarshal(want, (*driverResponse)(&b)); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("read by hand as %+v\nthe driver reads %+v", a, b)
		}
	}
}

func TestCountedMarkBSONIsTheDriversEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for range 500 {
		pick := func() string { return invTexts[r.IntN(len(invTexts))] }
		m := CountedMark{ID: pick(), Batch: r.Int64N(1 << 40), State: pick(), Before: pick()}
		if r.IntN(2) == 0 {
			m.SBatch = r.Int64N(1 << 40)
		}
		want, err := bson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		// The mark markCounted wrote before by bson.D, when it has no more.
		if m.SBatch == 0 && m.Before == "" {
			d := bson.D{{Key: "_id", Value: m.ID}, {Key: "batch", Value: m.Batch}}
			if m.State != "" {
				d = append(d, bson.E{Key: "state", Value: m.State})
			}
			if was, _ := bson.Marshal(d); !bytes.Equal(was, want) {
				t.Fatalf("%+v: the driver's struct %x, its bson.D %x", m, want, was)
			}
		}
		if got := m.appendBSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("%+v\nby hand  %x\nthe driver %x", m, got, want)
		}
	}
}

// Whatever the bytes, the hand reader gives what bson.Unmarshal gives:
// damaged documents, and forms it leaves to the driver (a key it does not
// know or given twice, another type than it writes, nulls).
func TestResponseBSONReadsAsTheDriver(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	// A document the hand reader takes must read the same through the
	// driver; the others go to the driver itself (which panics on some
	// damaged documents: the hand reader must not).
	check := func(doc []byte) {
		t.Helper()
		var a, b Response
		in := bsonIn{s: string(doc)}
		if !in.response(&a) || in.i != len(doc) {
			return
		}
		if err := bson.Unmarshal(doc, (*driverResponse)(&b)); err != nil || !sameResponse(a, b) {
			t.Fatalf("%x: by hand %+v\nthe driver %+v, %v", doc, a, b, err)
		}
	}
	for range 3000 {
		doc := randomBSONResponse(r).appendBSON(nil)
		check(doc)
		for range 4 {
			d := bytes.Clone(doc)
			switch r.IntN(3) {
			case 0:
				d[r.IntN(len(d))] = byte(r.IntN(256))
			case 1:
				d = d[:r.IntN(len(d))]
			case 2:
				i := r.IntN(len(d))
				d[i] ^= 1 << r.IntN(8)
			}
			check(d)
		}
	}
	odd := []bson.D{
		{{Key: "_id", Value: "r1"}, {Key: "extra", Value: 1}},
		{{Key: "_id", Value: "r1"}, {Key: "_id", Value: "r2"}},
		{{Key: "_id", Value: "r1"}, {Key: "survey_version", Value: 2.0}},
		{{Key: "_id", Value: nil}, {Key: "answers", Value: bson.A{nil}}},
		{{Key: "submitted_at", Value: "2026-01-02T03:04:05.000Z"}},
		{{Key: "provenance", Value: bson.D{{Key: "to_complete_s", Value: int32(3)}}}},
		{{Key: "provenance", Value: nil}, {Key: "review", Value: nil}, {Key: "opened_at", Value: nil}, {Key: "flags", Value: nil}},
		{{Key: "answers", Value: bson.A{bson.D{{Key: "score", Value: int64(5)}, {Key: "other", Value: "x"}}}}},
		{{Key: "reminded", Value: false}, {Key: "flags", Value: bson.A{}}, {Key: "review", Value: bson.D{{Key: "history", Value: nil}}}},
	}
	for _, d := range odd {
		doc, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var a, b Response
		errA, errB := unmarshalResponseBSON(doc, &a), bson.Unmarshal(doc, (*driverResponse)(&b))
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Errorf("%v: by hand %+v, %v\nthe driver %+v, %v", d, a, errA, b, errB)
		}
	}
}

// sameResponse is reflect.DeepEqual, but for a NaN (a damaged double),
// which is the same NaN when its bits are.
func sameResponse(a, b Response) bool {
	if a.Provenance != nil && b.Provenance != nil {
		pa, pb := *a.Provenance, *b.Provenance
		for _, f := range [][2]**float64{{&pa.SecondsToFirstView, &pb.SecondsToFirstView}, {&pa.SecondsAnswering, &pb.SecondsAnswering}} {
			if *f[0] != nil && *f[1] != nil && math.Float64bits(**f[0]) == math.Float64bits(**f[1]) {
				*f[0], *f[1] = nil, nil
			}
		}
		if math.Float64bits(pa.SecondsToComplete) == math.Float64bits(pb.SecondsToComplete) {
			pa.SecondsToComplete, pb.SecondsToComplete = 0, 0
		}
		a.Provenance, b.Provenance = &pa, &pb
	}
	return reflect.DeepEqual(a, b)
}

func BenchmarkResponseBSON(b *testing.B) {
	res := benchResponse(22)
	doc, _ := bson.Marshal(res)
	b.Run("encode/driver", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = bson.Marshal(res)
		}
	})
	b.Run("encode/by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = res.appendBSON(nil)
		}
	})
	b.Run("decode/driver", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v Response
			_ = bson.Unmarshal(doc, (*driverResponse)(&v))
		}
	})
	b.Run("decode/by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v Response
			_ = unmarshalResponseBSON(doc, &v)
		}
	})
}
