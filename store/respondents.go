package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The index of a citizen's invitations lets a reply find the citizen's open
// invitation by key: FerretDB's SQLite backend scans the whole collection
// for a query on respondent, status and expiry (and even for one on _id).
// It is a hash per citizen, in the hash slot of the conversation, from
// invitation id to what a conversation needs of the invitation (fields that
// never change), so starting a conversation reads no MongoDB at all.
//
// Redis may lose it (the embedded Redis lives in memory; a restart), so a
// read must know whether the index is complete: the field indexComplete is
// written only with every invitation of the citizen that can still be
// answered (found by a MongoDB query, or known to be the citizen's first),
// and invitations made later are added as they are made. An index that is
// lost is lost whole, that field with it.

func invsKey(who string) string { return "gw:conv:{" + who + "}:invs" }

// indexComplete is the sentinel field.
const indexComplete = "*"

// IndexedInvitation is what the index keeps of an invitation.
type IndexedInvitation struct {
	ID        string
	Survey    string
	Locale    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// AgencyCode is the invitation's agency, which its conversation's
	// reach and cost figures count under (empty in entries indexed before
	// it was kept, or when it would not read back as one field).
	AgencyCode string
}

func (e IndexedInvitation) encode() string {
	v := strconv.FormatInt(e.CreatedAt.UnixMilli(), 10) + " " + strconv.FormatInt(e.ExpiresAt.UnixMilli(), 10) + " " + e.Survey + " " + e.Locale
	if f := strings.Fields(e.AgencyCode); len(f) == 1 && f[0] == e.AgencyCode {
		v += " " + e.AgencyCode
	}
	return v
}

func decodeIndexed(id, v string) (IndexedInvitation, bool) {
	f := strings.Fields(v)
	if len(f) != 4 && len(f) != 5 {
		return IndexedInvitation{}, false
	}
	created, err1 := strconv.ParseInt(f[0], 10, 64)
	expires, err2 := strconv.ParseInt(f[1], 10, 64)
	e := IndexedInvitation{ID: id, Survey: f[2], Locale: f[3], CreatedAt: time.UnixMilli(created).UTC(), ExpiresAt: time.UnixMilli(expires).UTC()}
	if len(f) == 5 {
		e.AgencyCode = f[4]
	}
	return e, err1 == nil && err2 == nil
}

// addToIndex sets field/value pairs (ARGV from 3), and the sentinel when
// ARGV[1] is "1", and makes the index live at least ARGV[2] ms: a shorter
// life left by an earlier add is lengthened, a longer one kept.
var addToIndex = redis.NewScript(`
for i = 3, #ARGV, 2 do redis.call("HSET", KEYS[1], ARGV[i], ARGV[i + 1]) end
if ARGV[1] == "1" then redis.call("HSET", KEYS[1], "` + indexComplete + `", "1") end
if redis.call("PTTL", KEYS[1]) < tonumber(ARGV[2]) then redis.call("PEXPIRE", KEYS[1], ARGV[2]) end
return 1`)

// IndexInvitations adds invitations to who's index, which then lives at
// least ttl (as long as the longest of them can be answered, or more).
// complete says invs are every invitation of who that can still be answered
// (a MongoDB query just found them, or this is who's first invitation);
// from then on the index alone is read.
func (s *Conversations) IndexInvitations(ctx context.Context, who string, complete bool, ttl time.Duration, invs ...*Invitation) error {
	args := []any{flag(complete), max(ttl.Milliseconds(), 1)}
	for _, inv := range invs {
		e := IndexedInvitation{ID: inv.ID, Survey: inv.Survey, Locale: inv.Locale, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, AgencyCode: inv.AgencyCode}
		args = append(args, inv.ID, e.encode())
	}
	if err := addToIndex.Run(ctx, s.R, []string{invsKey(who)}, args...).Err(); err != nil {
		return fmt.Errorf("index invitations of a respondent: %w", err)
	}
	return nil
}

// IndexedInvitations returns who's indexed invitations, newest first, and
// whether the index is complete. Some may no longer be answerable: expired,
// or answered on another channel since.
func (s *Conversations) IndexedInvitations(ctx context.Context, who string) ([]IndexedInvitation, bool, error) {
	return readIndex(s.R.HGetAll(ctx, invsKey(who)))
}

// QueueIndexedInvitations queues on p the read of who's index (in the
// slot of who's conversation), so a conversation step reads it with its
// state, in the same round trip; the function returned gives what
// IndexedInvitations would, once p has run.
func (s *Conversations) QueueIndexedInvitations(ctx context.Context, p redis.Pipeliner, who string) func() ([]IndexedInvitation, bool, error) {
	cmd := p.HGetAll(ctx, invsKey(who))
	return func() ([]IndexedInvitation, bool, error) { return readIndex(cmd) }
}

func readIndex(cmd *redis.MapStringStringCmd) ([]IndexedInvitation, bool, error) {
	all, err := cmd.Result()
	if err != nil {
		return nil, false, fmt.Errorf("read invitation index: %w", err)
	}
	_, complete := all[indexComplete]
	out := make([]IndexedInvitation, 0, len(all))
	for id, v := range all {
		if e, ok := decodeIndexed(id, v); ok {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b IndexedInvitation) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out, complete, nil
}

func (s *Conversations) wholeKey() string { return "gw:conv:index-whole:" + s.Name }

// IndexIsWhole says every open invitation with a phone is in the index
// (MarkIndexWhole): a phone with no index has nothing open, so a stranger's
// message needs no MongoDB query. Lost with the index when Redis is.
func (s *Conversations) IndexIsWhole(ctx context.Context) (bool, error) {
	n, err := s.R.Exists(ctx, s.wholeKey()).Result()
	if err != nil {
		return false, fmt.Errorf("read whether the invitation index is whole: %w", err)
	}
	return n == 1, nil
}

// MarkIndexWhole records that every open invitation with a phone is
// indexed: set after a pass over MongoDB's open invitations, invitations
// made since being indexed as they are made (or their creation fails).
func (s *Conversations) MarkIndexWhole(ctx context.Context) error {
	if err := s.R.Set(ctx, s.wholeKey(), time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("mark the invitation index whole: %w", err)
	}
	return nil
}

// Unindex drops invitations from who's index: ones that can no longer be
// answered (they never open again).
func (s *Conversations) Unindex(ctx context.Context, who string, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.R.HDel(ctx, invsKey(who), ids...).Err(); err != nil {
		return fmt.Errorf("unindex %d invitations: %w", len(ids), err)
	}
	return nil
}
