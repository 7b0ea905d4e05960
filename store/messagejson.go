package store

import (
	"encoding/json"
	"strconv"

	"github.com/sipasvn/gateway/internal/jsonx"
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
	if !jsonx.TimeOK(m.At) {
		j, err := json.Marshal(m) // a time RFC 3339 cannot write: its error
		return append(b, j...), err
	}
	b = append(b, `{"ID":`...)
	b = jsonx.AppendString(b, m.ID)
	b = append(b, `,"Channel":`...)
	b = jsonx.AppendString(b, m.Channel)
	b = append(b, `,"Invitation":`...)
	b = jsonx.AppendString(b, m.Invitation)
	b = append(b, `,"Respondent":`...)
	b = jsonx.AppendString(b, m.Respondent)
	b = append(b, `,"Kind":`...)
	b = jsonx.AppendString(b, m.Kind)
	b = append(b, `,"Encoding":`...)
	b = jsonx.AppendString(b, m.Encoding)
	b = append(b, `,"Parts":`...)
	b = strconv.AppendInt(b, int64(m.Parts), 10)
	b = append(b, `,"ProviderID":`...)
	b = jsonx.AppendString(b, m.ProviderID)
	b = append(b, `,"At":`...)
	b = jsonx.AppendTime(b, m.At)
	b = append(b, `,"Agency":`...)
	b = jsonx.AppendString(b, m.Agency)
	b = append(b, `,"Month":`...)
	b = jsonx.AppendString(b, m.Month)
	b = append(b, `,"Survey":`...)
	b = jsonx.AppendString(b, m.Survey)
	if m.Text != "" {
		b = append(b, `,"text":`...)
		b = jsonx.AppendString(b, m.Text)
	}
	if m.Outcome != "" {
		b = append(b, `,"outcome":`...)
		b = jsonx.AppendString(b, m.Outcome)
	}
	if m.Answers != 0 {
		b = append(b, `,"answers":`...)
		b = strconv.AppendInt(b, int64(m.Answers), 10)
	}
	return append(b, '}'), nil
}

// DecodeMessage reads a message record as json.Unmarshal would.
func DecodeMessage(raw string, m *Message) error {
	return jsonx.Decode(raw, m, (*Message).decodeJSON)
}

// decodeJSON reads raw when it is the JSON AppendJSON writes (any keys
// of it, in any order, without spaces); false leaves the rest to
// encoding/json.
func (m *Message) decodeJSON(raw string) bool {
	return jsonx.Object(raw, func(key, s string) (string, bool) {
		value := s
		var str string
		var num int
		var ok bool
		switch key {
		case "Parts", "answers":
			if num, s, ok = jsonx.GoInt(s); !ok {
				return "", false
			}
		default:
			if str, s, ok = jsonx.String(s); !ok {
				return "", false
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
			if _, ok = jsonx.Time(value, &m.At); !ok {
				return "", false
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
			return "", false // another spelling of a key, or one no record has
		}
		return s, true
	})
}
