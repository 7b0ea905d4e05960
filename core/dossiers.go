package core

import (
	"context"
	"errors"
	"strings"

	"github.com/sipasvn/gateway/store"
)

// dossierPrefix is the agency code a dossier code starts with: the part
// before its first '-' (000.00.12.H49 in 000.00.12.H49-201105-0042), or
// "" when that part has not the shape of one.
func dossierPrefix(dossier string) string {
	prefix, _, _ := strings.Cut(dossier, "-")
	if !ValidAgencyCode(prefix) {
		return ""
	}
	return prefix
}

// checkDossierOwner refuses a dossier code that carries a registered
// agency's code for an agency outside that agency's subtree. Dossier codes
// are unique and one invitation is kept per code, so without this rule
// any key could take another agency's next dossier codes first: its real
// owner would then get 409 on create and could not present it at its
// desk. The message names only the agency the code itself names.
//
// It reads the registry, not the process's cache of agency names: an
// agency registered a moment ago owns its codes at once.
func (s *Service) checkDossierOwner(ctx context.Context, n *NewInvitation) error {
	prefix := dossierPrefix(n.DossierCode)
	if prefix == "" || prefix == n.AgencyCode { // the usual case reads nothing
		return nil
	}
	// Whether the prefix is a registered agency is read through the
	// agency names kept for a minute: desk software whose codes do not
	// start with the agency's own would otherwise cost a read by _id on
	// every invitation (about 400 µs of FerretDB's CPU).
	_, _, registered, err := s.agencyName(ctx, prefix)
	if err != nil || !registered {
		return err
	}
	ok, err := s.below(ctx, prefix, n.AgencyCode)
	if err != nil || ok {
		return err
	}
	return Errorf(Invalid, "dossier_code", "dossier %s carries the code of agency %s, so only %s or an agency under it can invite for it; check the dossier code, or send the agency_code of the agency that holds the dossier", n.DossierCode, prefix, prefix)
}

// maxDepth bounds a walk up the agency tree: the levels are five, and a
// cycle must never hang a request.
const maxDepth = 16

// below reports whether agency is root or under it, reading its
// ancestors one by one (a handful of reads by _id, not the whole tree).
func (s *Service) below(ctx context.Context, root, agency string) (bool, error) {
	for a, i := agency, 0; a != "" && i < maxDepth; i++ {
		if a == root {
			return true, nil
		}
		ag, err := s.Mongo.Agencies.Agency(ctx, a)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		a = ag.Parent
	}
	return false, nil
}
