package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// rawInserts is the bound for completed responses: conns goroutines each
// inserting response-sized documents one at a time with the driver, for d,
// into a scratch database on the gateway's server (dropped afterwards).
func rawInserts(uri string, d time.Duration, conns int) (result, error) {
	ctx := context.Background()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		return result{}, err
	}
	defer c.Disconnect(ctx)
	db := c.Database(fmt.Sprintf("loadgen_raw_%d", time.Now().UnixNano()))
	defer db.Drop(ctx)
	coll := db.Collection("responses")
	answers := []map[string]any{}
	for _, q := range []string{"A", "B", "C", "D", "E"} {
		answers = append(answers, map[string]any{"question": q, "criterion": q, "score": 4})
	}
	var n, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				doc := map[string]any{"_id": primitive.NewObjectID().Hex(), "invitation_id": primitive.NewObjectID().Hex(), "survey": "sipas-5",
					"agency_code": "000.00.12.H49", "channel": "web", "answers": answers, "month": "2026-11", "submitted_at": time.Now(), "applied": false}
				t0 := time.Now()
				_, err := coll.InsertOne(ctx, doc)
				mine = append(mine, time.Since(t0))
				n.Add(1)
				if err != nil {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r := result{name: "raw driver insert", n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), lat: lat}
	sortDurations(r.lat)
	return r, nil
}
