package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/sipasvn/gateway/qr"
	gwreport "github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// The filler writes invitations straight into MongoDB through
// store.Invitations.InsertBulk: the invitation documents and their token and
// dossier lookups exactly as the gateway's insert makes them, but nothing
// CreateInvitation does around that insert: no HTTP layer or validation, and
// no Redis side (the funnel event that counts the invitation in the
// response-rate roll-ups; the citizen index, invitation cache and send
// queue, which only invitations with a phone or channels get, and filler
// ones have neither). Each completed invitation gets its response, written
// the same way (store.Responses.InsertBulk: no uncounted copy), with scores
// drawn around 4 and a comment now and then: the full form on the web, the
// five-criterion short form by SMS; a response the gateway would open a
// follow-up case for (report.CaseOf under the default rule) opens it, as
// the roll-up writer does, but only in MongoDB (the open-case index in
// Redis is not written). `gateway rebuild` brings them into the roll-ups
// and the search indexes.
// Invitation i is the same every time apart from its id and token: its
// dates and dossier code count back from the anchor, the time of the
// store's first fill, which a marker in the loadgen_fill database keeps
// with how far the last fill got, so filling again inserts only the ones
// missing and the load tool knows the codes that exist.

const (
	fillBatch   = 1000
	fillProgDB  = "loadgen_fill" // progress marker: {_id: <database>, n: filled, anchor: time}
	fillTTL     = 30 * 24 * time.Hour
	fillDays    = 365  // days before the anchor's that invitations are spread over
	fillDone    = 0.30 // share completed
	fillDoneWeb = 0.6  // of those, through the web page (else SMS)
)

// fillAgencies is a tree of 60 agency codes: 20 provincial departments
// (000.00.DD.H49), then ten communes under each of four districts
// (000.CC.DD.H49).
var fillAgencies = func() []string {
	var a []string
	for d := 1; d <= 20; d++ {
		a = append(a, fmt.Sprintf("000.00.%02d.H49", d))
	}
	for _, d := range []int{21, 22, 23, 24} {
		for c := 1; c <= 10; c++ {
			a = append(a, fmt.Sprintf("000.%02d.%02d.H49", c, d))
		}
	}
	return a
}()

// fillProcedures are 200 procedure codes (1.0NNNNN.000.00.00.H49), each in
// one of 20 fields (G01-XX01 …).
var fillProcedures, fillFields = func() ([]string, []string) {
	r := rand.New(rand.NewPCG(7, 11))
	seen := map[int]bool{}
	var p, f []string
	for len(p) < 200 {
		n := 1000 + r.IntN(12000)
		if seen[n] {
			continue
		}
		seen[n] = true
		p = append(p, fmt.Sprintf("1.%06d.000.00.00.H49", n))
		f = append(f, fmt.Sprintf("G%02d-%s%02d", 1+len(p)%20, []string{"GD", "TP", "XD", "DD", "YT"}[len(p)%5], 1+len(p)%20))
	}
	return p, f
}()

// skewed picks 0..n-1, low numbers far more often (busy agencies, common
// procedures).
func skewed(r *rand.Rand, n int) int {
	x := r.Float64()
	return int(float64(n) * x * x)
}

func fillRand(i int) *rand.Rand { return rand.New(rand.NewPCG(0x5eed, uint64(i))) }

// vietnam is the time zone of dossier codes' dates and office hours.
var vietnam = time.FixedZone("ICT", 7*3600)

// fillPlace is where invitation i belongs: its agency (fillRand(i)'s
// first draw), its day (Vietnam time) and its number that day. Invitation
// i is made on day 1 + i%fillDays before the anchor's and is the
// (i/fillDays + 1)-th of that day: the days fill evenly, and a day's
// numbers run 1, 2, 3… across the province's agencies (one counter a
// day, as a province's one-stop system numbers its dossiers).
func fillPlace(i int, anchor time.Time) (agency string, day time.Time, seq int) {
	a := anchor.In(vietnam)
	day = time.Date(a.Year(), a.Month(), a.Day()-1-i%fillDays, 0, 0, 0, 0, vietnam)
	return fillAgencies[skewed(fillRand(i), len(fillAgencies))], day, i/fillDays + 1
}

// fillDossier is invitation i's dossier code, as a one-stop system makes
// them: <agency>-<YYMMDD>-<the day's number, 4 digits>, e.g.
// 000.00.12.H49-261203-0042.
func fillDossier(i int, anchor time.Time) string {
	agency, day, seq := fillPlace(i, anchor)
	return fmt.Sprintf("%s-%s-%04d", agency, day.Format("060102"), seq)
}

// fillInvitation is the filler's invitation i of a fill anchored at
// anchor: made in office hours on its day (fillPlace: within the year
// before the anchor's day, so the last 30 days' share, about one in
// twelve, is still open), expiring 30 days later, three in ten completed
// on the web or by SMS by the anchor.
func fillInvitation(i int, anchor time.Time) *store.Invitation {
	r := fillRand(i)
	agency := fillAgencies[skewed(r, len(fillAgencies))] // first draw: see fillPlace
	_, day, _ := fillPlace(i, anchor)
	proc := skewed(r, len(fillProcedures))
	// Office hours, 08:00–17:00 Vietnam time.
	created := store.Millis(day.Add(8*time.Hour + time.Duration(r.Int64N(int64(9*time.Hour)))).UTC())
	now := anchor
	id := primitive.NewObjectID() // the gateway's ids, dated when the invitation was made
	ts := uint32(created.Unix())
	id[0], id[1], id[2], id[3] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	locale := "vi"
	if r.IntN(40) == 0 {
		locale = "en"
	}
	inv := &store.Invitation{
		ID:            id.Hex(),
		Token:         string(qr.NewToken()),
		DossierCode:   fillDossier(i, anchor),
		AgencyCode:    agency,
		ProcedureCode: fillProcedures[proc],
		FieldCode:     fillFields[proc],
		Survey:        string(survey.SIPAS),
		Locale:        locale,
		Status:        store.StatusPending,
		CreatedAt:     created,
		ExpiresAt:     created.Add(fillTTL),
	}
	if r.Float64() < fillDone {
		// Answered within hours to days of the visit, before expiry and now.
		after := time.Duration(r.ExpFloat64() * float64(18*time.Hour))
		at := created.Add(min(after, fillTTL-time.Minute))
		if at.After(now) {
			at = now.Add(-time.Duration(r.Int64N(int64(max(now.Sub(created), time.Second)))))
		}
		at = store.Millis(at)
		inv.Status, inv.CompletedAt, inv.CompletedVia = store.StatusCompleted, &at, "sms"
		if r.Float64() < fillDoneWeb {
			started := store.Millis(at.Add(-time.Duration(30+r.IntN(300)) * time.Second))
			if started.Before(created) {
				started = created
			}
			inv.CompletedVia, inv.StartedAt = "web", &started
		}
	}
	return inv
}

// fillProgress reads how many of the filler's invitations the database
// holds (0..n-1) and the anchor they count back from, from the marker the
// last fill left, checked against the store: the last of them must exist.
// Nothing filled yet: 0 and a zero anchor.
func fillProgress(ctx context.Context, m *store.Mongo, db string) (int, time.Time, error) {
	var doc struct {
		N      int       `bson:"n"`
		Anchor time.Time `bson:"anchor"`
	}
	err := m.Client.Database(fillProgDB).Collection("fill").FindOne(ctx, bson.D{{Key: "_id", Value: db}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, err
	}
	if doc.Anchor.IsZero() {
		return 0, time.Time{}, fmt.Errorf("database %s was filled by an older load tool (codes <agency>-FILL-<n>, no anchor in %s.fill): fill a fresh store", db, fillProgDB)
	}
	if doc.N == 0 {
		return 0, doc.Anchor, nil
	}
	if _, err := m.Invitations.ByDossier(ctx, fillDossier(doc.N-1, doc.Anchor)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, doc.Anchor, nil // a marker without its invitations: fill again from 0 (duplicates are skipped)
		}
		return 0, time.Time{}, err
	}
	return doc.N, doc.Anchor, nil
}

func setFillProgress(ctx context.Context, m *store.Mongo, db string, n int, anchor time.Time) error {
	_, err := m.Client.Database(fillProgDB).Collection("fill").UpdateOne(ctx, bson.D{{Key: "_id", Value: db}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: n}, {Key: "anchor", Value: anchor}}}}, options.Update().SetUpsert(true))
	return err
}

// fillResponse is the response of the filler's completed invitation i.
func fillResponse(i int, inv *store.Invitation) *store.Response {
	r := rand.New(rand.NewPCG(0x5c0e, uint64(i)))
	def, channel := fillSIPAS, "web"
	if inv.CompletedVia == "sms" {
		def, channel = fillSIPAS5, "sms.fill"
	}
	// Mostly 4 and 5, some 3, a few 1–2 and "no opinion".
	levels := []int{5, 5, 5, 4, 4, 4, 4, 3, 3, 2, 1, 0}
	answers := make([]store.Answer, 0, len(def.Questions))
	for _, q := range def.Questions {
		answers = append(answers, store.Answer{Question: string(q.ID), Criterion: q.Criterion, Score: levels[r.IntN(len(levels))]})
	}
	resp := &store.Response{ID: primitive.NewObjectIDFromTimestamp(*inv.CompletedAt).Hex(), InvitationID: inv.ID, Survey: string(def.ID),
		SurveyVersion: def.Version, DossierCode: inv.DossierCode, AgencyCode: inv.AgencyCode, ProcedureCode: inv.ProcedureCode,
		FieldCode: inv.FieldCode, Channel: channel, Answers: answers, Locale: inv.Locale, Month: store.MonthOf(*inv.CompletedAt),
		InvitedAt: inv.CreatedAt, InvitedSurvey: inv.Survey, StartedAt: *inv.CompletedAt, SubmittedAt: *inv.CompletedAt}
	if inv.StartedAt != nil {
		resp.StartedAt = *inv.StartedAt
	}
	if r.IntN(5) == 0 {
		resp.Comment = []string{"Cán bộ nhiệt tình", "Phải chờ lâu", "Thủ tục còn rườm rà", "Rất hài lòng"}[r.IntN(4)]
	}
	return resp
}

var fillSIPAS, fillSIPAS5 = func() (*survey.Survey, *survey.Survey) {
	full, _ := survey.Builtin().Survey(survey.SIPAS)
	short, _ := survey.Builtin().Survey(survey.SIPAS5)
	return full, short
}()

// fill brings the filler's invitations in m (database db) up to n, in
// batches of fillBatch from workers goroutines, prints its throughput and
// returns the anchor their dates and codes count back from.
func fill(w io.Writer, m *store.Mongo, db string, n, workers int) (time.Time, error) {
	ctx := context.Background()
	have, anchor, err := fillProgress(ctx, m, db)
	if err != nil {
		return anchor, fmt.Errorf("read fill progress: %w", err)
	}
	if have >= n {
		fmt.Fprintf(w, "fill: the store already holds %d filler invitations (asked for %d)\n", have, n)
		return anchor, nil
	}
	if anchor.IsZero() {
		// Recorded before any invitation: a cut first fill resumes with the
		// same codes.
		anchor = store.Millis(time.Now().UTC())
		if err := setFillProgress(ctx, m, db, 0, anchor); err != nil {
			return anchor, fmt.Errorf("record fill progress: %w", err)
		}
	}
	b := &fillBatcher{m: m, anchor: anchor}
	if b.lex, err = survey.LoadLexicon(); err == nil {
		b.cal, err = survey.NewCalendar()
	}
	if err != nil {
		return anchor, err
	}
	batches := (n - have + fillBatch - 1) / fillBatch
	var next, done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < batches; k = int(next.Add(1) - 1) {
				lo := have + k*fillBatch
				hi := min(lo+fillBatch, n)
				if err := b.insert(ctx, lo, hi); err != nil {
					errs <- err
					next.Store(int64(batches)) // the others stop after their batch
					return
				}
				if d := done.Add(int64(hi - lo)); d%int64(10*fillBatch) < int64(hi-lo) {
					el := time.Since(start)
					fmt.Fprintf(w, "fill: %d/%d new invitations, %.0f/s\n", d, n-have, float64(d)/el.Seconds())
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return anchor, fmt.Errorf("fill: %w", err)
	}
	el := time.Since(start)
	if err := setFillProgress(ctx, m, db, n, anchor); err != nil {
		return anchor, fmt.Errorf("record fill progress: %w", err)
	}
	fmt.Fprintf(w, "fill: %d → %d filler invitations: %d inserted (and %d lookups, %d responses, %d cases) in %s = %.0f invitations/s (batches of %d, %d workers)\n",
		have, n, n-have, 2*(n-have), b.answered.Load(), b.cases.Load(), el.Round(time.Millisecond), float64(n-have)/el.Seconds(), fillBatch, workers)
	return anchor, nil
}

// fillBatcher writes the filler's batches.
type fillBatcher struct {
	m               *store.Mongo
	anchor          time.Time
	lex             *survey.Lexicon
	cal             *survey.Calendar
	opening         sync.Mutex // cases open one batch at a time, as the one roll-up writer opens them
	answered, cases atomic.Int64
}

// insert writes invitations lo..hi-1, then their responses, then the
// cases those open.
func (b *fillBatcher) insert(ctx context.Context, lo, hi int) error {
	invs := make([]*store.Invitation, 0, hi-lo)
	var resps []*store.Response
	var cases []*store.Case
	for i := lo; i < hi; i++ {
		inv := fillInvitation(i, b.anchor)
		invs = append(invs, inv)
		if inv.Status == store.StatusCompleted {
			r := fillResponse(i, inv)
			resps = append(resps, r)
			if c := gwreport.CaseOf(r, gwreport.TopicsOf(r, b.lex), store.DefaultCaseRule, b.cal); c != nil {
				cases = append(cases, c)
			}
		}
	}
	if err := b.m.Invitations.InsertBulk(ctx, invs); err != nil {
		return err
	}
	if err := b.m.Responses.InsertBulk(ctx, resps); err != nil {
		return err
	}
	b.answered.Add(int64(len(resps)))
	// Cases.Open adds to one index document per agency and month, which
	// concurrent writers would lose updates of on FerretDB.
	b.opening.Lock()
	defer b.opening.Unlock()
	if err := b.m.Cases.Open(ctx, cases...); err != nil {
		return err
	}
	b.cases.Add(int64(len(cases)))
	return nil
}

// fillIDs returns the ids of k of the filler's invitations 0..n-1 picked at
// random, found by dossier code as the gateway finds them (its lookups).
func fillIDs(m *store.Mongo, n, k int, anchor time.Time) ([]string, error) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	codes := make([]string, k)
	for i := range codes {
		codes[i] = fillDossier(r.IntN(n), anchor)
	}
	ids := make([]string, k)
	err := parallel(8, k, func(_, i int) error {
		inv, err := m.Invitations.ByDossier(ctx, codes[i])
		if err != nil {
			return fmt.Errorf("filler invitation %s: %w", codes[i], err)
		}
		ids[i] = inv.ID
		return nil
	})
	return ids, err
}
