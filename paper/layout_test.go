package paper

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipasvn/gateway/survey"
)

var update = flag.Bool("update", false, "write the current generator's layouts to layouts/ (only for a new version)")

// TestLayoutsFrozen holds the generator to the released files: a printed
// form must stay readable, so a change of geometry needs a new version.
func TestLayoutsFrozen(t *testing.T) {
	all := []*Layout{layoutSlipV1()}
	for _, def := range survey.Builtin().All() {
		all = append(all, layoutV1(def))
	}
	for _, l := range all {
		b, err := json.MarshalIndent(l, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("layouts", layoutFile(l.Survey, l.Version))
		if *update {
			if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := Get(l.Survey, l.Version)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./paper/ -run TestLayoutsFrozen -update once for a new survey)", l.Survey, err)
		}
		gb, _ := json.MarshalIndent(got, "", " ")
		if string(gb) != string(b) {
			t.Errorf("%s v%d: the generator no longer gives the released layout; add a version instead", l.Survey, l.Version)
		}
	}
}

// TestLayoutsFit checks what a reader relies on: every box inside the
// page and clear of the marks, the QR and each other; six boxes a question.
func TestLayoutsFit(t *testing.T) {
	for _, id := range Surveys() {
		l, _ := Current(id)
		def, _ := survey.Builtin().Survey(survey.ID(id))
		if len(l.Boxes) != 6*len(def.Questions) {
			t.Errorf("%s: %d boxes for %d questions", id, len(l.Boxes), len(def.Questions))
		}
		inside := Rect{0, 0, l.Page.W, l.Page.H}
		var all []Rect
		all = append(all, l.Marks...)
		all = append(all, l.QR, l.Comment)
		for _, b := range l.Boxes {
			if b.W < 5 || b.H < 5 {
				t.Errorf("%s: box %s=%d is %.1f×%.1f mm, too small to mark", id, b.Question, b.Value, b.W, b.H)
			}
			all = append(all, b.Rect)
		}
		for i, a := range all {
			if !contains(inside, a) {
				t.Errorf("%s: %+v is off the page", id, a)
			}
			for _, b := range all[i+1:] {
				if overlap(a, b) {
					t.Errorf("%s: %+v overlaps %+v", id, a, b)
				}
			}
		}
	}
}

func contains(a, b Rect) bool {
	return b.X >= a.X && b.Y >= a.Y && b.X+b.W <= a.X+a.W && b.Y+b.H <= a.Y+a.H
}

func overlap(a, b Rect) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}
