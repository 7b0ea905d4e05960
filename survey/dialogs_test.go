package survey

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// A dialog is one SMS conversation of a corpus: what the citizen texts,
// message by message (whatever the gateway answers), and what must be
// stored. Corpora live in testdata/dialogs/*.txt:
//
//	## <id> <kind: one|all|mixed> [nfd]
//	> <message>            (\n inside stands for a line break)
//	= <A> <B> <C> <D> <E>  (0 = no opinion)
//	# <words the stored comment must hold>   (optional)
type dialog struct {
	id, kind, file string
	nfd            bool
	msgs           []string
	want           []int
	comment        string
}

func readDialogs(t *testing.T, path string) []dialog {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dialog
	var cur *dialog
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "## "):
			f := strings.Fields(line[3:])
			if len(f) < 2 {
				t.Fatalf("%s:%d: a header needs an id and a kind", path, n)
			}
			out = append(out, dialog{id: f[0], kind: f[1], nfd: slices.Contains(f[2:], "nfd"), file: filepath.Base(path)})
			cur = &out[len(out)-1]
		case cur == nil, line == "", strings.HasPrefix(line, "//"):
		case strings.HasPrefix(line, "> "), line == ">":
			msg := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(line, ">"), " "), `\n`, "\n")
			cur.msgs = append(cur.msgs, msg)
		case strings.HasPrefix(line, "= "):
			for _, w := range strings.Fields(line[2:]) {
				v, err := strconv.Atoi(w)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, n, err)
				}
				cur.want = append(cur.want, v)
			}
		case strings.HasPrefix(line, "# "):
			cur.comment = strings.TrimSpace(line[2:])
		default:
			t.Fatalf("%s:%d: cannot read %q", path, n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// outcome of a dialog played against the conversation.
type played struct {
	stored   []int // nil: nothing stored
	comment  string
	confirms int      // "C" sent at the end to confirm a reading asked back
	silent   []string // messages left unanswered while the survey was open
	says     []string // every answer, for the log
}

// play drives one dialog through Read and Step as the gateway does after
// "DG <code>" on SMS. When the script ends on a reading asked back, the
// citizen confirms it with "C" if, and only if, it is what they meant.
func play(def *Survey, d dialog) played {
	c := NewConversation(def, "inv", "vi")
	var p played
	send := func(msg string) bool {
		if d.nfd {
			msg = norm.NFD.String(msg)
		}
		open := !c.Done
		o := def.Step(c, def.Read(c, msg), plainRender)
		p.says = append(p.says, "> "+msg)
		for _, s := range o.Say {
			p.says = append(p.says, "< "+s)
		}
		if open && len(o.Say) == 0 && !o.OptOut {
			p.silent = append(p.silent, msg)
		}
		if o.Complete {
			p.stored, p.comment = slices.Clone(c.Answers), c.Comment
			return true
		}
		return false
	}
	for _, m := range d.msgs {
		if send(m) {
			return p
		}
	}
	if c.Pending != nil && p.confirms == 0 {
		at, _ := def.place(c, Reply{At: c.Pending.At, Scores: c.Pending.Scores})
		got := slices.Clone(c.Answers)
		copy(got[at:], c.Pending.Scores)
		if slices.Equal(got, d.want) {
			p.confirms++
			send("C")
		}
	}
	return p
}

// TestDialogs plays every corpus: none may store a score wrong or leave a
// message unanswered while the survey is open, and at least 98% of each
// corpus must be stored right at once or after one confirmation.
func TestDialogs(t *testing.T) {
	def := sipas5(t)
	files, _ := filepath.Glob("testdata/dialogs/*.txt")
	if len(files) == 0 {
		t.Fatal("no corpus in testdata/dialogs")
	}
	for _, file := range files {
		type tally struct{ n, first, confirmed, wrong, unfinished, silent int }
		kinds := map[string]*tally{}
		var failures []string
		for _, d := range readDialogs(t, file) {
			if len(d.want) != len(def.Questions) || len(d.msgs) == 0 {
				t.Fatalf("%s %s: %d scores, %d messages", file, d.id, len(d.want), len(d.msgs))
			}
			k := kinds[d.kind]
			if k == nil {
				k = &tally{}
				kinds[d.kind] = k
			}
			k.n++
			p := play(def, d)
			why := ""
			switch {
			case p.stored == nil:
				k.unfinished++
				why = "nothing stored"
			case !slices.Equal(p.stored, d.want) || d.comment != "" && !strings.Contains(norm.NFC.String(p.comment), norm.NFC.String(d.comment)):
				k.wrong++
				why = fmt.Sprintf("STORED WRONG %v %q", p.stored, p.comment)
			case p.confirms == 0:
				k.first++
			default:
				k.confirmed++
			}
			if len(p.silent) > 0 {
				k.silent++
				why = strings.TrimSpace(why + fmt.Sprintf(" silent after %q", p.silent))
			}
			if why != "" {
				failures = append(failures, fmt.Sprintf("%s (want %v): %s\n    %s", d.id, d.want, why, strings.Join(p.says, "\n    ")))
			}
		}
		var names []string
		for name := range kinds {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			k := kinds[name]
			t.Logf("%s %-5s %3d dialogs: %3d at once, %3d after one confirmation (%.1f%%); %d stored wrong, %d unfinished, %d left unanswered",
				filepath.Base(file), name, k.n, k.first, k.confirmed, 100*float64(k.first+k.confirmed)/float64(k.n), k.wrong, k.unfinished, k.silent)
			if k.wrong > 0 || k.silent > 0 || float64(k.first+k.confirmed) < 0.98*float64(k.n) {
				t.Errorf("%s %s: below the bar", filepath.Base(file), name)
			}
		}
		if t.Failed() {
			for _, f := range failures {
				t.Log(f)
			}
		}
	}
}
