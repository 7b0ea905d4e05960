package core

import (
	"strconv"

	"github.com/sipasvn/gateway/internal/jsonx"
	"github.com/sipasvn/gateway/survey"
)

// A conversation's state is read and written on every message, twice more
// for each conflict: through encoding/json's reflection that was about 3
// µs a message. appendJSON and decodeChatState are the same JSON by hand:
// the bytes are json.Marshal's exactly, and what the reader does not know
// (another key's spelling, a space, a null where it expects none) goes to
// encoding/json, so states written by any version read alike.

// appendJSON appends json.Marshal(st) to b.
func (st *chatState) appendJSON(b []byte) []byte {
	c := &st.Conversation
	start := len(b)
	b = append(b, '{')
	str := func(key, v string) {
		if v != "" {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, '"', ':')
			b = jsonx.AppendString(b, v)
		}
	}
	num := func(key string, v int64) {
		if v != 0 {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, '"', ':')
			b = strconv.AppendInt(b, v, 10)
		}
	}
	yes := func(key string, v bool) {
		if v {
			b = append(b, ',', '"')
			b = append(b, key...)
			b = append(b, `":true`...)
		}
	}
	str("i", c.Invitation)
	str("s", string(c.Survey))
	str("l", c.Locale)
	if len(c.Answers) > 0 {
		b = append(b, `,"a":`...)
		b = jsonx.AppendInts(b, c.Answers)
	}
	str("c", c.Comment)
	num("m", int64(c.Misses))
	yes("d", c.Done)
	yes("o", c.OneByOne)
	if p := c.Pending; p != nil {
		b = append(b, `,"p":{"a":`...)
		b = strconv.AppendInt(b, int64(p.At), 10)
		b = append(b, `,"s":`...)
		b = jsonx.AppendInts(b, p.Scores)
		if p.Comment != "" {
			b = append(b, `,"c":`...)
			b = jsonx.AppendString(b, p.Comment)
		}
		if p.Lone {
			b = append(b, `,"n":true`...)
		}
		b = append(b, '}')
	}
	num("k", int64(c.Confirms))
	str("h", c.HelpDay)
	num("x", st.Expires)
	yes("t", st.Started)
	yes("w", st.Linked)
	str("ag", st.Agency)
	str("mo", st.Month)
	str("iv", st.InvSurvey)
	if len(b) > start+1 {
		b = append(b[:start+1], b[start+2:]...) // the first member's comma
	}
	return append(b, '}')
}

// decodeChatState reads raw as json.Unmarshal would into a fresh st.
func decodeChatState(raw []byte, st *chatState) error {
	return jsonx.Decode(string(raw), st, (*chatState).decode)
}

// decode reads raw when it is the JSON appendJSON writes (its keys in any
// order); false leaves it to encoding/json.
func (st *chatState) decode(raw string) bool {
	c := &st.Conversation
	return jsonx.Object(raw, func(key, s string) (string, bool) {
		var ok bool
		str := func(v *string) { *v, s, ok = jsonx.String(s) }
		switch key {
		case "i":
			str(&c.Invitation)
		case "s":
			var v string
			str(&v)
			c.Survey = survey.ID(v)
		case "l":
			str(&c.Locale)
		case "a":
			c.Answers, s, ok = jsonx.Ints(s)
		case "c":
			str(&c.Comment)
		case "m":
			c.Misses, s, ok = jsonx.GoInt(s)
		case "d":
			c.Done, s, ok = jsonx.Bool(s)
		case "o":
			c.OneByOne, s, ok = jsonx.Bool(s)
		case "p":
			s, ok = jsonx.Ptr(s, &c.Pending, decodePending)
		case "k":
			c.Confirms, s, ok = jsonx.GoInt(s)
		case "h":
			str(&c.HelpDay)
		case "x":
			st.Expires, s, ok = jsonx.Int(s)
		case "t":
			st.Started, s, ok = jsonx.Bool(s)
		case "w":
			st.Linked, s, ok = jsonx.Bool(s)
		case "ag":
			str(&st.Agency)
		case "mo":
			str(&st.Month)
		case "iv":
			str(&st.InvSurvey)
		}
		return s, ok // another key: ok is false
	})
}

// decodePending reads the pending reading's object at the start of s and
// returns what follows it.
func decodePending(s string, p *survey.Pending) (string, bool) {
	return jsonx.ObjectAt(s, func(key, s string) (string, bool) {
		var ok bool
		switch key {
		case "a":
			p.At, s, ok = jsonx.GoInt(s)
		case "s":
			p.Scores, s, ok = jsonx.Ints(s)
		case "c":
			p.Comment, s, ok = jsonx.String(s)
		case "n":
			p.Lone, s, ok = jsonx.Bool(s)
		}
		return s, ok
	})
}
