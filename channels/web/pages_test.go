package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// A blank step page comes from the cache with the invitation's own token
// and agency, byte for byte what rendering it afresh gives; saved answers
// are rendered afresh, checked.
func TestBlankStepPagesAreRenderedOnce(t *testing.T) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	session := func(token, agency string) *core.Session {
		return &core.Session{Survey: def, Invitation: &store.Invitation{Token: token, AgencyName: agency, Locale: "vi", ExpiresAt: time.Now().Add(time.Hour)}}
	}
	for _, c := range []struct{ token, agency, lang string }{
		{"AbCdEfGhIjKlMnOp", "UBND xã Tân Phú", "vi"},
		{"Zz-_0123456789ab", "UBND xã Tân Phú", "vi"}, // same key, other token
		{"Zz-_0123456789ab", "Sở Tư pháp", "vi"},
		{"Zz-_0123456789ab", "Sở Tư pháp", "en"},
	} {
		for n := 1; n <= len(steps(def)); n++ {
			ss := session(c.token, c.agency)
			got, err := renderStep(newPage(c.lang, ""), ss, n, map[string]string{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := render("step", stepPage(newPage(c.lang, ""), ss, n, map[string]string{}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%v step %d: cached page differs from a fresh render", c, n)
			}
			if bytes.Contains(got, []byte(tokenMark)) || !bytes.Contains(got, []byte("/s/"+c.token)) {
				t.Fatalf("%v step %d: token not put in", c, n)
			}
		}
	}
	key := blankKey{def: def, lang: "vi", agency: "Sở Tư pháp", step: 1}
	blankSteps.Lock()
	_, cached := blankSteps.m[key]
	blankSteps.Unlock()
	if !cached {
		t.Fatal("the blank first step was not kept")
	}
	ss := session("AbCdEfGhIjKlMnOp", "Sở Tư pháp")
	q := string(def.QuestionsOf(steps(def)[0].Code)[0].ID)
	got, err := renderStep(newPage("vi", ""), ss, 1, map[string]string{q: "4"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `value="4" checked`) {
		t.Fatal("a saved answer is not shown checked")
	}
}
