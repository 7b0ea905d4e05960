package store_test

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/store"
)

// texts are what message fields hold, and what encoding/json escapes.
var texts = []string{"", "sms-1", "Cảm ơn ông/bà đã trả lời khảo sát!", "rat hai long", "5 4 5 4 5",
	`say "5"`, `a\b`, "line\nbreak\ttab", "<b>&amp;</b>", "\u2028\u2029", "bad \xff utf-8", "\x00\x1f",
	"emoji 😀 ở đây", "r:sms:abc:0", "2026-12", "sipas-5", "answered", "GSM-7", "UCS-2", "€"}

func randomMessage(r *rand.Rand) *store.Message {
	pick := func() string {
		if r.IntN(4) > 0 {
			return texts[r.IntN(len(texts))]
		}
		b := make([]byte, r.IntN(12)) // any bytes at all
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("ICT", 7*3600), time.FixedZone("odd", -(3*3600 + 30*60 + 15))}
	at := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	if r.IntN(5) == 0 {
		at = time.Time{}
	}
	return &store.Message{ID: pick(), Channel: pick(), Invitation: pick(), Respondent: pick(), Kind: pick(),
		Encoding: pick(), Parts: r.IntN(12), ProviderID: pick(), At: at, Agency: pick(), Month: pick(),
		Survey: pick(), Text: pick(), Outcome: pick(), Answers: r.IntN(3) * r.IntN(30)}
}

// A record's JSON is encoding/json's byte for byte, and reads back as
// encoding/json reads it, so records queued by any version read alike.
func TestMessageJSONIsEncodingJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		m := randomMessage(r)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if m.JSONSize() < len(want) && !strings.ContainsAny(string(want), "\\") {
			t.Fatalf("JSONSize %d for %d bytes without escapes: %s", m.JSONSize(), len(want), want)
		}
		got, err := m.AppendJSON([]byte("x"))
		if err != nil || string(got[1:]) != string(want) || got[0] != 'x' {
			t.Fatalf("AppendJSON(%+v) = %s, %v\nencoding/json: %s", m, got, err, want)
		}
		var a, b store.Message
		if err := store.DecodeMessage(string(want), &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("DecodeMessage(%s) = %+v, encoding/json: %+v", want, a, b)
		}
	}
	// A record as a webhook writes it is read without encoding/json.
	typical := &store.Message{ID: "r:sms-test:m1:0", Channel: "sms-test", Invitation: "inv-1", Kind: "reply",
		Encoding: "UCS-2", Parts: 2, At: time.Now(), Month: "2026-12", Text: "Cảm ơn ông/bà.\nCâu 2/5: \"Tiếp cận\" <1-5> & \\ \t\u2028"}
	raw, _ := typical.AppendJSON(nil)
	if !store.DecodeMessageFast(string(raw), &store.Message{}) {
		t.Fatalf("%s went to encoding/json", raw)
	}
	far := &store.Message{ID: "x", At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := far.AppendJSON(nil); err == nil {
		t.Fatal("a year RFC 3339 cannot write was written")
	}
}

// Whatever else a record could hold reads as encoding/json reads it: other
// spellings and orders of the keys, spaces, nulls, escapes, wrong types.
func TestMessageDecodingFallsBackToEncodingJSON(t *testing.T) {
	for _, raw := range []string{
		`{}`, `{"ID":"a"}`, `{"id":"a","kind":"reply"}`, `{"Text":"x","ID":"a"}`, `{"ID":"a","ID":"b"}`,
		`{ "ID" : "a" }`, `{"ID":null}`, `{"ID":"a\"b"}`, `{"ID":"\u00e9"}`, `{"Parts":-1,"ID":"a"}`,
		`{"Parts":01}`, `{"Parts":1.5}`, `{"Parts":"1"}`, `{"Parts":12345678901234}`, `{"At":"2026-12-07T10:00:00Z"}`,
		`{"At":"2026-12-07T10:00:00.123456789+07:00"}`, `{"At":"2026-12-07 10:00:00"}`, `{"At":"2026-12-07T24:00:00Z"}`,
		`{"ID":"a",}`, `{"ID":"a"`, `["ID"]`, `null`, ``, `{"ID":"\xff"}`, `{"other":1}`, `{"ID":"a","extra":{"x":[1]}}`,
		`{"answers":3,"outcome":"answered","ID":"c"}`, `{"ID":"tab	in"}`, `{"ID":"\ud83d\ude00"}`, `{"ID":"\ud83d"}`,
		`{"ID":"\u00"}`, `{"At":"2026-12-07T10:00:00\u005a"}`, `{"ID":"\x"}`, `{"ID":"a\/b\"c\\d\n\r\t\b\f\u003c\u2028\u00E9"}`, `{"ID":"\`, `{"ID":"a\u12"}`,
	} {
		var a, b store.Message
		errA := store.DecodeMessage(raw, &a)
		errB := json.Unmarshal([]byte(raw), &b)
		if (errA == nil) != (errB == nil) || (errB == nil && !reflect.DeepEqual(a, b)) {
			t.Errorf("%s: DecodeMessage %+v %v; encoding/json %+v %v", raw, a, errA, b, errB)
		}
	}
}

func BenchmarkMessageJSON(b *testing.B) {
	m := &store.Message{ID: "r:sms-test:m12345:0", Channel: "sms-test", Invitation: "inv-0123456789abcdef",
		Respondent: "43ca93537a0f12fd2040d4dcb91dc56c", Kind: "reply", Encoding: "UCS-2", Parts: 2,
		At: time.Now().UTC(), Agency: "000.00.12.H49", Month: "2026-12", Survey: "sipas-5",
		Text: "Cảm ơn ông/bà. Câu 2/5: Ông/bà đánh giá thế nào về tiếp cận dịch vụ? Nhắn 1 đến 5."}
	raw, _ := json.Marshal(m)
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, _ := json.Marshal(m)
			var out store.Message
			_ = json.Unmarshal(j, &out)
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, _ := m.AppendJSON(make([]byte, 0, 256+len(m.Text)))
			var out store.Message
			_ = store.DecodeMessage(string(j), &out)
		}
	})
	_ = raw
}

// A record's BSON is the driver's struct codec's byte for byte, so the
// cost log stores what it stored before it was written by hand.
func TestMessageBSONIsTheDrivers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		m := randomMessage(r)
		switch r.IntN(6) {
		case 0:
			m.Parts, m.Answers = -r.IntN(1<<40), r.IntN(1<<40) // past int32 both ways
		case 1:
			m.Parts, m.Answers = math.MaxInt32, math.MinInt32
		}
		m.At = store.Millis(m.At)
		want, err := bson.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := store.MessageBSON(m); !bytes.Equal(got, want) {
			t.Fatalf("BSON of %+v:\n%v\nthe driver's:\n%v", m, bson.Raw(got), bson.Raw(want))
		}
		if n := store.MessageBSONSize(m); n < len(want) {
			t.Fatalf("room for %d bytes, BSON of %d", n, len(want))
		}
	}
}

// A transcript part's packed lines, and the part, are the driver's
// struct codec's byte for byte.
func TestTranscriptBSONIsTheDrivers(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		lines := make([]store.Line, r.IntN(6))
		for j := range lines {
			m := randomMessage(r)
			parts := m.Parts
			if r.IntN(4) == 0 {
				parts = 1<<35 + r.IntN(9)
			}
			lines[j] = store.Line{Key: m.ID, At: store.Millis(m.At), Channel: m.Channel, Kind: m.Kind, Text: m.Text, Encoding: m.Encoding, Parts: parts}
		}
		want, err := store.PackedLinesBSON(lines)
		if err != nil {
			t.Fatal(err)
		}
		if got := store.PackedBSON(lines); !bytes.Equal(got, want) {
			t.Fatalf("packed lines %+v:\n%v\nthe driver's:\n%v", lines, bson.Raw(got), bson.Raw(want))
		}
		m := randomMessage(r)
		mine, drivers, err := store.PartBSON(m.ID, m.Respondent, store.Millis(m.At), lines)
		if err != nil || !bytes.Equal(mine, drivers) {
			t.Fatalf("part (%v):\n%v\nthe driver's:\n%v", err, bson.Raw(mine), bson.Raw(drivers))
		}
	}
}

// Every field of a record and of a transcript line is written by hand: a
// field added to either and not to its encoder fails here, not silently
// missing from the store.
func TestHandBSONWritesEveryField(t *testing.T) {
	fill := func(v reflect.Value) {
		for i := 0; i < v.NumField(); i++ {
			switch f := v.Field(i); f.Kind() {
			case reflect.String:
				f.SetString("x" + strconv.Itoa(i))
			case reflect.Int, reflect.Int64, reflect.Int32:
				f.SetInt(int64(i + 1))
			case reflect.Bool:
				f.SetBool(true)
			default:
				if f.Type() != reflect.TypeOf(time.Time{}) {
					t.Fatalf("%s.%s: a %s, which this test cannot fill", v.Type(), v.Type().Field(i).Name, f.Type())
				}
				f.Set(reflect.ValueOf(store.Millis(time.Now())))
			}
		}
	}
	var m store.Message
	fill(reflect.ValueOf(&m).Elem())
	if want, _ := bson.Marshal(&m); !bytes.Equal(store.MessageBSON(&m), want) {
		t.Fatalf("a record with every field set:\n%v\nthe driver's:\n%v", bson.Raw(store.MessageBSON(&m)), bson.Raw(want))
	}
	var l store.Line
	fill(reflect.ValueOf(&l).Elem())
	want, _ := store.PackedLinesBSON([]store.Line{l})
	if got := store.PackedBSON([]store.Line{l}); !bytes.Equal(got, want) {
		t.Fatalf("a line with every field set:\n%v\nthe driver's:\n%v", bson.Raw(got), bson.Raw(want))
	}
}
