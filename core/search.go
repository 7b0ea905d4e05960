package core

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// SearchLimit bounds the invitations a dossier search returns.
const SearchLimit = 50

// minDossierQuery is the fewest characters a dossier search takes: fewer
// match nearly every code.
const minDossierQuery = 3

var dossierQueryRe = regexp.MustCompile(`^[A-Za-z0-9.\-_/]+$`)

// DossierQuery checks a part of a dossier code typed to search for, and
// returns it as the index keeps terms (in capitals).
func DossierQuery(field, q string) (string, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return "", Errorf(Invalid, field, "required: a part of the dossier code, e.g. 0042 or H13-2612")
	case len(q) > store.MaxDossierQuery:
		return "", Errorf(Invalid, field, "at most %d characters (a dossier code is no longer)", store.MaxDossierQuery)
	case !dossierQueryRe.MatchString(q):
		return "", Errorf(Invalid, field, "use the letters, digits and . - _ / of a dossier code, e.g. 0042 or H13-2612")
	case len(q) < minDossierQuery:
		return "", Errorf(Invalid, field, "type at least %d characters of the code", minDossierQuery)
	}
	return strings.ToUpper(q), nil
}

// InvitationQuery selects invitations to list: an agency subtree (within
// the principal's), a status, a channel (one that sent it, by id or
// family, or the one it was answered through), months of creation, and
// a part of the dossier code (Q: a search, at most SearchLimit).
type InvitationQuery struct {
	Agency, Status, Channel, FromMonth, ToMonth, Q, Cursor string
	Limit                                                  int
}

// InvitationPage is one page of invitations.
type InvitationPage struct {
	Invitations []*store.Invitation
	// Cases maps a listed invitation's id to its follow-up case's id.
	Cases map[string]string
	// Next continues the list ("" at its end).
	Next string
	// More says a search matched more than it returns.
	More bool
	// Complete says the index holds every invitation within retention
	// (false while it is built after Redis lost its data).
	Complete bool
}

// examineMax bounds the invitations one page reads to find its rows: a
// filter few match gives a short page and a cursor to go on.
const examineMax = 400

// Invitations lists the invitations q selects that p may see, newest
// first, from the dossier index: never a query over the invitations.
func (s *Service) Invitations(ctx context.Context, p *Principal, q InvitationQuery) (*InvitationPage, error) {
	sc, cur, err := s.invitationScope(ctx, p, &q)
	if err != nil {
		return nil, err
	}
	page := &InvitationPage{Invitations: []*store.Invitation{}}
	if page.Complete, err = s.Dossiers.Whole(ctx); err != nil {
		return nil, err
	}
	keep, err := s.invitationFilter(ctx, q)
	if err != nil {
		return nil, err
	}
	if q.Q != "" {
		ids, more, err := s.Dossiers.Search(ctx, sc, q.Q, SearchLimit)
		if err != nil {
			return nil, err
		}
		page.More = more
		if err := s.readInvitations(ctx, ids, func(inv *store.Invitation) {
			if keep(inv) {
				page.Invitations = append(page.Invitations, inv)
			}
		}); err != nil {
			return nil, err
		}
	} else if err := s.pageInvitations(ctx, sc, cur, q.Limit, keep, page); err != nil {
		return nil, err
	}
	return page, s.linkCases(ctx, page)
}

// pageInvitations fills page from the list after cur, reading at most
// examineMax invitations.
func (s *Service) pageInvitations(ctx context.Context, sc store.DossierScope, cur store.DossierRef, limit int, keep func(*store.Invitation) bool, page *InvitationPage) error {
	for examined := 0; examined < examineMax; {
		refs, more, err := s.Dossiers.List(ctx, sc, cur, limit)
		if err != nil {
			return err
		}
		ids := make([]string, len(refs))
		for i, r := range refs {
			ids[i] = r.ID
		}
		byID, err := s.Mongo.Invitations.ByIDs(ctx, ids)
		if err != nil {
			return err
		}
		for i, r := range refs {
			cur = r
			if inv, ok := byID[r.ID]; ok {
				s.current(ctx, inv)
				if keep(inv) {
					page.Invitations = append(page.Invitations, inv)
				}
			}
			if len(page.Invitations) == limit {
				if more || i < len(refs)-1 {
					page.Next = cur.Month + "~" + cur.ID
				}
				return nil
			}
		}
		if !more {
			return nil // the end
		}
		examined += len(refs)
	}
	page.Next = cur.Month + "~" + cur.ID
	return nil
}

// readInvitations reads ids' invitations as they stand now and gives
// them to fn in the order of ids (one that is gone is skipped).
func (s *Service) readInvitations(ctx context.Context, ids []string, fn func(*store.Invitation)) error {
	byID, err := s.Mongo.Invitations.ByIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if inv, ok := byID[id]; ok {
			s.current(ctx, inv)
			fn(inv)
		}
	}
	return nil
}

// invitationScope checks q and returns where it looks and where its
// page starts.
func (s *Service) invitationScope(ctx context.Context, p *Principal, q *InvitationQuery) (store.DossierScope, store.DossierRef, error) {
	var sc store.DossierScope
	var cur store.DossierRef
	if s.Dossiers == nil {
		return sc, cur, Errorf(Unavailable, "", "the dossier index is not configured")
	}
	if q.Limit == 0 {
		q.Limit = SearchLimit
	}
	if q.Limit < 1 || q.Limit > 200 {
		return sc, cur, Errorf(Invalid, "limit", "use 1 to 200")
	}
	if q.Status != "" && !slices.Contains(invitationStatuses, store.Status(q.Status)) {
		return sc, cur, Errorf(Invalid, "status", "%q: use pending, in_progress, completed, expired or opted_out", q.Status)
	}
	if q.Channel != "" && !channelNameRe.MatchString(q.Channel) {
		return sc, cur, Errorf(Invalid, "channel", "%q: name a channel (its id, or a family: sms, zalo, voice) or how it was answered (web, kiosk, paper)", q.Channel)
	}
	if q.Q != "" {
		var err error
		if q.Q, err = DossierQuery("q", q.Q); err != nil {
			return sc, cur, err
		}
	}
	if q.Cursor != "" {
		month, id, ok := strings.Cut(q.Cursor, "~")
		if _, valid := monthNumber(month); !ok || !valid || !cursorIDRe.MatchString(id) {
			return sc, cur, Errorf(Invalid, "cursor", "not a cursor this list gave; start again without it")
		}
		cur = store.DossierRef{Month: month, ID: id}
	}
	if q.FromMonth != "" || q.ToMonth != "" {
		months, err := caseMonths(q.FromMonth, q.ToMonth, s.now(), s.MonthLimit())
		if err != nil {
			return sc, cur, err
		}
		sc.Months = months
	}
	var err error
	sc.Agencies, err = s.scopeAgencies(ctx, p, q.Agency)
	return sc, cur, err
}

var (
	channelNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	cursorIDRe    = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)
)

var invitationStatuses = []store.Status{store.StatusPending, store.StatusInProgress, store.StatusCompleted, store.StatusExpired, store.StatusOptedOut}

// scopeAgencies are the agencies a request of p about agency (empty:
// p's own, or every one) covers; nil: every agency.
func (s *Service) scopeAgencies(ctx context.Context, p *Principal, agency string) ([]string, error) {
	root := agency
	if p.Agency != "" {
		if root == "" {
			root = p.Agency
		} else if ok, err := s.InSubtree(ctx, p.Agency, root); err != nil {
			return nil, err
		} else if !ok {
			return nil, Errorf(Denied, "agency", "agency %s is outside this key's agency %s", root, p.Agency)
		}
	}
	if root == "" {
		return nil, nil
	}
	return s.Subtree(ctx, root)
}

// invitationFilter is the test q's status and channel make.
func (s *Service) invitationFilter(ctx context.Context, q InvitationQuery) (func(*store.Invitation) bool, error) {
	now := s.now()
	families := map[string]string{} // channel id → family
	if q.Channel != "" {
		all, err := s.Mongo.Channels.All(ctx)
		if err != nil {
			return nil, err
		}
		for _, ch := range all {
			families[ch.ID] = Family(ch.Type)
		}
	}
	return func(inv *store.Invitation) bool {
		if q.Status != "" && string(inv.StatusAt(now)) != q.Status {
			return false
		}
		if q.Channel == "" || inv.CompletedVia == q.Channel {
			return true
		}
		for id := range inv.Sends {
			if id == q.Channel || families[id] == q.Channel {
				return true
			}
		}
		return false
	}, nil
}

// linkCases finds the follow-up case of each invitation on page.
func (s *Service) linkCases(ctx context.Context, page *InvitationPage) error {
	var err error
	page.Cases, err = s.caseIDsOf(ctx, page.Invitations)
	return err
}

// caseIDsOf maps each of invs that has a follow-up case to the case's id,
// from the case index (one Redis round trip).
func (s *Service) caseIDsOf(ctx context.Context, invs []*store.Invitation) (map[string]string, error) {
	out := map[string]string{}
	if s.OpenCases == nil || s.OpenCases.Search == nil || len(invs) == 0 {
		return out, nil
	}
	codes := map[string]string{}
	for _, inv := range invs {
		codes[inv.DossierCode] = inv.AgencyCode
	}
	found, err := s.OpenCases.Search.OfDossiers(ctx, codes)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if id, ok := found[inv.DossierCode]; ok {
			out[inv.ID] = id
		}
	}
	return out, nil
}

// InvitationCases maps each invitation of ids (those that exist) that has
// a follow-up case to the case's id: the invitations are read by _id,
// then the case index.
func (s *Service) InvitationCases(ctx context.Context, ids []string) (map[string]string, error) {
	if len(ids) == 0 {
		return map[string]string{}, nil
	}
	byID, err := s.Mongo.Invitations.ByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	invs := make([]*store.Invitation, 0, len(byID))
	for _, inv := range byID {
		invs = append(invs, inv)
	}
	return s.caseIDsOf(ctx, invs)
}

// Searching says whether q searches cases by text, dossier or assignee.
func (q CaseQuery) Searching() bool { return q.Q != "" || q.Dossier != "" || q.Assignee != "" }

// maxCaseQuery bounds a case search's words.
const maxCaseQuery = 200

// caseCandidates bounds the cases a case search reads.
const caseCandidates = 500

// caseTerms are the terms of q's search.
func caseTerms(q CaseQuery) ([]store.CaseTerm, error) {
	var terms []store.CaseTerm
	for field, kind := range map[string]string{"q": store.CaseWord, "assignee": store.CaseAssignee} {
		text := q.Q
		if field == "assignee" {
			text = q.Assignee
		}
		if utf8.RuneCountInString(text) > maxCaseQuery {
			return nil, Errorf(Invalid, field, "at most %d characters", maxCaseQuery)
		}
		words := survey.FoldWords(text)
		if text != "" && len(words) == 0 {
			return nil, Errorf(Invalid, field, "no word to look for: type letters or digits")
		}
		if len(words) > 10 {
			return nil, Errorf(Invalid, field, "at most 10 words")
		}
		for _, w := range words {
			terms = append(terms, store.CaseTerm{Kind: kind, Term: w})
		}
	}
	if q.Dossier != "" {
		d, err := DossierQuery("dossier", q.Dossier)
		if err != nil {
			return nil, err
		}
		terms = append(terms, store.CaseTerm{Kind: store.CaseDossier, Term: d})
	}
	return terms, nil
}

// SearchCases is Cases for a search (q's Q, Dossier or Assignee): the
// cases with every word, from the case index, whenever they opened
// (unless months are asked), and whether a word was too common to read
// whole (then some cases may be missing: add words).
func (s *Service) SearchCases(ctx context.Context, p *Principal, q CaseQuery) ([]store.Case, bool, error) {
	if s.OpenCases == nil || s.OpenCases.Search == nil {
		return nil, false, Errorf(Unavailable, "", "the case index is not configured")
	}
	if err := checkCaseQuery(q); err != nil {
		return nil, false, err
	}
	terms, err := caseTerms(q)
	if err != nil {
		return nil, false, err
	}
	agencies, err := s.scopeAgencies(ctx, p, q.Agency)
	if err != nil {
		return nil, false, err
	}
	if agencies == nil {
		if agencies, err = s.OpenCases.Search.Agencies(ctx); err != nil {
			return nil, false, err
		}
	}
	ids, partial, err := s.OpenCases.Search.Find(ctx, agencies, terms)
	if err != nil {
		return nil, false, err
	}
	if len(ids) > caseCandidates {
		ids, partial = ids[len(ids)-caseCandidates:], true
	}
	cases, err := s.Mongo.Cases.Read(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	out := cases[:0]
	for _, c := range cases {
		if store.CaseMatches(&c, terms) {
			out = append(out, c)
		}
	}
	out, err = s.filterCases(q, out)
	return out, partial, err
}

// SearchIndexed counts what IndexSearch read into the search indexes.
type SearchIndexed struct{ Invitations, Cases int64 }

// searchBatch is the invitations one backfill step indexes (one Redis
// round trip, then its place is recorded).
const searchBatch = 500

// IndexSearch builds the dossier index (the invitations of the months
// within retention) and the case index from MongoDB, unless both are
// whole (force: again anyway, as `gateway rebuild` does). Adding is
// idempotent, so it never clears anything; it records its place every
// searchBatch invitations and a run cut short resumes there. One replica
// at a time: another's run is not waited for. It reads every invitation
// and every case (start-up, in the background: searches meanwhile say
// they may be incomplete).
func (s *Service) IndexSearch(ctx context.Context, retention time.Duration, force bool) (SearchIndexed, error) {
	var n SearchIndexed
	if s.Dossiers == nil || s.OpenCases == nil || s.OpenCases.Search == nil {
		return n, nil
	}
	err := s.Locks.Holding(ctx, "search-index:"+s.Mongo.DB.Name(), time.Minute, func(ctx context.Context) error {
		var err error
		if n.Invitations, err = s.indexDossiers(ctx, retention, force); err != nil {
			return err
		}
		n.Cases, err = s.indexCases(ctx, force)
		return err
	})
	return n, err
}

// indexDossiers is IndexSearch's pass over the invitations.
func (s *Service) indexDossiers(ctx context.Context, retention time.Duration, force bool) (int64, error) {
	if whole, err := s.Dossiers.Whole(ctx); err != nil || (whole && !force) {
		return 0, err
	}
	if err := s.Dossiers.Unmark(ctx); err != nil {
		return 0, err
	}
	place, err := s.Dossiers.Place(ctx)
	if err != nil {
		return 0, err
	}
	if place.Done > 0 { // resume where the last run stopped, if the collection still has it there
		if at, err := s.Mongo.Invitations.StoredAt(ctx, place.Done-1); err != nil {
			return 0, err
		} else if at != place.Last {
			place = store.BackfillPlace{}
		}
	}
	oldest := store.MonthOf(s.now().Add(-retention))
	var batch []*store.Invitation
	var n int64
	flush := func() error {
		if err := s.Dossiers.Add(ctx, batch...); err != nil {
			return err
		}
		n += int64(len(batch))
		batch = batch[:0]
		return s.Dossiers.SetPlace(ctx, place)
	}
	err = s.Mongo.Invitations.EachStored(ctx, place.Done, func(inv *store.Invitation) error {
		place.Done, place.Last = place.Done+1, inv.ID
		if store.MonthOf(inv.CreatedAt) >= oldest {
			batch = append(batch, inv)
		}
		if place.Done%searchBatch == 0 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, fmt.Errorf("index dossier codes: %w", err)
	}
	return n, s.Dossiers.MarkWhole(ctx)
}

// indexCases is IndexSearch's pass over the cases (a few per hundred
// invitations: a cut run starts again).
func (s *Service) indexCases(ctx context.Context, force bool) (int64, error) {
	cs := s.OpenCases.Search
	if whole, err := cs.Whole(ctx); err != nil || (whole && !force) {
		return 0, err
	}
	if err := cs.Unmark(ctx); err != nil {
		return 0, err
	}
	var batch []*store.Case
	var n int64
	err := s.Mongo.Cases.Each(ctx, func(c *store.Case) error {
		batch = append(batch, c)
		if len(batch) < searchBatch {
			return nil
		}
		n += int64(len(batch))
		err := cs.Index(ctx, batch...)
		batch = nil
		return err
	})
	if err == nil {
		n += int64(len(batch))
		err = cs.Index(ctx, batch...)
	}
	if err != nil {
		return n, fmt.Errorf("index cases for search: %w", err)
	}
	return n, cs.MarkWhole(ctx)
}
