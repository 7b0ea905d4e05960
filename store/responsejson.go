package store

import (
	"github.com/sipasvn/gateway/internal/jsonx"
)

// A response crosses the outbox as JSON: encoded where it is saved, read by
// the writer that stores it in MongoDB, through encoding/json's reflection
// about 15 µs a response. decodeResponse reads the JSON json.Marshal writes
// for a response by hand and leaves anything else (another key's spelling,
// spaces, a review) to encoding/json, so entries queued by any version
// read alike.

// unmarshalResponse reads raw as json.Unmarshal would into r (a fresh one).
func unmarshalResponse(raw string, r *Response) error {
	return jsonx.Decode(raw, r, func(r *Response, raw string) bool { return decodeResponse(raw, r) })
}

func decodeResponse(raw string, r *Response) bool {
	return jsonx.Object(raw, func(key, s string) (string, bool) {
		var ok bool
		str := func(p *string) { *p, s, ok = jsonx.String(s) }
		switch key {
		case "ID":
			str(&r.ID)
		case "InvitationID":
			str(&r.InvitationID)
		case "Survey":
			str(&r.Survey)
		case "SurveyVersion":
			r.SurveyVersion, s, ok = jsonx.GoInt(s)
		case "DossierCode":
			str(&r.DossierCode)
		case "AgencyCode":
			str(&r.AgencyCode)
		case "ProcedureCode":
			str(&r.ProcedureCode)
		case "FieldCode":
			str(&r.FieldCode)
		case "Channel":
			str(&r.Channel)
		case "Answers":
			if r.Answers != nil {
				return "", false // encoding/json merges a repeated key's answers into the first's
			}
			r.Answers, s, ok = jsonx.Array(s, decodeAnswer)
		case "Comment":
			str(&r.Comment)
		case "Locale":
			str(&r.Locale)
		case "Respondent":
			str(&r.Respondent)
		case "Month":
			str(&r.Month)
		case "InvitedAt":
			s, ok = jsonTime(s, &r.InvitedAt)
		case "InvitedSurvey":
			str(&r.InvitedSurvey)
		case "StartedAt":
			s, ok = jsonTime(s, &r.StartedAt)
		case "SubmittedAt":
			s, ok = jsonTime(s, &r.SubmittedAt)
		case "OpenedAt":
			s, ok = jsonTimePtr(s, &r.OpenedAt)
		case "Reminded":
			r.Reminded, s, ok = jsonx.Bool(s)
		case "EnteredBy":
			str(&r.EnteredBy)
		case "CitizenText":
			str(&r.CitizenText)
		case "Provenance":
			if rest, isNull := null(s); isNull {
				r.Provenance = nil
				return rest, true
			}
			if r.Provenance == nil { // a repeated key fills the same one, as encoding/json does
				r.Provenance = &Provenance{}
			}
			s, ok = decodeProvenance(s, r.Provenance)
		case "Flags":
			r.Flags, s, ok = jsonx.Strings(s)
		case "Review":
			if s, ok = null(s); ok { // a review is left to encoding/json
				r.Review = nil
			}
		}
		return s, ok // another key: ok is false
	})
}

// decodeAnswer reads one answer's object at the start of s.
func decodeAnswer(s string) (Answer, string, bool) {
	var a Answer
	rest, ok := jsonx.ObjectAt(s, func(key, s string) (string, bool) {
		var ok bool
		switch key {
		case "question":
			a.Question, s, ok = jsonx.String(s)
		case "criterion":
			a.Criterion, s, ok = jsonx.String(s)
		case "score":
			a.Score, s, ok = jsonx.GoInt(s)
		}
		return s, ok
	})
	return a, rest, ok
}

// decodeProvenance reads a provenance object into p.
func decodeProvenance(s string, p *Provenance) (string, bool) {
	return jsonx.ObjectAt(s, func(key, s string) (string, bool) {
		var ok bool
		str := func(v *string) { *v, s, ok = jsonx.String(s) }
		float := func(v **float64) {
			if rest, isNull := null(s); isNull {
				*v, s, ok = nil, rest, true
				return
			}
			var f float64
			if f, s, ok = jsonx.Float(s); ok {
				if *v == nil {
					*v = new(float64)
				}
				**v = f
			}
		}
		switch key {
		case "verified_by":
			str(&p.VerifiedBy)
		case "seconds_to_first_view":
			float(&p.SecondsToFirstView)
		case "seconds_to_complete":
			p.SecondsToComplete, s, ok = jsonx.Float(s)
		case "seconds_answering":
			float(&p.SecondsAnswering)
		case "address_hash":
			str(&p.Address)
		case "device_hash":
			str(&p.Device)
		case "by":
			str(&p.By)
		}
		return s, ok
	})
}
