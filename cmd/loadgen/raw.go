package main

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// rawBatch is how many documents one InsertMany of the raw batch loop
// carries: about what the gateway's group commit gathers under load.
const rawBatch = 100

// rawInserts is the bound for completed responses: conns goroutines each
// inserting response-sized documents with the driver, for d, into a
// scratch database on the gateway's server (dropped afterwards); one at a
// time with InsertOne, or rawBatch at a time with InsertMany (batch), the
// bound for the gateway's batch writers (group commit, roll-up writer,
// message log). Each request of the batch loop carries rawBatch documents.
func rawInserts(uri string, d time.Duration, conns int, batch bool) (result, error) {
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
	doc := func() any {
		return map[string]any{"_id": primitive.NewObjectID().Hex(), "invitation_id": primitive.NewObjectID().Hex(), "survey": "sipas-5",
			"agency_code": "000.00.12.H49", "channel": "web", "answers": answers, "month": "2026-11", "submitted_at": time.Now()}
	}
	if batch {
		return drive("raw driver InsertMany", d, conns, 0, func(int, int) error {
			docs := make([]any, rawBatch)
			for i := range docs {
				docs[i] = doc()
			}
			_, err := coll.InsertMany(ctx, docs)
			return err
		}), nil
	}
	return drive("raw driver insert", d, conns, 0, func(int, int) error {
		_, err := coll.InsertOne(ctx, doc())
		return err
	}), nil
}
