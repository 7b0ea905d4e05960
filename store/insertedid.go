package store

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsoncodec"
	"go.mongodb.org/mongo-driver/bson/bsonrw"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// insertedID is the type the driver (mongo.ensureID, v1) decodes every
// document it inserts into, to hand back its _id. An unnamed struct type
// is the same type wherever it is written, so the registry below reaches
// the driver's own variable.
type insertedID = struct {
	ID interface{} `bson:"_id"`
}

// registry is the driver's default registry, with insertedID read by
// readInsertedID: the struct codec walked every field of each document
// inserted, 1.7 µs and 16 allocations for a sent-message record, where
// this takes 0.6 µs and 6. bson.Raw, the form of every document encoded
// by hand, is written by writeRaw. Any other type reads and writes as
// with the default registry.
var registry = func() *bsoncodec.Registry {
	r := bson.NewRegistry()
	r.RegisterTypeDecoder(reflect.TypeOf(insertedID{}), bsoncodec.ValueDecoderFunc(readInsertedID))
	r.RegisterTypeEncoder(reflect.TypeOf(bson.Raw{}), bsoncodec.ValueEncoderFunc(writeRaw))
	return r
}()

// writeRaw writes a bson.Raw document as the driver's own encoder does
// (bsonrw.Copier: element by element, each value's bytes at once), but
// takes each top-level key from rawKeys when it is one of them: the
// copier made a string of every key, an allocation each, and a message
// record has fourteen.
func writeRaw(_ bsoncodec.EncodeContext, vw bsonrw.ValueWriter, v reflect.Value) error {
	if !v.IsValid() || v.Type() != tRaw {
		return bsoncodec.ValueEncoderError{Name: "writeRaw", Types: []reflect.Type{tRaw}, Received: v}
	}
	doc := v.Bytes()
	n, rem, ok := bsoncore.ReadLength(doc)
	if !ok || n < 5 || int(n) > len(doc) || doc[n-1] != 0 {
		return fmt.Errorf("write a raw document: %w", bsoncore.NewInsufficientBytesError(doc, doc))
	}
	rem = rem[:n-5] // the elements, without the length and the end
	dw, err := vw.WriteDocument()
	if err != nil {
		return err
	}
	for len(rem) > 0 {
		t := bsontype.Type(rem[0])
		end := bytes.IndexByte(rem[1:], 0)
		if end < 0 {
			return errors.New("write a raw document: an element name without its end")
		}
		name := rem[1 : 1+end]
		key, known := rawKeys[string(name)]
		if !known {
			key = string(name)
		}
		val, rest, ok := bsoncore.ReadValue(rem[2+end:], t)
		if !ok {
			return fmt.Errorf("write a raw document: element %q is cut short or of an unknown type", key)
		}
		ew, err := dw.WriteDocumentElement(key)
		if err != nil {
			return err
		}
		if err := (bsonrw.Copier{}).CopyValueFromBytes(ew, t, val.Data); err != nil {
			return err
		}
		rem = rest
	}
	return dw.WriteDocumentEnd()
}

var tRaw = reflect.TypeOf(bson.Raw{})

// rawKeys are the top-level keys of the documents written by hand
// (messages, transcript parts, responses and their uncounted copies,
// counted marks), kept once.
var rawKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`_id channel invitation_id respondent kind encoding parts provider_id at agency
		month survey outcome answers created_at p r batch state sbatch before survey_version dossier_code agency_code
		procedure_code field_code comment locale invited_at invited_survey started_at submitted_at opened_at reminded
		entered_by citizen_text provenance flags review`) {
		m[k] = k
	}
	return m
}()

// readInsertedID reads a document's _id into an insertedID as the struct
// codec would (the registry's decoder for an empty interface), and stops
// there: each element's name read costs an allocation, and the driver
// reads nothing else of it. Elements before the _id are skipped.
func readInsertedID(dc bsoncodec.DecodeContext, vr bsonrw.ValueReader, v reflect.Value) error {
	dr, err := vr.ReadDocument()
	if err != nil {
		return err
	}
	field := v.Field(0)
	for {
		name, evr, err := dr.ReadElement()
		if err == bsonrw.ErrEOD {
			return nil
		}
		if err != nil {
			return err
		}
		if name != "_id" {
			if err := evr.Skip(); err != nil {
				return err
			}
			continue
		}
		dec, err := dc.LookupDecoder(field.Type())
		if err != nil {
			return err
		}
		return dec.DecodeValue(dc, evr, field)
	}
}
