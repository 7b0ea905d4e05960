package core_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

var sms = &core.Channel{ID: "sms-test", Type: "sms.generic", Enabled: true}

func render(t survey.Text, locale string) string { return t.In(locale) }

// chat sends messages from phones (84…) straight into the engine.
type chat struct {
	t     *testing.T
	g     *gwtest.Gateway
	n     int
	scans atomic.Int32
}

func newChat(t *testing.T) *chat {
	c := &chat{t: t, g: gwtest.New(t, "")}
	c.g.Core.Scanned = func() { c.scans.Add(1) }
	return c
}

func (c *chat) say(phone, text string) *core.Conversed {
	c.t.Helper()
	c.n++
	res, err := c.g.Core.Converse(context.Background(), core.Inbound{Channel: sms, From: phone, MessageID: fmt.Sprint("m", c.n), Text: text, Limit: true, LogSMS: true}, render)
	if err != nil {
		c.t.Fatalf("%s says %q: %v", phone, text, err)
	}
	return res
}

// expect checks who a reply went to, what it said and how many MongoDB
// scans it took in all so far.
func (c *chat) expect(res *core.Conversed, invitation, reply string, scans int32) {
	c.t.Helper()
	got := strings.Join(res.Replies, " | ")
	if res.Invitation != invitation || (reply == "" && got != "") || !strings.Contains(got, reply) || c.scans.Load() != scans {
		c.t.Fatalf("reply %q about %q after %d scans; want %q about %q after %d", got, res.Invitation, c.scans.Load(), reply, invitation, scans)
	}
}

func (c *chat) invite(dossier, phone string) string {
	return c.g.Invite(dossier, "000.00.12.H49", map[string]any{"phone": phone})["id"].(string)
}

// Replies find a phone's open invitation through the index of its
// invitations in Redis; MongoDB's query (a scan on FerretDB) is asked once
// only when that index is incomplete: lost by Redis, or never made.
func TestRepliesFindInvitationsWithoutAScan(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d1 := c.invite("D-IX-1", "0912345678")
	c.expect(c.say(p, "5"), d1, "Câu 2/5", 0) // a phone's first invitation: its index is complete
	c.expect(c.say(p, "4"), d1, "Câu 3/5", 0)
	_, inv := c.g.API("GET", "/api/v1/invitations/"+d1, nil)
	if inv["status"] != "in_progress" {
		t.Fatalf("after the first answers the invitation is %v", inv["status"])
	}
	c.expect(c.say(p, "3 2 1"), d1, "Cảm ơn", 0)
	c.expect(c.say(p, "5"), d1, "đã được trả lời", 0) // answered; nothing else open
	c.expect(c.say(p, "5"), d1, "", 0)                // then quiet

	d2 := c.invite("D-IX-2", "0912345678") // a second invitation joins the index
	c.expect(c.say(p, "5"), d2, "Câu 2/5", 0)
	who := c.g.Core.Sealer.Hash(p)
	if err := c.g.Core.Conversations.R.Del(context.Background(), "gw:conv:{"+who+"}:invs").Err(); err != nil {
		t.Fatal(err) // Redis lost the index
	}
	c.expect(c.say(p, "4 4 4 4"), d2, "Cảm ơn", 0) // a conversation under way does not need it
	d3 := c.invite("D-IX-3", "0912345678")         // indexed, but the index is incomplete now
	c.expect(c.say(p, "5"), d3, "Câu 2/5", 1)      // so MongoDB is asked, once
	c.expect(c.say(p, "4 4 4 4"), d3, "Cảm ơn", 1)
	c.expect(c.say(p, "hi"), d3, "đã được trả lời", 1) // and the index it filled says the rest
	c.expect(c.say(p, "hi"), d3, "", 1)

	// A stranger: one scan, then the (empty, complete) index answers.
	const s = "84987654321"
	c.expect(c.say(s, "5"), "", "DG <mã hồ sơ>", 2)
	c.expect(c.say(s, "5"), "", "", 2)
	c.expect(c.say(s, "5"), "", "", 2)
	d4 := c.invite("D-IX-4", "0987654321") // found at once
	c.expect(c.say(s, "5"), d4, "Câu 2/5", 2)

	// Past its expiry a conversation closes without asking MongoDB, and
	// the expired invitation leaves the index.
	c.g.Core.Clock = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	c.expect(c.say(s, "4"), d4, "đã được trả lời", 2)
	if ids, complete, _ := c.g.Core.Conversations.IndexedInvitations(context.Background(), c.g.Core.Sealer.Hash(s)); len(ids) != 0 || !complete {
		t.Fatalf("index after expiry: %v complete=%v", ids, complete)
	}
}

// A phone with an invitation made before the index existed (or whose index
// Redis lost) is found by the query, once; an opt-out leaves the index.
func TestOptOutLeavesTheIndex(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d1 := c.invite("D-OO-1", "0912345678")
	who := c.g.Core.Sealer.Hash(p)
	_ = c.g.Core.Conversations.R.Del(context.Background(), "gw:conv:{"+who+"}:invs")
	c.expect(c.say(p, "5"), d1, "Câu 2/5", 1)
	c.expect(c.say(p, "HUY"), d1, "không nhận thêm", 1)
	if ids, complete, _ := c.g.Core.Conversations.IndexedInvitations(context.Background(), who); len(ids) != 0 || !complete {
		t.Fatalf("index after the opt-out: %v complete=%v", ids, complete)
	}
	c.expect(c.say(p, "5"), d1, "đã được trả lời", 1)
}

// roundTrips counts the commands and pipelines a Redis client sends.
type roundTrips struct{ n atomic.Int32 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// A message in the middle of a conversation costs two Redis round trips,
// as an SMS webhook makes it (the phone's rate limit, state, dedupe mark and
// done invitations; the commit and the reply's sent-message record) and no
// MongoDB at all.
func TestMidConversationStepCost(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d1 := c.invite("D-RT-1", "0912345678")
	c.expect(c.say(p, "5 4"), d1, "Câu 3/5", 0) // the first scores mark the invitation started
	rt := &roundTrips{}
	c.g.Core.Conversations.R.AddHook(rt)
	c.g.Core.Mongo = nil // a MongoDB call would panic
	c.expect(c.say(p, "HD"), d1, "Nhắn 5 số", 0)
	c.expect(c.say(p, "4"), d1, "Câu 4/5", 0)
	if n := rt.n.Load(); n != 4 {
		t.Fatalf("two mid-conversation messages took %d Redis round trips, want 4", n)
	}
	if n, _ := c.g.Core.MessageLog.Pending(context.Background()); n == 0 {
		t.Fatal("the replies were not recorded")
	}
}

// A conversation's first message reads the citizen's invitation index in
// the round trip that reads the conversation: then one more, the done
// marks of the indexed invitations, and the commit. No MongoDB.
func TestConversationStartCost(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d1 := c.invite("D-RT-2", "0912345678")
	d2 := c.invite("D-RT-3", "0912345679")
	c.expect(c.say("84912345679", "HD"), d2, "Nhắn 5 số", 0) // Redis has the scripts from here
	rt := &roundTrips{}
	c.g.Core.Conversations.R.AddHook(rt)
	mongo := c.g.Core.Mongo
	c.g.Core.Mongo = nil // a MongoDB call would panic
	c.expect(c.say(p, "HD"), d1, "Nhắn 5 số", 0)
	c.g.Core.Mongo = mongo
	if n := rt.n.Load(); n != 3 {
		t.Fatalf("a conversation's first message took %d Redis round trips, want 3", n)
	}
}

// commands notes the name of every command sent, alone or in a pipeline,
// and counts the round trips, a new connection's set-up (HELLO, CLIENT
// SETINFO) left out.
type commands struct {
	mu    sync.Mutex
	names []string
	trips int
}

func (h *commands) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.note(cmd)
		return next(ctx, cmd)
	}
}
func (h *commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.note(cmds...)
		return next(ctx, cmds)
	}
}
func (h *commands) note(cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	setUp := true
	for _, c := range cmds {
		h.names = append(h.names, c.Name())
		setUp = setUp && (c.Name() == "hello" || c.Name() == "client")
	}
	if !setUp {
		h.trips++
	}
}

// A completion moves the citizen's conversation on with a done mark that
// expires with its set, and takes no transaction: a transaction holds a
// connection of its own, where plain pipelines share round trips. Its
// clean-up goes with the step's commit: a first message that completes
// costs five round trips (the read; the open invitation's done mark; the
// invitation; the response saved; the commit) and no MongoDB.
func TestCompletionMarksDoneWithoutATransaction(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d1 := c.invite("D-DONE-1", "0912345678")
	c.invite("D-DONE-2", "0912345679")
	c.say("84912345679", "5 5 5 5 5") // Redis has the scripts from here
	rec := &commands{}
	c.g.Core.Conversations.R.AddHook(rec)
	mongo := c.g.Core.Mongo
	c.g.Core.Mongo = nil // a MongoDB call would panic
	res := c.say(p, "5 5 5 5 5")
	c.g.Core.Mongo = mongo
	if rec.trips != 5 {
		t.Fatalf("a first message that completes took %d round trips, want 5: %v", rec.trips, rec.names)
	}
	if len(res.Replies) != 1 || !strings.HasPrefix(res.Replies[0], "Cảm ơn") {
		t.Fatalf("replies %v", res.Replies)
	}
	if slices.Contains(rec.names, "multi") || slices.Contains(rec.names, "exec") {
		t.Fatalf("the completion took a transaction: %v", rec.names)
	}
	r := c.g.Core.Conversations.R
	key := "gw:conv:{" + res.Respondent + "}:done"
	if ok, err := r.SIsMember(context.Background(), key, d1).Result(); err != nil || !ok {
		t.Fatalf("done mark of %s: %v %v", d1, ok, err)
	}
	if ttl := r.PTTL(context.Background(), key).Val(); ttl <= store.DoneTTL-time.Minute || ttl > store.DoneTTL {
		t.Fatalf("done marks expire in %v, want %v", ttl, store.DoneTTL)
	}
}

// conflictOnce makes the first commit of a conversation step lose, as when
// another message of the citizen commits first.
type conflictOnce struct {
	done atomic.Bool
	r    redis.UniversalClient
}

func (h *conflictOnce) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *conflictOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (h *conflictOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			args := cmd.Args()
			if (cmd.Name() == "evalsha" || cmd.Name() == "eval") && len(args) > 3 && strings.HasPrefix(fmt.Sprint(args[3]), "gw:conv:{") && h.done.CompareAndSwap(false, true) {
				h.r.Set(ctx, fmt.Sprint(args[3]), "another message's state", 0)
			}
		}
		return next(ctx, cmds)
	}
}

// A step that completed a survey and then lost the race to commit is run
// again: the spent message must not answer the citizen's next invitation.
func TestCompletionThatLosesTheCommitIsNotAppliedTwice(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	first := c.invite("D-RACE-1", "0912345678")
	second := c.invite("D-RACE-2", "0912345678") // newest: the conversation takes it
	h := &conflictOnce{r: c.g.Core.Conversations.R}
	c.g.Core.Conversations.R.AddHook(h)
	res := c.say(p, "5 5 5 5 5")
	if !h.done.Load() || len(res.Replies) != 1 || !strings.HasPrefix(res.Replies[0], "Cảm ơn") {
		t.Fatalf("conflict %v, replies %v", h.done.Load(), res.Replies)
	}
	done := 0
	for _, id := range []string{first, second} {
		if ok, _ := c.g.Core.Outbox.Done(context.Background(), id); ok {
			done++
			// The clean-up went with the commit that lost.
			if ok, _ := c.g.Core.Conversations.R.SIsMember(context.Background(), "gw:conv:{"+res.Respondent+"}:done", id).Result(); !ok {
				t.Fatalf("%s completed without its done mark", id)
			}
		}
	}
	if done != 1 {
		t.Fatalf("one message completed %d invitations", done)
	}
}

// A number with no open survey that asks for help hears how to take part,
// once a day; other messages get the "nothing open" answer once.
func TestHelpWithNothingOpen(t *testing.T) {
	c := newChat(t)
	phone := "84912000111"
	c.expect(c.say(phone, "HD"), "", "Khảo sát hài lòng", 1) // a stranger: one look in MongoDB, as any first message
	c.expect(c.say(phone, "help"), "", "", 1)
	c.expect(c.say(phone, "xin chào"), "", "Không có phiếu khảo sát", 1)
	c.expect(c.say(phone, "alo"), "", "", 1)
	c.expect(c.say(phone, "HD"), "", "", 1)
	// The next day it answers again.
	c.g.Core.Clock = func() time.Time { return time.Now().Add(25 * time.Hour) }
	c.expect(c.say(phone, "HD"), "", "Khảo sát hài lòng", 1)
}

// The invitation SMS names the agency when that still fits one part, and
// keeps the survey link before the name.
func TestInviteTextNamesTheAgency(t *testing.T) {
	g := gwtest.New(t, "")
	plain := func(t survey.Text) string { return t.Plain() }
	inv := &store.Invitation{Token: "TOKEN123", DossierCode: "000.00.12.H49-261128-0001", Survey: "sipas", AgencyName: "Sở Tư pháp"}
	got := g.Core.InviteText(inv, plain)
	if !strings.HasPrefix(got, "Danh gia ho so tai So Tu phap:") || !strings.Contains(got, "/s/TOKEN123") {
		t.Fatalf("with a short name: %q", got)
	}
	if _, parts := survey.SMSParts(got); parts != 1 {
		t.Fatalf("%d parts: %q", parts, got)
	}
	inv.AgencyName = "Trung tâm Phục vụ hành chính công tỉnh Quảng Nam, chi nhánh huyện Đại Lộc"
	if got := g.Core.InviteText(inv, plain); strings.Contains(got, "Dai Loc") || !strings.Contains(got, "/s/TOKEN123") {
		t.Fatalf("a name too long for one part must give way to the link: %q", got)
	}
}

// An agency whose full name never fits one part is named by its short
// name, and the invitation keeps the dossier code when it fits too; the
// survey link goes first, the dossier code next, the office and the
// questions never.
func TestInviteTextFallsBackToTheShortName(t *testing.T) {
	g := gwtest.New(t, "")
	const long, short = "Bộ phận tiếp nhận và trả kết quả, Ủy ban nhân dân huyện Nghi Lộc, tỉnh Nghệ An", "UBND Nghi Lộc"
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.40.H40", map[string]any{"name": long, "short_name": short}); res.StatusCode != 200 {
		t.Fatalf("agency: %d %v", res.StatusCode, out)
	}
	id := g.Invite("000.00.40.H40-261128-0001", "000.00.40.H40", nil)["id"].(string)
	inv, err := g.Mongo.Invitations.Invitation(t.Context(), id)
	if err != nil || inv.AgencyName != long || inv.AgencyShort != short {
		t.Fatalf("the invitation keeps %q / %q, %v", inv.AgencyName, inv.AgencyShort, err)
	}
	sms := func(t survey.Text) string { return core.SMSRender(false)(t, "vi") }
	ask := g.Core.ChatSurvey(inv.Survey).AskAll()
	// oneOf checks that got is one SMS part with the questions, has every
	// string of has and none of hasNot.
	oneOf := func(got string, has, hasNot []string) {
		t.Helper()
		_, parts := survey.SMSParts(got)
		ok := parts == 1 && (strings.Contains(got, ask.Plain()) || strings.Contains(got, ask.EN))
		for _, s := range has {
			ok = ok && strings.Contains(got, s)
		}
		for _, s := range hasNot {
			ok = ok && !strings.Contains(got, s)
		}
		if !ok {
			t.Fatalf("%d parts, want one with the questions and %q, without %q: %q", parts, has, hasNot, got)
		}
	}
	// The full name with the code does not fit, nor with the link: the
	// short name with the code does.
	oneOf(g.Core.InviteText(inv, sms), []string{"Danh gia HS " + inv.DossierCode + " tai UBND Nghi Loc:"}, []string{"Bo phan", "/s/"})
	// A dossier code as long as may be (64) leaves no room for both: the
	// code goes, the office stays (and the link, now that it fits).
	inv.DossierCode = strings.Repeat("000.00.40.H40-", 4) + "26112801"
	oneOf(g.Core.InviteText(inv, sms), []string{"Danh gia ho so tai UBND Nghi Loc:", "/s/" + inv.Token}, []string{inv.DossierCode})
	// Without the code, a full name that then fits is the fuller text.
	mid := *inv
	mid.AgencyName = "Ủy ban nhân dân huyện Nghi Lộc, tỉnh Nghệ An"
	oneOf(g.Core.InviteText(&mid, sms), []string{"tai Uy ban nhan dan huyen Nghi Loc, tinh Nghe An:"}, []string{inv.DossierCode})
	// In English the office is named without diacritics: still GSM-7.
	oneOf(g.Core.InviteText(inv, func(t survey.Text) string { return core.SMSRender(false)(t, "en") }), []string{"at UBND Nghi Loc:", ask.EN}, []string{inv.DossierCode})

	// With diacritics (a Unicode SMS, or Zalo's wording) nothing fits one
	// part: the office and the questions still go, in the fewest parts.
	inv.DossierCode = "000.00.40.H40-261128-0001"
	got := g.Core.InviteText(inv, func(t survey.Text) string { return t.VI })
	least := "Đánh giá hồ sơ tại " + short + ": " + ask.VI
	_, parts := survey.SMSParts(got)
	if _, want := survey.SMSParts(least); !strings.Contains(got, "tại "+short+":") || !strings.Contains(got, ask.VI) || parts != want {
		t.Fatalf("with diacritics, %d parts (want %d): %q", parts, want, got)
	}
}

// Once the start-up pass has put every open invitation with a phone in the
// index and marked it whole, a stranger's message asks MongoDB nothing,
// and a phone whose index Redis lost before the pass is found by it.
func TestWholeIndexSparesStrangersAScan(t *testing.T) {
	c := newChat(t)
	const p = "84912340001"
	d := c.invite("D-WHOLE-1", "0912340001")
	who := c.g.Core.Sealer.Hash(p)
	if err := c.g.Core.Conversations.R.Del(context.Background(), "gw:conv:{"+who+"}:invs").Err(); err != nil {
		t.Fatal(err) // Redis lost the index
	}
	n, err := c.g.Core.IndexOpenInvitations(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("indexed %d, %v", n, err)
	}
	c.expect(c.say(p, "5"), d, "Câu 2/5", 0)
	for i := range 5 {
		c.expect(c.say(fmt.Sprintf("8498700000%d", i), "5"), "", "DG <mã hồ sơ>", 0)
	}
	if n, err := c.g.Core.IndexOpenInvitations(context.Background()); err != nil || n != 0 {
		t.Fatalf("a second pass: %d %v (the mark makes it a no-op)", n, err)
	}
}

// "dg 44544" where 44544 is no dossier is "đánh giá" and five scores: it
// answers the citizen's one open invitation, asks which one when there
// are several, and a real dossier code always wins.
func TestDGWithScoresAnswersTheOpenInvitation(t *testing.T) {
	c := newChat(t)
	const p, q = "84912345678", "84912345679"
	d1 := c.invite("D-DG-1", "0912345678")
	c.expect(c.say(p, "dg 44544"), d1, "Cảm ơn", 0)
	c.g.Flush()
	if r, err := c.g.Mongo.Responses.ByInvitation(t.Context(), d1); err != nil || fmt.Sprint(r.Answers[0].Score, r.Answers[4].Score) != "4 4" {
		t.Fatalf("dg 44544 stored %+v, %v", r, err)
	}

	c.invite("D-DG-2", "0912345679")
	c.invite("D-DG-3", "0912345679")
	c.expect(c.say(q, "DG 55555"), "", "nhiều phiếu khảo sát đang mở", 0)

	d4 := c.invite("44544", "0912345679") // a dossier code of five digits
	c.expect(c.say(q, "dg 44544"), d4, "Nhắn 5 số", 0)
}

// Replies that cannot be read are answered with the next question alone,
// and once with the survey's web link, which the message log never keeps.
func TestUnreadRepliesOfferTheLinkOnce(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d := c.invite("D-LINK-1", "0912345678")
	c.expect(c.say(p, "xin chào"), d, "Chưa đọc được trả lời", 0)
	first := c.say(p, "alo alo")
	c.expect(first, d, "Câu 1/5", 0)
	if !strings.Contains(first.Replies[0], "/s/") {
		t.Fatalf("no link offered: %q", first.Replies)
	}
	again := c.say(p, "ai đó")
	c.expect(again, d, "Câu 1/5", 0)
	if strings.Contains(again.Replies[0], "/s/") {
		t.Fatalf("the link offered twice: %q", again.Replies)
	}
	c.g.Drain()
	_, msgs := c.g.API("GET", "/api/v1/invitations/"+d+"/messages", nil)
	if b := fmt.Sprint(msgs); !strings.Contains(b, "/s/…") || strings.Contains(b, "/s/"+strings.Split(strings.Split(first.Replies[0], "/s/")[1], " ")[0]) {
		t.Fatalf("the log keeps the link's token: %s", b)
	}
}

// Dossier codes run in sequence and are printed on receipts: one phone
// may send "DG <code>" five times a day; the sixth hears why nothing
// happens, the next ones nothing, even with a real code; another phone is
// not held back.
func TestDossierCodesAreLimitedPerPhoneAndDay(t *testing.T) {
	c := newChat(t)
	const p, q = "84912345678", "84987654321"
	d := c.invite("D-GUESS-9", "")
	for i := 1; i <= 5; i++ {
		c.expect(c.say(p, fmt.Sprintf("DG D-GUESS-%d", i)), "", "Không tìm thấy phiếu", 0)
	}
	c.expect(c.say(p, "DG D-GUESS-6"), "", "quá nhiều mã hồ sơ", 0)
	c.expect(c.say(p, "DG D-GUESS-9"), "", "", 0)
	c.expect(c.say(q, "DG D-GUESS-9"), d, "Nhắn 5 số", 0)
}

// A conversation begun from the index of a phone's invitations knows the
// invitation's agency, so its start counts in the reach figures on SMS
// before any completion (and its replies carry the agency their cost
// counts under, not read again when logged). The start is held until the
// completion counts it (one write of the invitation) or it is due.
func TestIndexedConversationCountsItsStart(t *testing.T) {
	c := newChat(t)
	reach := func(want string, started, completed float64) {
		t.Helper()
		c.g.Drain()
		_, rep := c.g.API("GET", "/api/v1/reports/sipas?agency=000.00.12.H49", nil)
		r, _ := rep["reach"].(map[string]any)
		sms, _ := r["by_channel"].(map[string]any)["sms"].(map[string]any)
		if r["started"] != started || sms["started"] != started || r["completed"] != completed {
			t.Fatalf("%s: started %v (sms %v), completed %v; want %v and %v", want, r["started"], sms["started"], r["completed"], started, completed)
		}
	}
	const p = "84912345670"
	id := c.invite("D-ST-1", "0912345670")
	c.expect(c.say(p, "5"), id, "Câu 2/5", 0)
	c.expect(c.say(p, "4"), id, "Câu 3/5", 0)
	reach("held", 0, 0)
	c.g.Later(store.OpenedAfter)
	reach("due", 1, 0)
	c.expect(c.say(p, "3 2 1"), id, "Cảm ơn", 0)
	reach("completed", 1, 1)

	const q = "84912345671"
	id = c.invite("D-ST-2", "0912345671")
	c.expect(c.say(q, "5"), id, "Câu 2/5", 0)
	c.expect(c.say(q, "4"), id, "Câu 3/5", 0)
	c.expect(c.say(q, "3 2 1"), id, "Cảm ơn", 0)
	reach("completed within the hold", 2, 2)
	if held, err := c.g.Core.Funnel.R.HExists(context.Background(), c.g.Core.Funnel.Key+":held", "st:"+id).Result(); err != nil || held {
		t.Fatalf("a start its completion counted is still held: %v %v", held, err)
	}
	c.g.Later(store.OpenedAfter)
	reach("after the hold", 2, 2)
}

// A step's received line and its reply go to the message log as one
// entry; entries of the older form (one record each) still drain, and a
// record that cannot be read sends its entry to the dead letters.
func TestMessageLogEntryPerStep(t *testing.T) {
	c := newChat(t)
	ctx := context.Background()
	const p = "84912345672"
	id := c.invite("D-ML-1", "0912345672")
	log := c.g.Core.MessageLog
	before, _ := log.Pending(ctx)
	c.expect(c.say(p, "5"), id, "Câu 2/5", 0)
	if n, _ := log.Pending(ctx); n != before+1 {
		t.Fatalf("one step added %d message-log entries, want 1", n-before)
	}
	old := `{"ID":"old-1","Channel":"sms-test","Invitation":"` + id + `","Kind":"reply","Text":"older form","At":"2026-12-01T00:00:00Z"}`
	if err := log.Add(ctx, map[string]string{"m": old}, map[string]string{"m": `{"Text":"no id"}`}); err != nil {
		t.Fatal(err)
	}
	c.g.Drain()
	tr, err := c.g.Mongo.Transcripts.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, l := range tr.Lines {
		kinds = append(kinds, l.Kind+":"+l.Text)
	}
	got := strings.Join(kinds, " | ")
	if len(tr.Lines) != 3 || !strings.Contains(got, "received:5") || !strings.Contains(got, "reply:older form") || !strings.Contains(got, "reply:Câu 2/5") {
		t.Fatalf("transcript after the drain: %s", got)
	}
	if dead, _ := log.Dead(ctx, 10); len(dead) != 1 || !strings.Contains(dead[0], "no id") {
		t.Fatalf("dead letters: %v", dead)
	}
}
