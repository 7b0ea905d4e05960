package web

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// Every text the console shows goes through translate, and every one has
// its English: the keys written in the templates and the code, and the
// label tables, are all in en, with the same verbs; en holds nothing else.
func TestEveryConsoleTextHasItsEnglish(t *testing.T) {
	used := map[string]bool{}
	scan := func(glob string, re *regexp.Regexp) {
		files, _ := filepath.Glob(glob)
		if len(files) == 0 {
			t.Fatalf("no files %s", glob)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				s, err := strconv.Unquote(string(m[1]))
				if err != nil {
					t.Fatalf("%s: %s: %v", f, m[1], err)
				}
				used[s] = true
			}
		}
	}
	scan("console/*.html", regexp.MustCompile(`\{\{t ("(?:[^"\\]|\\.)*")`))
	scan("*.go", regexp.MustCompile(`(?:translate\([a-zA-Z.]+, |\bt\(|cs\.view\(c, |cs\.flash\(c, [^,]+, )("(?:[^"\\]|\\.)*")`))
	for _, l := range statusLabels {
		used[l] = true
	}
	for _, l := range caseStatusLabels {
		used[l] = true
	}
	for _, l := range caseReasons {
		used[l] = true
	}
	for _, l := range feedbackTypes {
		used[l] = true
	}
	for _, l := range polarityLabels {
		used[l] = true
	}
	for _, b := range scoreBands {
		used[b.Label] = true
	}
	for _, s := range unreadStatuses {
		used[s.Label] = true
	}
	for _, s := range reviewStatuses {
		used[s.Label] = true
	}
	for _, l := range reviewActions {
		used[l] = true
	}
	for _, l := range verifiedLabels {
		used[l] = true
	}
	for _, r := range scanReasons {
		used[r.text] = true
	}
	for _, n := range uploadCounts {
		used[n.Text] = true
	}
	for _, l := range scaleLabels {
		used[l] = true
	}
	for _, m := range []map[string]string{unsureLabels, scanStatusLabels, channelLabels, channelTypeNames, fieldLabels, channelHints, caseActions, openedWhy, actors, caseDone, levelNames, roleNames, quadrantLabels, verdictLabels} {
		for _, l := range m {
			used[l] = true
		}
	}
	for _, l := range planStatusLabels {
		used[l] = true
	}
	for _, l := range missingReasons {
		used[l] = true
	}
	for _, l := range signalLabels {
		used[l.Name], used[l.Why] = true, true
	}
	if len(used) < 150 {
		t.Fatalf("found only %d texts: the scan is broken", len(used))
	}
	verbs := regexp.MustCompile(`%[-+# 0]*[0-9.]*[a-zA-Z%]`)
	for k := range used {
		e, ok := en[k]
		if !ok {
			t.Errorf("no English for %q", k)
			continue
		}
		if a, b := verbs.FindAllString(k, -1), verbs.FindAllString(e, -1); strconv.Quote(fmtList(a)) != strconv.Quote(fmtList(b)) {
			t.Errorf("%q has verbs %v, its English %q has %v", k, a, e, b)
		}
	}
	for k := range en {
		if !used[k] {
			t.Errorf("en has %q, which the console never shows", k)
		}
	}
	if got := translate("en", "nav|Cơ quan"); got != "Agencies" {
		t.Errorf("context key: %q", got)
	}
	if got := translate("vi", "nav|Cơ quan"); got != "Cơ quan" {
		t.Errorf("context key in Vietnamese: %q", got)
	}
	if got := translate("en", "Vụ việc của hồ sơ %s", "H49-1"); got != "Case of dossier H49-1" {
		t.Errorf("verbs: %q", got)
	}
}

func fmtList(v []string) string {
	s := ""
	for _, x := range v {
		s += x + " "
	}
	return s
}
