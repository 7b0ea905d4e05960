package core

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// StaffPhonesInput is the body of PUT /api/v1/agencies/{code}/staff-phones.
type StaffPhonesInput struct {
	Phones []string `json:"phones" doc:"every staff member's mobile number (0912345678, 84912345678 or +84 912 345 678); the list replaces the one set, [] empties it. Kept only as keyed hashes: never shown again"`
}

// StaffPhones is what PUT …/staff-phones answers: how many numbers the
// list holds, never the numbers.
type StaffPhones struct {
	Agency string `json:"agency_code"`
	Phones int    `json:"phones" doc:"distinct numbers on the list"`
}

// maxStaffPhones bounds one agency's staff list.
const maxStaffPhones = 5000

// PutStaffPhones replaces agency code's staff phones: answers from them
// are flagged staff_phone. Only their keyed hashes are kept (the same as
// a respondent's), so the list can be matched and never read back. An
// admin's key may set any agency's, an agency's key its own and those
// below it.
func (s *Service) PutStaffPhones(ctx context.Context, p *Principal, code string, in StaffPhonesInput) (*StaffPhones, error) {
	if p.Role != RoleAdmin && p.Role != RoleAgency {
		return nil, Errorf(Denied, "", "a %s key cannot set staff phones; an admin's or the agency's own key can", p.Role)
	}
	if err := s.AgencyScope(ctx, p, code); err != nil {
		return nil, err
	}
	hashes, err := s.staffHashes(in.Phones)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockTree(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	err = s.Mongo.Agencies.SetStaffPhones(ctx, code, hashes)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(NotFound, "", "agency %s is not registered; register it first (PUT /api/v1/agencies/%s)", code, code)
	}
	if err != nil {
		return nil, err
	}
	s.Lists.Forget()
	return &StaffPhones{Agency: code, Phones: len(hashes)}, s.Audit(ctx, p, "agency.staff_phones", code, map[string]any{"phones": len(hashes)})
}

// staffHashes checks a staff list and returns its numbers' keyed hashes,
// once each, sorted. An error names the entry (phones[3]) but never
// repeats the number.
func (s *Service) staffHashes(phones []string) ([]string, error) {
	switch {
	case phones == nil:
		return nil, Errorf(Invalid, "phones", `required: {"phones": ["0912345678", …]}, or [] to empty the list`)
	case len(phones) > maxStaffPhones:
		return nil, Errorf(Invalid, "phones", "%d numbers; a list holds at most %d", len(phones), maxStaffPhones)
	}
	hashes := make([]string, 0, len(phones))
	for i, raw := range phones {
		number, err := survey.CanonicalPhone(raw)
		if err != nil {
			return nil, Errorf(Invalid, fmt.Sprintf("phones[%d]", i), "%v", err)
		}
		hashes = append(hashes, s.Sealer.Hash(number))
	}
	slices.Sort(hashes)
	return slices.Compact(hashes), nil
}
