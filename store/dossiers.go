package store

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Dossiers indexes invitations in Redis by the parts of their dossier
// codes, so that an operator finds one by its code's start, its sequence
// number or its agency and date ("0042", "H13-2612") without a query that
// would read every invitation (FerretDB filters nothing but _id). Each
// agency and month (of creation, Vietnam time) has one lexicographic
// sorted set whose members are an index term, a 0 byte and the
// invitation id; one more member, "#" and the id, lists the month's
// invitations newest first (ids are ObjectIDs: time first). A month's
// sets go whole when the retention sweep passes it (DropBefore).
//
// The terms of a code (in capitals) are the code itself and its tail from
// the start of each group (after . - _ /); groups inside a leading agency
// code other than its last are left out: every code of the agency has
// them. 000.00.12.H13-261205-0042 of agency 000.00.12.H13 has four:
// the code, H13-261205-0042, 261205-0042 and 0042.
type Dossiers struct {
	R    redis.UniversalClient
	Name string // the database name
}

// MaxDossierQuery bounds a dossier query: a dossier code is at most 64
// characters.
const MaxDossierQuery = 64

func (d *Dossiers) key(agency, month string) string {
	return "gw:dossiers:" + d.Name + ":" + agency + ":" + month
}
func (d *Dossiers) agenciesKey(month string) string {
	return "gw:dossiers:" + d.Name + ":agencies:" + month
}
func (d *Dossiers) monthsKey() string { return "gw:dossiers:" + d.Name + ":months" }
func (d *Dossiers) wholeKey() string  { return "gw:dossiers:" + d.Name + ":whole" }
func (d *Dossiers) fillKey() string   { return "gw:dossiers:" + d.Name + ":backfill" }

// DossierTerms are the index terms of a code of agency (see Dossiers).
func DossierTerms(code, agency string) []string {
	code = strings.ToUpper(code)
	from := 0
	if len(code) > len(agency) && strings.HasPrefix(code, agency) && isCodeSep(code[len(agency)]) {
		from = strings.LastIndexAny(agency, ".-_/") + 1 // the agency's last group
	}
	terms := []string{code}
	for i := 0; i < len(code)-1; i++ {
		if isCodeSep(code[i]) && i+1 >= from && !isCodeSep(code[i+1]) {
			terms = append(terms, code[i+1:])
		}
	}
	return terms
}

func isCodeSep(c byte) bool { return c == '.' || c == '-' || c == '_' || c == '/' }

// packID is an invitation id as members hold it: an ObjectID's 12
// bytes rather than its 24 hex digits (every invitation id is one; any
// other id is kept as it is, and no other is 12 bytes long).
func packID(id string) string {
	if b, err := hex.DecodeString(id); err == nil && len(b) == 12 {
		return string(b)
	}
	return id
}

// unpackID is the id packID packed.
func unpackID(p string) string {
	if len(p) == 12 {
		return hex.EncodeToString([]byte(p))
	}
	return p
}

// dossierListMark starts the member that lists an invitation in its
// month; no term starts with it, and every term is less (a code is
// made of . - _ / 0-9 A-Z a-z, all below it), so the list is the top
// of the set.
const dossierListMark = "\x7f"

// Add indexes invitations (again: adding is idempotent).
func (d *Dossiers) Add(ctx context.Context, invs ...*Invitation) error {
	if len(invs) == 0 {
		return nil
	}
	err := Write(ctx, "dossiers.add", func(ctx context.Context) error {
		_, err := d.R.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, inv := range invs {
				d.add(ctx, p, inv)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("index %d dossier codes: %w", len(invs), err)
	}
	return nil
}

// add queues inv's members, after its month's agency list: a reader
// finds the set through that list (written first, so a cut write leaves
// at worst an empty set listed).
func (d *Dossiers) add(ctx context.Context, p redis.Pipeliner, inv *Invitation) {
	month := MonthOf(inv.CreatedAt)
	p.SAdd(ctx, d.monthsKey(), month)
	p.SAdd(ctx, d.agenciesKey(month), inv.AgencyCode)
	terms := DossierTerms(inv.DossierCode, inv.AgencyCode)
	id := packID(inv.ID)
	zs := make([]redis.Z, 0, len(terms)+1)
	for _, t := range terms {
		zs = append(zs, redis.Z{Member: t + "\x00" + id})
	}
	zs = append(zs, redis.Z{Member: dossierListMark + id})
	p.ZAdd(ctx, d.key(inv.AgencyCode, month), zs...)
}

// Months are the months indexed, newest first.
func (d *Dossiers) Months(ctx context.Context) ([]string, error) {
	ms, err := d.R.SMembers(ctx, d.monthsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read the dossier index's months: %w", err)
	}
	slices.Sort(ms)
	slices.Reverse(ms)
	return ms, nil
}

// DossierScope is where a dossier query looks: the agencies (nil: every
// agency) and the months (YYYY-MM, any order; nil: every month indexed).
type DossierScope struct {
	Agencies, Months []string
}

// sets are the index's sets in scope, newest month first.
func (d *Dossiers) sets(ctx context.Context, sc DossierScope) (months []string, keys [][]string, err error) {
	indexed, err := d.Months(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range indexed {
		if sc.Months == nil || slices.Contains(sc.Months, m) {
			months = append(months, m)
		}
	}
	cmds := make([]*redis.StringSliceCmd, len(months))
	_, err = d.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range months {
			cmds[i] = p.SMembers(ctx, d.agenciesKey(m))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read the dossier index's agencies: %w", err)
	}
	keys = make([][]string, len(months))
	for i, m := range months {
		for _, a := range cmds[i].Val() {
			if sc.Agencies == nil || slices.Contains(sc.Agencies, a) {
				keys[i] = append(keys[i], d.key(a, m))
			}
		}
	}
	return months, keys, nil
}

// Search returns the ids of the invitations in scope whose code has a
// term starting with q (in capitals; see DossierQuery), at most limit,
// by term from the greatest (the latest date, the highest number), and
// whether there are more. It costs one range read per agency and month
// in scope, whatever the number of invitations.
func (d *Dossiers) Search(ctx context.Context, sc DossierScope, q string, limit int) ([]string, bool, error) {
	_, keys, err := d.sets(ctx, sc)
	if err != nil {
		return nil, false, err
	}
	var cmds []*redis.StringSliceCmd
	_, err = d.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, ks := range keys {
			for _, k := range ks {
				cmds = append(cmds, p.ZRevRangeByLex(ctx, k, &redis.ZRangeBy{Min: "[" + q, Max: "[" + q + "\xff", Count: int64(limit) + 1}))
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("search dossier codes: %w", err)
	}
	var found []string
	more := false
	for _, c := range cmds {
		more = more || len(c.Val()) > limit
		found = append(found, c.Val()...)
	}
	slices.Sort(found)
	slices.Reverse(found)
	var ids []string
	seen := map[string]bool{}
	for _, m := range found {
		_, packed, _ := strings.Cut(m, "\x00")
		id := unpackID(packed)
		if seen[id] {
			continue
		}
		if len(ids) == limit {
			more = true
			break
		}
		seen[id] = true
		ids = append(ids, id)
	}
	return ids, more, nil
}

// DossierRef is an invitation as the list gives it: its month and id;
// a page's last one is where the next starts.
type DossierRef struct{ Month, ID string }

// List returns up to n invitations in scope, newest month first and,
// within a month, newest first, after the one at cur (zero: from the
// newest), and whether more may follow. One read per agency of each
// month it passes, whatever the number of invitations.
func (d *Dossiers) List(ctx context.Context, sc DossierScope, cur DossierRef, n int) ([]DossierRef, bool, error) {
	months, keys, err := d.sets(ctx, sc)
	if err != nil {
		return nil, false, err
	}
	var refs []DossierRef
	for i, m := range months {
		if cur.Month != "" && m > cur.Month {
			continue
		}
		after := ""
		if m == cur.Month {
			after = cur.ID
		}
		ids, more, err := d.listMonth(ctx, keys[i], after, n-len(refs))
		if err != nil {
			return nil, false, err
		}
		for _, id := range ids {
			refs = append(refs, DossierRef{m, id})
		}
		if len(refs) == n {
			return refs, more || i < len(months)-1, nil
		}
	}
	return refs, false, nil
}

// listMonth reads up to n ids of one month's sets below after (all when
// after is empty), newest first, and whether the month has more.
func (d *Dossiers) listMonth(ctx context.Context, keys []string, after string, n int) ([]string, bool, error) {
	top := "+" // the list's members are the greatest (see dossierListMark)
	if after != "" {
		top = "(" + dossierListMark + packID(after)
	}
	cmds := make([]*redis.StringSliceCmd, len(keys))
	_, err := d.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.ZRevRangeByLex(ctx, k, &redis.ZRangeBy{Min: "(" + dossierListMark, Max: top, Count: int64(n) + 1})
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("list invitations: %w", err)
	}
	var ids []string
	for _, c := range cmds {
		for _, m := range c.Val() {
			ids = append(ids, unpackID(strings.TrimPrefix(m, dossierListMark)))
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	if len(ids) > n {
		return ids[:n], true, nil
	}
	return ids, false, nil
}

// DropBefore removes the months before month (YYYY-MM) from the index,
// and returns how many.
func (d *Dossiers) DropBefore(ctx context.Context, month string) (int, error) {
	ms, err := d.Months(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range ms {
		if m >= month {
			continue
		}
		agencies, err := d.R.SMembers(ctx, d.agenciesKey(m)).Result()
		if err != nil {
			return n, fmt.Errorf("drop dossier index month %s: %w", m, err)
		}
		_, err = d.R.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, a := range agencies {
				p.Del(ctx, d.key(a, m))
			}
			p.Del(ctx, d.agenciesKey(m))
			p.SRem(ctx, d.monthsKey(), m) // last: a cut drop is done again
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("drop dossier index month %s: %w", m, err)
		}
		n++
	}
	return n, nil
}

// Whole says every invitation within retention is indexed (a backfill
// finished since Redis last lost its data).
func (d *Dossiers) Whole(ctx context.Context) (bool, error) {
	n, err := d.R.Exists(ctx, d.wholeKey()).Result()
	return n == 1, err
}

// MarkWhole records that every invitation is indexed, and forgets the
// backfill's place.
func (d *Dossiers) MarkWhole(ctx context.Context) error {
	_, err := d.R.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, d.wholeKey(), "1", 0)
		p.Del(ctx, d.fillKey())
		return nil
	})
	return err
}

// Unmark says the index is no longer known whole (a forced rebuild).
func (d *Dossiers) Unmark(ctx context.Context) error {
	return d.R.Del(ctx, d.wholeKey()).Err()
}

// BackfillPlace is how far a backfill got: the invitations it passed in
// the collection's stored order, and the id of the last.
type BackfillPlace struct {
	Done int64
	Last string
}

// Place returns where the last backfill stopped (zero: nowhere).
func (d *Dossiers) Place(ctx context.Context) (BackfillPlace, error) {
	v, err := d.R.HGetAll(ctx, d.fillKey()).Result()
	if err != nil {
		return BackfillPlace{}, fmt.Errorf("read the backfill's place: %w", err)
	}
	var p BackfillPlace
	_, _ = fmt.Sscan(v["done"], &p.Done)
	p.Last = v["last"]
	return p, nil
}

// SetPlace records where a backfill got to.
func (d *Dossiers) SetPlace(ctx context.Context, p BackfillPlace) error {
	return d.R.HSet(ctx, d.fillKey(), "done", p.Done, "last", p.Last).Err()
}
