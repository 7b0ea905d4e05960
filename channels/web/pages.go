package web

import (
	"bytes"
	"embed"
	"html/template"
	"strconv"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/survey"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/app.css
var appCSS []byte

// page is what every template gets.
type page struct {
	Lang, Title, Self string
	T                 map[string]string
	// message pages
	Kind, Body, Dossier string
	// Answer is the agency's answer to the citizen's follow-up case; Rate
	// offers the 1–5 buttons, Rated is the rating given.
	Answer string
	Rate   bool
	Rated  int
	// step pages
	Token, Intro, Criterion, CommentQ, Comment, Error string
	// Agency is the name of the agency being rated, when registered.
	Agency        string
	Step, Steps   int
	Last, Missing bool
	Questions     []questionView
}

// Ratings are the buttons of an answer's rating.
func (p *page) Ratings() []int { return []int{1, 2, 3, 4, 5} }

type questionView struct {
	ID, Text string
	Missing  bool
	// Focus marks the first missing question: the page opens on it.
	Focus   bool
	Options []optionView
}

type optionView struct {
	Score   int
	Label   string
	Checked bool
}

var tmpl = map[string]*template.Template{"message": parse("message"), "step": parse("step")}

// parse is a page's template, in the layout.
func parse(name string) *template.Template {
	return template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
}

func render(name string, p *page) ([]byte, error) {
	var b bytes.Buffer
	if err := tmpl[name].ExecuteTemplate(&b, "layout", p); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// blankSteps keeps survey step pages as rendered for a blank form (no
// saved answer, no comment, no error), with their compressed forms: a
// step page names no token (its links are relative to its own address),
// so a first view is the same for every invitation of a survey, language,
// step and agency, and takes neither an html/template run (about 1,200
// allocations for the largest step) nor a compression (a fifth of a page
// view's CPU at BestSpeed). Keyed by the survey's definition (its
// address: an edited survey is a new one and renders afresh), language,
// step and agency name; cleared when full.
var blankSteps struct {
	sync.Mutex
	m map[blankKey]*blankStep
}

type blankKey struct {
	def          *survey.Survey
	lang, agency string
	step         int
}

// blankStepsMax bounds the cache: about 12 KB an entry (the page and its
// two compressed forms), 48 MB when full; a province's units × five steps
// × two languages fit.
const blankStepsMax = 4096

// blankStep is a blank step page and, once asked for, its Brotli and gzip
// forms, compressed harder than the per-request middleware can afford:
// once per page, not once per view.
type blankStep struct {
	raw  []byte
	once [len(encodings)]sync.Once
	enc  [len(encodings)][]byte
}

// encodings are the content codings a blank step is kept in, in the
// order the compress middleware prefers them (deflate-only clients get
// the page compressed per request).
var encodings = [...]struct {
	name     string
	compress func(dst, src []byte) []byte
}{
	{"br", func(dst, src []byte) []byte {
		return fasthttp.AppendBrotliBytesLevel(dst, src, fasthttp.CompressBrotliDefaultCompression)
	}},
	{"gzip", func(dst, src []byte) []byte {
		return fasthttp.AppendGzipBytesLevel(dst, src, fasthttp.CompressBestCompression)
	}},
}

// encoded returns the page in the first of encodings accept (the
// request's Accept-Encoding) names, and that coding's name; "" and the
// page itself when it names none.
func (b *blankStep) encoded(accepts func(coding string) bool) (string, []byte) {
	for i, e := range encodings {
		if accepts(e.name) {
			b.once[i].Do(func() { b.enc[i] = e.compress(nil, b.raw) })
			return e.name, b.enc[i]
		}
	}
	return "", b.raw
}

// blankStepOf returns step n of ss's survey, blank, for p's language.
func blankStepOf(p *page, ss *core.Session, n int) (*blankStep, error) {
	key := blankKey{def: ss.Survey, lang: p.Lang, agency: ss.Invitation.AgencyName, step: n}
	blankSteps.Lock()
	b, ok := blankSteps.m[key]
	blankSteps.Unlock()
	if ok {
		return b, nil
	}
	raw, err := render("step", stepPage(newPage(p.Lang, ""), ss, n, nil, nil))
	if err != nil {
		return nil, err
	}
	b = &blankStep{raw: raw}
	blankSteps.Lock()
	if len(blankSteps.m) >= blankStepsMax || blankSteps.m == nil {
		blankSteps.m = map[blankKey]*blankStep{}
	}
	blankSteps.m[key] = b
	blankSteps.Unlock()
	return b, nil
}

func newPage(l, self string) *page {
	l = lang(l)
	return &page{Lang: l, T: words[l], Self: self}
}

// steps are the survey's criteria that have questions, in order.
func steps(def *survey.Survey) []survey.Criterion {
	var out []survey.Criterion
	for _, c := range def.Criteria {
		if def.NumQuestionsOf(c.Code) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// stepPage fills p for step n (1-based) of the session's survey.
func stepPage(p *page, ss *core.Session, n int, saved map[string]string, missing map[survey.QuestionID]bool) *page {
	def, all := ss.Survey, steps(ss.Survey)
	crit := all[n-1]
	p.Title = def.Title.In(p.Lang)
	p.Intro = def.Intro.In(p.Lang)
	p.Agency = ss.Invitation.AgencyName
	p.Step, p.Steps, p.Last = n, len(all), n == len(all)
	// Relative to the page's own address (/s/<token>): no step page holds
	// its token, so a blank one is the same for every invitation.
	p.Self = "?step=" + strconv.Itoa(n) + "&"
	p.Criterion = crit.Title.In(p.Lang)
	if len(all) > 1 {
		p.Criterion = crit.Code + ". " + p.Criterion
	}
	p.CommentQ, p.Comment = def.Comment.In(p.Lang), saved[survey.CommentField]
	for _, q := range def.QuestionsOf(crit.Code) {
		qv := questionView{ID: string(q.ID), Text: q.Text.In(p.Lang), Missing: missing[q.ID]}
		qv.Focus = qv.Missing && !p.Missing
		p.Missing = p.Missing || qv.Missing
		for _, l := range survey.Scale {
			v := strconv.Itoa(l.Score)
			qv.Options = append(qv.Options, optionView{Score: l.Score, Label: l.Label.In(p.Lang), Checked: saved[string(q.ID)] == v})
		}
		p.Questions = append(p.Questions, qv)
	}
	return p
}
