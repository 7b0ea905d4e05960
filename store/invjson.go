package store

import (
	"encoding/base64"
	"encoding/json"

	"github.com/sipasvn/gateway/internal/jsonx"
)

// An invitation's working copy is read from Redis on every page view,
// submit, kiosk answer and SMS completion: through encoding/json's
// reflection about 13 µs a copy, most of it its times and sends.
// decodeCached reads the JSON json.Marshal writes for a copy by hand, and
// leaves anything else (another key's spelling, spaces, a value of another
// type) to encoding/json, so copies written by any version read alike.

// decodeCached reads raw as json.Unmarshal would into v (a fresh copy).
func decodeCached(raw []byte, v *cached) error {
	if v.decode(string(raw)) {
		return nil
	}
	*v = cached{Invitation: &Invitation{}} // not zero: a copy without its fields leaves no nil to read
	return json.Unmarshal(raw, v)
}

func (v *cached) decode(raw string) bool {
	inv := v.Invitation
	return jsonx.Object(raw, func(key, s string) (string, bool) {
		var ok bool
		str := func(p *string) { *p, s, ok = jsonx.String(s) }
		switch key {
		case "ID":
			str(&inv.ID)
		case "Token":
			str(&inv.Token)
		case "DossierCode":
			str(&inv.DossierCode)
		case "AgencyCode":
			str(&inv.AgencyCode)
		case "AgencyName":
			str(&inv.AgencyName)
		case "AgencyShort":
			str(&inv.AgencyShort)
		case "ProcedureCode":
			str(&inv.ProcedureCode)
		case "FieldCode":
			str(&inv.FieldCode)
		case "PhoneSealed":
			if s, ok = jsonx.Null(s); ok {
				inv.PhoneSealed = nil
				return s, true
			}
			var b64 string
			if str(&b64); ok {
				inv.PhoneSealed, ok = decodeBase64(b64)
			}
		case "Respondent":
			str(&inv.Respondent)
		case "Survey":
			str(&inv.Survey)
		case "Locale":
			str(&inv.Locale)
		case "Status":
			var st string
			str(&st)
			inv.Status = Status(st)
		case "CompletedVia":
			str(&inv.CompletedVia)
		case "CreatedAt":
			s, ok = jsonx.Time(s, &inv.CreatedAt)
		case "CreatedFrom":
			str(&inv.CreatedFrom)
		case "ExpiresAt":
			s, ok = jsonx.Time(s, &inv.ExpiresAt)
		case "StartedAt":
			s, ok = jsonx.Ptr(s, &inv.StartedAt, jsonx.Time)
		case "CompletedAt":
			s, ok = jsonx.Ptr(s, &inv.CompletedAt, jsonx.Time)
		case "Sends":
			s, ok = jsonx.Map(s, &inv.Sends, decodeSend)
		case "Opened":
			s, ok = jsonx.Map(s, &inv.Opened, jsonx.Time)
		case "StartedVia":
			str(&inv.StartedVia)
		case "cached_at":
			v.At, s, ok = jsonx.Int(s)
		}
		return s, ok // another key: ok is false
	})
}

// decodeBase64 reads a []byte as encoding/json does (standard base64,
// line breaks ignored).
func decodeBase64(s string) ([]byte, bool) {
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, []byte(s))
	return b[:n], err == nil
}

// decodeSend reads a SendStatus.
func decodeSend(s string, st *SendStatus) (string, bool) {
	return jsonx.ObjectAt(s, func(key, s string) (string, bool) {
		var ok bool
		str := func(p *string) { *p, s, ok = jsonx.String(s) }
		switch key {
		case "kind":
			str(&st.Kind)
		case "channel":
			str(&st.Channel)
		case "status":
			var v string
			str(&v)
			st.Status = SendState(v)
		case "reason":
			str(&st.Reason)
		case "attempts":
			st.Attempts, s, ok = jsonx.GoInt(s)
		case "parts":
			st.Parts, s, ok = jsonx.GoInt(s)
		case "error":
			str(&st.Error)
		case "at":
			s, ok = jsonx.Time(s, &st.At)
		}
		return s, ok
	})
}
