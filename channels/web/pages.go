package web

import (
	"bytes"
	"embed"
	"html/template"
	"strconv"

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
