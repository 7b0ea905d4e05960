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
// five-criterion short form by SMS. `gateway rebuild` brings them into the
// roll-ups.
// Invitation i is the same every time apart from its id, token and dates:
// its dossier code <agency>-FILL-<i> says it is the filler's, and filling
// again inserts only the ones missing (a marker in the loadgen_fill
// database records how far the last fill got).

const (
	fillBatch   = 1000
	fillProgDB  = "loadgen_fill" // progress marker: {_id: <database>, n: filled}
	fillTTL     = 30 * 24 * time.Hour
	fillYear    = 365 * 24 * time.Hour
	fillOpen    = 0.10 // share made in the last 30 days: still open
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

// fillDossier is invitation i's dossier code.
func fillDossier(i int) string {
	return fmt.Sprintf("%s-FILL-%07d", fillAgencies[skewed(fillRand(i), len(fillAgencies))], i)
}

// fillInvitation is the filler's invitation i, made at now: created in the
// last 12 months (a tenth in the last 30 days, still open), expiring 30
// days later, three in ten completed on the web or by SMS.
func fillInvitation(i int, now time.Time) *store.Invitation {
	r := fillRand(i)
	agency := fillAgencies[skewed(r, len(fillAgencies))] // first draw: see fillDossier
	proc := skewed(r, len(fillProcedures))
	age := fillTTL + time.Duration(r.Int64N(int64(fillYear-fillTTL)))
	if r.Float64() < fillOpen {
		age = time.Duration(r.Int64N(int64(fillTTL)))
	}
	created := store.Millis(now.Add(-age))
	// Office hours, Vietnam time (UTC+7): 01:00–10:00 UTC.
	day := created.Truncate(24 * time.Hour)
	created = store.Millis(day.Add(time.Hour + time.Duration(r.Int64N(int64(9*time.Hour)))))
	if created.After(now) {
		created = store.Millis(now.Add(-time.Minute))
	}
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
		DossierCode:   fmt.Sprintf("%s-FILL-%07d", agency, i),
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
// holds (0..n-1), from the marker the last fill left, checked against the
// store: the last of them must exist.
func fillProgress(ctx context.Context, m *store.Mongo, db string) (int, error) {
	var doc struct {
		N int `bson:"n"`
	}
	err := m.Client.Database(fillProgDB).Collection("fill").FindOne(ctx, bson.D{{Key: "_id", Value: db}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && doc.N == 0) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if _, err := m.Invitations.ByDossier(ctx, fillDossier(doc.N-1)); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil // a marker without its invitations: fill again from 0 (duplicates are skipped)
		}
		return 0, err
	}
	return doc.N, nil
}

func setFillProgress(ctx context.Context, m *store.Mongo, db string, n int) error {
	_, err := m.Client.Database(fillProgDB).Collection("fill").UpdateOne(ctx, bson.D{{Key: "_id", Value: db}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: n}}}}, options.Update().SetUpsert(true))
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
		InvitedAt: inv.CreatedAt, StartedAt: *inv.CompletedAt, SubmittedAt: *inv.CompletedAt}
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
// batches of fillBatch from workers goroutines, and prints its throughput.
func fill(w io.Writer, m *store.Mongo, db string, n, workers int) error {
	ctx := context.Background()
	have, err := fillProgress(ctx, m, db)
	if err != nil {
		return fmt.Errorf("read fill progress: %w", err)
	}
	if have >= n {
		fmt.Fprintf(w, "fill: the store already holds %d filler invitations (asked for %d)\n", have, n)
		return nil
	}
	now := time.Now().UTC()
	batches := (n - have + fillBatch - 1) / fillBatch
	var next, done, answered atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	start := time.Now()
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := int(next.Add(1) - 1); b < batches; b = int(next.Add(1) - 1) {
				lo := have + b*fillBatch
				hi := min(lo+fillBatch, n)
				invs := make([]*store.Invitation, 0, hi-lo)
				var resps []*store.Response
				for i := lo; i < hi; i++ {
					inv := fillInvitation(i, now)
					invs = append(invs, inv)
					if inv.Status == store.StatusCompleted {
						resps = append(resps, fillResponse(i, inv))
					}
				}
				err := m.Invitations.InsertBulk(ctx, invs)
				if err == nil {
					err = m.Responses.InsertBulk(ctx, resps)
					answered.Add(int64(len(resps)))
				}
				if err != nil {
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
		return fmt.Errorf("fill: %w", err)
	}
	el := time.Since(start)
	if err := setFillProgress(ctx, m, db, n); err != nil {
		return fmt.Errorf("record fill progress: %w", err)
	}
	fmt.Fprintf(w, "fill: %d → %d filler invitations: %d inserted (and %d lookups, %d responses) in %s = %.0f invitations/s (batches of %d, %d workers)\n",
		have, n, n-have, 2*(n-have), answered.Load(), el.Round(time.Millisecond), float64(n-have)/el.Seconds(), fillBatch, workers)
	return nil
}

// fillIDs returns the ids of k of the filler's invitations 0..n-1 picked at
// random, found by dossier code as the gateway finds them (its lookups).
func fillIDs(m *store.Mongo, n, k int) ([]string, error) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	codes := make([]string, k)
	for i := range codes {
		codes[i] = fillDossier(r.IntN(n))
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
