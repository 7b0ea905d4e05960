package store

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func randomResponse(r *rand.Rand) *Response {
	pick := func() string { return invTexts[r.IntN(len(invTexts))] }
	zones := []*time.Location{time.UTC, time.FixedZone("ICT", 7*3600)}
	at := func() time.Time {
		if r.IntN(6) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(3)*r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	seconds := func() *float64 {
		if r.IntN(3) == 0 {
			return nil
		}
		v := []float64{0, 1.5, r.Float64() * 1e6, 1e-9 * r.Float64(), 12345678.875, 3e21}[r.IntN(6)]
		return &v
	}
	res := &Response{ID: pick(), InvitationID: pick(), Survey: pick(), SurveyVersion: r.IntN(4), DossierCode: pick(),
		AgencyCode: pick(), ProcedureCode: pick(), FieldCode: pick(), Channel: pick(), Comment: pick(), Locale: pick(),
		Respondent: pick(), Month: pick(), InvitedAt: at(), InvitedSurvey: pick(), StartedAt: at(), SubmittedAt: at(),
		Reminded: r.IntN(2) == 0, EnteredBy: pick(), CitizenText: pick()}
	if r.IntN(4) > 0 {
		res.Answers = make([]Answer, r.IntN(23))
		for i := range res.Answers {
			res.Answers[i] = Answer{Question: pick(), Criterion: pick(), Score: r.IntN(7) - 1}
		}
	}
	if r.IntN(2) == 0 {
		t := at()
		res.OpenedAt = &t
	}
	if r.IntN(5) > 0 {
		res.Provenance = &Provenance{VerifiedBy: pick(), SecondsToFirstView: seconds(), SecondsToComplete: *cmpOr(seconds()),
			SecondsAnswering: seconds(), Address: pick(), Device: pick(), By: pick()}
	}
	switch r.IntN(3) {
	case 0:
		res.Flags = []string{}
	case 1:
		res.Flags = []string{pick(), pick()}
	}
	if r.IntN(10) == 0 {
		res.Review = &Review{Status: ReviewPending}
	}
	return res
}

func cmpOr(v *float64) *float64 {
	if v == nil {
		return new(float64)
	}
	return v
}

// An outbox entry's response reads as encoding/json reads it, so entries
// queued by any version read alike; those json.Marshal writes, but for a
// review, are read by hand.
func TestResponseReadsAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	fast := 0
	for i := 0; i < 20000; i++ {
		res := randomResponse(r)
		raw, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		var a, b Response
		if err := unmarshalResponse(string(raw), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("unmarshalResponse(%s) = %+v\nencoding/json: %+v", raw, a, b)
		}
		if (&Response{}).decodeJSON(string(raw)) {
			fast++
		} else if res.Review == nil {
			t.Fatalf("%s went to encoding/json", raw)
		}
	}
	if fast < 17000 {
		t.Errorf("only %d of 20000 responses read without encoding/json", fast)
	}
}

// Whatever else an entry could hold reads as encoding/json reads it.
func FuzzResponseDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 10 {
		raw, _ := json.Marshal(randomResponse(r))
		f.Add(string(raw))
	}
	for _, s := range []string{`{}`, `{"answers":[]}`, `{"Answers":[{"score":1.0}]}`, `{"Answers":[{},{}]}`,
		`{"Provenance":{"seconds_to_first_view":null},"Provenance":{"by":"x"}}`, `{"Flags":["a"],"Flags":null}`,
		`{"Provenance":{"seconds_to_complete":1e400}}`, `{"Review":null}`, `{"Review":{"status":"pending"}}`,
		`{"ID":"r1","Answers":[{"question":"q1","criterion":"A","score":5}],"Answers":[{"score":2}]}`,
		`{"SubmittedAt":"2026-01-02T03:04:05\u005a"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var a, b Response
		if !a.decodeJSON(raw) {
			return
		}
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			t.Fatalf("%s read by hand as %+v; encoding/json: %v", raw, a, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s read by hand as %+v; encoding/json %+v", raw, a, b)
		}
	})
}

// A repeated answers key merges into the first's answers in encoding/json,
// and a time with an escape is refused: both are left to it.
func TestResponseOddFormsGoToEncodingJSON(t *testing.T) {
	for _, raw := range []string{`{"ID":"r1","Answers":[{"question":"q1","criterion":"A","score":5}],"Answers":[{"score":2}]}`,
		`{"ID":"r1","SubmittedAt":"2026-01-02T03:04:05\u005a"}`} {
		var a, b Response
		errA, errB := unmarshalResponse(raw, &a), json.Unmarshal([]byte(raw), &b)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: %+v %v; encoding/json %+v %v", raw, a, errA, b, errB)
		}
	}
}

func TestResponseJSONIsEncodingJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for i := range 4000 {
		res := randomBSONResponse(r)
		switch i % 9 {
		case 0:
			res.SubmittedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) // RFC 3339 has no such year
		case 1:
			res.StartedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600))
		case 2:
			if res.Provenance != nil {
				res.Provenance.SecondsToComplete = math.NaN()
			}
		case 3:
			res.Review = nil
		case 4:
			small, tiny := 5e-7, -2.5e-8 // "5e-7", not "5e-07"
			res.Review, res.Provenance = nil, &Provenance{SecondsToFirstView: &small, SecondsAnswering: &tiny, SecondsToComplete: 1e21}
		}
		want, errWant := json.Marshal(res)
		got, errGot := res.AppendJSON([]byte("x"))
		if (errGot == nil) != (errWant == nil) || errGot == nil && string(got) != "x"+string(want) {
			t.Fatalf("%+v\nby hand   %s %v\nencoding/json %s %v", res, got, errGot, want, errWant)
		}
	}
}

// benchResponse is a response of n answers, as the benchmarks read and
// write it.
func benchResponse(n int) *Response {
	res := randomResponse(rand.New(rand.NewPCG(13, 14)))
	res.Answers, res.Review = make([]Answer, n), nil
	for i := range res.Answers {
		res.Answers[i] = Answer{Question: "A" + string(rune('1'+i)), Criterion: "A", Score: 4}
	}
	return res
}

func BenchmarkResponseDecode(b *testing.B) {
	raw, _ := json.Marshal(benchResponse(5))
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v Response
			_ = json.Unmarshal(raw, &v)
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v Response
			_ = unmarshalResponse(string(raw), &v)
		}
	})
}
