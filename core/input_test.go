package core

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/survey"
)

// decodeStrict reads a body as the API does (server.decodeJSON): unknown
// fields refused.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// errCode is the code of a core error, or "" for another error.
func errCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

var roles = []Role{RoleAdmin, RoleAgency, RoleViewer}

var caseActions = []string{CaseAssign, CaseNote, CaseStart, CaseAnswer, CaseClose, CaseReopen, "delete", ""}

// An operator's note or answer is cleaned, never redacted: an answer may
// give the office's hotline on purpose.
func TestCaseTextIsCleanedNotRedacted(t *testing.T) {
	p := &Principal{Role: RoleAgency}
	text, err := checkCaseInput(p, CaseAnswer, CaseInput{Text: "\u202eXin lỗi ông/bà; gọi đường dây nóng 0235 3812 345\u200b"})
	if err != nil || text != "Xin lỗi ông/bà; gọi đường dây nóng 0235 3812 345" {
		t.Fatalf("answer %q, %v", text, err)
	}
	if _, err := checkCaseInput(p, CaseNote, CaseInput{Text: "\u200b\u2066\u2069"}); errCode(err) != Invalid {
		t.Fatalf("a note of hidden characters only: %v", err)
	}
	if _, err := checkCaseInput(p, CaseAssign, CaseInput{Assignee: "\ufeff"}); errCode(err) != Invalid {
		t.Fatalf("an assignee of hidden characters only: %v", err)
	}
}

// FuzzCaseInput reads any body for any case action by any role: refused
// with a core error, or taken with a clean text within its bound, never
// by a viewer or for an action that does not exist.
func FuzzCaseInput(f *testing.F) {
	for _, s := range []struct {
		action uint8
		body   string
	}{
		{1, `{"text": "Đã gặp cán bộ, nhắc nhở thái độ"}`},
		{3, `{"text": "Sở đã nhắc nhở cán bộ và xin lỗi ông/bà. Hotline 0235 3812 345"}`},
		{0, `{"assignee": "Chị Lan, tổ một cửa"}`}, {0, `{"assignee": "\u202e\u200b"}`},
		{2, `{"status": "in_progress"}`}, {2, `{"status": "closed"}`},
		{1, `{"text": "` + strings.Repeat("ạ", maxCaseText) + `"}`}, {1, `{"text": 5}`}, {4, `{}`}, {6, `{"text": "x"}`},
		{1, `{"text": "\u2066\u2069 \u00ad"}`}, {3, `{"text": "a", "extra": 1}`},
	} {
		f.Add(s.action, uint8(0), []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, action, role uint8, body []byte) {
		var in CaseInput
		if decodeStrict(body, &in) != nil {
			return
		}
		act, r := caseActions[int(action)%len(caseActions)], roles[int(role)%len(roles)]
		text, err := checkCaseInput(&Principal{Role: r}, act, in)
		if err != nil {
			if errCode(err) == "" {
				t.Fatalf("%s %q: %v is not a core error", act, body, err)
			}
			return
		}
		switch {
		case r == RoleViewer:
			t.Fatalf("a viewer may %s", act)
		case act == "delete" || act == "":
			t.Fatalf("action %q taken", act)
		case survey.CleanText(text) != text:
			t.Fatalf("%s text %+q is not clean", act, text)
		case (act == CaseNote || act == CaseAnswer) && (text == "" || utf8.RuneCountInString(text) > maxCaseText):
			t.Fatalf("%s text of %d characters taken", act, utf8.RuneCountInString(text))
		case act == CaseAssign && (survey.CleanText(in.Assignee) == "" || utf8.RuneCountInString(survey.CleanText(in.Assignee)) > 100):
			t.Fatalf("assignee %+q taken", in.Assignee)
		}
	})
}

// What an operator enters for a reply not understood: scores checked
// against the survey, the citizen's words redacted, the note cleaned and
// bounded.
func TestCheckResolution(t *testing.T) {
	def, _ := survey.Builtin().Survey("sipas-5")
	scores := map[string]int{"a": 5, " B ": 4, "C": 3, "D": 2, "E": 0}
	answers, res, err := checkResolution(def, UnreadInput{Scores: scores, Comment: "gọi tôi ０９１２３４５６７８\u202e", Note: "Công dân\u200b nhắn sai cú pháp"})
	if err != nil || answers["A"] != 5 || answers["B"] != 4 || res.Scores["E"] != 0 ||
		res.Comment != "gọi tôi "+survey.PhoneMark || res.Note != "Công dân nhắn sai cú pháp" {
		t.Fatalf("%v %+v %v", answers, res, err)
	}
	for name, in := range map[string]UnreadInput{
		"scores.F": {Scores: map[string]int{"A": 5, "B": 5, "C": 5, "D": 5, "E": 5, "F": 5}},
		"scores.A": {Scores: map[string]int{"A": 6, "B": 5, "C": 5, "D": 5, "E": 5}},
		"scores.E": {Scores: map[string]int{"A": 5, "B": 5, "C": 5, "D": 5}},
		"note":     {Scores: scores, Note: strings.Repeat("x", maxNote+1)},
		"comment":  {Scores: scores, Comment: strings.Repeat("x", survey.MaxComment+1)},
	} {
		var e *Error
		if _, _, err := checkResolution(def, in); !errors.As(err, &e) || e.Code != Invalid || e.Field != name {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzUnreadInput reads any body as a resolve (against each chat survey)
// and as a dismiss: refused with a core error, or taken whole and clean.
func FuzzUnreadInput(f *testing.F) {
	for _, s := range []string{
		`{"scores": {"A": 5, "B": 5, "C": 5, "D": 5, "E": 0}, "comment": "Cán bộ tận tình"}`,
		`{"scores": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}, "comment": "gọi (091) 234 5670", "note": "đã gọi\u202e"}`,
		`{"scores": {"O": 4}}`, `{"scores": {"A": 9}}`, `{"scores": {"A": 1e3}}`, `{"note": "Tin nhắn quảng cáo"}`,
		`{"scores": {"": 1, "\u0000": 2}}`, `{"note": "` + strings.Repeat("ạ", maxNote+1) + `"}`,
	} {
		f.Add(uint8(0), []byte(s))
	}
	defs := survey.Builtin().All()
	f.Fuzz(func(t *testing.T, form uint8, body []byte) {
		var in UnreadInput
		if decodeStrict(body, &in) != nil {
			return
		}
		if note, err := checkNote(in.Note); err == nil && (survey.CleanText(note) != note || utf8.RuneCountInString(note) > maxNote) {
			t.Fatalf("note %+q taken", note)
		} else if err != nil && errCode(err) != Invalid {
			t.Fatalf("note: %v is not a 400", err)
		}
		def := defs[int(form)%len(defs)]
		answers, res, err := checkResolution(def, in)
		if err != nil {
			if errCode(err) != Invalid {
				t.Fatalf("%q: %v is not a 400", body, err)
			}
			return
		}
		if len(def.Missing(answers)) > 0 || len(answers) != len(res.Scores) {
			t.Fatalf("taken without every score: %v", answers)
		}
		for q, v := range answers {
			if _, ok := def.Question(q); !ok || v < 0 || v > 5 {
				t.Fatalf("taken %s=%d", q, v)
			}
		}
		if c, err := survey.CleanComment(res.Comment); err != nil || c != res.Comment {
			t.Fatalf("comment %+q taken unclean: %v", res.Comment, err)
		}
	})
}

// Reused keyed HMACs give what a fresh one gives: for each of many
// secrets (past the number kept, so the kept ones are forgotten on the
// way), again and again, from several goroutines.
func TestMACMatchesAFreshHMAC(t *testing.T) {
	fresh := func(secret, body string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(body))
		return hex.EncodeToString(m.Sum(nil))
	}
	testenv.Concurrently(t, 4, func(int) error {
		for i := 0; i < maxMACKeys+300; i++ {
			secret, body := fmt.Sprint("secret-", i%(maxMACKeys+50)), fmt.Sprint(`{"text":"5 4 5 4 5","n":`, i, `}`)
			if got, want := Sign(secret, []byte(body)), fresh(secret, body); got != want {
				return fmt.Errorf("Sign(%s, %s) = %s, want %s", secret, body, got, want)
			}
		}
		return nil
	})
}
