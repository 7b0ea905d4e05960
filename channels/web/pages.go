package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"html/template"
	"strconv"
	"sync"

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

// blankSteps keeps survey step pages as rendered for a blank form. What a
// first view shows (no saved answer, no comment, no error) varies per
// invitation only by its token: the page is rendered once with tokenMark
// in the token's place and the token is put in per request, which takes
// an html/template run (about 1,200 allocations for the largest step) off
// every first view. Keyed by the survey's definition (its address: an
// edited survey is a new one and renders afresh), language, step and
// agency name; cleared when full.
var blankSteps struct {
	sync.Mutex
	m map[blankKey][]byte
}

type blankKey struct {
	def          *survey.Survey
	lang, agency string
	step         int
}

// blankStepsMax bounds the cache: a province's agencies × steps × two
// languages fits many times over.
const blankStepsMax = 4096

// tokenMark stands for the token in a cached page: random, so no survey
// text can hold it, and of the token's own alphabet, so every escaping
// html/template applies leaves both unchanged.
var tokenMark = func() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "tk" + hex.EncodeToString(b)
}()

// renderStep renders step n of ss's survey for p, from blankSteps when the
// form is blank.
func renderStep(p *page, ss *core.Session, n int, saved map[string]string) ([]byte, error) {
	if len(saved) > 0 {
		return render("step", stepPage(p, ss, n, saved, nil))
	}
	key := blankKey{def: ss.Survey, lang: p.Lang, agency: ss.Invitation.AgencyName, step: n}
	blankSteps.Lock()
	b, ok := blankSteps.m[key]
	blankSteps.Unlock()
	if !ok {
		blank := *ss
		inv := *ss.Invitation
		inv.Token, blank.Invitation = tokenMark, &inv
		var err error
		if b, err = render("step", stepPage(newPage(p.Lang, ""), &blank, n, nil, nil)); err != nil {
			return nil, err
		}
		blankSteps.Lock()
		if len(blankSteps.m) >= blankStepsMax || blankSteps.m == nil {
			blankSteps.m = map[blankKey][]byte{}
		}
		blankSteps.m[key] = b
		blankSteps.Unlock()
	}
	return bytes.ReplaceAll(b, []byte(tokenMark), []byte(ss.Invitation.Token)), nil
}

func newPage(l, self string) *page {
	l = lang(l)
	return &page{Lang: l, T: words[l], Self: self}
}

// steps are the survey's criteria that have questions, in order.
func steps(def *survey.Survey) []survey.Criterion {
	var out []survey.Criterion
	for _, c := range def.Criteria {
		if len(def.QuestionsOf(c.Code)) > 0 {
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
	p.Token = ss.Invitation.Token
	p.Step, p.Steps, p.Last = n, len(all), n == len(all)
	p.Self = "/s/" + p.Token + "?step=" + strconv.Itoa(n) + "&"
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
