package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"
)

// Outbox makes a completed response durable in Redis before anything is
// acknowledged, and decides "exactly once" there: a done mark per
// invitation, the stream entry and, for a chat message, what the message
// spent (Spend) are written in one script. The response
// then goes to MongoDB at once, batched with those of concurrent requests,
// and the entry is deleted; entries left behind (MongoDB down, a process
// killed) are written later by a sweep of entries older than a grace period
// (see core.Service.RunOutbox). There is no consumer group: fresh entries
// belong to the request that wrote them, old ones to the sweeper.
type Outbox struct {
	R   redis.UniversalClient
	Key string
	// DoneTTL is how long a done mark is kept (beyond any invitation's life).
	DoneTTL time.Duration
}

// NewOutbox returns the outbox of a deployment. Its keys share one hash
// tag, so the script works on Redis Cluster.
func NewOutbox(r redis.UniversalClient, name string) *Outbox {
	return &Outbox{R: r, Key: "gw:{outbox:" + name + "}", DoneTTL: 400 * 24 * time.Hour}
}

func (o *Outbox) doneKey(invitation string) string { return o.Key + ":done:" + invitation }

// Spend is what a chat message that completes an invitation leaves beside
// the response, in the same script: the invitation it spent and what it
// was answered. A redelivery of the message, even one whose first delivery
// died before its conversation was saved, finds it (Conversations.Step
// reads it with the state) and is answered alike, instead of reading the
// message again as an answer to the citizen's next open invitation.
type Spend struct {
	// Message names the message: a keyed hash of its channel and provider
	// id (one delivery's own id when the provider gives none).
	Message    string   `json:"-"`
	Invitation string   `json:"i"`
	Replies    []string `json:"r,omitempty"`
	// Response and At are the response the message saved and when (Unix
	// ms), and Phone that its sender's phone was counted for it (an
	// answer by dossier code): what a redelivery needs to redo the
	// completion's clean-up, should the process have died before it.
	// Spends kept before they were recorded lack them.
	Response string `json:"s,omitempty"`
	At       int64  `json:"t,omitempty"`
	Phone    bool   `json:"p,omitempty"`
}

// spendKey holds what a message spent. It shares the outbox's hash tag, so
// the script that puts a response writes it too on Redis Cluster.
func (o *Outbox) spendKey(msg string) string { return o.Key + ":spent:" + msg }

// putKey remembers a response's put for the same put sent again (see
// putResponse), in the outbox's slot.
func (o *Outbox) putKey(response string) string { return o.Key + ":put:" + response }

// putResponse writes a response, its invitation's done mark and, when
// KEYS[4] is given, its message's spend, unless the message spent an
// invitation before ("spent", with that spend) or the invitation is done
// ("done"). A put run again gives its first answer: go-redis sends a
// command again when the reply to it was lost (a read timeout, a dropped
// connection), and the first run, which did land, must not read as
// another answer's "done" or "spent". KEYS[3] remembers the put's entry
// for putAgain. ARGV: the response, the done mark's TTL (ms) and value,
// putAgain (ms), the spend and its TTL (ms).
var putResponse = redis.NewScript(`
local again = redis.call("GET", KEYS[3])
if again then return {"ok", again} end
if KEYS[4] then
  local spent = redis.call("GET", KEYS[4])
  if spent then return {"spent", spent} end
end
if redis.call("EXISTS", KEYS[2]) == 1 then return {"done"} end
redis.call("SET", KEYS[2], ARGV[3], "PX", ARGV[2])
if KEYS[4] then redis.call("SET", KEYS[4], ARGV[5], "PX", ARGV[6]) end
local id = redis.call("XADD", KEYS[1], "*", "response", ARGV[1])
redis.call("SET", KEYS[3], id, "PX", ARGV[4])
return {"ok", id}`)

// putAgain is how long a put's entry is remembered for the same put sent
// again: go-redis retries within its backoff, well under a second.
const putAgain = time.Minute

// Put stores r unless its invitation already has a response in the outbox;
// it returns the stream entry id, or "" when the invitation was done. With
// a spend (by, naming r's invitation), the message's spend is stored with
// r, and a message that spent an invitation before stores nothing: "" and
// that spend are returned.
func (o *Outbox) Put(ctx context.Context, r *Response, by *Spend) (string, *Spend, error) {
	if r.ID == "" {
		return "", nil, errors.New("outbox: a response without an id")
	}
	b, err := r.AppendJSON(nil)
	if err != nil {
		return "", nil, err
	}
	keys := []string{o.Key, o.doneKey(r.InvitationID), o.putKey(r.ID)}
	args := []any{b, o.DoneTTL.Milliseconds(), channelFamily(r.Channel), putAgain.Milliseconds()}
	if by != nil {
		sp, _ := json.Marshal(by) // strings only: it always marshals
		keys, args = append(keys, o.spendKey(by.Message)), append(args, sp, ClaimTTL.Milliseconds())
	}
	res, err := putResponse.Run(ctx, o.R, keys, args...).StringSlice()
	if err == nil && len(res) == 0 {
		err = errors.New("empty answer from the put script")
	}
	if err != nil {
		return "", nil, fmt.Errorf("outbox: %w", err)
	}
	switch res[0] {
	case "ok":
		return res[1], nil, nil
	case "spent":
		sp, err := decodeSpend(by.Message, []byte(res[1]))
		return "", sp, err
	}
	return "", nil, nil
}

// DoneOf says which of invitations have a done mark, in one round trip.
func (o *Outbox) DoneOf(ctx context.Context, invitations []string) (map[string]bool, error) {
	reads := make([]func() (string, bool, error), len(invitations))
	_, _ = o.R.Pipelined(ctx, func(p redis.Pipeliner) error { // each read's error is its own
		for i, id := range invitations {
			reads[i] = o.DoneViaIn(ctx, p, id)
		}
		return nil
	})
	out := make(map[string]bool, len(invitations))
	for i, read := range reads {
		_, done, err := read()
		if err != nil {
			return nil, fmt.Errorf("read done marks: %w", err)
		}
		if done {
			out[invitations[i]] = true
		}
	}
	return out, nil
}

// QueueSpend reads, in p, what message msg spent; the function returned
// gives it once p ran (nil: nothing).
func (o *Outbox) QueueSpend(ctx context.Context, p redis.Pipeliner, msg string) func() (*Spend, error) {
	get := p.Get(ctx, o.spendKey(msg))
	return func() (*Spend, error) {
		b, err := get.Bytes()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read a message's spend: %w", err)
		}
		return decodeSpend(msg, b)
	}
}

func decodeSpend(msg string, b []byte) (*Spend, error) {
	sp := &Spend{Message: msg}
	if err := json.Unmarshal(b, sp); err != nil || sp.Invitation == "" {
		return nil, fmt.Errorf("spend of message %s: %q is not one (%v)", msg, b, err)
	}
	return sp, nil
}

// Done reports whether the invitation has a response in the outbox.
func (o *Outbox) Done(ctx context.Context, invitation string) (bool, error) {
	_, done, err := o.DoneVia(ctx, invitation)
	return done, err
}

// DoneVia reports whether the invitation has a response in the outbox, and
// through which channel family ("" from marks older than this).
func (o *Outbox) DoneVia(ctx context.Context, invitation string) (string, bool, error) {
	var via func() (string, bool, error)
	_, _ = o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		via = o.DoneViaIn(ctx, p, invitation)
		return nil
	})
	return via()
}

// DoneViaIn queues DoneVia's read on p (the round trip of another read);
// the func returned gives its answer once p has run.
func (o *Outbox) DoneViaIn(ctx context.Context, p redis.Pipeliner, invitation string) func() (string, bool, error) {
	cmd := p.Get(ctx, o.doneKey(invitation))
	return func() (string, bool, error) {
		v, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if v == "1" {
			v = ""
		}
		return v, true, nil
	}
}

func channelFamily(ch string) string {
	f, _, _ := strings.Cut(ch, ".")
	if f == "" {
		return "1"
	}
	return f
}

// Decode reads a stream entry's response.
func (o *Outbox) Decode(e Entry) (*Response, error) {
	var r Response
	if err := unmarshalResponse(e.Fields["response"], &r); err != nil {
		return nil, fmt.Errorf("outbox entry %s: %w", e.ID, err)
	}
	return &r, nil
}

// Add appends a raw entry (tests use it to plant an unreadable one).
func (o *Outbox) Add(ctx context.Context, fields map[string]string) error {
	return (&Stream{R: o.R, Key: o.Key}).Add(ctx, fields)
}

// Older returns up to count entries written more than age ago, oldest first.
func (o *Outbox) Older(ctx context.Context, age time.Duration, count int64) ([]Entry, error) {
	until := time.Now().Add(-age).UnixMilli()
	msgs, err := o.R.XRangeN(ctx, o.Key, "-", strconv.FormatInt(until, 10), count).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return entries([]redis.XStream{{Messages: msgs}}), nil
}

// storedKey is the set of responses stored in MongoDB with their
// uncounted copies (see Stored).
func (o *Outbox) storedKey() string { return o.Key + ":stored" }

// Ack removes entries whose responses MongoDB has and, in the same round
// trip, notes the responses stored among them (ids of responses written
// with their uncounted copies by this call, not by another's) and runs
// also, when set, to queue what else the stored responses settle.
func (o *Outbox) Ack(ctx context.Context, entries, stored []string, also func(redis.Pipeliner)) error {
	if len(entries) == 0 && len(stored) == 0 {
		return nil
	}
	_, err := o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		if len(entries) > 0 {
			p.XDel(ctx, o.Key, entries...)
		}
		if len(stored) > 0 {
			p.SAdd(ctx, o.storedKey(), anys(stored)...)
		}
		if also != nil {
			also(p)
		}
		return nil
	})
	return err
}

// Stored says which of ids are noted stored: the roll-up writer counts
// their uncounted copies without reading the responses back from MongoDB
// (see Responses.Settle). Redis forgetting a note costs that read, never
// a count: a copy not noted is looked up as before. noted is how many
// responses are noted stored and not counted yet, about the number of
// uncounted copies (less the few whose responses are being written or
// were left by a crash, more any note a crash kept past its count); 0
// without ids, when nothing is read.
func (o *Outbox) Stored(ctx context.Context, ids []string) (known map[string]bool, noted int64, err error) {
	known = make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return known, 0, nil
	}
	var in *redis.BoolSliceCmd
	var card *redis.IntCmd
	_, err = o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		in = p.SMIsMember(ctx, o.storedKey(), anys(ids)...)
		card = p.SCard(ctx, o.storedKey())
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read which responses are stored: %w", err)
	}
	for i, ok := range in.Val() {
		if ok {
			known[ids[i]] = true
		}
	}
	return known, card.Val(), nil
}

// Counted drops the notes of ids, counted now.
func (o *Outbox) Counted(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return o.R.SRem(ctx, o.storedKey(), anys(ids)...).Err()
}

// anys is xs as a []any, for the variadic Redis commands and MongoDB's
// InsertMany.
func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// Bury moves an entry MongoDB refuses to the dead-letter list (Key +
// ":dead", newest first, with the reason).
func (o *Outbox) Bury(ctx context.Context, e Entry, reason string) error {
	b, _ := json.Marshal(map[string]any{"id": e.ID, "fields": e.Fields, "reason": reason, "at": time.Now().UTC()})
	return bury.Run(ctx, o.R, []string{o.Key, o.Key + ":dead"}, e.ID, b).Err()
}

// bury moves a stream entry to the dead letters if it is still in the
// stream: once, though go-redis sends the script again after a lost
// reply (a transaction sent again listed the letter twice). KEYS: the
// stream, its dead letters. ARGV: the entry's id, the letter.
var bury = redis.NewScript(`
if redis.call("XDEL", KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call("LPUSH", KEYS[2], ARGV[2])
return 1`)

// Dead returns up to n dead letters, newest first.
func (o *Outbox) Dead(ctx context.Context, n int64) ([]string, error) {
	return o.R.LRange(ctx, o.Key+":dead", 0, n-1).Result()
}

// Pending is how many responses wait for MongoDB.
func (o *Outbox) Pending(ctx context.Context) (int64, error) {
	n, err := o.R.XLen(ctx, o.Key).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// Unavailable reports whether err means a store cannot be reached (as
// opposed to refusing what was asked): worth waiting and retrying.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, &ne) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"server selection", "connection refused", "connection reset", "broken pipe", "i/o timeout", "EOF", "context deadline exceeded", "client is closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// OldestAge is how long the oldest waiting response has waited (0 if none).
func (o *Outbox) OldestAge(ctx context.Context) (time.Duration, error) {
	msgs, err := o.R.XRangeN(ctx, o.Key, "-", "+", 1).Result()
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	var ms int64
	if _, err := fmt.Sscanf(msgs[0].ID, "%d-", &ms); err != nil {
		return 0, nil
	}
	return time.Since(time.UnixMilli(ms)), nil
}
