package store

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// How a respondent was tied to the dossier they answered for
// (Provenance.VerifiedBy).
const (
	VerifiedPhone       = "phone"        // the invitation's own phone answered
	VerifiedToken       = "token"        // the QR code or survey link
	VerifiedKiosk       = "kiosk"        // the desk's tablet, presented by the desk
	VerifiedDossierCode = "dossier_code" // "DG <code>" from a phone the invitation never knew
	VerifiedOperator    = "operator"     // an operator entered it from the citizen's message
	VerifiedPaper       = "paper"        // a scanned paper form
)

// Provenance is how a response came: how its respondent was tied to the
// dossier, how long after the invitation was made (or presented on a
// kiosk) it was first seen and completed, and for the web keyed hashes
// of the client's address and device cookie (never the raw values).
type Provenance struct {
	VerifiedBy string `bson:"verified_by" json:"verified_by"`
	// SecondsToFirstView is from the invitation's creation (a kiosk
	// answer: its presentation) to the first view of the survey; nil
	// when the channel has no view (an SMS reply).
	SecondsToFirstView *float64 `bson:"to_first_view_s,omitempty" json:"seconds_to_first_view,omitempty"`
	// SecondsToComplete is from the same start to the completion.
	SecondsToComplete float64 `bson:"to_complete_s" json:"seconds_to_complete"`
	// SecondsAnswering is from the first view (or the first answer) to
	// the completion: what the speeder signal measures. nil where the
	// channel has no answering time (a chat reply, an operator's entry),
	// or the first view was not kept: never read as zero.
	SecondsAnswering *float64 `bson:"answering_s,omitempty" json:"seconds_answering,omitempty"`
	Address          string   `bson:"address,omitempty" json:"address_hash,omitempty"`
	Device           string   `bson:"device,omitempty" json:"device_hash,omitempty"`
	// By names who entered it: the operator, or who scanned a paper form.
	By string `bson:"by,omitempty" json:"by,omitempty"`
}

// Signals: the names of the flags a response can carry (see the README's
// "Integrity of the index").
const (
	FlagOfficeNetwork   = "office_network"
	FlagCreatorAddress  = "creator_address"
	FlagDeviceMany      = "device_many"
	FlagPhoneMany       = "phone_many"
	FlagStaffPhone      = "staff_phone"
	FlagUnverifiedPhone = "unverified_phone"
	FlagSpeeder         = "speeder"
	FlagKioskFast       = "kiosk_fast"
)

// Flags lists every signal, in the order reports show them.
var Flags = []string{FlagOfficeNetwork, FlagCreatorAddress, FlagDeviceMany, FlagPhoneMany,
	FlagStaffPhone, FlagUnverifiedPhone, FlagSpeeder, FlagKioskFast}

// Review states of a flagged response: counted until someone above the
// rated agency confirms (it leaves the index) or clears it.
const (
	ReviewPending   = "pending"
	ReviewConfirmed = "confirmed"
	ReviewCleared   = "cleared"
)

// Review is the review of a flagged response, kept on it.
type Review struct {
	Status  string        `bson:"status" json:"status"`
	History []ReviewEvent `bson:"history,omitempty" json:"history,omitempty"`
}

// ReviewEvent is one change of a response's flags or review: a flag
// added after the fact, a confirm or a clear, with who and why.
type ReviewEvent struct {
	At     time.Time `bson:"at" json:"at"`
	By     string    `bson:"by" json:"by"`
	Action string    `bson:"action" json:"action"` // flag, confirm, clear
	Flags  []string  `bson:"flags,omitempty" json:"flags,omitempty"`
	Note   string    `bson:"note,omitempty" json:"note,omitempty"`
}

// FlagCell prefixes the question of the cells that count flagged
// responses by signal, in the standing families: "#flag:speeder".
const FlagCell = "#flag:"

// StandingDim is the Dim of the standing family status of the family
// dim ("" for the main one): "#pending", "procedure:1.0114#confirmed".
func StandingDim(dim, status string) string { return dim + "#" + status }

// SplitDim parses a Dim into its family and standing ("" for the
// families that count every answer).
func SplitDim(dim string) (family, status string) {
	family, status, _ = strings.Cut(dim, "#")
	return family, status
}

// Standing is what the roll-ups count a response as: its flags and its
// review status ("" when it has no flag).
type Standing struct {
	Flags  []string
	Status string
}

// StandingOf is r's standing as stored.
func StandingOf(r *Response) Standing {
	st := Standing{Flags: r.Flags}
	if len(r.Flags) > 0 {
		st.Status = ReviewPending
		if r.Review != nil && r.Review.Status != "" {
			st.Status = r.Review.Status
		}
	}
	return st
}

// Key is the standing in one canonical string ("" for none), as the
// roll-up writer records what it counted.
func (st Standing) Key() string {
	if len(st.Flags) == 0 {
		return ""
	}
	f := slices.Clone(st.Flags)
	sort.Strings(f)
	return st.Status + ":" + strings.Join(slices.Compact(f), ",")
}

// ParseStanding reads a Key.
func ParseStanding(key string) Standing {
	if key == "" {
		return Standing{}
	}
	status, flags, _ := strings.Cut(key, ":")
	return Standing{Status: status, Flags: strings.Split(flags, ",")}
}

// WithStanding is a copy of r standing as st.
func (r *Response) WithStanding(st Standing) *Response {
	c := *r
	c.Flags = st.Flags
	c.Review = &Review{Status: st.Status}
	return &c
}

// AddFlags returns flags with add merged in (sorted, once each), and
// whether anything was new.
func AddFlags(flags []string, add ...string) ([]string, bool) {
	out := slices.Clone(flags)
	changed := false
	for _, f := range add {
		if f != "" && !slices.Contains(out, f) {
			out, changed = append(out, f), true
		}
	}
	sort.Strings(out)
	return out, changed
}

// Change notes a response whose flags or review changed after it was
// saved, for the roll-up writer (see report.Applier): Add, when set, are
// flags the writer adds to the response (a later answer from the same
// browser or phone raised them); without, the response was changed
// already (a review) and the writer recounts it as it stands. Notes are
// read without a filter, like the uncounted copies, so their cost is the
// batch's.
type Change struct {
	ID       string    `bson:"_id"`
	Response string    `bson:"response"`
	Add      []string  `bson:"add,omitempty"`
	By       string    `bson:"by,omitempty"`
	At       time.Time `bson:"at"`
}

// NoteChanges writes change notes (one already written stays as it is).
func (s *Responses) NoteChanges(ctx context.Context, cs ...Change) error {
	if len(cs) == 0 {
		return nil
	}
	_, err := s.changes.InsertMany(ctx, anys(cs), options.InsertMany().SetOrdered(false))
	return writeErrors(err, func(e mongo.BulkWriteError) bool { return e.Code == 11000 })
}

// Changes returns up to limit change notes, oldest first near enough.
func (s *Responses) Changes(ctx context.Context, limit int64) ([]Change, error) {
	return findAll[Change](ctx, s.changes, bson.D{}, options.Find().SetLimit(limit))
}

// DropChanges removes the change notes ids, one delete by _id each.
func (s *Responses) DropChanges(ctx context.Context, ids []string) error {
	return deleteByIDs(ctx, s.changes, "changes.drop", ids)
}

// SetStanding writes r's flags and review as they are on r (the caller
// holds the response's lock: see core.Service.HoldResponse).
func (s *Responses) SetStanding(ctx context.Context, r *Response) error {
	return Write(ctx, "responses.standing", func(ctx context.Context) error {
		_, err := s.c.UpdateByID(ctx, r.ID, bson.D{{Key: "$set", Value: bson.D{{Key: "flags", Value: r.Flags}, {Key: "review", Value: r.Review}}}})
		return err
	})
}

// Get returns the response id.
func (s *Responses) Get(ctx context.Context, id string) (*Response, error) {
	return findOne[Response](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// FlaggedIndex lists each agency's flagged responses, newest first, for
// the review queue: sorted sets per agency in Redis (every flagged one,
// and by review status and by signal), kept by the roll-up writer as it
// counts flags and reviews, and filled again by a rebuild, which reads
// every response. A page of the queue reads its ids from Redis and only
// those responses from MongoDB, by _id.
type FlaggedIndex struct {
	R      redis.UniversalClient
	Prefix string
}

// NewFlaggedIndex returns the deployment's index of flagged responses.
func NewFlaggedIndex(r redis.UniversalClient, name string) *FlaggedIndex {
	return &FlaggedIndex{R: r, Prefix: "gw:flagged:" + name + ":"}
}

// key is the set of agency's flagged responses, or of those with a
// status ("status:pending") or a flag ("flag:speeder").
func (f *FlaggedIndex) key(agency, sub string) string {
	k := f.Prefix + "{" + agency + "}"
	if sub != "" {
		k += ":" + sub
	}
	return k
}

// Add indexes flagged responses as they stand (again is a no-op; a
// changed status moves).
func (f *FlaggedIndex) Add(ctx context.Context, rs ...*Response) error {
	if f == nil || len(rs) == 0 {
		return nil
	}
	_, err := f.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range rs {
			st := StandingOf(r)
			if st.Status == "" {
				continue
			}
			z := redis.Z{Score: float64(r.SubmittedAt.UnixMilli()), Member: r.ID}
			p.SAdd(ctx, f.Prefix+"#agencies", r.AgencyCode)
			p.ZAdd(ctx, f.key(r.AgencyCode, ""), z)
			for _, s := range []string{ReviewPending, ReviewConfirmed, ReviewCleared} {
				if s == st.Status {
					p.ZAdd(ctx, f.key(r.AgencyCode, "status:"+s), z)
				} else {
					p.ZRem(ctx, f.key(r.AgencyCode, "status:"+s), r.ID)
				}
			}
			for _, fl := range st.Flags {
				p.ZAdd(ctx, f.key(r.AgencyCode, "flag:"+fl), z)
			}
		}
		return nil
	})
	return err
}

// Filled says the index holds every flagged response stored (a rebuild
// or Fill put them there); false after Redis lost it.
func (f *FlaggedIndex) Filled(ctx context.Context) (bool, error) {
	n, err := f.R.Exists(ctx, f.Prefix+"#filled").Result()
	return n > 0, err
}

// MarkFilled records that the index holds every flagged response.
func (f *FlaggedIndex) MarkFilled(ctx context.Context) error {
	return f.R.Set(ctx, f.Prefix+"#filled", "1", 0).Err()
}

// Fill indexes every flagged response stored, reading the responses
// with flags (one pass over the collection: after Redis lost the index,
// as an embedded Redis does at every restart), then marks it filled.
func (f *FlaggedIndex) Fill(ctx context.Context, rs *Responses) error {
	var batch []*Response
	err := each(ctx, rs.c, bson.D{{Key: "flags.0", Value: bson.D{{Key: "$exists", Value: true}}}}, options.Find().SetBatchSize(500), func(r *Response) error {
		cp := *r
		batch = append(batch, &cp)
		if len(batch) < 500 {
			return nil
		}
		err := f.Add(ctx, batch...)
		batch = batch[:0]
		return err
	})
	if err != nil {
		return err
	}
	if err := f.Add(ctx, batch...); err != nil {
		return err
	}
	return f.MarkFilled(ctx)
}

// List returns the ids of the flagged responses of agencies (nil: all)
// with status and flag (empty: any), newest first.
func (f *FlaggedIndex) List(ctx context.Context, agencies []string, status, flag string) ([]string, error) {
	if agencies == nil {
		all, err := f.R.SMembers(ctx, f.Prefix+"#agencies").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		agencies = all
	}
	var subs []string
	if status != "" {
		subs = append(subs, "status:"+status)
	}
	if flag != "" {
		subs = append(subs, "flag:"+flag)
	}
	if len(subs) == 0 {
		subs = []string{""}
	}
	cmds := make([][]*redis.ZSliceCmd, len(subs))
	_, err := f.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sub := range subs {
			for _, a := range agencies {
				cmds[i] = append(cmds[i], p.ZRangeWithScores(ctx, f.key(a, sub), 0, -1))
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var all []redis.Z
	for _, c := range cmds[0] {
		all = append(all, c.Val()...)
	}
	if len(subs) == 2 { // both: those in the status's sets and the flag's
		in := map[any]bool{}
		for _, c := range cmds[1] {
			for _, z := range c.Val() {
				in[z.Member] = true
			}
		}
		all = slices.DeleteFunc(all, func(z redis.Z) bool { return !in[z.Member] })
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	out := make([]string, len(all))
	for i, z := range all {
		out[i], _ = z.Member.(string)
	}
	return out, nil
}
