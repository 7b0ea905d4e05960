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
// hand: the bytes are encoding/json's exactly, and whatever the reader
// does not know (another key's spelling, a null, a space, a surrogate
// escape) goes to encoding/json itself, so records queued by any version
// read alike.

// JSONSize is about how many bytes AppendJSON writes for m: its keys, time
// and values, and room for some escapes.
func (m *Message) JSONSize() int {
	n := len(m.ID) + len(m.Channel) + len(m.Invitation) + len(m.Respondent) + len(m.Kind) + len(m.Encoding) +
		len(m.ProviderID) + len(m.Agency) + len(m.Month) + len(m.Survey) + len(m.Text) + len(m.Outcome)
	return 240 + n + len(m.Text)/8
}

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

// appendJSONString appends s quoted as encoding/json quotes it (its
// appendString, HTML characters escaped as json.Marshal does).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
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
// of it, in any order, without spaces); false leaves the rest to
// encoding/json.
func decodeMessage(raw string, m *Message) bool {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return false
	}
	s := raw[1 : len(raw)-1]
	for s != "" {
		key, rest, ok := jsonString(s)
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
			if str, s, ok = jsonString(s); !ok {
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

// jsonString reads the JSON string at the start of s and returns it and
// what follows it. It knows valid UTF-8 and the escapes encoding/json
// writes; a surrogate escape, a control character or invalid UTF-8 is
// left to encoding/json (false).
func jsonString(s string) (string, string, bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	var buf []byte // only when the string has escapes
	start := 1
	for i := 1; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			v := s[start:i]
			if !utf8.ValidString(v) {
				return "", "", false
			}
			if buf != nil {
				v = string(append(buf, v...))
			}
			return v, s[i+1:], true
		case c < 0x20:
			return "", "", false
		case c == '\\':
			if i+1 >= len(s) {
				return "", "", false
			}
			buf = append(buf, s[start:i]...)
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if i+6 > len(s) {
					return "", "", false
				}
				r, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
				if err != nil || r >= 0xD800 && r < 0xE000 {
					return "", "", false
				}
				buf = utf8.AppendRune(buf, rune(r))
				i += 4
			default:
				return "", "", false
			}
			i += 2
			start = i
		default:
			i++
		}
	}
	return "", "", false
}
