package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Agency is one unit of a province's tree (province, department, commune…).
type Agency struct {
	Code   string `bson:"_id" json:"code"`
	Name   string `bson:"name" json:"name"`
	NameEN string `bson:"name_en,omitempty" json:"name_en,omitempty"`
	// ShortName is the name citizens know the office by, short enough
	// for an SMS that must fit one part (the full name often does not).
	ShortName string    `bson:"short_name,omitempty" json:"short_name,omitempty" doc:"at most 20 characters, used in texts to citizens (SMS) when the full name does not fit, e.g. UBND Nghi Lộc"`
	Parent    string    `bson:"parent,omitempty" json:"parent,omitempty"`
	Level     string    `bson:"level,omitempty" json:"level,omitempty"`
	Updated   time.Time `bson:"updated_at" json:"updated_at"`
	// CaseRule, when set, says when this agency's and its subtree's
	// responses open follow-up cases (unset: the parent's, or the default).
	CaseRule *CaseRule `bson:"case_rule,omitempty" json:"case_rule,omitempty"`
	// Webhook, when set, is told of this agency's cases (opened, due
	// soon, escalated to it), signed with its secret.
	Webhook *Webhook `bson:"webhook,omitempty" json:"webhook,omitempty"`
	// OfficeNetworks are the agency's staff networks (CIDRs): a web
	// answer (or a case rating) from one, for any agency, is flagged
	// office_network. The citizens' guest Wi-Fi is not listed here.
	OfficeNetworks []string `bson:"office_networks,omitempty" json:"office_networks,omitempty" doc:"CIDRs of the agency's staff networks (not the citizens' guest Wi-Fi): web answers from them are flagged office_network"`
	// DossierServers are the agency's central dossier systems (CIDRs):
	// every citizen's invitation comes from them, so the invitations
	// they create are not tied to their address (creator_address).
	DossierServers []string `bson:"dossier_servers,omitempty" json:"dossier_servers,omitempty" doc:"CIDRs of the central dossier systems that create this agency's and its subtree's invitations: their creates are not tied to their address (creator_address)"`
	// StaffPhones are keyed hashes of the agency's staff phones: an
	// answer from one is flagged staff_phone. Never shown.
	StaffPhones []string `bson:"staff_phones,omitempty" json:"-"`
	// SendHours and CallHours, when set, replace GATEWAY_SEND_HOURS and
	// GATEWAY_CALL_HOURS for the agency and its subtree (HH:MM-HH:MM).
	SendHours string `bson:"send_hours,omitempty" json:"send_hours,omitempty" doc:"HH:MM-HH:MM, Vietnam time: when texts and Zalo messages to this agency's citizens go out (unset: the parent's, or GATEWAY_SEND_HOURS)"`
	CallHours string `bson:"call_hours,omitempty" json:"call_hours,omitempty" doc:"HH:MM-HH:MM, Vietnam time, working days: when this agency's survey calls are made (unset: the parent's, or GATEWAY_CALL_HOURS)"`
}

// Webhook is an agency's own system: a URL to POST case events to and the
// secret that signs them (X-Signature: hex HMAC-SHA256 of the body); the
// secret is never shown.
type Webhook struct {
	URL    string `bson:"url" json:"url"`
	Secret string `bson:"secret" json:"-"`
}

// CaseRule says when a response opens a follow-up case.
type CaseRule struct {
	// Off opens no case.
	Off bool `bson:"off,omitempty" json:"off,omitempty"`
	// MaxScore: a criterion (or the overall question) scored at most
	// this, 1 or 2, opens one (0 = the default, 2).
	MaxScore int `bson:"max_score,omitempty" json:"max_score,omitempty"`
	// ComplaintMaxMean: a comment with a complaint topic, in a response
	// whose mean score is at most this, opens one (0 = the default, 3;
	// -1 = never).
	ComplaintMaxMean float64 `bson:"complaint_max_mean,omitempty" json:"complaint_max_mean,omitempty"`
	// DueDays is how many working days the agency has to answer (0 = 5).
	DueDays int `bson:"due_days,omitempty" json:"due_days,omitempty"`
	// Topics: a complaint about any of these comment topics opens a case
	// whatever the scores (e.g. payments: informal payments).
	Topics []string `bson:"topics,omitempty" json:"topics,omitempty"`
}

// DefaultCaseRule opens a case for a criterion at 1–2, or a complaint
// with a mean of 3 or less, due in 5 working days.
var DefaultCaseRule = CaseRule{MaxScore: 2, ComplaintMaxMean: 3, DueDays: 5}

// Effective is r with its defaults filled in.
func (r CaseRule) Effective() CaseRule {
	if r.MaxScore == 0 {
		r.MaxScore = DefaultCaseRule.MaxScore
	}
	if r.ComplaintMaxMean == 0 {
		r.ComplaintMaxMean = DefaultCaseRule.ComplaintMaxMean
	}
	if r.DueDays == 0 {
		r.DueDays = DefaultCaseRule.DueDays
	}
	return r
}

// Agencies is the agencies collection.
type Agencies struct{ c *mongo.Collection }

func (s *Agencies) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "parent", Value: 1}}, false))
}

// Put creates or replaces agencies, in the order given.
func (s *Agencies) Put(ctx context.Context, as ...*Agency) error {
	for _, a := range as {
		a.Updated = Millis(a.Updated)
		if _, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: a.Code}}, a, options.Replace().SetUpsert(true)); err != nil {
			return fmt.Errorf("save agency %s: %w", a.Code, err)
		}
	}
	return nil
}

// SetStaffPhones replaces agency code's staff phones (keyed hashes);
// ErrNotFound when it is not registered. The caller holds the tree's
// lock, so a PUT of the agency at the same moment cannot undo it.
func (s *Agencies) SetStaffPhones(ctx context.Context, code string, hashes []string) error {
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: code}}, bson.D{{Key: "$set", Value: bson.D{{Key: "staff_phones", Value: hashes}}}})
	if err != nil {
		return fmt.Errorf("set staff phones of %s: %w", code, err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// Agency returns one agency.
func (s *Agencies) Agency(ctx context.Context, code string) (*Agency, error) {
	return findOne[Agency](ctx, s.c, bson.D{{Key: "_id", Value: code}})
}

// All returns every agency, by code.
func (s *Agencies) All(ctx context.Context) ([]Agency, error) {
	return findAll[Agency](ctx, s.c, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
}

// Delete removes an agency; ErrNotFound if there was none.
func (s *Agencies) Delete(ctx context.Context, code string) error {
	res, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: code}})
	if err != nil {
		return fmt.Errorf("delete agency %s: %w", code, err)
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	return nil
}
