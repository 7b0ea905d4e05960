package main

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/sipasvn/gateway/store"
)

// probe reads an external stack's stores beside the gateway: the roll-up
// journal (store.Journal) in MongoDB and the roll-up lease in Redis.
type probe struct {
	t     *testing.T
	db    *mongo.Database
	redis *redis.Client
}

const stackDB = "sipas" // the gateway's default database

func newProbe(t *testing.T, s *stack) *probe {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(s.mongoURI()))
	if err != nil {
		t.Fatal(err)
	}
	p := &probe{t: t, db: client.Database(stackDB), redis: redis.NewClient(&redis.Options{Addr: s.redis.addr})}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()); _ = p.redis.Close() })
	return p
}

// journalClaim is a claim|N document of the journal.
type journalClaim struct {
	ID   string `bson:"_id"`
	N    int64  `bson:"n"`
	Gen  int    `bson:"gen"`
	Kind string `bson:"kind"`
}

func (p *probe) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// rebuildClaims returns the journal's rebuild claims by _id.
func (p *probe) rebuildClaims() map[string]journalClaim {
	ctx, cancel := p.ctx()
	defer cancel()
	cur, err := p.db.Collection("rollup_state").Find(ctx, bson.D{{Key: "kind", Value: store.ClaimRebuild}})
	var claims []journalClaim
	if err == nil {
		err = cur.All(ctx, &claims)
	}
	if err != nil {
		p.t.Fatalf("read the roll-up journal: %v", err)
	}
	out := map[string]journalClaim{}
	for _, c := range claims {
		out[c.ID] = c
	}
	return out
}

// count counts the documents of a collection that match filter.
func (p *probe) count(coll string, filter bson.D) int64 {
	ctx, cancel := p.ctx()
	defer cancel()
	n, err := p.db.Collection(coll).CountDocuments(ctx, filter)
	if err != nil {
		p.t.Fatalf("count %s: %v", coll, err)
	}
	return n
}

func (p *probe) hasView(n int64) bool {
	return p.count("rollup_state", bson.D{{Key: "_id", Value: "view|" + strconv.FormatInt(n, 10)}}) > 0
}

// currentGen is the generation of the latest view: the one reports read.
func (p *probe) currentGen() int {
	ctx, cancel := p.ctx()
	defer cancel()
	var v struct {
		Gen int `bson:"gen"`
	}
	err := p.db.Collection("rollup_state").FindOne(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: `^view\|`}}}},
		options.FindOne().SetSort(bson.D{{Key: "n", Value: -1}})).Decode(&v)
	if err != nil {
		p.t.Fatalf("read the current roll-up view: %v", err)
	}
	return v.Gen
}

// leaseHeld says whether some process holds the roll-up writer's lease.
func (p *probe) leaseHeld() bool {
	ctx, cancel := p.ctx()
	defer cancel()
	n, err := p.redis.Exists(ctx, "gw:lock:rollups:"+stackDB).Result()
	if err != nil {
		p.t.Fatalf("read the roll-up lease: %v", err)
	}
	return n > 0
}

// cutRebuild runs gateway rebuild beside the serving gateway and SIGKILLs
// it halfway: once it has claimed its batch and counted responses into
// its own generation, before it publishes. The crowd pauses until the
// rebuild has the lease, then answers on while it runs. The journal must
// then hold the claim without its view; a rebuild that finished first
// (it published) is not a cut, and another is run, up to 5 times.
func cutRebuild(t *testing.T, s *stack, p *probe, cr *crowd) (cut journalClaim, counted int64) {
	for attempt := 1; attempt <= 5; attempt++ {
		before := p.rebuildClaims()
		cmd := s.command("rebuild")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		exited := make(chan struct{})
		var werr error
		c, claimed := func() (journalClaim, bool) {
			cr.pause()
			defer cr.resume() // also when the test fails here
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { werr = cmd.Wait(); close(exited) }()
			return p.awaitClaim(before, exited)
		}()
		var n int64
		if claimed {
			n = p.awaitCounted(c, exited)
		}
		_ = cmd.Process.Kill()
		<-exited
		if n == 0 {
			t.Logf("rebuild attempt %d was not seen claiming and counting before it ended (%v): %s", attempt, werr, out.String())
			continue
		}
		time.Sleep(200 * time.Millisecond) // a write it sent before it died lands, or not, meanwhile
		if p.hasView(c.N) {
			t.Logf("rebuild attempt %d published batch %d before it died", attempt, c.N)
			continue
		}
		return c, n
	}
	t.Fatal("no rebuild was cut halfway in 5 attempts")
	return journalClaim{}, 0
}

// awaitClaim waits for a rebuild claim not in before; false if the
// rebuild ends first or takes 45 s (it waits for the lease, which a
// killed gateway holds up to 30 s).
func (p *probe) awaitClaim(before map[string]journalClaim, exited <-chan struct{}) (journalClaim, bool) {
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return journalClaim{}, false
		case <-time.After(5 * time.Millisecond):
		}
		for id, c := range p.rebuildClaims() {
			if _, old := before[id]; !old {
				return c, true
			}
		}
	}
	return journalClaim{}, false
}

// awaitCounted waits for counted marks in c's generation and returns how
// many there are; 0 if the rebuild ends first.
func (p *probe) awaitCounted(c journalClaim, exited <-chan struct{}) int64 {
	coll := store.GenName("counted_responses", c.Gen)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			return 0
		case <-time.After(2 * time.Millisecond):
		}
		if n := p.count(coll, bson.D{}); n > 0 {
			return n
		}
	}
	return 0
}
