package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/survey"
)

// CaseSearch indexes follow-up cases in Redis by the words of their text
// (comment, answer, notes), of their assignee, and by their dossier
// code's terms (DossierTerms), one lexicographic sorted set per agency
// whose members are kind ("w", "a", "d"), ":", the term, a 0 byte and the
// case id. Words are folded (survey.FoldWords): "cham tre" finds
// "chậm trễ". A term a case no longer has (a note's words stay, an
// answer replaced, an assignee changed) may stay behind: readers check
// each case they read (CaseMatches).
type CaseSearch struct {
	R    redis.UniversalClient
	Name string // the database name
}

// Case search kinds.
const (
	CaseWord     = "w"
	CaseAssignee = "a"
	CaseDossier  = "d"
)

// caseTermsMax bounds the words one case adds (a long comment's first
// ones; notes are short).
const caseTermsMax = 200

// CaseTermRead bounds the members one term reads from one agency's set:
// a term that many cases have is too common to narrow a search.
const CaseTermRead = 2000

func (s *CaseSearch) key(agency string) string { return "gw:casesearch:" + s.Name + ":" + agency }
func (s *CaseSearch) wholeKey() string         { return "gw:casesearch:" + s.Name + ":whole" }
func (s *CaseSearch) agenciesKey() string      { return "gw:casesearch:" + s.Name + ":agencies" }

// Agencies are the agencies with cases indexed.
func (s *CaseSearch) Agencies(ctx context.Context) ([]string, error) {
	a, err := s.R.SMembers(ctx, s.agenciesKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read the agencies with cases: %w", err)
	}
	slices.Sort(a)
	return a, nil
}

// CaseTerms are c's index terms, by kind.
func CaseTerms(c *Case) map[string][]string {
	text := []string{c.Comment, c.Answer}
	for _, n := range c.Notes {
		text = append(text, n.Text)
	}
	words := dedupe(survey.FoldWords(strings.Join(text, "\n")))
	if len(words) > caseTermsMax {
		words = words[:caseTermsMax]
	}
	var dossier []string
	for _, code := range []string{c.Dossier, c.GivenDossier} {
		if code != "" && len(code) <= MaxDossierQuery {
			dossier = append(dossier, DossierTerms(code, c.Agency)...)
		}
	}
	return map[string][]string{CaseWord: words, CaseAssignee: dedupe(survey.FoldWords(c.Assignee)), CaseDossier: dedupe(dossier)}
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// Index adds the cases' terms (again: adding is idempotent).
func (s *CaseSearch) Index(ctx context.Context, cases ...*Case) error {
	if len(cases) == 0 {
		return nil
	}
	_, err := s.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range cases {
			s.IndexIn(ctx, p, c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %d cases for search: %w", len(cases), err)
	}
	return nil
}

// IndexIn queues c's terms on p.
func (s *CaseSearch) IndexIn(ctx context.Context, p redis.Pipeliner, c *Case) {
	var zs []redis.Z
	for kind, terms := range CaseTerms(c) {
		for _, t := range terms {
			zs = append(zs, redis.Z{Member: kind + ":" + t + "\x00" + c.ID})
		}
	}
	if len(zs) > 0 {
		p.SAdd(ctx, s.agenciesKey(), c.Agency) // first: readers find the set through it
		p.ZAdd(ctx, s.key(c.Agency), zs...)
	}
}

// CaseTerm is one term of a case query: kind and a start of the term
// (words are matched by their start: "tr" finds "trễ").
type CaseTerm struct{ Kind, Term string }

// Find returns the ids of the cases of agencies that have every term,
// and whether a term was too common to read whole (the ids may then miss
// some cases).
func (s *CaseSearch) Find(ctx context.Context, agencies []string, terms []CaseTerm) ([]string, bool, error) {
	cmds := make([][]*redis.StringSliceCmd, len(agencies))
	_, err := s.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range agencies {
			for _, t := range terms {
				lo := t.Kind + ":" + t.Term
				cmds[i] = append(cmds[i], p.ZRangeByLex(ctx, s.key(a), &redis.ZRangeBy{Min: "[" + lo, Max: "[" + lo + "\xff", Count: CaseTermRead}))
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("search cases: %w", err)
	}
	var ids []string
	partial := false
	for _, perTerm := range cmds {
		var have map[string]bool // the ids with every term so far
		for _, c := range perTerm {
			partial = partial || len(c.Val()) == CaseTermRead
			got := map[string]bool{}
			for _, m := range c.Val() {
				if _, id, ok := strings.Cut(m, "\x00"); ok && (have == nil || have[id]) {
					got[id] = true
				}
			}
			have = got
		}
		ids = append(ids, slices.Collect(maps.Keys(have))...)
	}
	slices.Sort(ids)
	return ids, partial, nil
}

// CaseMatches says whether c has every term now (the index may hold
// terms it lost).
func CaseMatches(c *Case, terms []CaseTerm) bool {
	has := CaseTerms(c)
	for _, t := range terms {
		if !slices.ContainsFunc(has[t.Kind], func(v string) bool { return strings.HasPrefix(v, t.Term) }) {
			return false
		}
	}
	return true
}

// OfDossiers returns the id of a case of each of codes (by agency), if
// any: the console links an invitation to its case.
func (s *CaseSearch) OfDossiers(ctx context.Context, codes map[string]string) (map[string]string, error) {
	cmds := map[string]*redis.StringSliceCmd{}
	_, err := s.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for code, agency := range codes {
			lo := CaseDossier + ":" + strings.ToUpper(code) + "\x00"
			cmds[code] = p.ZRangeByLex(ctx, s.key(agency), &redis.ZRangeBy{Min: "[" + lo, Max: "[" + lo + "\xff", Count: 1})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find the dossiers' cases: %w", err)
	}
	out := map[string]string{}
	for code, c := range cmds {
		if v := c.Val(); len(v) > 0 {
			_, out[code], _ = strings.Cut(v[0], "\x00")
		}
	}
	return out, nil
}

// Whole says every case is indexed (a backfill finished since Redis
// last lost its data).
func (s *CaseSearch) Whole(ctx context.Context) (bool, error) {
	n, err := s.R.Exists(ctx, s.wholeKey()).Result()
	return n == 1, err
}

// MarkWhole records that every case is indexed.
func (s *CaseSearch) MarkWhole(ctx context.Context) error {
	return s.R.Set(ctx, s.wholeKey(), "1", 0).Err()
}

// Unmark says the index is no longer known whole (a forced rebuild).
func (s *CaseSearch) Unmark(ctx context.Context) error {
	return s.R.Del(ctx, s.wholeKey()).Err()
}
