package store

import (
	"github.com/sipasvn/gateway/internal/jsonx"
)

// A response crosses the outbox as JSON: encoded where it is saved, read by
// the writer that stores it in MongoDB, through encoding/json's reflection
// about 15 µs a response. decodeJSON reads the JSON json.Marshal writes
// for a response by hand and leaves anything else (another key's spelling,
// spaces, a review) to encoding/json, so entries queued by any version
// read alike.

// unmarshalResponse reads raw as json.Unmarshal would into r (a fresh one).
func unmarshalResponse(raw string, r *Response) error {
	return jsonx.Decode(raw, r, (*Response).decodeJSON)
}

func (r *Response) decodeJSON(raw string) bool {
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
			s, ok = jsonx.Time(s, &r.InvitedAt)
		case "InvitedSurvey":
			str(&r.InvitedSurvey)
		case "StartedAt":
			s, ok = jsonx.Time(s, &r.StartedAt)
		case "SubmittedAt":
			s, ok = jsonx.Time(s, &r.SubmittedAt)
		case "OpenedAt":
			s, ok = jsonx.Ptr(s, &r.OpenedAt, jsonx.Time)
		case "Reminded":
			r.Reminded, s, ok = jsonx.Bool(s)
		case "EnteredBy":
			str(&r.EnteredBy)
		case "CitizenText":
			str(&r.CitizenText)
		case "Provenance":
			s, ok = jsonx.Ptr(s, &r.Provenance, decodeProvenance)
		case "Flags":
			r.Flags, s, ok = jsonx.Strings(s)
		case "Review":
			if s, ok = jsonx.Null(s); ok { // a review is left to encoding/json
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
		switch key {
		case "verified_by":
			str(&p.VerifiedBy)
		case "seconds_to_first_view":
			s, ok = jsonx.Ptr(s, &p.SecondsToFirstView, readFloat)
		case "seconds_to_complete":
			p.SecondsToComplete, s, ok = jsonx.Float(s)
		case "seconds_answering":
			s, ok = jsonx.Ptr(s, &p.SecondsAnswering, readFloat)
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

// readFloat reads a number into f.
func readFloat(s string, f *float64) (string, bool) {
	var ok bool
	*f, s, ok = jsonx.Float(s)
	return s, ok
}
