package generic_test

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// clock is a gateway clock a test sets.
type clock struct{ ms atomic.Int64 }

func (c *clock) Set(s string) {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, time.FixedZone("ICT", 7*3600))
	if err != nil {
		panic(err)
	}
	c.ms.Store(t.UnixMilli())
}
func (c *clock) Add(d time.Duration) { c.ms.Add(d.Milliseconds()) }
func (c *clock) Now() time.Time      { return time.UnixMilli(c.ms.Load()).UTC() }

// reachSetup is setup with the production defaults for send hours, the
// reminder and the limits (gwtest.New turns them off), on a clock the test
// moves, and more options.
func reachSetup(t *testing.T, at string, options ...func(*config.Config)) (*gwtest.Gateway, *smstest.Fake, *clock) {
	g := gwtest.New(t, "https://ks.example.vn", append([]func(*config.Config){gwtest.ReachDefaults}, options...)...)
	c := &clock{}
	c.Set(at)
	g.Core.Clock = c.Now
	fake := smstest.NewFake(t, `{"id":"prov-{n}"}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	return g, fake, c
}

// texts are the texts the fake provider was asked to send, to phone.
func texts(fake *smstest.Fake) []string {
	var out []string
	for _, r := range fake.Requests() {
		var m struct{ To, Text string }
		_ = json.Unmarshal([]byte(r.Body), &m)
		out = append(out, m.To+": "+m.Text)
	}
	return out
}

func drain(t *testing.T, g *gwtest.Gateway) {
	t.Helper()
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// sendOf is an invitation's send record under key, as the API shows it.
func sendOf(t *testing.T, g *gwtest.Gateway, id, key string) map[string]any {
	t.Helper()
	_, got := g.API("GET", "/api/v1/invitations/"+id, nil)
	s, _ := got["sends"].(map[string]any)[key].(map[string]any)
	return s
}

// dueOf is when the send queue holds a job of invitation id for.
func dueOf(t *testing.T, g *gwtest.Gateway, id string) time.Time {
	t.Helper()
	zs, err := g.Core.Queue.R.ZRangeWithScores(t.Context(), "gw:sendq:"+g.Mongo.DB.Name(), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range zs {
		if strings.Contains(z.Member.(string), id) {
			return time.UnixMilli(int64(z.Score))
		}
	}
	t.Fatalf("no job of %s in the send queue", id)
	return time.Time{}
}

func TestNightInvitationWaitsForTheMorning(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 22:30")
	inv := g.Invite("D-NIGHT-1", "000.00.12.H49", map[string]any{"phone": "0912 345 001", "send": []string{"sms"}})
	id := inv["id"].(string)
	due := dueOf(t, g, id).In(time.FixedZone("ICT", 7*3600))
	if due.Day() != 8 || due.Hour() != 7 {
		t.Fatalf("made at 22:30, the text is due %s, want in the first hour after 07:00 the next morning", due)
	}
	drain(t, g)
	c.Set("2026-12-08 06:59")
	drain(t, g)
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d texts went out at night", n)
	}
	// A citizen who writes first at night is answered at once.
	if r := replies(t, g, text("0912345001", "m-night", "5 4 5 4 5")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("a reply at night: %v", r)
	}
	c.Set("2026-12-08 08:00")
	drain(t, g)
	// Answered in the night, it is closed: the morning's send is skipped.
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("the invitation answered at night was still texted: %v", texts(fake))
	}
	if s := sendOf(t, g, id, "gen"); s["status"] != "skipped" || s["reason"] != store.ReasonClosed {
		t.Fatalf("send of an invitation answered before its text: %v", s)
	}

	inv = g.Invite("D-NIGHT-2", "000.00.12.H49", map[string]any{"phone": "0912 345 002", "send": []string{"sms"}})
	drain(t, g)
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("made at 08:00, %d texts, want 1 at once", n)
	}
}

func TestAgencySendHours(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 08:00")
	res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "UBND Nghi Lộc", "send_hours": "21:00-07:00"})
	if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != "send_hours" || !strings.Contains(e["message"].(string), "07:00-21:00") {
		t.Fatalf("a bad send_hours: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12", map[string]any{"name": "Sở", "send_hours": "09:00-17:00"}); res.StatusCode != 200 || out["send_hours"] != "09:00-17:00" {
		t.Fatalf("parent's send_hours: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "UBND Nghi Lộc", "parent": "000.00.12"}); res.StatusCode != 200 {
		t.Fatalf("child: %d %v", res.StatusCode, out)
	}
	inv := g.Invite("D-HOURS-1", "000.00.12.H49", map[string]any{"phone": "0912 345 011", "send": []string{"sms"}})
	drain(t, g)
	if len(fake.Requests()) != 0 {
		t.Fatal("sent at 08:00 though the parent's window opens at 09:00")
	}
	if due := dueOf(t, g, inv["id"].(string)).In(time.FixedZone("ICT", 7*3600)); due.Hour() != 9 {
		t.Fatalf("due %s, want between 09:00 and 10:00", due)
	}
	c.Set("2026-12-07 10:00")
	drain(t, g)
	if len(fake.Requests()) != 1 {
		t.Fatalf("at 10:00: %v", texts(fake))
	}
	// "" takes the gateway's window again.
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12", map[string]any{"name": "Sở", "send_hours": ""}); res.StatusCode != 200 || out["send_hours"] != nil {
		t.Fatalf("clearing send_hours: %d %v", res.StatusCode, out)
	}
}

func TestOneReminderOnTheChannelThatReached(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 10:00")
	inv := g.Invite("D-REM-1", "000.00.12.H49", map[string]any{"phone": "0912 345 021", "send": []string{"sms"}})
	id := inv["id"].(string)
	drain(t, g)
	c.Add(23 * time.Hour)
	drain(t, g)
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("after 23 hours: %d texts, want the invitation alone", n)
	}
	c.Add(time.Hour)
	drain(t, g)
	got := texts(fake)
	if len(got) != 2 || !strings.Contains(got[1], "Nhac lai") || !strings.Contains(got[1], "D-REM-1") || !strings.Contains(got[1], "1-5") {
		t.Fatalf("after 24 hours: %q, want one reminder naming the dossier", got)
	}
	rem := sendOf(t, g, id, store.ReminderKey("gen"))
	if rem["kind"] != "reminder" || rem["channel"] != "gen" || rem["status"] != "sent" || rem["parts"] != 1.0 {
		t.Fatalf("the reminder's record: %v", rem)
	}
	c.Add(72 * time.Hour)
	drain(t, g)
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("%d texts: one reminder only", n)
	}
	// An answer after it is an answer after the reminder.
	if r := replies(t, g, text("0912345021", "m-rem", "5 4 5 4 5")); len(r) != 1 {
		t.Fatalf("replies %v", r)
	}
	g.Drain()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), id)
	if err != nil || !r.Reminded {
		t.Fatalf("the response after the reminder: %+v %v", r, err)
	}
}

func TestNoReminderOnceAnsweredOrOptedOut(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 10:00")
	answered := g.Invite("D-REM-2", "000.00.12.H49", map[string]any{"phone": "0912 345 031", "send": []string{"sms"}})
	out := g.Invite("D-REM-3", "000.00.12.H49", map[string]any{"phone": "0912 345 032", "send": []string{"sms"}})
	qr := g.Invite("D-REM-4", "000.00.12.H49", map[string]any{"phone": "0912 345 033"})
	drain(t, g)
	if r := replies(t, g, text("0912345031", "m-a", "5 5 5 5 5")); len(r) != 1 {
		t.Fatalf("replies %v", r)
	}
	if r := replies(t, g, text("0912345032", "m-o", "HUY")); len(r) != 1 {
		t.Fatalf("opt-out replies %v", r)
	}
	c.Add(25 * time.Hour)
	drain(t, g)
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("%d texts: %q, want the two invitations and no reminder", n, texts(fake))
	}
	if s := sendOf(t, g, answered["id"].(string), store.ReminderKey("gen")); s != nil {
		t.Fatalf("an answered invitation's reminder was recorded: %v", s)
	}
	if s := sendOf(t, g, out["id"].(string), store.ReminderKey("gen")); s["status"] != "skipped" || s["reason"] != store.ReasonOptedOut {
		t.Fatalf("an opted-out invitation's reminder: %v", s)
	}
	if _, got := g.API("GET", "/api/v1/invitations/"+qr["id"].(string), nil); got["sends"] != nil {
		t.Fatalf("a QR-only invitation got sends: %v", got["sends"])
	}
}

func TestContactLimitKeepsTheQRCode(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 10:00")
	g.Invite("D-CON-1", "000.00.12.H49", map[string]any{"phone": "0912 345 041", "send": []string{"sms"}})
	c.Add(3 * 24 * time.Hour)
	second := g.Invite("D-CON-2", "000.00.12.H49", map[string]any{"phone": "0912-345-041", "send": []string{"sms"}})
	if s := second["sends"].(map[string]any)["gen"].(map[string]any); s["status"] != "skipped" || s["reason"] != store.ReasonContactLimit || !strings.Contains(s["error"].(string), "QR") {
		t.Fatalf("a second dossier of the phone within 30 days: %v", s)
	}
	drain(t, g)
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d texts, want the first invitation's alone", n)
	}
	if status, _ := g.Page("/s/"+gwtest.Token(second), nil); status != 200 {
		t.Fatalf("the skipped invitation's survey page: %d", status)
	}
	c.Add(28 * 24 * time.Hour) // 31 days after the first
	third := g.Invite("D-CON-3", "000.00.12.H49", map[string]any{"phone": "0912345041", "send": []string{"sms"}})
	drain(t, g)
	if s := sendOf(t, g, third["id"].(string), "gen"); s["status"] != "sent" {
		t.Fatalf("31 days later: %v", s)
	}
}

func TestFailedSendGivesTheContactBack(t *testing.T) {
	g, fake, _ := reachSetup(t, "2026-12-07 10:00")
	fake.SetReply(400, `{"error":"bad number"}`)
	first := g.Invite("D-CON-4", "000.00.12.H49", map[string]any{"phone": "0912 345 051", "send": []string{"sms"}})
	drain(t, g)
	if s := sendOf(t, g, first["id"].(string), "gen"); s["status"] != "failed" {
		t.Fatalf("refused by the provider: %v", s)
	}
	fake.SetReply(200, `{"id":"prov-2"}`)
	second := g.Invite("D-CON-5", "000.00.12.H49", map[string]any{"phone": "0912 345 051", "send": []string{"sms"}})
	drain(t, g)
	if s := sendOf(t, g, second["id"].(string), "gen"); s["status"] != "sent" {
		t.Fatalf("after a send that reached no one, the next dossier: %v", s)
	}
}

func TestDailyLimitWaitsForTomorrow(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 10:00", func(c *config.Config) { c.ContactEvery = 0 })
	var ids []string
	for i := range 5 {
		inv := g.Invite("D-DAY-"+string(rune('1'+i)), "000.00.12.H49", map[string]any{"phone": "0912 345 061", "send": []string{"sms"}})
		ids = append(ids, inv["id"].(string))
	}
	drain(t, g)
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("%d texts to one phone in a day, want 3", n)
	}
	waiting := 0
	for _, id := range ids {
		s := sendOf(t, g, id, "gen")
		if s["status"] == "queued" && s["reason"] == store.ReasonDailyLimit {
			waiting++
			if due := dueOf(t, g, id).In(time.FixedZone("ICT", 7*3600)); due.Day() != 8 || due.Hour() != 7 {
				t.Fatalf("over the day's limit, due %s, want in the next morning's first hour", due)
			}
		}
	}
	if waiting != 2 {
		t.Fatalf("%d sends wait for tomorrow, want 2", waiting)
	}
	c.Set("2026-12-08 09:00")
	drain(t, g)
	if n := len(fake.Requests()); n != 5 {
		t.Fatalf("the next morning: %d texts, want all 5", n)
	}
}

func TestReminderNeverAfterExpiry(t *testing.T) {
	g, fake, c := reachSetup(t, "2026-12-07 20:00", func(c *config.Config) {
		c.InvitationTTL, c.ContactEvery, c.DailyMessages = 30*time.Hour, 0, 2
	})
	inv := g.Invite("D-EXP-1", "000.00.12.H49", map[string]any{"phone": "0912 345 071", "send": []string{"sms"}})
	drain(t, g) // 1 of the day's 2 (the 7th)
	c.Set("2026-12-08 19:00")
	g.Invite("D-EXP-2", "000.00.12.H49", map[string]any{"phone": "0912 345 071", "send": []string{"sms"}})
	g.Invite("D-EXP-3", "000.00.12.H49", map[string]any{"phone": "0912 345 071", "send": []string{"sms"}})
	drain(t, g) // the 8th's 2
	c.Set("2026-12-08 20:05")
	drain(t, g) // the reminder is due; the day's messages are used up, and tomorrow is past the expiry
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("%d texts: %q", n, texts(fake))
	}
	if s := sendOf(t, g, inv["id"].(string), store.ReminderKey("gen")); s["status"] != "skipped" || s["reason"] != store.ReasonDailyLimit {
		t.Fatalf("a reminder that could only go after the expiry: %v", s)
	}
}
