package server_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// A resolve and a dismiss of one reply at the same moment: exactly one
// wins, the other is a 409, and the reply says what happened: resolved
// with its response stored, or dismissed with none. The dismiss is made
// to land inside the resolve, at its first, second… reading of the
// clock, so each interleaving is run, none left to timing. (Before, a
// dismiss landing while the resolve stored its response made both
// succeed: the reply read "dismissed" but a response was counted.)
func TestResolveAndDismissOfOneReplyCannotBothWin(t *testing.T) {
	g := gwtest.New(t, "")
	scores := map[string]any{"scores": map[string]int{"A": 4, "B": 4, "C": 4, "D": 4, "E": 4}}
	for at := 1; at <= 4; at++ {
		inv := g.Invite(fmt.Sprintf("D-RACE-%d", at), "000.00.12.H49", map[string]any{"phone": "0912345678"})
		id := fmt.Sprintf("u:sms1:race-%d", at)
		u := &store.UnreadReply{ID: id, Invitation: inv["id"].(string), Survey: "sipas", Agency: "000.00.12.H49",
			Channel: "sms1", Family: "sms", Text: "bốn điểm hết", At: time.Now()}
		if err := g.Mongo.Unread.Record(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		var readings atomic.Int32
		dismissed := make(chan int, 1)
		g.Core.Clock = func() time.Time {
			if readings.Add(1) == int32(at) {
				res, _ := g.API("POST", "/api/v1/unread-replies/"+id+"/dismiss", map[string]any{"note": "không có điểm"})
				dismissed <- res.StatusCode
			}
			return time.Now()
		}
		res, out := g.API("POST", "/api/v1/unread-replies/"+id+"/resolve", scores)
		g.Core.Clock = nil
		var dismiss int
		select {
		case dismiss = <-dismissed:
		default: // the resolve read the clock fewer times: the dismiss comes after it
			r, _ := g.API("POST", "/api/v1/unread-replies/"+id+"/dismiss", map[string]any{"note": "không có điểm"})
			dismiss = r.StatusCode
		}
		if (res.StatusCode == 200) == (dismiss == 200) || (res.StatusCode != 200 && res.StatusCode != 409) || (dismiss != 200 && dismiss != 409) {
			t.Errorf("dismiss at clock reading %d: resolve %d %v, dismiss %d; want one 200 and one 409", at, res.StatusCode, out, dismiss)
		}
		g.Flush()
		reply, err := g.Mongo.Unread.ByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := g.Mongo.DB.Collection("responses").CountDocuments(t.Context(), map[string]any{"invitation_id": inv["id"]})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{store.UnreadResolved: 1, store.UnreadDismissed: 0}[reply.Status]; reply.Status == store.UnreadOpen || stored != want {
			t.Errorf("dismiss at clock reading %d: the reply reads %s, %d responses stored", at, reply.Status, stored)
		}
	}
}

// A resolve cut off after its claim (a crash) holds the reply only until
// the claim runs out: meanwhile a dismiss is a 409 naming who holds it,
// after it the reply is free.
func TestAResolveCutShortFreesItsReply(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("D-CUT", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	u := &store.UnreadReply{ID: "u:sms1:cut", Invitation: inv["id"].(string), Survey: "sipas", Agency: "000.00.12.H49",
		Channel: "sms1", Family: "sms", Text: "bốn điểm hết", At: time.Now()}
	if err := g.Mongo.Unread.Record(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := g.Mongo.Unread.Claim(t.Context(), u.ID, store.UnreadClaim{Token: "cut", By: "ops@tinh", Until: time.Now().Add(time.Minute)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	res, out := g.API("POST", "/api/v1/unread-replies/"+u.ID+"/dismiss", map[string]any{"note": "x"})
	if e, _ := out["error"].(map[string]any); res.StatusCode != 409 || !strings.Contains(fmt.Sprint(e["message"]), "being resolved by ops@tinh") {
		t.Fatalf("dismiss while a resolve holds the reply: %d %v", res.StatusCode, out)
	}
	g.Core.Clock = func() time.Time { return time.Now().Add(2 * time.Minute) }
	defer func() { g.Core.Clock = nil }()
	if res, out := g.API("POST", "/api/v1/unread-replies/"+u.ID+"/dismiss", map[string]any{"note": "x"}); res.StatusCode != 200 {
		t.Fatalf("dismiss once the claim ran out: %d %v", res.StatusCode, out)
	}
}
