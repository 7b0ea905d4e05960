package store

import (
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// appendBSON appends m as the driver's struct codec encodes it (the
// fields in order, empty omitempty ones left out, Parts and Answers as
// int32 when they fit), without its reflection: 1.9 µs a record through
// it, a sent message's cost-log insert on every SMS reply.
func (m *Message) appendBSON(dst []byte) []byte {
	at, dst := bsoncore.AppendDocumentStart(dst)
	dst = bsoncore.AppendStringElement(dst, "_id", m.ID)
	dst = bsoncore.AppendStringElement(dst, "channel", m.Channel)
	dst = appendStringOmitEmpty(dst, "invitation_id", m.Invitation)
	dst = appendStringOmitEmpty(dst, "respondent", m.Respondent)
	dst = bsoncore.AppendStringElement(dst, "kind", m.Kind)
	dst = bsoncore.AppendStringElement(dst, "encoding", m.Encoding)
	dst = appendInt(dst, "parts", m.Parts)
	dst = appendStringOmitEmpty(dst, "provider_id", m.ProviderID)
	dst = bsoncore.AppendTimeElement(dst, "at", m.At)
	dst = appendStringOmitEmpty(dst, "agency", m.Agency)
	dst = appendStringOmitEmpty(dst, "month", m.Month)
	dst = appendStringOmitEmpty(dst, "survey", m.Survey)
	dst = appendStringOmitEmpty(dst, "outcome", m.Outcome)
	if m.Answers != 0 {
		dst = appendInt(dst, "answers", m.Answers)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, at) // at is dst's own: no error
	return dst
}

// bsonSize is at most how many bytes appendBSON writes for m: its keys,
// their types and ends, and the values.
func (m *Message) bsonSize() int {
	return 240 + len(m.ID) + len(m.Channel) + len(m.Invitation) + len(m.Respondent) + len(m.Kind) + len(m.Encoding) +
		len(m.ProviderID) + len(m.Agency) + len(m.Month) + len(m.Survey) + len(m.Outcome)
}

func appendStringOmitEmpty(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	return bsoncore.AppendStringElement(dst, key, v)
}

// appendInt appends a Go int as the driver's default codec does: int32
// when it fits, int64 otherwise.
func appendInt(dst []byte, key string, v int) []byte {
	if int(int32(v)) == v {
		return bsoncore.AppendInt32Element(dst, key, int32(v))
	}
	return bsoncore.AppendInt64Element(dst, key, int64(v))
}

// appendPacked appends packedLines{Lines: lines} as the driver's struct
// codec encodes it, without its reflection (a transcript part's lines,
// every message-log batch).
func appendPacked(dst []byte, lines []Line) []byte {
	need := 16
	for i := range lines {
		need += 64 + len(lines[i].Key) + len(lines[i].Channel) + len(lines[i].Kind) + len(lines[i].Text) + len(lines[i].Encoding)
	}
	dst = slices.Grow(dst, need)
	at, dst := bsoncore.AppendDocumentStart(dst)
	arr, dst := bsoncore.AppendArrayElementStart(dst, "m")
	for i := range lines {
		l := &lines[i]
		var el int32
		el, dst = bsoncore.AppendDocumentElementStart(dst, strconv.Itoa(i))
		dst = bsoncore.AppendStringElement(dst, "k", l.Key)
		dst = bsoncore.AppendTimeElement(dst, "at", l.At)
		dst = bsoncore.AppendStringElement(dst, "ch", l.Channel)
		dst = bsoncore.AppendStringElement(dst, "kind", l.Kind)
		dst = bsoncore.AppendStringElement(dst, "text", l.Text)
		dst = appendStringOmitEmpty(dst, "enc", l.Encoding)
		if l.Parts != 0 {
			dst = appendInt(dst, "parts", l.Parts)
		}
		dst, _ = bsoncore.AppendDocumentEnd(dst, el)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, arr)
	dst, _ = bsoncore.AppendDocumentEnd(dst, at) // at is dst's own: no error
	return dst
}

// appendPart appends a transcript part with packed lines as the driver's
// struct codec encodes a part.
func appendPart(dst []byte, id, respondent string, created time.Time, packed []byte) []byte {
	dst = slices.Grow(dst, 64+len(id)+len(respondent)+len(packed))
	at, dst := bsoncore.AppendDocumentStart(dst)
	dst = bsoncore.AppendStringElement(dst, "_id", id)
	dst = appendStringOmitEmpty(dst, "respondent", respondent)
	dst = bsoncore.AppendTimeElement(dst, "created_at", created)
	if len(packed) > 0 {
		dst = bsoncore.AppendBinaryElement(dst, "p", 0, packed)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, at) // at is dst's own: no error
	return dst
}
