package paper

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/sipasvn/gateway/survey"
)

// Rect is an area of the page in millimetres, origin at the top left.
type Rect struct {
	X float64 `json:"x_mm"`
	Y float64 `json:"y_mm"`
	W float64 `json:"w_mm"`
	H float64 `json:"h_mm"`
}

// Box is one answer box: marking it answers Question with Value (1–5, or
// 0 for "no opinion").
type Box struct {
	Question string `json:"question"`
	Value    int    `json:"value"`
	Rect
}

// Row is one line of the answer table, for printing: a criterion's
// heading (Question empty) or a question.
type Row struct {
	Criterion string  `json:"criterion"`
	Question  string  `json:"question,omitempty"`
	Y         float64 `json:"y_mm"`
	H         float64 `json:"h_mm"`
}

// Size is a page's size in millimetres.
type Size struct {
	W float64 `json:"width_mm"`
	H float64 `json:"height_mm"`
}

// Layout is the geometry of one version of one survey's printed form. A
// printed form outlives changes to the software: a version, once released,
// never changes (its file under layouts/ is frozen and the tests hold the
// generator to it), and every version stays readable.
type Layout struct {
	Survey  string `json:"survey"`
	Version int    `json:"version"`
	Page    Size   `json:"page"`
	// Marks are the four corner squares, top left, top right, bottom left,
	// bottom right: the reader finds them to undo rotation and perspective.
	Marks []Rect `json:"marks"`
	QR    Rect   `json:"qr"`
	// Text is where the questions' wording is printed; Columns are the
	// centres of the answer columns, values 1–5 then 0.
	Text    Rect      `json:"text"`
	Columns []float64 `json:"columns_mm"`
	Header  Rect      `json:"header"`
	Rows    []Row     `json:"rows"`
	Boxes   []Box     `json:"boxes"`
	// Comment is the handwritten comment's area, kept as an image.
	Comment Rect `json:"comment"`
}

// Values is the order of the answer columns: the scale, then no opinion.
var Values = []int{1, 2, 3, 4, 5, 0}

//go:embed layouts/*.json
var layoutFiles embed.FS

var layouts = mustLoad()

func mustLoad() map[string][]*Layout {
	m, err := loadLayouts()
	if err != nil {
		panic(err) // a build error, caught by the package's tests
	}
	return m
}

func loadLayouts() (map[string][]*Layout, error) {
	entries, err := layoutFiles.ReadDir("layouts")
	if err != nil {
		return nil, err
	}
	m := map[string][]*Layout{}
	for _, e := range entries {
		b, err := layoutFiles.ReadFile("layouts/" + e.Name())
		if err != nil {
			return nil, err
		}
		var l Layout
		if err := json.Unmarshal(b, &l); err != nil {
			return nil, fmt.Errorf("layout %s: %w", e.Name(), err)
		}
		if want := layoutFile(l.Survey, l.Version); want != e.Name() {
			return nil, fmt.Errorf("layout %s holds %s", e.Name(), want)
		}
		m[l.Survey] = append(m[l.Survey], &l)
	}
	for _, ls := range m {
		sort.Slice(ls, func(i, j int) bool { return ls[i].Version < ls[j].Version })
	}
	return m, nil
}

func layoutFile(surveyID string, version int) string {
	return fmt.Sprintf("%s.v%d.json", surveyID, version)
}

// Current is the layout new forms of a survey are printed with.
func Current(surveyID string) (*Layout, error) {
	ls := layouts[surveyID]
	if len(ls) == 0 {
		return nil, fmt.Errorf("survey %q has no paper form; forms exist for %s", surveyID, strings.Join(Surveys(), ", "))
	}
	return ls[len(ls)-1], nil
}

// Get is one version of a survey's layout: the one a form was printed with.
func Get(surveyID string, version int) (*Layout, error) {
	for _, l := range layouts[surveyID] {
		if l.Version == version {
			return l, nil
		}
	}
	if _, err := Current(surveyID); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("survey %q has no paper form version %d", surveyID, version)
}

// Surveys lists the surveys that have a paper form.
func Surveys() []string {
	var ids []string
	for id := range layouts {
		if id != Slip {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Page geometry of version 1, in millimetres.
const (
	a4W, a4H    = 210.0, 297.0
	markSize    = 7.0
	markInset   = 8.0
	textLeft    = 16.0
	tableLeft   = 118.0
	columnW     = 12.6
	tableTop    = 47.0
	headerH     = 9.0
	headingH    = 5.2
	tableBottom = 240.0
)

// cornersV1 are version 1's corner marks, on forms and slips alike:
// 7 mm squares 8 mm in from the edges, inside any printer's margin.
func cornersV1() []Rect {
	return []Rect{
		{markInset, markInset, markSize, markSize},
		{a4W - markInset - markSize, markInset, markSize, markSize},
		{markInset, a4H - markInset - markSize, markSize, markSize},
		{a4W - markInset - markSize, a4H - markInset - markSize, markSize, markSize},
	}
}

// qrV1 is where version 1 prints the QR: the top right, 26 mm.
var qrV1 = Rect{166, 17, 26, 26}

// layoutV1 is how version 1 places a survey on an A4 page: the QR at the
// top right, a table of one row per question with six boxes (1–5 and no
// opinion), criterion headings when criteria hold several questions, and
// the comment's area below. Boxes are at least 5.5 mm, rows at least 7.2
// mm: a pen's tick fits, and a phone photo at 150 dpi gives 30 pixels a box.
func layoutV1(def *survey.Survey) *Layout {
	l := &Layout{
		Survey:  string(def.ID),
		Version: 1,
		Page:    Size{a4W, a4H},
		Marks:   cornersV1(),
		QR:      qrV1,
		Text:    Rect{textLeft, tableTop + headerH, tableLeft - textLeft - 2, 0},
		Header:  Rect{textLeft, tableTop, tableLeft + columnW*float64(len(Values)) - textLeft, headerH},
	}
	for i := range Values {
		l.Columns = append(l.Columns, round(tableLeft+columnW*(float64(i)+0.5)))
	}
	headings := len(def.Questions) > len(def.Criteria)
	n := len(def.Questions)
	room := tableBottom - tableTop - headerH
	if headings {
		room -= headingH * float64(len(def.Criteria))
	}
	rowH := min(14, room/float64(n))
	box := min(7.5, rowH*0.76)
	y := tableTop + headerH
	last := ""
	for _, q := range def.Questions {
		if headings && q.Criterion != last {
			l.Rows = append(l.Rows, Row{Criterion: q.Criterion, Y: round(y), H: headingH})
			y += headingH
		}
		last = q.Criterion
		l.Rows = append(l.Rows, Row{Criterion: q.Criterion, Question: string(q.ID), Y: round(y), H: round(rowH)})
		for i, v := range Values {
			l.Boxes = append(l.Boxes, Box{Question: string(q.ID), Value: v,
				Rect: Rect{round(l.Columns[i] - box/2), round(y + (rowH-box)/2), round(box), round(box)}})
		}
		y += rowH
	}
	l.Text.H = round(y - l.Text.Y)
	bottom := a4H - markInset - markSize - 3
	top := y + 7
	if !headings {
		bottom = min(bottom, top+90) // a short form's comment needs no more
	}
	l.Comment = Rect{textLeft, round(top), round(l.Header.W), round(bottom - top)}
	return l
}

func round(v float64) float64 { return float64(int(v*100+0.5)) / 100 }
