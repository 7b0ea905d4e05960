// Package survey owns the questionnaire: versioned survey definitions (data,
// not code), the answer scale, and the checks that turn what a citizen sent
// into a complete, valid set of answers. It imports no HTTP or storage code.
package survey

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ID names a survey definition, e.g. "sipas".
type ID string

// QuestionID names one Likert question, e.g. "A1".
type QuestionID string

// Built-in survey ids.
const (
	SIPAS   ID = "sipas"
	SIPAS5  ID = "sipas-5"
	Overall ID = "overall"
)

// Text holds one wording per language; SMS is the no-diacritics, GSM-7 form.
type Text struct {
	VI  string `json:"vi"`
	EN  string `json:"en"`
	SMS string `json:"sms,omitempty"`
}

// In returns the text for locale ("en" or anything else for Vietnamese).
func (t Text) In(locale string) string {
	if locale == "en" && t.EN != "" {
		return t.EN
	}
	return t.VI
}

// Plain returns the SMS form: the written one, or the Vietnamese text
// without diacritics.
func (t Text) Plain() string {
	if t.SMS != "" {
		return t.SMS
	}
	return plainMemo.unaccent(t.VI)
}

// Criterion is one of the index's groups (A…E for SIPAS).
type Criterion struct {
	Code  string `json:"code"`
	Title Text   `json:"title"`
	Short Text   `json:"short"` // a word or two, for chat messages
}

// Question is one Likert item answered on the 1–5 scale (0 = no opinion).
type Question struct {
	ID        QuestionID `json:"id"`
	Criterion string     `json:"criterion"`
	Text      Text       `json:"text"`
}

// Survey is one versioned definition.
type Survey struct {
	ID        ID          `json:"id"`
	Version   int         `json:"version"`
	ShortForm ID          `json:"short_form,omitempty"`
	Title     Text        `json:"title"`
	Intro     Text        `json:"intro"`
	Criteria  []Criterion `json:"criteria"`
	Questions []Question  `json:"questions"`
	Comment   Text        `json:"comment"`
}

// Question returns the question with id, if the survey has it.
func (s *Survey) Question(id QuestionID) (Question, bool) {
	for _, q := range s.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// NumQuestionsOf counts the questions of one criterion, without listing
// them (the web steps, the criteria's titles, a criterion's weight).
func (s *Survey) NumQuestionsOf(criterion string) int {
	n := 0
	for _, q := range s.Questions {
		if q.Criterion == criterion {
			n++
		}
	}
	return n
}

// QuestionsOf returns the questions of one criterion, in order.
func (s *Survey) QuestionsOf(criterion string) []Question {
	var out []Question
	for _, q := range s.Questions {
		if q.Criterion == criterion {
			out = append(out, q)
		}
	}
	return out
}

//go:embed defs/*.json
var defs embed.FS

// Catalog holds the known survey definitions by id.
type Catalog struct {
	byID map[ID]*Survey
}

// Builtin loads the definitions shipped with the gateway. It panics on a bad
// definition: that is a build error, caught by the package's tests.
func Builtin() *Catalog {
	c, err := load()
	if err != nil {
		panic(err)
	}
	return c
}

func load() (*Catalog, error) {
	entries, err := defs.ReadDir("defs")
	if err != nil {
		return nil, err
	}
	c := &Catalog{byID: map[ID]*Survey{}}
	for _, e := range entries {
		b, err := defs.ReadFile("defs/" + e.Name())
		if err != nil {
			return nil, err
		}
		var s Survey
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("survey %s: %w", e.Name(), err)
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("survey %s: %w", e.Name(), err)
		}
		c.byID[s.ID] = &s
	}
	for _, s := range c.byID {
		if s.ShortForm != "" && c.byID[s.ShortForm] == nil {
			return nil, fmt.Errorf("survey %s: short form %s is not defined", s.ID, s.ShortForm)
		}
	}
	return c, nil
}

func (s *Survey) check() error {
	if s.ID == "" || s.Version < 1 || len(s.Questions) == 0 {
		return fmt.Errorf("needs id, version ≥ 1 and questions")
	}
	crit := map[string]bool{}
	for _, c := range s.Criteria {
		crit[c.Code] = true
	}
	seen := map[QuestionID]bool{}
	for _, q := range s.Questions {
		if !crit[q.Criterion] || seen[q.ID] || q.ID == CommentField || q.Text.VI == "" || q.Text.EN == "" {
			return fmt.Errorf("question %q: unknown criterion, duplicate id or missing text", q.ID)
		}
		seen[q.ID] = true
	}
	return nil
}

// Survey returns the definition with id.
func (c *Catalog) Survey(id ID) (*Survey, bool) {
	s, ok := c.byID[id]
	return s, ok
}

// All returns every definition, sorted by id.
func (c *Catalog) All() []*Survey {
	out := make([]*Survey, 0, len(c.byID))
	for _, s := range c.byID {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// IDs lists the known ids, for error messages.
func (c *Catalog) IDs() string {
	var ids []string
	for _, s := range c.All() {
		ids = append(ids, string(s.ID))
	}
	return strings.Join(ids, ", ")
}
