package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// isCommit says whether cmds hold a conversation step's commit.
func isCommit(cmds []redis.Cmder) bool {
	for _, cmd := range cmds {
		args := cmd.Args()
		if (cmd.Name() == "evalsha" || cmd.Name() == "eval") && len(args) > 4 && fmt.Sprint(args[2]) == "2" &&
			strings.HasPrefix(fmt.Sprint(args[3]), "gw:conv:{") && !strings.HasSuffix(fmt.Sprint(args[3]), ":seen") {
			return true
		}
	}
	return false
}

var errLost = errors.New("connection to Redis lost")

// failCommitOnce makes the first commit of a conversation step fail before
// it reaches Redis, as a connection dropped at that moment would.
type failCommitOnce struct{ done atomic.Bool }

func (h *failCommitOnce) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failCommitOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return h.fail(func() error { return next(ctx, cmd) }, cmd)
	}
}
func (h *failCommitOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return h.fail(func() error { return next(ctx, cmds) }, cmds...)
	}
}
func (h *failCommitOnce) fail(run func() error, cmds ...redis.Cmder) error {
	if !isCommit(cmds) || !h.done.CompareAndSwap(false, true) {
		return run()
	}
	for _, cmd := range cmds {
		cmd.SetErr(errLost)
	}
	return errLost
}

// done says whether an invitation has its response (in the outbox).
func (c *chat) done(id string) bool {
	c.t.Helper()
	ok, err := c.g.Core.Outbox.Done(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return ok
}

// responses counts the stored responses of invitations, once the outbox
// is written to MongoDB.
func (c *chat) responses(ids ...string) int {
	c.t.Helper()
	c.g.Flush()
	n := 0
	for _, id := range ids {
		_, err := c.g.Mongo.Responses.ByInvitation(context.Background(), id)
		if err == nil {
			n++
		} else if !errors.Is(err, store.ErrNotFound) {
			c.t.Fatal(err)
		}
	}
	return n
}

// Issue 24, item 5: a message completes invitation A and the response and
// its done mark are saved, then saving the conversation fails, and the
// provider delivers the message again. The retry is the message already
// applied: it is answered with the first delivery's thanks and completes
// nothing more, though the citizen has invitation B open.
func TestRedeliveryAfterAFailedSaveCompletesNothingMore(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	a := c.invite("D-SPENT-A", "0912345678")
	c.expect(c.say(p, "5"), a, "Câu 2/5", 0)
	b := c.invite("D-SPENT-B", "0912345678")
	h := &failCommitOnce{}
	c.g.Core.Conversations.R.AddHook(h)
	in := core.Inbound{Channel: sms, From: p, MessageID: "spent-1", Text: "5 4 5 4 5", Limit: true, LogSMS: true}
	if _, err := c.g.Core.Converse(context.Background(), in, render); err == nil || !h.done.Load() || !c.done(a) {
		t.Fatalf("the first delivery: %v; commit failed %v, A done %v", err, h.done.Load(), c.done(a))
	}
	for i := range 2 { // the retry, then a plain duplicate of it
		res, err := c.g.Core.Converse(context.Background(), in, render)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(res.Replies, " | "); !strings.HasPrefix(got, "Cảm ơn") || res.Invitation != a && !res.Duplicate {
			t.Fatalf("delivery %d was answered %q about %q", i+2, got, res.Invitation)
		}
	}
	if c.done(b) || c.responses(a, b) != 1 {
		t.Fatalf("B done %v; %d responses from one message", c.done(b), c.responses(a, b))
	}
	c.expect(c.say(p, "5"), b, "Câu 2/5", 0) // the next message starts B
}

// crash cuts one delivery short as a killed process would: at its at-th
// write to Redis (which lands or not) the delivery's context is cancelled
// and nothing it sends afterwards reaches Redis. Only commands made under
// a context carrying the crash count. A renewal of the in-flight marker is
// not counted as a write of the step (its timing varies), but it too stops
// at the crash: a dead process leaves its marker to go stale.
type crash struct {
	at     int
	lands  bool
	cancel context.CancelFunc
	mu     sync.Mutex
	writes []string
	dead   bool
}

type crashKey struct{}

func (h *crash) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *crash) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return h.cut(ctx, func() error { return next(ctx, cmd) }, cmd)
	}
}
func (h *crash) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return h.cut(ctx, func() error { return next(ctx, cmds) }, cmds...)
	}
}

func (h *crash) cut(ctx context.Context, run func() error, cmds ...redis.Cmder) error {
	if ctx.Value(crashKey{}) != h {
		return run()
	}
	h.mu.Lock()
	gone, here := h.dead, false
	if w := writes(cmds); !gone && w != "" && !renewal(cmds) {
		here = len(h.writes) == h.at
		h.writes = append(h.writes, w)
		h.dead = here
	}
	h.mu.Unlock()
	if !gone && !here {
		return run()
	}
	if here && h.lands {
		_ = run() // committed, though the client hears of it no more
	}
	h.cancel()
	for _, cmd := range cmds {
		cmd.SetErr(context.Canceled)
	}
	return context.Canceled
}

// cutShort says whether the delivery was cut, and what it wrote.
func (h *crash) cutShort() (bool, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dead, append([]string(nil), h.writes...)
}

// reads are the commands a conversation step sends that write nothing.
var reads = map[string]bool{"get": true, "hget": true, "mget": true, "hgetall": true, "hmget": true, "smembers": true,
	"sismember": true, "exists": true, "pttl": true, "ttl": true, "zrange": true, "zrangebyscore": true, "xrange": true, "xlen": true}

// writes names the writes among cmds ("" for none).
func writes(cmds []redis.Cmder) string {
	var names []string
	for _, cmd := range cmds {
		if !reads[cmd.Name()] && cmd.Name() != "multi" && cmd.Name() != "exec" {
			names = append(names, cmd.Name())
		}
	}
	return strings.Join(names, "+")
}

// renewal says whether cmds may renew an in-flight marker: a script over
// the seen hash alone (releasing one is another, sent only after a failure,
// so after the cut).
func renewal(cmds []redis.Cmder) bool {
	if len(cmds) != 1 || (cmds[0].Name() != "evalsha" && cmds[0].Name() != "eval") {
		return false
	}
	args := cmds[0].Args()
	return len(args) > 3 && fmt.Sprint(args[2]) == "1" && strings.HasSuffix(fmt.Sprint(args[3]), ":seen")
}

// cutCase is a citizen's completing message cut short at one write.
type cutCase struct {
	underWay bool // the conversation was under way on A (else: one message from a fresh phone completes the newest)
	at       int
	lands    bool
}

// run cuts the completing message of a fresh citizen with two open
// invitations, then delivers it again; it returns the writes the cut
// delivery made, up to the cut.
func (c *chat) run(n int, k cutCase) []string {
	c.t.Helper()
	phone := fmt.Sprintf("8491%07d", n)
	a := c.invite(fmt.Sprintf("D-CUT-%d-A", n), "0"+phone[2:])
	text, target := "5 4 5 4 5", ""
	if k.underWay {
		c.expect(c.say(phone, "5"), a, "Câu 2/5", c.scans.Load())
		target = a
	}
	b := c.invite(fmt.Sprintf("D-CUT-%d-B", n), "0"+phone[2:])
	if target == "" {
		target = b // the newest
	}
	other := map[string]string{a: b, b: a}[target]
	h := &crash{at: k.at, lands: k.lands}
	c.g.Core.Conversations.R.AddHook(h)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), crashKey{}, h))
	defer cancel()
	h.cancel = cancel
	in := core.Inbound{Channel: sms, From: phone, MessageID: fmt.Sprint("cut-", n), Text: text, Limit: true, LogSMS: true}
	first, err := c.g.Core.Converse(ctx, in, render)
	cut, written := h.cutShort()
	if cut == (err == nil) {
		c.t.Fatalf("cut %v at write %d of %v: %v", cut, k.at, written, err)
	}
	if err == nil && (first.Invitation != target || !strings.HasPrefix(strings.Join(first.Replies, " | "), "Cảm ơn")) {
		c.t.Fatalf("the uncut delivery was answered %q about %q", first.Replies, first.Invitation)
	}
	// The gateway is back: the provider's retry is answered at once, not
	// after a lease long enough for the slowest step.
	retry, stop := context.WithTimeout(context.Background(), 3*time.Second)
	defer stop()
	res, err := c.g.Core.Converse(retry, in, render)
	if err != nil {
		c.t.Fatalf("the retry after a cut at write %d of %v: %v", k.at, written, err)
	}
	got := strings.Join(res.Replies, " | ")
	if !strings.HasPrefix(got, "Cảm ơn") || c.done(other) || !c.done(target) {
		c.t.Fatalf("cut at write %d of %v (lands %v): the retry was answered %q about %q; target done %v, other done %v",
			k.at, written, k.lands, got, res.Invitation, c.done(target), c.done(other))
	}
	if n := c.responses(a, b); n != 1 {
		c.t.Fatalf("cut at write %d of %v: %d responses from one message", k.at, written, n)
	}
	// The completion's clean-up, lost with a cut before it, is made again.
	if ok, err := c.g.Core.Conversations.R.SIsMember(context.Background(), "gw:conv:{"+res.Respondent+"}:done", target).Result(); !ok || err != nil {
		c.t.Fatalf("cut at write %d of %v (lands %v): the retry left the completed invitation without its done mark (%v)", k.at, written, k.lands, err)
	}
	return written
}

// Issue 24, item 7: a completing message is cut short at each of its writes
// to Redis in turn, as a gateway killed there would leave it, and delivered
// again. Every retry is answered with the thanks, promptly, and one message
// completes one invitation, whether the conversation was under way or the
// message opened and completed it. The writes are those the hook sees, so
// a new one is cut without editing the test. (A write that does not land
// leaves Redis as a cut after the one before it did: cutting before each
// write, and after the last, gives every state a crash can leave.)
func TestCompletingMessageCutAtEachWrite(t *testing.T) {
	c := newChat(t)
	c.run(0, cutCase{at: 1 << 20}) // loads the scripts: a first EVALSHA falls back to EVAL, a write more
	n := 1
	for _, underWay := range []bool{false, true} {
		all := c.run(n, cutCase{underWay: underWay, at: 1 << 20}) // no cut: lists the writes
		n++
		if len(all) < 3 {
			t.Fatalf("a completing message made only the writes %v", all)
		}
		for at := range all {
			c.run(n, cutCase{underWay: underWay, at: at})
			n++
		}
		c.run(n, cutCase{underWay: underWay, at: len(all) - 1, lands: true})
		n++
		t.Logf("under way %v: cut at each of %v", underWay, all)
	}
}

// An answer by dossier code counts the sender's phone (phone_many). A
// delivery whose commit is lost after its response was saved loses that
// count with the rest of the clean-up; the retry counts it, once.
func TestRedeliveryCountsTheDossierCodePhone(t *testing.T) {
	c := newChat(t)
	const p = "84966000222"
	id := c.g.Invite("D-DG-CUT", "000.00.12.H49", nil)["id"].(string)
	c.expect(c.say(p, "DG D-DG-CUT"), id, "Nhắn 5 số", c.scans.Load())
	h := &failCommitOnce{}
	c.g.Core.Conversations.R.AddHook(h)
	in := core.Inbound{Channel: sms, From: p, MessageID: "dg-cut-1", Text: "5 4 5 4 5", Limit: true, LogSMS: true}
	if _, err := c.g.Core.Converse(context.Background(), in, render); err == nil || !h.done.Load() || !c.done(id) {
		t.Fatalf("the first delivery: %v; commit failed %v, done %v", err, h.done.Load(), c.done(id))
	}
	for range 2 { // the retry, then a duplicate of it
		if res, err := c.g.Core.Converse(context.Background(), in, render); err != nil || !strings.HasPrefix(strings.Join(res.Replies, " | "), "Cảm ơn") {
			t.Fatalf("the retry: %v %v", err, res)
		}
	}
	c.g.Flush()
	r, err := c.g.Mongo.Responses.ByInvitation(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := c.g.Core.Signals.R.Keys(context.Background(), "gw:sig:phone:*{"+c.g.Core.Sealer.Hash(p)+"}").Result()
	if len(keys) != 1 {
		t.Fatalf("phone count keys %v", keys)
	}
	if got, _ := c.g.Core.Signals.R.ZRange(context.Background(), keys[0], 0, -1).Result(); !slices.Equal(got, []string{r.ID}) {
		t.Fatalf("the phone counted %v, want the response %s once", got, r.ID)
	}
}
