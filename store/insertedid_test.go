package store_test

import (
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// The inserted-id reader gives what the driver's struct codec gives, for
// any _id and wherever it sits in the document.
func TestInsertedIDReadsAsTheStructCodec(t *testing.T) {
	oid := primitive.NewObjectID()
	for name, doc := range map[string]bson.D{
		"string first":   {{Key: "_id", Value: "r:ch:1:0"}, {Key: "kind", Value: "reply"}},
		"object id":      {{Key: "_id", Value: oid}, {Key: "n", Value: 1}},
		"int":            {{Key: "_id", Value: int32(7)}},
		"long":           {{Key: "_id", Value: int64(1) << 40}},
		"document":       {{Key: "_id", Value: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: "x"}}}, {Key: "c", Value: true}},
		"after others":   {{Key: "a", Value: bson.A{1, "two", bson.D{{Key: "x", Value: 3.5}}}}, {Key: "at", Value: time.Unix(1, 0)}, {Key: "_id", Value: "late"}},
		"null":           {{Key: "_id", Value: nil}, {Key: "a", Value: 1}},
		"none":           {{Key: "a", Value: 1}, {Key: "b", Value: "x"}},
		"empty document": {},
	} {
		raw, err := bson.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			ID interface{} `bson:"_id"`
		}
		wantErr := bson.Unmarshal(raw, &want)
		got, err := store.ReadInsertedID(raw)
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want.ID) {
			t.Errorf("%s: read %#v (%v), the struct codec %#v (%v)", name, got, err, want.ID, wantErr)
		}
	}
}

// The driver reads every inserted document's _id through the client's
// registry, so the reader above is the one it uses (a driver that stops
// doing so fails here, not silently).
func TestDriverReadsInsertedIDsThroughTheRegistry(t *testing.T) {
	reg, n := store.CountingRegistry()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(testenv.MongoURI(t)).SetRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(ctx) })
	db := c.Database("t_" + testenv.RandomID())
	t.Cleanup(func() { _ = db.Drop(ctx) })
	res, err := db.Collection("c").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "v", Value: 1}},
		&store.Message{ID: "b", Channel: "ch", Kind: "reply", At: time.Now()},
		bson.D{{Key: "v", Value: 3}}, // the driver adds an ObjectID: nothing to read
	})
	if err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Fatalf("the registry's reader read %d inserted ids, want 2", n.Load())
	}
	if res.InsertedIDs[0] != "a" || res.InsertedIDs[1] != "b" {
		t.Fatalf("inserted ids %v", res.InsertedIDs)
	}
	if _, ok := res.InsertedIDs[2].(primitive.ObjectID); !ok {
		t.Fatalf("the third id is %T, want an ObjectID", res.InsertedIDs[2])
	}
}
