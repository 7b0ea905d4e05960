package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// With MongoDB unreachable for responses, answers are still accepted (they
// wait in the Redis outbox), counted once, and reach MongoDB when it is back.
func TestOutboxAbsorbsAMongoOutage(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("D-OUTAGE", "000.00.12.H49", map[string]any{"survey": "overall"})
	tok := gwtest.Token(inv)
	if res := g.Do(httptest.NewRequest("GET", "/s/"+tok, nil)); res.StatusCode != 200 { // the citizen opens it
		t.Fatal(res.StatusCode)
	}
	never := gwtest.Token(g.Invite("D-NEVER-OPENED", "000.00.12.H49", map[string]any{"survey": "overall"}))

	// A client that is closed stands for MongoDB being down.
	gone, err := store.OpenMongo(context.Background(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(context.Background())
	down := *g.Mongo
	down.Responses, down.Invitations, down.Client = gone.Responses, gone.Invitations, gone.Client
	g.Core.Mongo = &down
	for path, want := range map[string]int{"/readyz": 503, "/readyz?accept=degraded": 200} {
		res := g.Do(httptest.NewRequest("GET", path, nil))
		if body := gwtest.Body(res); res.StatusCode != want || !strings.Contains(body, `"status":"degraded"`) {
			t.Fatalf("%s while MongoDB is down: %d %s", path, res.StatusCode, body)
		}
	}
	if res, out := g.API("POST", "/api/v1/invitations", map[string]any{"dossier_code": "D-DURING", "agency_code": "000.00.12.H49"}); res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("creating an invitation while MongoDB is down: %d %v", res.StatusCode, out)
	}
	// Every open invitation has its working copy in Redis from its
	// creation: one never opened is answered too.
	if res := g.Do(httptest.NewRequest("GET", "/s/"+never, nil)); res.StatusCode != 200 {
		t.Fatalf("an invitation never opened, while MongoDB is down: %d", res.StatusCode)
	}
	if res := g.Form("/s/"+never, "O=4"); res.StatusCode != 303 {
		t.Fatalf("submit of one never opened during the outage: %d %s", res.StatusCode, gwtest.Body(res))
	}
	if res := g.Form("/s/"+tok, "O=5"); res.StatusCode != 303 {
		t.Fatalf("submit during the outage: %d %s", res.StatusCode, gwtest.Body(res))
	}
	// The thank-you page the submit leads to asks Redis alone whether a
	// follow-up answer waits (no cases collection at all here).
	down.Cases = nil
	if res := g.Do(httptest.NewRequest("GET", "/s/"+tok+"/done", nil)); res.StatusCode != 200 {
		t.Fatalf("thank-you page during the outage: %d", res.StatusCode)
	}
	if n, _ := g.Core.Outbox.Pending(t.Context()); n != 2 {
		t.Fatalf("outbox holds %d", n)
	}
	if res := g.Form("/s/"+tok, "O=1"); res.StatusCode != 200 || !strings.Contains(gwtest.Body(res), "Phiếu đã được trả lời") {
		t.Fatalf("second submit: %d", res.StatusCode)
	}
	if _, err := g.Core.DrainOutbox(t.Context(), 0); err == nil {
		t.Fatal("draining while MongoDB is down reported success")
	}
	if n, _ := g.Mongo.DB.Collection("responses").CountDocuments(t.Context(), map[string]any{}); n != 0 {
		t.Fatalf("%d responses written while down", n)
	}

	g.Core.Mongo = g.Mongo // MongoDB is back
	if _, err := g.Core.DrainOutbox(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || r.Answers[0].Score != 5 {
		t.Fatalf("after the outage: %+v %v", r, err)
	}
	if n, _ := g.Core.Outbox.Pending(t.Context()); n != 0 {
		t.Fatalf("outbox still holds %d", n)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if got["status"] != "completed" {
		t.Fatalf("invitation %v", got["status"])
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	if rep["responses"] != 2.0 {
		t.Fatalf("report %v", rep["responses"])
	}
	// An entry that cannot be read becomes a dead letter with its reason.
	if err := g.Core.Outbox.Add(t.Context(), map[string]string{"response": "{not json"}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Core.DrainOutbox(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	dead, _ := g.Core.Outbox.Dead(t.Context(), 10)
	if len(dead) != 1 || !strings.Contains(dead[0], "reason") {
		t.Fatalf("dead letters %v", dead)
	}
}

// With Redis unreachable, the survey page asks to retry (503) and nothing
// half-done is stored.
func TestRedisOutageAsksToRetry(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-REDIS", "000.00.12.H49", map[string]any{"survey": "overall"}))
	dead := redisClient("127.0.0.1:1") // nothing listens there
	g.Core.Drafts = &store.Progress{R: dead}
	g.Core.Outbox = store.NewOutbox(dead, "x")
	res := g.Form("/s/"+tok, "O=5")
	body := gwtest.Body(res)
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Vui lòng thử lại sau ít phút") {
		t.Fatalf("survey page without Redis: %d %q", res.StatusCode, body)
	}
	if n, _ := g.Mongo.DB.Collection("responses").CountDocuments(t.Context(), map[string]any{}); n != 0 {
		t.Fatalf("%d responses stored without Redis", n)
	}
}

func redisClient(addr string) *redis.Client { return redis.NewClient(&redis.Options{Addr: addr}) }

// Where Redis is a server (the default with GATEWAY_REDIS_URL), a submit is
// acknowledged once its answer is in the outbox, and the outbox writer
// takes it to MongoDB; with GATEWAY_ACKNOWLEDGE=mongo (the embedded
// default, whose Redis keeps nothing across a crash) MongoDB has it before
// the citizen sees the thanks.
func TestAnswersAreAcknowledgedAfterRedisOrAfterMongo(t *testing.T) {
	for _, mode := range []string{"redis", "mongo"} {
		t.Run(mode, func(t *testing.T) {
			g := gwtest.New(t, "", func(c *config.Config) { c.Acknowledge = mode })
			inv := g.Invite("D-ACK-"+mode, "000.00.12.H49", map[string]any{"survey": "overall"})
			if res := g.Form("/s/"+gwtest.Token(inv), "O=4"); res.StatusCode != 303 {
				t.Fatal(res.StatusCode)
			}
			_, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
			if stored := err == nil; stored != (mode == "mongo") {
				t.Fatalf("stored in MongoDB at the acknowledgement: %v (%v)", stored, err)
			}
			g.Work(time.Second) // the outbox writer, woken by nothing but its idle tick
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if n, _ := g.Core.Outbox.Pending(t.Context()); n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the outbox writer did not take the answer to MongoDB")
				}
			}
			if r, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string)); err != nil || r.Answers[0].Score != 4 {
				t.Fatalf("stored %+v %v", r, err)
			}
		})
	}
}
