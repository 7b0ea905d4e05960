package store

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var invTexts = []string{"", "01JXYZABCDEFGHJKMNPQRSTVWX", "HC-01", "UBND xã Hòa Châu", "sipas-5", "vi", "pending",
	`say "5"`, `a\b`, "<b>&</b>", "\u2028", "bad \xff", "\x00", "{}", "}", "sms-main", "reminder:zalo"}

func randomInvitation(r *rand.Rand) *Invitation {
	pick := func() string { return invTexts[r.IntN(len(invTexts))] }
	zones := []*time.Location{time.UTC, time.FixedZone("ICT", 7*3600), time.FixedZone("odd", -(3*3600 + 30*60 + 15))}
	at := func() time.Time {
		if r.IntN(6) == 0 {
			return time.Time{}
		}
		return time.Unix(r.Int64N(4e9), r.Int64N(3)*r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
	}
	ptr := func() *time.Time {
		if r.IntN(2) == 0 {
			return nil
		}
		t := at()
		return &t
	}
	inv := &Invitation{ID: pick(), Token: pick(), DossierCode: pick(), AgencyCode: pick(), AgencyName: pick(),
		AgencyShort: pick(), ProcedureCode: pick(), FieldCode: pick(), Respondent: pick(), Survey: pick(), Locale: pick(),
		Status: Status(pick()), CompletedVia: pick(), CreatedAt: at(), CreatedFrom: pick(), ExpiresAt: at(),
		StartedAt: ptr(), CompletedAt: ptr(), StartedVia: pick()}
	if n := r.IntN(4); n > 0 {
		inv.PhoneSealed = make([]byte, (n-1)*20)
		for i := range inv.PhoneSealed {
			inv.PhoneSealed[i] = byte(r.IntN(256))
		}
	}
	if r.IntN(3) > 0 {
		inv.Sends = map[string]SendStatus{}
		for range r.IntN(3) {
			inv.Sends[pick()] = SendStatus{Kind: pick(), Channel: pick(), Status: SendState(pick()), Reason: pick(),
				Attempts: r.IntN(4), Parts: r.IntN(3), Error: pick(), At: at()}
		}
	}
	if r.IntN(3) == 0 {
		inv.Opened = map[string]time.Time{pick(): at()}
	}
	return inv
}

// A working copy reads as encoding/json reads it, so copies written by any
// version read alike; the copies json.Marshal writes are read by hand.
func TestCachedCopyReadsAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	fast := 0
	for i := 0; i < 20000; i++ {
		raw, err := json.Marshal(cached{Invitation: randomInvitation(r), At: r.Int64N(2e12)})
		if err != nil {
			t.Fatal(err)
		}
		a, b := cached{Invitation: &Invitation{}}, cached{Invitation: &Invitation{}}
		if err := decodeCached(raw, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("decodeCached(%s) = %+v\nencoding/json: %+v", raw, a.Invitation, b.Invitation)
		}
		if (&cached{Invitation: &Invitation{}}).decode(string(raw)) {
			fast++
		}
	}
	if fast < 19000 {
		t.Errorf("only %d of 20000 copies read without encoding/json", fast)
	}
}

// Whatever else a copy could hold reads as encoding/json reads it.
func FuzzCachedCopyDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 10 {
		raw, _ := json.Marshal(cached{Invitation: randomInvitation(r), At: 1})
		f.Add(string(raw))
	}
	for _, s := range []string{`{}`, `{"id":"a"}`, `{"Sends":{"a":{"at":"2026-12-07T10:00:00Z"}},"Sends":{"b":{}}}`,
		`{"StartedAt":null}`, `{"PhoneSealed":""}`, `{"PhoneSealed":"AA\nAA"}`, `{"Opened":{"x":null}}`,
		`{"Sends":{"a":{"attempts":1.5}}}`, `{"CreatedAt":"2026-12-07 10:00:00"}`, `{"cached_at":"1"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		a, b := cached{Invitation: &Invitation{}}, cached{Invitation: &Invitation{}}
		if !a.decode(raw) {
			return
		}
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			t.Fatalf("%s read by hand as %+v; encoding/json: %v", raw, a.Invitation, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s read by hand as %+v; encoding/json %+v", raw, a.Invitation, b.Invitation)
		}
	})
}

func BenchmarkCachedCopyDecode(b *testing.B) {
	at := time.Now()
	raw, _ := json.Marshal(cached{Invitation: &Invitation{ID: "01JXYZABCDEFGHJKMNPQRSTVWX", Token: "abcdefghijklmnopqrstuvwxyz0123456789",
		AgencyCode: "HC-01", AgencyName: "UBND xã Hòa Châu", Survey: "sipas-5", Locale: "vi", Status: StatusPending,
		PhoneSealed: make([]byte, 40), Respondent: "43ca93537a0f12fd2040d4dcb91dc56c", CreatedAt: at, ExpiresAt: at.Add(720 * time.Hour),
		Sends: map[string]SendStatus{"sms-main": {Status: "sent", Attempts: 1, Parts: 1, At: at}}}, At: 1})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v := cached{Invitation: &Invitation{}}
			_ = json.Unmarshal(raw, &v)
		}
	})
	b.Run("by hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v := cached{Invitation: &Invitation{}}
			_ = decodeCached(raw, &v)
		}
	})
}

// What the hand reader refuses is read by encoding/json into a copy that
// still has its invitation: a copy without fields is not found, never a
// nil to read; a time with an escape is refused as Time.UnmarshalJSON
// refuses it (it parses the bytes as they are).
func TestCachedCopyFallbackKeepsItsInvitation(t *testing.T) {
	for _, raw := range []string{`null`, `{ }`, `{"cached_at":1,"other":2}`, `{"ID":"i1","CreatedAt":"2026-01-02T03:04:05\u005a"}`,
		`{"ID":"i1","Sends":{"a":{"at":"2026-01-02T03:04:05\u005a"}}}`} {
		v := cached{Invitation: &Invitation{}}
		err := decodeCached([]byte(raw), &v)
		b := cached{Invitation: &Invitation{}}
		want := json.Unmarshal([]byte(raw), &b)
		if v.Invitation == nil || (err == nil) != (want == nil) || (err == nil && !reflect.DeepEqual(v, b)) {
			t.Errorf("%s: %+v %v; encoding/json %+v %v", raw, v.Invitation, err, b.Invitation, want)
		}
	}
}
