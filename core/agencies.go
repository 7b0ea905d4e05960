package core

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// AgencyInput is the body of PUT /api/v1/agencies/{code}.
type AgencyInput struct {
	Name   string `json:"name"`
	NameEN string `json:"name_en"`
	// ShortName is the name used in SMS texts when the full name does
	// not fit one part; empty = none.
	ShortName string `json:"short_name" doc:"at most 20 characters: the name citizens know the office by, used in SMS texts when the full name does not fit, e.g. UBND Nghi Lộc"`
	Parent    string `json:"parent"`
	Level     string `json:"level"`
	// CaseRule sets when the agency's (and its subtree's) responses open
	// follow-up cases; unset inherits.
	CaseRule *store.CaseRule `json:"case_rule"`
	// Webhook sets the agency's own system to tell of its cases; unset
	// keeps the one set, a url of "" removes it.
	Webhook *WebhookInput `json:"webhook"`
	// OfficeNetworks and DossierServers set the agency's staff networks
	// and central dossier systems (CIDRs, or addresses as /32 and /128)
	// for the integrity signals; unset keeps the lists set, [] empties
	// them.
	OfficeNetworks []string `json:"office_networks" doc:"CIDRs (or single addresses) of the agency's staff networks, not the citizens' guest Wi-Fi: web answers from them are flagged office_network; unset keeps the list, [] empties it"`
	DossierServers []string `json:"dossier_servers" doc:"CIDRs (or single addresses) of the central dossier systems that create this agency's and its subtree's invitations, whose creates creator_address ignores; unset keeps the list, [] empties it"`
	// SendHours and CallHours override the gateway's windows for the
	// agency's subtree; unset keeps what is set, "" removes it.
	SendHours *string `json:"send_hours" doc:"HH:MM-HH:MM, Vietnam time: when texts and Zalo messages to this agency's citizens go out; unset keeps it, \"\" takes the parent's (or GATEWAY_SEND_HOURS)"`
	CallHours *string `json:"call_hours" doc:"HH:MM-HH:MM, Vietnam time, working days: when this agency's survey calls are made; unset keeps it, \"\" takes the parent's (or GATEWAY_CALL_HOURS)"`
}

// WebhookInput is an agency's webhook as set.
type WebhookInput struct {
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

// MaxShortName is how long an agency's short name may be, in characters:
// short enough that an invitation naming it, its dossier code and the
// questions still fits one SMS part.
const MaxShortName = 20

// Levels an agency may have.
var Levels = []string{"province", "department", "district", "commune", "unit"}

func (s *Service) checkAgency(code string, in AgencyInput) (*store.Agency, error) {
	in.Name, in.NameEN, in.ShortName = survey.CleanText(in.Name), survey.CleanText(in.NameEN), survey.CleanText(in.ShortName)
	switch {
	case !ValidAgencyCode(code):
		return nil, Errorf(Invalid, "code", "%q: use at most 35 characters of digits, capital letters and dots, e.g. 000.00.12.H49", code)
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 200:
		return nil, Errorf(Invalid, "name", "required, at most 200 characters: the Vietnamese name")
	case utf8.RuneCountInString(in.NameEN) > 200:
		return nil, Errorf(Invalid, "name_en", "at most 200 characters")
	case utf8.RuneCountInString(in.ShortName) > MaxShortName:
		return nil, Errorf(Invalid, "short_name", "at most %d characters (this has %d): the name citizens know the office by, e.g. UBND Nghi Lộc", MaxShortName, utf8.RuneCountInString(in.ShortName))
	case in.Parent != "" && !ValidAgencyCode(in.Parent):
		return nil, Errorf(Invalid, "parent", "%q is not an agency code", in.Parent)
	case in.Parent == code:
		return nil, Errorf(Invalid, "parent", "an agency cannot be its own parent")
	case in.Level != "" && !contains(Levels, in.Level):
		return nil, Errorf(Invalid, "level", "%q is not one of %s", in.Level, list(Levels))
	case in.CaseRule != nil && (in.CaseRule.MaxScore < 0 || in.CaseRule.MaxScore > 2):
		return nil, Errorf(Invalid, "case_rule.max_score", "%d: use 1 or 2 (a criterion at or below opens a case), or 0 for the default 2", in.CaseRule.MaxScore)
	case in.CaseRule != nil && (in.CaseRule.ComplaintMaxMean < -1 || in.CaseRule.ComplaintMaxMean > 5):
		return nil, Errorf(Invalid, "case_rule.complaint_max_mean", "%v: use a mean score 1–5, 0 for the default 3, or -1 for never", in.CaseRule.ComplaintMaxMean)
	case in.CaseRule != nil && (in.CaseRule.DueDays < 0 || in.CaseRule.DueDays > 60):
		return nil, Errorf(Invalid, "case_rule.due_days", "%d: use 1–60 working days, or 0 for the default 5", in.CaseRule.DueDays)
	}
	var hook *store.Webhook
	if w := in.Webhook; w != nil && w.URL != "" {
		u, err := url.Parse(w.URL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			return nil, Errorf(Invalid, "webhook.url", "%q is not an http(s) URL", w.URL)
		case len(w.Secret) < 16:
			return nil, Errorf(Invalid, "webhook.secret", "at least 16 characters: the key that signs each event (X-Signature, hex HMAC-SHA256 of the body)")
		}
		hook = &store.Webhook{URL: w.URL, Secret: w.Secret}
	}
	office, err := checkNetworks("office_networks", in.OfficeNetworks)
	if err != nil {
		return nil, err
	}
	servers, err := checkNetworks("dossier_servers", in.DossierServers)
	if err != nil {
		return nil, err
	}
	sendHours, err := checkHours("send_hours", in.SendHours)
	if err != nil {
		return nil, err
	}
	callHours, err := checkHours("call_hours", in.CallHours)
	if err != nil {
		return nil, err
	}
	if in.CaseRule != nil && s.Topics != nil {
		for _, t := range in.CaseRule.Topics {
			if !slices.ContainsFunc(s.Topics.Topics, func(d survey.TopicDef) bool { return d.ID == t }) {
				return nil, Errorf(Invalid, "case_rule.topics", "%q is not a comment topic; use one of the lexicon's (waiting, attitude, payments, …)", t)
			}
		}
	}
	return &store.Agency{Code: code, Name: in.Name, NameEN: in.NameEN, ShortName: in.ShortName,
		Parent: in.Parent, Level: in.Level, Updated: s.now(), CaseRule: in.CaseRule, Webhook: hook,
		OfficeNetworks: office, DossierServers: servers, SendHours: sendHours, CallHours: callHours}, nil
}

// checkHours reads an agency's send or call window (nil or "": none).
func checkHours(field string, v *string) (string, error) {
	if v == nil || strings.TrimSpace(*v) == "" {
		return "", nil
	}
	h, err := survey.ParseHours(*v)
	if err != nil {
		return "", Errorf(Invalid, field, "%v, or \"\" for the parent's", err)
	}
	return h.String(), nil
}

// tree maps codes to agencies.
type tree map[string]store.Agency

func (s *Service) tree(ctx context.Context) (tree, error) {
	all, err := s.Mongo.Agencies.All(ctx)
	if err != nil {
		return nil, err
	}
	t := tree{}
	for _, a := range all {
		t[a.Code] = a
	}
	return t, nil
}

// cycle reports whether making a's parent its parent would loop.
func (t tree) cycle(a *store.Agency) bool {
	seen := map[string]bool{a.Code: true}
	for p := a.Parent; p != ""; p = t[p].Parent {
		if seen[p] {
			return true
		}
		seen[p] = true
	}
	return false
}

// PutAgency creates or replaces an agency; its parent must exist and the
// tree must stay a tree.
func (s *Service) PutAgency(ctx context.Context, p *Principal, code string, in AgencyInput) (*store.Agency, error) {
	a, err := s.checkAgency(code, in)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockTree(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	if old, ok := t[code]; ok {
		if a.CaseRule == nil {
			a.CaseRule = old.CaseRule // a body without case_rule keeps the one set
		}
		if in.Webhook == nil {
			a.Webhook = old.Webhook // likewise the webhook
		}
		a.StaffPhones = old.StaffPhones // set on their own (PutStaffPhones)
		if in.OfficeNetworks == nil {
			a.OfficeNetworks = old.OfficeNetworks
		}
		if in.DossierServers == nil {
			a.DossierServers = old.DossierServers
		}
		if in.SendHours == nil {
			a.SendHours = old.SendHours
		}
		if in.CallHours == nil {
			a.CallHours = old.CallHours
		}
	}
	if err := t.place(a, "parent"); err != nil {
		return nil, err
	}
	if err := s.Mongo.Agencies.Put(ctx, a); err != nil {
		return nil, err
	}
	detail := map[string]any{"name": a.Name, "parent": a.Parent, "level": a.Level}
	if a.ShortName != "" {
		detail["short_name"] = a.ShortName
	}
	if a.CaseRule != nil {
		detail["case_rule"] = a.CaseRule
	}
	if a.Webhook != nil {
		detail["webhook"] = a.Webhook.URL
	}
	if len(a.OfficeNetworks) > 0 {
		detail["office_networks"] = a.OfficeNetworks
	}
	if len(a.DossierServers) > 0 {
		detail["dossier_servers"] = a.DossierServers
	}
	if a.SendHours != "" {
		detail["send_hours"] = a.SendHours
	}
	if a.CallHours != "" {
		detail["call_hours"] = a.CallHours
	}
	s.forgetAgencies()
	return a, s.Audit(ctx, p, "agency.put", a.Code, detail)
}

// place adds a to t, refusing an unknown parent or a cycle.
func (t tree) place(a *store.Agency, field string) error {
	if _, ok := t[a.Parent]; a.Parent != "" && !ok {
		return Errorf(Invalid, field, "agency %s does not exist; create the parent first", a.Parent)
	}
	t[a.Code] = *a
	if t.cycle(a) {
		return Errorf(Invalid, field, "making %s the parent of %s would make a cycle", a.Parent, a.Code)
	}
	return nil
}

// DeleteAgency removes an agency that has no children. Responses keep their
// agency code.
func (s *Service) DeleteAgency(ctx context.Context, p *Principal, code string) error {
	unlock, err := s.lockTree(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	t, err := s.tree(ctx)
	if err != nil {
		return err
	}
	if _, ok := t[code]; !ok {
		return Errorf(NotFound, "", "agency %s does not exist", code)
	}
	for _, a := range t {
		if a.Parent == code {
			return Errorf(Conflict, "", "agency %s has sub-agencies (%s…); move or delete them first", code, a.Code)
		}
	}
	if err := s.Mongo.Agencies.Delete(ctx, code); err != nil {
		return err
	}
	s.forgetAgencies()
	return s.Audit(ctx, p, "agency.delete", code, nil)
}

// Subtree returns code and every agency below it. An unregistered code
// stands for itself alone.
func (s *Service) Subtree(ctx context.Context, code string) ([]string, error) {
	t, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	children := map[string][]string{}
	for _, a := range t {
		children[a.Parent] = append(children[a.Parent], a.Code)
	}
	out, seen := []string{code}, map[string]bool{code: true}
	for i := 0; i < len(out); i++ {
		for _, ch := range children[out[i]] {
			if !seen[ch] { // a cycle must never hang a request
				seen[ch] = true
				out = append(out, ch)
			}
		}
	}
	sort.Strings(out[1:])
	return out, nil
}

// Root is the top of code's tree (the province): code itself when it has
// no parent or is unregistered.
func (s *Service) Root(ctx context.Context, code string) (string, error) {
	t, err := s.tree(ctx)
	if err != nil {
		return "", err
	}
	parent := map[string]string{}
	for _, a := range t {
		parent[a.Code] = a.Parent
	}
	seen := map[string]bool{}
	for parent[code] != "" && !seen[code] { // a cycle must never hang a request
		seen[code] = true
		code = parent[code]
	}
	return code, nil
}

// InSubtree reports whether agency is root or below it.
func (s *Service) InSubtree(ctx context.Context, root, agency string) (bool, error) {
	codes, err := s.Subtree(ctx, root)
	if err != nil {
		return false, err
	}
	return contains(codes, agency), nil
}

// ImportAgencies reads a CSV whose header names its columns, in any order:
// code,name,name_en,short_name,parent,level (only code and name are
// needed; a column left out, like short_name in files made before it
// existed, is empty) and saves every row, or none: a bad row is reported
// with its line number and nothing is written.
func (s *Service) ImportAgencies(ctx context.Context, p *Principal, r io.Reader) (int, error) {
	rows, err := readAgencyCSV(r)
	if err != nil {
		return 0, err
	}
	unlock, err := s.lockTree(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	t, err := s.tree(ctx)
	if err != nil {
		return 0, err
	}
	var todo []*store.Agency
	for _, row := range rows {
		a, err := s.checkAgency(row.code, row.in)
		if err != nil {
			return 0, lineError(row.line, err)
		}
		if old, ok := t[a.Code]; ok { // the CSV has no such columns: keep them
			a.CaseRule, a.Webhook, a.OfficeNetworks, a.DossierServers, a.StaffPhones = old.CaseRule, old.Webhook, old.OfficeNetworks, old.DossierServers, old.StaffPhones
			a.SendHours, a.CallHours = old.SendHours, old.CallHours
		}
		t[a.Code] = *a
		todo = append(todo, a)
	}
	for _, row := range rows { // parents may come later in the file
		a := t[row.code]
		if err := t.place(&a, "parent"); err != nil {
			return 0, lineError(row.line, err)
		}
	}
	if err := s.Mongo.Agencies.Put(ctx, parentsFirst(todo, t)...); err != nil {
		return 0, err
	}
	s.forgetAgencies()
	return len(todo), s.Audit(ctx, p, "agency.import", "", map[string]any{"agencies": len(todo)})
}

type agencyRow struct {
	line int
	code string
	in   AgencyInput
}

func readAgencyCSV(r io.Reader) ([]agencyRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, Errorf(Invalid, "csv", "no header line: start with code,name,name_en,short_name,parent,level")
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["code"]; !ok {
		return nil, Errorf(Invalid, "csv", "the header lacks a code column: use code,name,name_en,short_name,parent,level")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []agencyRow
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, Errorf(Invalid, "csv", "line %d: %v", line, err)
		}
		code := get(rec, "code")
		if prev, dup := seen[code]; dup {
			return nil, Errorf(Invalid, "csv", "line %d: code %s is already on line %d", line, code, prev)
		}
		seen[code] = line
		rows = append(rows, agencyRow{line: line, code: code, in: AgencyInput{Name: get(rec, "name"), NameEN: get(rec, "name_en"),
			ShortName: get(rec, "short_name"), Parent: get(rec, "parent"), Level: get(rec, "level")}})
	}
	if len(rows) == 0 {
		return nil, Errorf(Invalid, "csv", "no agencies after the header")
	}
	return rows, nil
}

func lineError(line int, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return Errorf(e.Code, "csv", "line %d: %s: %s", line, e.Field, e.Message)
	}
	return fmt.Errorf("line %d: %w", line, err)
}

// parentsFirst orders agencies so each comes after its parent.
func parentsFirst(as []*store.Agency, t tree) []*store.Agency {
	depth := func(a *store.Agency) int {
		d := 0
		for p := a.Parent; p != "" && d < len(t); p = t[p].Parent {
			d++
		}
		return d
	}
	sort.SliceStable(as, func(i, j int) bool { return depth(as[i]) < depth(as[j]) })
	return as
}

// lockTree serialises changes to the agency tree across replicas, so two
// concurrent changes cannot each pass the cycle check and together make a
// cycle.
func (s *Service) lockTree(ctx context.Context) (func(), error) {
	if s.Locks == nil {
		return func() {}, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := s.Locks.Acquire(ctx, "agency-tree:"+s.Mongo.DB.Name(), 30*time.Second)
		if err == nil {
			return func() { _ = l.Release(context.WithoutCancel(ctx)) }, nil
		}
		if !errors.Is(err, store.ErrLocked) || time.Now().After(deadline) {
			return nil, Errorf(Unavailable, "", "the agency tree is being changed by another request; try again")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// forgetAgencies drops what this process keeps of the agency tree (the
// lists and the names kept for a minute) after a change to it; other
// replicas see the change within a minute.
func (s *Service) forgetAgencies() {
	s.Lists.Forget()
	if s.AgencyNames != nil {
		s.AgencyNames.Clear()
	}
}
