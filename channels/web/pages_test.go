package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// A blank step page comes from the cache, byte for byte what rendering it
// afresh gives, names no token (its form and links are relative), and is
// kept compressed in forms that decode to it; saved answers are rendered
// afresh, checked.
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
			blank, err := blankStepOf(newPage(c.lang, ""), ss, n)
			if err != nil {
				t.Fatal(err)
			}
			want, err := render("step", stepPage(newPage(c.lang, ""), ss, n, map[string]string{}, nil))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(blank.raw, want) {
				t.Fatalf("%v step %d: cached page differs from a fresh render", c, n)
			}
			if bytes.Contains(want, []byte(c.token)) || !bytes.Contains(want, []byte(`<form method="post" action="?">`)) {
				t.Fatalf("%v step %d: the page names its token or posts elsewhere", c, n)
			}
			for _, coding := range []string{"br", "gzip", ""} {
				got, b := blank.encoded(func(name string) bool { return name == coding })
				var plain []byte
				switch got {
				case "br":
					plain, err = fasthttp.AppendUnbrotliBytes(nil, b)
				case "gzip":
					plain, err = fasthttp.AppendGunzipBytes(nil, b)
				default:
					plain = b
				}
				if err != nil || got != coding || !bytes.Equal(plain, want) || coding != "" && len(b) > len(want)/3 {
					t.Fatalf("%v step %d %q: coded %q, %d of %d bytes, decodes alike %v (%v)", c, n, coding, got, len(b), len(want), bytes.Equal(plain, want), err)
				}
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
	got, err := render("step", stepPage(newPage("vi", ""), ss, 1, map[string]string{q: "4"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), `value="4" checked`) {
		t.Fatal("a saved answer is not shown checked")
	}
}
