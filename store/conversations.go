package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Conversations keeps chat survey state in Redis, one key per citizen (by
// keyed phone hash or chat user id), remembers which provider messages were
// already applied, and indexes each citizen's invitations (IndexInvitations).
// A step reads the state and the message's dedupe mark in one round trip and
// commits the new state with the mark in one compare-and-set script, so the
// same message delivered twice, or two messages from one citizen at the same
// moment, can neither double nor lose an answer.
type Conversations struct {
	R   redis.UniversalClient
	TTL time.Duration // how long an idle conversation lives
	// Name tells deployments sharing a Redis apart (the database name).
	Name string
}

// SeenTTL is how long a provider message id is remembered after the
// citizen's last message; providers retry for hours, not weeks.
const SeenTTL = 7 * 24 * time.Hour

// ClaimTTL is how long a provider message id stays claimed for its channel
// (see claimKey). It outlives the longest freshness window a channel may
// set (channels.MaxMaxAge, 24 h, plus the clock skew allowed), so a
// captured message replayed from another sender is either refused as stale
// or found claimed.
const ClaimTTL = 25 * time.Hour

// Keys of one citizen share a hash tag, so a script over them works on
// Redis Cluster. The message ids a citizen's messages were applied under
// are fields of one hash (channel:id), not a key each: a key costs some 90
// bytes of overhead in Redis, a small hash's field only its own bytes.
func convKey(who string) string { return "gw:conv:{" + who + "}" }
func seenKey(who string) string { return "gw:conv:{" + who + "}:seen" }
func doneKey(who string) string { return "gw:conv:{" + who + "}:done" }
func rateKey(who string) string { return "gw:conv:{" + who + "}:rate" }

// ratingWait is how long an answer to a follow-up case waits for the
// citizen's rating.
const ratingWait = 14 * 24 * time.Hour

// AwaitRating notes that who was sent the answer of case caseID, so that
// a reply 1–5 from them rates it.
func (s *Conversations) AwaitRating(ctx context.Context, who, caseID string) error {
	return s.R.Set(ctx, rateKey(who), caseID, ratingWait).Err()
}

// QueueAwaitedRating reads, in p, the case whose answer who may rate; the
// function returned gives it ("" for none) once p ran.
func (s *Conversations) QueueAwaitedRating(ctx context.Context, p redis.Pipeliner, who string) func() string {
	get := p.Get(ctx, rateKey(who))
	return func() string { return get.Val() }
}

// AwaitedRating is the case whose answer who may rate now, or "".
func (s *Conversations) AwaitedRating(ctx context.Context, who string) (string, error) {
	id, err := s.R.Get(ctx, rateKey(who)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

// Rated forgets the rating who was asked for.
func (s *Conversations) Rated(ctx context.Context, who string) error {
	return s.R.Del(ctx, rateKey(who)).Err()
}

// claimKey holds, per channel, who a provider message id was first seen
// from. The seen hash above is per citizen, so without it the same signed
// message sent again with another sender (eSMS does not sign the sender)
// would be new to that citizen. It is tagged by the message, not by
// citizen: it never joins a citizen's script, only the read's pipeline,
// and the claims spread over a cluster's slots. id is StepIO.Claim.
func claimKey(id string) string { return "gw:msg:{" + id + "}" }

// dossierTriesKey holds the messages with a dossier code of who on day,
// a set of their ids: a message counts once however often it is read (a
// step run again after a conflict, a command go-redis sent again after a
// lost reply). (The counter it replaced, :dg:, expires within a day.)
func dossierTriesKey(who, day string) string { return "gw:conv:{" + who + "}:dgs:" + day }

// DossierTry counts message msg, a "DG <code>" of who on day (YYYY-MM-DD):
// how many so far, this one included. The count lives a day and a bit.
func (s *Conversations) DossierTry(ctx context.Context, who, day, msg string) (int64, error) {
	key := dossierTriesKey(who, day)
	p := s.R.TxPipeline()
	p.SAdd(ctx, key, msg)
	p.Expire(ctx, key, 26*time.Hour)
	n := p.SCard(ctx, key)
	if _, err := p.Exec(ctx); err != nil {
		return 0, fmt.Errorf("count dossier codes: %w", err)
	}
	return n.Val(), nil
}

// DoneTTL is how long a citizen's completed invitations are remembered for
// their conversation (beyond any invitation's life).
const DoneTTL = 60 * 24 * time.Hour

// MarkDoneIn queues on p the note that who's invitation has its response
// (from any channel), so the citizen's conversation moves on without
// asking anything else. The mark and its expiry are one script, so that
// the mark never outlives its expiry without a transaction: a plain
// pipeline shares its round trip with other requests' (coalesce).
func (s *Conversations) MarkDoneIn(ctx context.Context, p redis.Pipeliner, who, invitation string) {
	markDone.Eval(ctx, p, []string{doneKey(who)}, invitation, DoneTTL.Milliseconds())
}

// markDone adds ARGV[1] to the set KEYS[1] and sets its TTL (ARGV[2] ms).
var markDone = redis.NewScript(`
redis.call("SADD", KEYS[1], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1`)

// StepIO is what a step reads and writes beside the conversation, in the
// same round trips: a message then costs two, one read and one commit.
type StepIO struct {
	// Before, when set, queues commands with the read (a rate limit) and
	// returns what decides whether the step may go on.
	Before func(p redis.Pipeliner) func() error
	// EachRead, when set, queues commands with every read of the state,
	// after the done invitations, and returns what reads their answers: fn
	// then decides on them as fresh as on the state (what the message
	// spent in a delivery that did not commit, see Outbox.Put).
	EachRead func(p redis.Pipeliner) func() error
	// After, when set, queues commands with each commit (sent-message
	// records). A commit that loses to another message runs them again,
	// so they must be idempotent.
	After func(p redis.Pipeliner)
	// Done is filled by the read: the citizen's invitations that have
	// their response (see MarkDoneIn).
	Done map[string]bool
	// Claim, when set, names the message for its per-channel claim: the
	// core gives a keyed hash of channel and message id, short and apart
	// from another deployment's on a shared Redis.
	Claim string
	// Owner is who the message's sender is for that claim (default: who). A message id claimed by another owner is a
	// duplicate: Foreign is then set and nothing is applied.
	Owner string
	// Mark, set by fn, is kept as the message's seen mark, so a later
	// delivery of it is answered alike (the replies); at most maxMark
	// bytes, never starting with "~" (the in-flight marker).
	Mark string
	// Seen is filled for a message applied before: the Mark it was
	// applied with ("1" when none was kept).
	Seen string
	// Foreign is set when the message id is claimed by another owner.
	Foreign bool
}

// maxMark bounds what a seen mark keeps (a 10-part SMS is ~700 bytes).
const maxMark = 2000

// commitStep writes a step unless its message was applied meanwhile ("dup",
// with the message's mark) or the state is no longer the one the step read
// ("conflict"). The exact bytes are compared, so no version key is needed:
// a state that changed and changed back is the very state the step was
// computed on. A seen field starting with "~" is a delivery in flight (see
// Step), not an applied message. KEYS: state, seen marks (absent without a
// message id). ARGV: "1" when a state was read (then its bytes), "1" when
// there is a next state (then its bytes), the state's TTL in ms (0: none),
// the seen marks' TTL in ms, the message's field in the seen hash, its
// mark, the delivery's token.
//
// go-redis sends the script again when its reply was lost though it ran:
// the seen hash's field "~last" keeps the token of the delivery that
// committed last, so that delivery's commit sent again answers "ok", as
// the first time, not "dup" (which leaves a Zalo message unanswered).
var commitStep = redis.NewScript(`
if KEYS[2] then
  local seen = redis.call("HGET", KEYS[2], ARGV[7])
  if seen and string.sub(seen, 1, 1) ~= "~" then
    if redis.call("HGET", KEYS[2], "~last") == ARGV[9] then return {"ok"} end
    return {"dup", seen}
  end
end
local cur = redis.call("GET", KEYS[1])
if ARGV[1] == "1" then
  if cur ~= ARGV[2] then return {"conflict"} end
elseif cur then
  return {"conflict"}
end
if ARGV[3] ~= "1" then
  redis.call("DEL", KEYS[1])
elseif ARGV[5] ~= "0" then
  redis.call("SET", KEYS[1], ARGV[4], "PX", ARGV[5])
else
  redis.call("SET", KEYS[1], ARGV[4])
end
if KEYS[2] then
  redis.call("HSET", KEYS[2], ARGV[7], ARGV[8], "~last", ARGV[9])
  redis.call("PEXPIRE", KEYS[2], ARGV[6])
end
return {"ok"}`)

// maxAttempts bounds the retries of one step. Each conflict means another
// message of the citizen committed, so n messages at once need at most n
// attempts each.
const maxAttempts = 100

// Step loads who's state into fn and stores what fn returns (nil deletes),
// marking msgID of channel as applied in the same atomic write, which
// happens only if the state is still the one fn was given. A message
// already applied is not given to fn: dup is true, and io.Seen holds the
// mark fn left (io.Mark). fn may run more than once when another message
// of the same citizen commits first, so its side effects must be
// idempotent. It costs two round trips to Redis (and two more per retry),
// where a WATCH/MULTI transaction cost four.
//
// The read also claims the message: for its channel, under io.Owner (an
// id claimed by another owner is a duplicate, io.Foreign), and for this
// delivery, with an in-flight marker in the seen hash. A delivery that
// finds another one's marker does not run fn beside it (fn's effects, a
// completion saved, would then read as "already answered"): it waits for
// that delivery's commit and answers with its mark. A live delivery keeps
// its marker fresh however long fn takes; one whose process died is taken
// over within inflightLease.
func (s *Conversations) Step(ctx context.Context, who, channel, msgID string, io *StepIO, fn func(state []byte) ([]byte, error)) (dup bool, err error) {
	if io == nil {
		io = &StepIO{}
	}
	if io.Owner == "" {
		io.Owner = who
	}
	keys := []string{convKey(who)}
	c := &claim{field: channel + ":" + msgID}
	if msgID != "" {
		keys = append(keys, seenKey(who))
		c.token = inflight(time.Now())
		if io.Claim != "" {
			c.key = claimKey(io.Claim)
		}
	}
	dup, err = s.step(ctx, who, keys, c, io, fn)
	c.letGo()
	if c.mine && (err != nil || io.Foreign) {
		// Another delivery may take the message now, not after the lease.
		_ = release.Run(context.WithoutCancel(ctx), s.R, keys[1:], c.field, c.token).Err()
	}
	return dup, err
}

func (s *Conversations) step(ctx context.Context, who string, keys []string, c *claim, io *StepIO, fn func([]byte) ([]byte, error)) (bool, error) {
	before := io.Before // counted once, whatever the attempts
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, v, err := s.read(ctx, who, keys, c, io, before)
		before = nil
		if err == nil && v == wait {
			if v, err = s.await(ctx, keys[1], c, io); err == nil && v == apply {
				continue // read the state as that delivery left it
			}
		}
		if err != nil || v == applied {
			return v == applied, err
		}
		if c.mine {
			s.hold(ctx, keys[1], c) // until Step lets go, however long fn takes
		}
		next, err := fn(cur)
		if err != nil {
			return false, err
		}
		mark := io.Mark
		if mark == "" || len(mark) > maxMark || strings.HasPrefix(mark, "~") {
			mark = "1"
		}
		args := []any{flag(cur != nil), cur, flag(next != nil), next, s.TTL.Milliseconds(), seenTTLArg, c.field, mark, c.token}
		res, err := s.commit(ctx, keys, args, io.After)
		if err == nil && len(res) == 0 {
			err = errors.New("empty answer from the commit script")
		}
		if err != nil {
			return false, fmt.Errorf("conversation %s: commit step: %w", who, err)
		}
		switch res[0] {
		case "dup":
			io.Seen, _ = res[1].(string)
			return true, nil
		case "ok":
			c.mine = false // the marker is the mark now
			return false, nil
		}
	}
	return false, fmt.Errorf("conversation %s: too much contention (%d attempts)", who, maxAttempts)
}

// commit runs commitStep, with what after queues in the same round trip.
func (s *Conversations) commit(ctx context.Context, keys []string, args []any, after func(redis.Pipeliner)) ([]any, error) {
	if after == nil {
		return commitStep.Run(ctx, s.R, keys, args...).Slice()
	}
	p := s.R.Pipeline() // by hand, as read's
	cmd := commitStep.EvalSha(ctx, p, keys, args...)
	after(p)
	_, err := p.Exec(ctx)
	if err != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		// The first step since Redis started: the rest of the pipeline
		// ran; only the script goes again, in full.
		cmd = commitStep.Eval(ctx, s.R, keys, args...)
		err = cmd.Err()
	}
	if err != nil {
		return nil, err
	}
	return cmd.Slice()
}

// read returns the state (nil if none) and what to do with the message, in
// one round trip with the done invitations, what before and io.EachRead
// queue and, the first time, the message's claims.
func (s *Conversations) read(ctx context.Context, who string, keys []string, c *claim, io *StepIO, before func(redis.Pipeliner) func() error) ([]byte, outcome, error) {
	var get, owner, seen *redis.StringCmd
	var took *redis.BoolCmd
	var done *redis.StringSliceCmd
	var allowed, each func() error
	claiming := c.token != "" && !c.claimed
	// A pipeline run by hand, not Pipelined's closure: the command
	// variables it would capture are each an allocation.
	p := s.R.Pipeline()
	if before != nil {
		allowed = before(p)
	}
	get = p.Get(ctx, keys[0])
	if claiming && c.key != "" {
		p.SetNX(ctx, c.key, io.Owner, ClaimTTL)
		owner = p.Get(ctx, c.key)
	}
	if claiming {
		took = p.HSetNX(ctx, keys[1], c.field, c.token)
		seen = p.HGet(ctx, keys[1], c.field)
		p.PExpire(ctx, keys[1], SeenTTL) // the marker must not outlive the hash's usual life
	}
	done = p.SMembers(ctx, doneKey(who))
	if io.EachRead != nil {
		each = io.EachRead(p)
	}
	_, _ = p.Exec(ctx) // each command carries its own error
	if claiming {
		// A read sent again (its reply lost) finds the marker its first
		// run set: the marker is still this delivery's.
		c.claimed, c.mine = true, took.Val() || seen.Val() == c.token
	}
	if allowed != nil {
		if err := allowed(); err != nil {
			return nil, apply, err
		}
	}
	if claiming {
		if v, err := c.verdict(owner, seen, io); err != nil || v != apply {
			return nil, v, err
		}
	}
	ids, err := done.Result()
	if err != nil {
		return nil, apply, wrapRead(err)
	}
	io.Done = make(map[string]bool, len(ids))
	for _, id := range ids {
		io.Done[id] = true
	}
	if each != nil {
		if err := each(); err != nil {
			return nil, apply, err
		}
	}
	cur, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, apply, nil
	}
	return cur, apply, wrapRead(err)
}

func wrapRead(err error) error {
	if err != nil {
		return fmt.Errorf("read conversation: %w", err)
	}
	return nil
}

// flag is a script's "1" or "0", boxed once: a string made an argument
// otherwise costs an allocation each time.
func flag(b bool) any {
	if b {
		return argOne
	}
	return argZero
}

var (
	argOne, argZero any = "1", "0"
	seenTTLArg      any = SeenTTL.Milliseconds()
)

// State returns who's raw state, nil if none.
func (s *Conversations) State(ctx context.Context, who string) ([]byte, error) {
	b, err := s.R.Get(ctx, convKey(who)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return b, err
}
