package core

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/sipasvn/gateway/survey"
)

var stateTexts = []string{"", "01JXYZABCDEFGHJKMNPQRSTVWX", "sipas-5", "vi", "en", "Cảm ơn, rất hài lòng 😀",
	`say "5"`, `a\b`, "line\nbreak", "<b>&</b>", "\u2028", "bad \xff", "\x00", "{}", "}", "2026-12-07"}

func randomState(r *rand.Rand) *chatState {
	pick := func() string { return stateTexts[r.IntN(len(stateTexts))] }
	ints := func() []int {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return []int{}
		}
		v := make([]int, 1+r.IntN(22))
		for i := range v {
			v[i] = r.IntN(7) - 1
		}
		return v
	}
	st := &chatState{Conversation: survey.Conversation{Invitation: pick(), Survey: survey.ID(pick()), Locale: pick(),
		Answers: ints(), Comment: pick(), Misses: r.IntN(3) * r.IntN(11), Done: r.IntN(2) == 0, OneByOne: r.IntN(2) == 0,
		Confirms: r.IntN(3), HelpDay: pick()},
		Expires: r.Int64N(3) * r.Int64N(1<<45), Started: r.IntN(2) == 0, Linked: r.IntN(2) == 0,
		Agency: pick(), Month: pick(), InvSurvey: pick()}
	if r.IntN(3) == 0 {
		st.Pending = &survey.Pending{At: r.IntN(22), Scores: ints(), Comment: pick(), Lone: r.IntN(2) == 0}
	}
	return st
}

// A state's JSON is encoding/json's byte for byte and reads back as
// encoding/json reads it, so a conversation under way at an upgrade (either
// way) goes on.
func TestChatStateJSONIsEncodingJSONs(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fast := 0
	for i := 0; i < 20000; i++ {
		st := randomState(r)
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.appendJSON([]byte("x")); string(got[1:]) != string(want) || got[0] != 'x' {
			t.Fatalf("appendJSON(%+v) = %s\nencoding/json: %s", st, got, want)
		}
		var a, b chatState
		if err := decodeChatState(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("decodeChatState(%s) = %+v\nencoding/json: %+v", want, a, b)
		}
		if (&chatState{}).decode(string(want)) {
			fast++
		}
	}
	if fast < 15000 {
		t.Errorf("only %d of 20000 states read without encoding/json", fast)
	}
	if (&chatState{}).appendJSON(nil)[1] != '}' {
		t.Error("an empty state is not {}")
	}
}

// Whatever else a state could hold reads as encoding/json reads it.
func FuzzChatStateDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"i":"a","a":[5,4],"p":{"a":1,"s":[5],"c":"x}\"{"}}`, `{"I":"a"}`, `{"p":null}`,
		`{"p":{"a":1,"c":"x"},"p":{"a":2,"s":null}}`, `{"a":[1,2],"a":[3]}`, `{"x":-5,"t":false}`, `{"m":99999999999999999}`,
		`{"p":{"a":1,"s":[5]},"k":1}`, `{"p":{"a":1,"s":[5]`, `{"p":{}}`, `{"h":"\u00e9"}`, `null`, `{"i":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var a, b chatState
		if !a.decode(raw) {
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

// A duplicate hears the replies its seen mark kept, however they were
// written; a mark of "1" (applied before replies were kept) has none.
func TestSeenRepliesReadAsEncodingJSON(t *testing.T) {
	for mark, want := range map[string][]string{"1": nil, `["Cam on"]`: {"Cam on"}, `[ "a" , "b\u00e9" ]`: {"a", "bé"},
		`["\u003c1-5\u003e","x\ny"]`: {"<1-5>", "x\ny"}, `[]`: {}, "": nil} {
		if got := seenReplies(mark); !reflect.DeepEqual(got, want) {
			t.Errorf("seenReplies(%q) = %q, want %q", mark, got, want)
		}
	}
}
