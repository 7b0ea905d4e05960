package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

var voiceCh = &core.Channel{ID: "voice-test", Type: "voice.twilio", Enabled: true}

// call drives one call's turns straight through the engine.
type call struct {
	t    *testing.T
	g    *gwtest.Gateway
	id   string
	turn *core.CallTurn
}

func startCall(t *testing.T, g *gwtest.Gateway, id, inv string) *call {
	t.Helper()
	turn, err := g.Core.StartCall(context.Background(), voiceCh, id, inv, true)
	if err != nil {
		t.Fatal(err)
	}
	return &call{t: t, g: g, id: id, turn: turn}
}

// press answers the current step with digits ("" for silence).
func (c *call) press(digits string) *core.CallTurn {
	c.t.Helper()
	turn, err := c.g.Core.CallKey(context.Background(), c.id, c.turn.Step, digits)
	if err != nil {
		c.t.Fatalf("key %q: %v", digits, err)
	}
	c.turn = turn
	return turn
}

func said(t *core.CallTurn) string {
	var parts []string
	for _, p := range t.Say {
		parts = append(parts, p.Name+": "+p.Text)
	}
	return strings.Join(parts, " | ")
}

func expectSaid(t *testing.T, turn *core.CallTurn, gather bool, want ...string) {
	t.Helper()
	got := said(turn)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("turn says %q; want %q", got, w)
		}
	}
	if turn.Gather != gather {
		t.Fatalf("turn %q gathers %v; want %v", got, turn.Gather, gather)
	}
}

func voiceResponse(t *testing.T, g *gwtest.Gateway, dossier string) *store.Response {
	t.Helper()
	g.Flush()
	inv := g.MustInvitation(dossier)
	r, err := g.Mongo.Responses.ByInvitation(context.Background(), inv.ID)
	if err != nil {
		t.Fatalf("response of %s: %v", dossier, err)
	}
	return r
}

func scores(r *store.Response) string {
	var b strings.Builder
	for _, a := range r.Answers {
		b.WriteString(a.Question)
		b.WriteByte(byte('0' + a.Score))
	}
	return b.String()
}

func TestCallAllKeys(t *testing.T) {
	g := gwtest.New(t, "")
	id := g.Invite("000.00.12.H49-201105-0042", "000.00.12.H49", map[string]any{"phone": "0912345678"})["id"].(string)
	c := startCall(t, g, "CA-all", id)
	expectSaid(t, c.turn, true, "greeting: Xin chào", "mã kết thúc bằng không, không, bốn, hai", "question_a: Câu 1 trên 5", "nhấn 0 nếu không có ý kiến")
	for i, k := range []string{"5", "4", "0", "3"} {
		expectSaid(t, c.press(k), true, "question_"+string(rune('b'+i)))
	}
	expectSaid(t, c.press("5"), false, "thanks: Cảm ơn")
	if r := voiceResponse(t, g, "000.00.12.H49-201105-0042"); r.Channel != "voice" || scores(r) != "A5B4C0D3E5" || r.Provenance == nil || r.Provenance.VerifiedBy != store.VerifiedPhone {
		t.Fatalf("response %+v", r)
	}
	if n, err := g.Core.CallAnswers(context.Background(), "CA-all"); err != nil || n != 5 {
		t.Fatalf("answers in the call: %d %v", n, err)
	}
	// a second call hears it is answered
	expectSaid(t, startCall(t, g, "CA-again", id).turn, false, "closed:")
}

func TestCallRepeatsTwiceThenMovesOn(t *testing.T) {
	g := gwtest.New(t, "")
	id := g.Invite("D-CALL-REPEAT", "000.00.12.H49", map[string]any{"phone": "0912345679"})["id"].(string)
	c := startCall(t, g, "CA-rep", id)
	expectSaid(t, c.press(""), true, "repeat:", "question_a")
	expectSaid(t, c.press("9"), true, "repeat:", "question_a")
	turn := c.press("")
	expectSaid(t, turn, true, "question_b")
	if strings.Contains(said(turn), "repeat:") {
		t.Fatalf("moved on with a repeat: %s", said(turn))
	}
	expectSaid(t, c.press("*"), true, "repeat:", "question_b")
	for _, k := range []string{"4", "4", "4"} {
		c.press(k)
	}
	expectSaid(t, c.press("2"), false, "thanks:")
	if r := voiceResponse(t, g, "D-CALL-REPEAT"); scores(r) != "A0B4C4D4E2" {
		t.Fatalf("scores %s", scores(r))
	}
}

func TestCallRetriedKeypressChangesNothing(t *testing.T) {
	g := gwtest.New(t, "")
	id := g.Invite("D-CALL-RETRY", "000.00.12.H49", map[string]any{"phone": "0912345680"})["id"].(string)
	c := startCall(t, g, "CA-retry", id)
	step := c.turn.Step
	first := c.press("5")
	again, err := g.Core.CallKey(context.Background(), "CA-retry", step, "1") // the provider's retry, or a forged one
	if err != nil {
		t.Fatal(err)
	}
	if said(again) != said(first) || again.Step != first.Step {
		t.Fatalf("retry heard %q (step %d); the first %q (step %d)", said(again), again.Step, said(first), first.Step)
	}
	for _, k := range []string{"4", "3", "2", "1"} {
		c.press(k)
	}
	if r := voiceResponse(t, g, "D-CALL-RETRY"); scores(r) != "A5B4C3D2E1" {
		t.Fatalf("scores %s", scores(r))
	}
	// the last key retried after the completion: the thanks again, one response
	last, err := g.Core.CallKey(context.Background(), "CA-retry", c.turn.Step-1, "5")
	if err != nil || last.Gather {
		t.Fatalf("%+v %v", last, err)
	}
	if n, _ := g.Mongo.DB.Collection("responses").CountDocuments(context.Background(), map[string]any{}); n != 1 {
		t.Fatalf("%d responses", n)
	}
}

func TestCallCutHalfwayResumes(t *testing.T) {
	g := gwtest.New(t, "")
	id := g.Invite("D-CALL-CUT", "000.00.12.H49", map[string]any{"phone": "0912345681"})["id"].(string)
	c := startCall(t, g, "CA-cut-1", id)
	c.press("5")
	c.press("4") // then the line drops
	c2 := startCall(t, g, "CA-cut-2", id)
	expectSaid(t, c2.turn, true, "resume:", "question_c: Câu 3 trên 5")
	for _, k := range []string{"3", "2"} {
		c2.press(k)
	}
	expectSaid(t, c2.press("1"), false, "thanks:")
	if r := voiceResponse(t, g, "D-CALL-CUT"); scores(r) != "A5B4C3D2E1" {
		t.Fatalf("scores %s", scores(r))
	}
	if n, _ := g.Core.CallAnswers(context.Background(), "CA-cut-2"); n != 3 {
		t.Fatalf("%d answers in the second call", n)
	}
}

func TestCallInByCallerID(t *testing.T) {
	g := gwtest.New(t, "")
	g.Invite("D-CALL-IN", "000.00.12.H49", map[string]any{"phone": "0912345682"})
	turn, err := g.Core.CallIn(context.Background(), voiceCh, "CA-in", "84912345682")
	if err != nil {
		t.Fatal(err)
	}
	expectSaid(t, turn, true, "greeting:", "question_a")
	turn, err = g.Core.CallIn(context.Background(), voiceCh, "CA-stranger", "84987654321")
	if err != nil {
		t.Fatal(err)
	}
	expectSaid(t, turn, false, "no_survey:")
}

func TestCallAfterAnswerOnTheWeb(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("D-CALL-WEB", "000.00.12.H49", map[string]any{"phone": "0912345683"})
	c := startCall(t, g, "CA-web", inv["id"].(string))
	c.press("5")
	if res := g.AnswerAsCitizen(gwtest.Token(inv), allFives()); res.StatusCode != 303 {
		t.Fatalf("web answer %d", res.StatusCode)
	}
	expectSaid(t, c.press("4"), false, "thanks:")
	if r := voiceResponse(t, g, "D-CALL-WEB"); r.Channel != "web" {
		t.Fatalf("channel %s", r.Channel)
	}
}

func allFives() string {
	return "A1=5&A2=5&A3=5&A4=5&B1=5&B2=5&B3=5&B4=5&B5=5&C1=5&C2=5&C3=5&C4=5&C5=5&C6=5&D1=5&D2=5&D3=5&E1=5&E2=5&E3=5&E4=5"
}
