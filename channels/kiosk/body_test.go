package kiosk

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/survey"
)

// What the tablet's routes read: refused or taken; never a panic, never
// a 500 (an error other than core.Invalid), and an answer taken is on the
// scale with its comment clean and redacted.
func TestKioskBodies(t *testing.T) {
	const json = "application/json; charset=utf-8"
	if in, err := readPairing(json, []byte(`{"code": "1234 5678"}`)); err != nil || in.Code != "1234 5678" {
		t.Fatalf("pairing: %+v %v", in, err)
	}
	if _, err := readPairing("application/x-www-form-urlencoded", []byte(`code=12345678`)); invalid(err) != "code" {
		t.Fatalf("a form body on the pairing route: %v", err)
	}
	if in, err := readPresentation(json, []byte(`{"dossier_code": "H49-K-2", "officer_pin": "24681357"}`)); err != nil || in.Dossier != "H49-K-2" || in.PIN != "24681357" {
		t.Fatalf("presentation: %+v %v", in, err)
	}
	a, err := readAnswer(json, []byte(`{"idempotency_key": "key-00000001", "invitation_id": "i1", "seq": 3, "survey": "sipas-5",
		"answers": {"A": 5, "E": 0}, "comment": "Cán bộ\u202e nhiệt tình, gọi ０９１２ ３４５ ６７８", "locale": "vi"}`))
	if err != nil || a.Comment != "Cán bộ nhiệt tình, gọi "+survey.PhoneMark || a.Answers["A"] != 5 {
		t.Fatalf("answer: %+v %v", a, err)
	}
	for body, field := range map[string]string{
		`{"idempotency_key": "short"}`:                                                                       "idempotency_key",
		`{"idempotency_key": "key-00000001", "answers": {"A": 6}}`:                                           "answers.A",
		`{"idempotency_key": "key-00000001", "comment": "` + strings.Repeat("ạ", survey.MaxComment+1) + `"}`: "comment",
		`{"idempotency_key": "key-00000001", "answers": {"A": "5"}}`:                                         "answers",
		`[1, 2]`: "answers",
	} {
		if _, err := readAnswer(json, []byte(body)); invalid(err) != field {
			t.Errorf("%s: %v, want a 400 naming %s", body, err, field)
		}
	}
}

// invalid is the field an Invalid error names, or "!" for any other
// error (and "" for none).
func invalid(err error) string {
	if err == nil {
		return ""
	}
	var e *core.Error
	if !errors.As(err, &e) || e.Code != core.Invalid {
		return "!"
	}
	return e.Field
}

var keyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// FuzzKioskBodies reads any body as each of the tablet's routes would
// (kind: 0 pairing, 1 presentation, 2 answer; sent as JSON or not).
func FuzzKioskBodies(f *testing.F) {
	for _, s := range []struct {
		kind uint8
		body string
	}{
		{0, `{"code": "1234 5678"}`}, {0, `{"code": 12345678}`}, {0, ``}, {0, `{"code": "１２３４５６７８"}`},
		{1, `{"dossier_code": "H49-K-2", "officer_pin": "24681357"}`}, {1, `{"dossier_code": null}`},
		{2, `{"idempotency_key": "key-00000001", "invitation_id": "i1", "seq": 3, "survey": "sipas-5", "answers": {"A": 5, "B": 4, "C": 5, "D": 4, "E": 0}, "comment": "Cán bộ nhiệt tình", "locale": "vi"}`},
		{2, `{"idempotency_key": "key-00000002", "answers": {"A": 1}, "comment": "gọi (091) 234 5670\u202e\u200b"}`},
		{2, `{"idempotency_key": "key-00000003", "answers": {"A": 1e99}}`},
		{2, `{"idempotency_key": "key-00000004", "answers": {"A": -1}, "seq": -5}`},
		{2, `{"idempotency_key": "key-00000005", "comment": "` + "\\ud800" + `"}`},
		{2, `{"idempotency_key":"key-00000006","answers":{"A":1,"a":2,"\u0000":3}}`},
	} {
		f.Add(s.kind, true, []byte(s.body))
	}
	f.Add(uint8(2), false, []byte(`idempotency_key=key-00000001&answers=5`))
	f.Fuzz(func(t *testing.T, kind uint8, isJSON bool, body []byte) {
		ctype := "application/json"
		if !isJSON {
			ctype = "application/x-www-form-urlencoded"
		}
		var err error
		switch kind % 3 {
		case 0:
			_, err = readPairing(ctype, body)
		case 1:
			_, err = readPresentation(ctype, body)
		case 2:
			var a core.KioskAnswer
			if a, err = readAnswer(ctype, body); err == nil {
				checkTaken(t, a)
			}
		}
		if f := invalid(err); f == "!" {
			t.Fatalf("%q: %v is not a 400", body, err)
		}
		if err == nil && !isJSON {
			t.Fatalf("%q taken without a JSON content type", body)
		}
	})
}

// checkTaken holds an answer readAnswer took to what the rest of the
// gateway relies on.
func checkTaken(t *testing.T, a core.KioskAnswer) {
	t.Helper()
	if !keyRe.MatchString(a.Key) || len(a.Answers) > 64 {
		t.Fatalf("taken: key %q, %d answers", a.Key, len(a.Answers))
	}
	for q, v := range a.Answers {
		if v < 0 || v > 5 {
			t.Fatalf("taken: %s=%d", q, v)
		}
	}
	if !utf8.ValidString(a.Comment) || survey.CleanCitizenText(a.Comment) != a.Comment {
		t.Fatalf("taken comment %+q is not clean", a.Comment)
	}
	again := a
	if err := again.Check(); err != nil || again.Comment != a.Comment {
		t.Fatalf("a taken answer does not pass again: %v, %+q → %+q", err, a.Comment, again.Comment)
	}
}
