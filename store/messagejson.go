package store

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// A message record crosses the message-log stream as JSON twice per SMS
// webhook (encoded on the request, decoded by the writer): through
// encoding/json's reflection that was a twentieth of the gateway's CPU.
// AppendJSON and DecodeMessage are that same JSON written and read by
// hand: the bytes are encoding/json's exactly, and whatever the fast paths
// do not know (an escaped string, another key's spelling, a null) goes to
// encoding/json itself, so records queued by any version read alike.

// AppendJSON appends json.Marshal(m) to b, or returns its error.
func (m *Message) AppendJSON(b []byte) ([]byte, error) {
	if _, off := m.At.Zone(); m.At.Year() < 0 || m.At.Year() > 9999 || off <= -24*3600 || off >= 24*3600 {
		j, err := json.Marshal(m) // a time RFC 3339 cannot write: its error
		return append(b, j...), err
	}
	b = append(b, `{"ID":`...)
	b = appendJSONString(b, m.ID)
	b = append(b, `,"Channel":`...)
	b = appendJSONString(b, m.Channel)
	b = append(b, `,"Invitation":`...)
	b = appendJSONString(b, m.Invitation)
	b = append(b, `,"Respondent":`...)
	b = appendJSONString(b, m.Respondent)
	b = append(b, `,"Kind":`...)
	b = appendJSONString(b, m.Kind)
	b = append(b, `,"Encoding":`...)
	b = appendJSONString(b, m.Encoding)
	b = append(b, `,"Parts":`...)
	b = strconv.AppendInt(b, int64(m.Parts), 10)
	b = append(b, `,"ProviderID":`...)
	b = appendJSONString(b, m.ProviderID)
	b = append(b, `,"At":"`...)
	b = m.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","Agency":`...)
	b = appendJSONString(b, m.Agency)
	b = append(b, `,"Month":`...)
	b = appendJSONString(b, m.Month)
	b = append(b, `,"Survey":`...)
	b = appendJSONString(b, m.Survey)
	if m.Text != "" {
		b = append(b, `,"text":`...)
		b = appendJSONString(b, m.Text)
	}
	if m.Outcome != "" {
		b = append(b, `,"outcome":`...)
		b = appendJSONString(b, m.Outcome)
	}
	if m.Answers != 0 {
		b = append(b, `,"answers":`...)
		b = strconv.AppendInt(b, int64(m.Answers), 10)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s quoted as encoding/json quotes it: as it is
// when nothing in it needs escaping, else by encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // a string always marshals
			return append(b, j...)
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
				j, _ := json.Marshal(s)
				return append(b, j...)
			}
			i += size - 1
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// DecodeMessage reads a message record as json.Unmarshal would.
func DecodeMessage(raw string, m *Message) error {
	if decodeMessage(raw, m) {
		return nil
	}
	*m = Message{}
	return json.Unmarshal([]byte(raw), m)
}

// decodeMessage reads raw when it is the JSON AppendJSON writes (any keys
// of it, in any order, without spaces or escapes); false leaves the rest
// to encoding/json.
func decodeMessage(raw string, m *Message) bool {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return false
	}
	s := raw[1 : len(raw)-1]
	for s != "" {
		key, rest, ok := plainString(s)
		if !ok || rest == "" || rest[0] != ':' {
			return false
		}
		s = rest[1:]
		var str string
		var num int
		switch key {
		case "Parts", "answers":
			n := 0
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			v, err := strconv.Atoi(s[:n])
			if n == 0 || n > 9 || err != nil || (n > 1 && s[0] == '0') {
				return false
			}
			num, s = v, s[n:]
		default:
			if str, s, ok = plainString(s); !ok {
				return false
			}
		}
		switch key {
		case "ID":
			m.ID = str
		case "Channel":
			m.Channel = str
		case "Invitation":
			m.Invitation = str
		case "Respondent":
			m.Respondent = str
		case "Kind":
			m.Kind = str
		case "Encoding":
			m.Encoding = str
		case "Parts":
			m.Parts = num
		case "ProviderID":
			m.ProviderID = str
		case "At":
			if m.At.UnmarshalText([]byte(str)) != nil { // as Time.UnmarshalJSON parses
				return false
			}
		case "Agency":
			m.Agency = str
		case "Month":
			m.Month = str
		case "Survey":
			m.Survey = str
		case "text":
			m.Text = str
		case "outcome":
			m.Outcome = str
		case "answers":
			m.Answers = num
		default:
			return false // another spelling of a key, or one no record has
		}
		switch {
		case s == "":
		case s[0] == ',' && len(s) > 1:
			s = s[1:]
		default:
			return false
		}
	}
	return true
}

// plainString reads a JSON string at the start of s that holds no escape,
// no control character and only valid UTF-8, and returns it and what
// follows it.
func plainString(s string) (string, string, bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			v := s[1:i]
			if !utf8.ValidString(v) {
				return "", "", false
			}
			return v, s[i+1:], true
		case c == '\\' || c < 0x20:
			return "", "", false
		}
	}
	return "", "", false
}
