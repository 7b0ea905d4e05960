package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// FeedbackTickets keeps, in Redis, what a feedback page's citizen holds
// once they sent it: a ticket, the secret in their thank-you page's
// address, naming the case and whether a phone waits to be confirmed; and
// that phone, with its one-time code, for as long as it may be confirmed.
// The ticket lasts TicketTTL (the page shows the agency's answer); the
// phone PhoneTTL, after which an unconfirmed number is gone.
type FeedbackTickets struct {
	R    redis.UniversalClient
	Name string // the database name
}

// Ticket and phone lifetimes.
const (
	TicketTTL = 90 * 24 * time.Hour
	PhoneTTL  = time.Hour
)

// Phone states of a ticket.
const (
	PhoneNone       = ""           // no phone was given
	PhonePending    = "pending"    // a phone waits for its code
	PhoneConfirming = "confirming" // its code was right; the case is being given it
	PhoneConfirmed  = "confirmed"  // the case has it
	PhoneUnsent     = "unsent"     // given, but no code could go (Why says why) or it was not confirmed in time
)

// FeedbackTicket is a thank-you page's state.
type FeedbackTicket struct {
	ID, Case, Agency, Lang string
	Phone                  string // a Phone* state
	Mask                   string // the phone, masked
	Why                    string // PhoneUnsent's reason: limit, channel, expired
}

// PendingPhone is the phone of a ticket waiting for its code.
type PendingPhone struct {
	Sealed  []byte // the number, sealed
	Hash    string // its keyed hash
	Channel string // the SMS channel its codes go by
	// The current code: its number (1, 2…), sealed value and keyed hash,
	// when it expires and how many tries it took; CodeNo 0 = none yet.
	CodeNo     int
	CodeSealed []byte
	CodeHash   string
	Expires    time.Time
	Tries      int
}

func (t *FeedbackTickets) keys(id string) []string {
	base := "gw:fb:{" + t.Name + ":" + id + "}"
	return []string{base + ":t", base + ":p"}
}

// createTicket keeps a ticket unless one is there; its fields carry the
// creating request's nonce ("op"), so the script sent again by go-redis
// after a lost reply answers 1 as the first time (else the code to
// confirm the phone would never be sent). KEYS: the ticket, its pending
// phone. ARGV: the ticket's TTL in ms, its number of fields, the fields
// ("op" and its nonce first), then the phone's TTL in ms and fields, if
// any.
var createTicket = redis.NewScript(`
if redis.call("EXISTS", KEYS[1]) == 1 then
  return redis.call("HGET", KEYS[1], "op") == ARGV[4] and 1 or 0
end
redis.call("HSET", KEYS[1], unpack(ARGV, 3, 2 + tonumber(ARGV[2]) * 2))
redis.call("PEXPIRE", KEYS[1], ARGV[1])
local rest = 3 + tonumber(ARGV[2]) * 2
if #ARGV >= rest + 1 then
  redis.call("HSET", KEYS[2], unpack(ARGV, rest + 1))
  redis.call("PEXPIRE", KEYS[2], ARGV[rest])
end
return 1`)

// Create keeps a new ticket and, when given, its pending phone; a ticket
// already there (a form posted again) is left as it is: false.
func (t *FeedbackTickets) Create(ctx context.Context, tk FeedbackTicket, p *PendingPhone) (bool, error) {
	fields := []any{"op", nonce(), "case", tk.Case, "agency", tk.Agency, "lang", tk.Lang, "phone", tk.Phone, "mask", tk.Mask, "why", tk.Why}
	args := append([]any{TicketTTL.Milliseconds(), len(fields) / 2}, fields...)
	if p != nil {
		args = append(args, PhoneTTL.Milliseconds(), "sealed", b64(p.Sealed), "hash", p.Hash, "channel", p.Channel)
	}
	n, err := createTicket.Run(ctx, t.R, t.keys(tk.ID), args...).Int()
	if err != nil {
		return false, fmt.Errorf("keep feedback ticket: %w", err)
	}
	return n == 1, nil
}

// Ticket returns a ticket and its pending phone (nil when none waits);
// ErrNotFound when the ticket is unknown or expired.
func (t *FeedbackTickets) Ticket(ctx context.Context, id string) (*FeedbackTicket, *PendingPhone, error) {
	k := t.keys(id)
	var tc, pc *redis.MapStringStringCmd
	_, err := t.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		tc, pc = p.HGetAll(ctx, k[0]), p.HGetAll(ctx, k[1])
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read feedback ticket: %w", err)
	}
	tv, pv := tc.Val(), pc.Val()
	if len(tv) == 0 {
		return nil, nil, ErrNotFound
	}
	tk := &FeedbackTicket{ID: id, Case: tv["case"], Agency: tv["agency"], Lang: tv["lang"], Phone: tv["phone"], Mask: tv["mask"], Why: tv["why"]}
	if len(pv) == 0 || pv["sealed"] == "" {
		return tk, nil, nil
	}
	p := &PendingPhone{Sealed: unb64(pv["sealed"]), Hash: pv["hash"], Channel: pv["channel"], CodeSealed: unb64(pv["code"]), CodeHash: pv["code_hash"]}
	p.CodeNo, _ = strconv.Atoi(pv["code_no"])
	p.Tries, _ = strconv.Atoi(pv["tries"])
	if ms, err := strconv.ParseInt(pv["exp"], 10, 64); err == nil {
		p.Expires = time.UnixMilli(ms).UTC()
	}
	return tk, p, nil
}

var issueCode = redis.NewScript(`
if redis.call("HGET", KEYS[1], "phone") ~= "pending" or redis.call("EXISTS", KEYS[2]) == 0 then return 0 end
local n = redis.call("HINCRBY", KEYS[2], "code_no", 1)
redis.call("HSET", KEYS[2], "code", ARGV[1], "code_hash", ARGV[2], "exp", ARGV[3], "tries", 0)
return n`)

// IssueCode makes code (sealed, and its keyed hash) the ticket's current
// code until expires, in place of any before, and returns its number; 0
// when no phone waits.
func (t *FeedbackTickets) IssueCode(ctx context.Context, id string, sealed []byte, hash string, expires time.Time) (int, error) {
	n, err := issueCode.Run(ctx, t.R, t.keys(id), b64(sealed), hash, expires.UnixMilli()).Int()
	if err != nil {
		return 0, fmt.Errorf("issue a feedback code: %w", err)
	}
	return n, nil
}

// Outcomes of a code typed.
const (
	CodeRight   = "right"   // the phone is confirmed (the ticket says confirming)
	CodeWrong   = "wrong"   // tries remain
	CodeLocked  = "locked"  // the last try was wrong: the code is spent
	CodeExpired = "expired" // too late: the code is spent
	CodeNone    = "none"    // no code waits (none sent yet, spent, or the phone is gone)
)

// checkCode spends a try. The pending phone keeps the last try's nonce
// and outcome ("try"), so the script sent again by go-redis after a lost
// reply answers as the first time: a wrong try costs one try, a locked or
// expired code reads as such. KEYS: the ticket, its pending phone. ARGV:
// now in ms, the code's keyed hash, the tries allowed, the try's nonce.
var checkCode = redis.NewScript(`
local state = redis.call("HGET", KEYS[1], "phone")
if state == "confirming" or state == "confirmed" then return "right" end
if state ~= "pending" then return "none" end
local last = redis.call("HGET", KEYS[2], "try")
if last and string.sub(last, 1, #ARGV[4] + 1) == ARGV[4] .. ":" then return string.sub(last, #ARGV[4] + 2) end
local h = redis.call("HMGET", KEYS[2], "code_hash", "exp")
if not h[1] or h[1] == "" then return "none" end
local out = function(v) redis.call("HSET", KEYS[2], "try", ARGV[4] .. ":" .. v) return v end
local spent = function() redis.call("HDEL", KEYS[2], "code", "code_hash", "exp", "tries") end
if tonumber(h[2]) <= tonumber(ARGV[1]) then spent() return out("expired") end
local tries = redis.call("HINCRBY", KEYS[2], "tries", 1)
if h[1] == ARGV[2] then
  spent()
  redis.call("HSET", KEYS[1], "phone", "confirming")
  return "right"
end
if tries >= tonumber(ARGV[3]) then spent() return out("locked") end
return out("wrong")`)

// CheckCode spends one of the current code's tries on the code whose
// keyed hash is hash, at now: one script, so tries at once cannot pass
// the limit. Right, the ticket's phone is confirming.
func (t *FeedbackTickets) CheckCode(ctx context.Context, id, hash string, now time.Time, tries int) (string, error) {
	out, err := checkCode.Run(ctx, t.R, t.keys(id), now.UnixMilli(), hash, tries, nonce()).Text()
	if err != nil {
		return "", fmt.Errorf("check a feedback code: %w", err)
	}
	return out, nil
}

// Confirmed records that the ticket's case has its phone: the pending
// phone is dropped.
func (t *FeedbackTickets) Confirmed(ctx context.Context, id string) error {
	k := t.keys(id)
	_, err := t.R.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k[0], "phone", PhoneConfirmed)
		p.Del(ctx, k[1])
		return nil
	})
	return err
}

// Unsent records that the ticket's phone will not be confirmed, and why
// (limit, channel, expired); the pending phone is dropped.
func (t *FeedbackTickets) Unsent(ctx context.Context, id, why string) error {
	k := t.keys(id)
	_, err := t.R.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k[0], "phone", PhoneUnsent, "why", why)
		p.Del(ctx, k[1])
		return nil
	})
	return err
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}
