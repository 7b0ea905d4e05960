package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	gwreport "github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// The search scenarios (issue 29) read what an operator's console reads
// when looking for a dossier or a case: the dossier index through
// GET /api/v1/invitations?q= (by a code's start and by a part from its
// middle), the invitations list with filters (status, channel, one
// month) and the case index through GET /api/v1/cases?q= and ?dossier=.
// On a filled store they look for filler codes that exist (and, for
// cases, codes whose response opened one), and check before measuring
// that the first of each is found: a fill the search does not see (no
// `gateway rebuild`) fails the run rather than measuring empty answers.

// searchable is what the search scenarios look for.
type searchable struct {
	codes     []string // dossier codes that exist, within retention
	caseCodes []string // dossier codes with a follow-up case
	month     string   // YYYY-MM for the filtered list
	filled    bool     // codes come from the filler: each must be found
}

// searchWithin bounds the filler's days the search scenarios pick codes
// from: inside the gateway's default retention (180 days), which the
// dossier index keeps.
const searchWithin = 150

// fillSearchable picks k codes of the filler's invitations 0..n-1 made
// within searchWithin days of the anchor, and k of those whose response
// opened a case.
func fillSearchable(n, k int, anchor time.Time) (*searchable, error) {
	lex, err := survey.LoadLexicon()
	if err != nil {
		return nil, err
	}
	cal, err := survey.NewCalendar()
	if err != nil {
		return nil, err
	}
	s := &searchable{filled: true, month: store.MonthOf(anchor.AddDate(0, 0, -60))}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for tries := 0; tries < 200*k && (len(s.codes) < k || len(s.caseCodes) < k); tries++ {
		i := r.IntN(n)
		if i%fillDays >= searchWithin {
			continue
		}
		if len(s.codes) < k {
			s.codes = append(s.codes, fillDossier(i, anchor))
		}
		inv := fillInvitation(i, anchor)
		if inv.Status != store.StatusCompleted || len(s.caseCodes) == k {
			continue
		}
		resp := fillResponse(i, inv)
		if gwreport.CaseOf(resp, gwreport.TopicsOf(resp, lex), store.DefaultCaseRule, cal) != nil {
			s.caseCodes = append(s.caseCodes, inv.DossierCode)
		}
	}
	if len(s.codes) == 0 || len(s.caseCodes) == 0 {
		return nil, fmt.Errorf("no filler invitation of the last %d days (or none with a case) among %d: fill more", searchWithin, n)
	}
	return s, nil
}

// apiSearchable makes k invitations through the API, with codes of the
// usual shape, for the search scenarios on a store without filler ones.
func (g *gen) apiSearchable(k int) (*searchable, error) {
	now := time.Now()
	s := &searchable{month: store.MonthOf(now), codes: make([]string, k)}
	day := now.In(vietnam).Format("060102")
	err := parallel(g.conns, k, func(w, i int) error {
		code := fmt.Sprintf("000.00.12.H49-%s-%s%03d", day, strings.ToUpper(g.run), i)
		s.codes[i] = code
		_, err := g.api(w, "POST", "/api/v1/invitations", map[string]any{"dossier_code": code, "agency_code": "000.00.12.H49", "survey": "sipas-5"})
		return err
	})
	s.caseCodes = s.codes
	return s, err
}

// codeStart is what an operator types who knows a code's start: all of it
// but its last two characters.
func codeStart(code string) string { return code[:max(len(code)-2, 0)] }

// codePart is a part from a code's middle: the last group of its agency
// and its date (000.00.12.H49-261203-0042: H49-261203), which every
// dossier of that day in any agency ending so shares.
func codePart(code string) string {
	agency, rest, _ := strings.Cut(code, "-")
	date, _, _ := strings.Cut(rest, "-")
	return agency[strings.LastIndex(agency, ".")+1:] + "-" + date
}

// caseWords are words of the filler's comments, as an operator types them
// (without diacritics: the index folds them).
var caseWords = []string{"cho lau", "ruom ra", "nhiet tinh", "hai long"}

// searchPaths are the requests of each search scenario.
func searchPaths(s *searchable) map[string][]string {
	q := func(param string, codes []string, part func(string) string) []string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = param + url.QueryEscape(part(c))
		}
		return out
	}
	words := make([]string, len(caseWords))
	for i, w := range caseWords {
		words[i] = "/api/v1/cases?q=" + url.QueryEscape(w)
	}
	return map[string][]string{
		"search code start": q("/api/v1/invitations?q=", s.codes, codeStart),
		"search code part":  q("/api/v1/invitations?q=", s.codes, codePart),
		"list filtered":     {"/api/v1/invitations?status=completed&channel=web&from=" + s.month + "&to=" + s.month},
		"case search words": words,
		"case search code":  q("/api/v1/cases?dossier=", s.caseCodes, codeStart),
	}
}

// searchScenarios are the search scenarios in the order they run.
var searchScenarios = []string{"search code start", "search code part", "list filtered", "case search words", "case search code"}

// reads sends paths in turn, worker w starting at its own place.
func (g *gen) reads(paths []string) maker {
	return func(w, i int) (*http.Request, error) {
		req, err := http.NewRequest("GET", g.target(w)+paths[(w*7919+i)%len(paths)], nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+g.key)
		}
		return req, err
	}
}

// finds checks that path's answer lists something under field.
func (g *gen) finds(path, field string) error {
	req, _ := http.NewRequest("GET", g.target(0)+path, nil)
	req.Header.Set("Authorization", "Bearer "+g.key)
	res, err := g.setup.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var out map[string]json.RawMessage
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %v", path, res.StatusCode, err)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(out[field], &list); err != nil || len(list) == 0 {
		return fmt.Errorf("GET %s found no %s: is the store's search index built (gateway rebuild after a fill)?", path, field)
	}
	return nil
}

// searches runs the search scenarios, on o's filler codes or, without
// them, on invitations made through the API now.
func (g *gen) searches(o config, add func(result)) error {
	s := o.search
	if s == nil {
		var err error
		if s, err = g.apiSearchable(60); err != nil {
			return fmt.Errorf("search: make invitations: %w", err)
		}
	}
	paths := searchPaths(s)
	for _, name := range searchScenarios {
		field := "invitations"
		if strings.HasPrefix(name, "case") {
			field = "cases"
		}
		// Made through the API now, the store has invitations to find but
		// no case and maybe none completed.
		if s.filled || strings.HasPrefix(name, "search") {
			if err := g.finds(paths[name][0], field); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		add(load(name, g.client, g.reads(paths[name]), o.duration, o.conns, o.rate))
	}
	return nil
}
