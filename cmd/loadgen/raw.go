package main

import (
	"context"
	"fmt"
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
	return drive("raw driver insert", d, conns, 0, func(int, int) error {
		doc := map[string]any{"_id": primitive.NewObjectID().Hex(), "invitation_id": primitive.NewObjectID().Hex(), "survey": "sipas-5",
			"agency_code": "000.00.12.H49", "channel": "web", "answers": answers, "month": "2026-11", "submitted_at": time.Now()}
		_, err := coll.InsertOne(ctx, doc)
		return err
	}), nil
}
