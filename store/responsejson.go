package store

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/sipasvn/gateway/internal/jsonx"
)

// A response crosses the outbox as JSON: encoded where it is saved, read by
// the writer that stores it in MongoDB, through encoding/json's reflection
// about 15 µs a response to read and 7 to write. AppendJSON writes
// json.Marshal's bytes by hand, and decodeJSON reads them, leaving
// anything else (another key's spelling, spaces, a review) to
// encoding/json, so entries queued by any version read alike.

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

// AppendJSON appends json.Marshal(r) to b, or returns its error. A
// response with a review, a time RFC 3339 cannot write or a float JSON
// cannot (never saved so) goes to encoding/json itself.
func (r *Response) AppendJSON(b []byte) ([]byte, error) {
	if !r.handJSON() {
		j, err := json.Marshal(r)
		return append(b, j...), err
	}
	b = slices.Grow(b, r.bsonSize()+len(r.Answers)*16)
	str := func(key, v string) {
		b = append(b, key...)
		b = jsonx.AppendString(b, v)
	}
	str(`{"ID":`, r.ID)
	str(`,"InvitationID":`, r.InvitationID)
	str(`,"Survey":`, r.Survey)
	b = append(b, `,"SurveyVersion":`...)
	b = strconv.AppendInt(b, int64(r.SurveyVersion), 10)
	str(`,"DossierCode":`, r.DossierCode)
	str(`,"AgencyCode":`, r.AgencyCode)
	str(`,"ProcedureCode":`, r.ProcedureCode)
	str(`,"FieldCode":`, r.FieldCode)
	str(`,"Channel":`, r.Channel)
	b = append(b, `,"Answers":`...)
	if r.Answers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range r.Answers {
			if i > 0 {
				b = append(b, ',')
			}
			str(`{"question":`, r.Answers[i].Question)
			str(`,"criterion":`, r.Answers[i].Criterion)
			b = append(b, `,"score":`...)
			b = strconv.AppendInt(b, int64(r.Answers[i].Score), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	str(`,"Comment":`, r.Comment)
	str(`,"Locale":`, r.Locale)
	str(`,"Respondent":`, r.Respondent)
	str(`,"Month":`, r.Month)
	b = append(b, `,"InvitedAt":`...)
	b = jsonx.AppendTime(b, r.InvitedAt)
	str(`,"InvitedSurvey":`, r.InvitedSurvey)
	b = append(b, `,"StartedAt":`...)
	b = jsonx.AppendTime(b, r.StartedAt)
	b = append(b, `,"SubmittedAt":`...)
	b = jsonx.AppendTime(b, r.SubmittedAt)
	b = append(b, `,"OpenedAt":`...)
	if r.OpenedAt == nil {
		b = append(b, "null"...)
	} else {
		b = jsonx.AppendTime(b, *r.OpenedAt)
	}
	b = append(b, `,"Reminded":`...)
	b = strconv.AppendBool(b, r.Reminded)
	str(`,"EnteredBy":`, r.EnteredBy)
	str(`,"CitizenText":`, r.CitizenText)
	b = append(b, `,"Provenance":`...)
	if p := r.Provenance; p == nil {
		b = append(b, "null"...)
	} else {
		str(`{"verified_by":`, p.VerifiedBy)
		if p.SecondsToFirstView != nil {
			b = append(b, `,"seconds_to_first_view":`...)
			b = jsonx.AppendFloat(b, *p.SecondsToFirstView)
		}
		b = append(b, `,"seconds_to_complete":`...)
		b = jsonx.AppendFloat(b, p.SecondsToComplete)
		if p.SecondsAnswering != nil {
			b = append(b, `,"seconds_answering":`...)
			b = jsonx.AppendFloat(b, *p.SecondsAnswering)
		}
		if p.Address != "" {
			str(`,"address_hash":`, p.Address)
		}
		if p.Device != "" {
			str(`,"device_hash":`, p.Device)
		}
		if p.By != "" {
			str(`,"by":`, p.By)
		}
		b = append(b, '}')
	}
	b = append(b, `,"Flags":`...)
	if r.Flags == nil {
		b = append(b, "null"...)
	} else {
		b = jsonx.AppendStrings(b, r.Flags)
	}
	return append(b, `,"Review":null}`...), nil
}

// handJSON says whether AppendJSON writes r itself.
func (r *Response) handJSON() bool {
	if r.Review != nil || !jsonx.TimeOK(r.InvitedAt) || !jsonx.TimeOK(r.StartedAt) || !jsonx.TimeOK(r.SubmittedAt) ||
		r.OpenedAt != nil && !jsonx.TimeOK(*r.OpenedAt) {
		return false
	}
	finite := func(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }
	if p := r.Provenance; p != nil {
		return finite(p.SecondsToComplete) && (p.SecondsToFirstView == nil || finite(*p.SecondsToFirstView)) &&
			(p.SecondsAnswering == nil || finite(*p.SecondsAnswering))
	}
	return true
}
