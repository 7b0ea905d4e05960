package store

import (
	"reflect"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/bson/bsonrw"
)

// CoalescedClient opens a client whose coalescing lets limit round trips
// fly; batches tells how many round trips carried a queue, waiting how
// many callers wait now.
func CoalescedClient(url string, limit int) (c redis.UniversalClient, batches func() int64, waiting func() int, err error) {
	c, h, err := coalescedClient(url, limit)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, h.batches.Load, h.waiting, nil
}

// DecodeMessageFast is DecodeMessage's own reader, without encoding/json.
func DecodeMessageFast(raw string, m *Message) bool { return m.decodeJSON(raw) }

// CountingRegistry is the client's registry, its inserted-id reader
// counting the documents it reads.
func CountingRegistry() (*bsoncodec.Registry, *atomic.Int64) {
	var n atomic.Int64
	r := bson.NewRegistry()
	r.RegisterTypeDecoder(reflect.TypeOf(insertedID{}), bsoncodec.ValueDecoderFunc(
		func(dc bsoncodec.DecodeContext, vr bsonrw.ValueReader, v reflect.Value) error {
			n.Add(1)
			return readInsertedID(dc, vr, v)
		}))
	return r, &n
}

// ReadInsertedID reads raw's _id as the driver's inserts do.
func ReadInsertedID(raw []byte) (any, error) {
	var id insertedID
	err := bson.UnmarshalWithRegistry(registry, raw, &id)
	return id.ID, err
}

// MessageBSON is m's BSON as Messages.Record writes it.
func MessageBSON(m *Message) []byte { return m.appendBSON(nil) }

// PackedBSON is lines' BSON as a transcript part packs them; PartBSON a
// part's as Transcripts.Append writes it, and the driver's encoding of
// the same part.
func PackedBSON(lines []Line) []byte { return appendPacked(nil, lines) }

func PartBSON(id, respondent string, created time.Time, lines []Line) (mine, drivers []byte, err error) {
	packed := appendPacked(nil, lines)
	drivers, err = bson.Marshal(part{ID: id, Respondent: respondent, Created: created, Packed: packed})
	return appendPart(nil, id, respondent, created, packed), drivers, err
}

// PackedLinesBSON is the driver's encoding of lines as a part packs them.
func PackedLinesBSON(lines []Line) ([]byte, error) { return bson.Marshal(packedLines{Lines: lines}) }

// MessageBSONSize is the room Messages.Record makes for m's BSON.
func MessageBSONSize(m *Message) int { return m.bsonSize() }
