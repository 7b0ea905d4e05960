package core

import (
	"context"
	"crypto/hmac"
	"encoding/base32"
	"errors"
	"strings"

	"github.com/sipasvn/gateway/store"
)

// An agency's feedback link, /g/{token}, is printed on a poster and hangs
// on the office's wall for years, so its token is derived, not stored:
// the agency's code, a dash and a keyed MAC of the code (store.Sealer.Tag,
// keyed from GATEWAY_SECRET_KEY), e.g. 000.00.12.H49-K5QW3ZB7M2XRTD4A.
// A MAC was chosen over a random token kept on the agency because
//
//   - nothing is stored or migrated: every agency, registered before this
//     or after, has its link, and every replica computes the same one;
//   - a forged or mistyped token is refused by one HMAC, before any store
//     is read, so guessing costs the gateway nothing;
//   - its 80 bits cannot be guessed within the page rate limit, and the
//     code it carries is public anyway (agency codes are printed on every
//     receipt): knowing codes does not let anyone list or forge links.
//
// The price is that one agency's link cannot be withdrawn alone: deleting
// the agency voids it (the page then answers 404); a new secret key would
// void every link and every sealed phone number, so it is no lever. The
// purpose's version (v1) is where a later rotation would start.
const feedbackPurpose = "feedback-link/v1"

// feedbackMACLen is how much of the MAC a token carries: 10 bytes, 16
// base32 characters (upper case and digits, which a person can copy from
// a poster).
const feedbackMACLen = 10

var feedbackB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// FeedbackToken is the token of agency code's feedback link.
func (s *Service) FeedbackToken(code string) string {
	return code + "-" + feedbackB32.EncodeToString(s.Sealer.Tag(feedbackPurpose, code)[:feedbackMACLen])
}

// FeedbackURL is the standing feedback link of agency code (its poster
// prints it and its QR code holds it): the page where citizens leave a
// góp ý, phản ánh or kiến nghị for that agency.
func (s *Service) FeedbackURL(code string) string {
	return s.BaseURL + "/g/" + s.FeedbackToken(code)
}

// feedbackCode is the agency code of a feedback token the gateway made,
// or false. Letters may come in lower case (a link typed from a poster).
func (s *Service) feedbackCode(token string) (string, bool) {
	if len(token) > 35+1+16 {
		return "", false
	}
	token = strings.ToUpper(token)
	i := strings.LastIndexByte(token, '-')
	if i < 0 {
		return "", false
	}
	code, mac := token[:i], token[i+1:]
	if !ValidAgencyCode(code) || len(mac) != 16 {
		return "", false
	}
	got, err := feedbackB32.DecodeString(mac)
	if err != nil || !hmac.Equal(got, s.Sealer.Tag(feedbackPurpose, code)[:feedbackMACLen]) {
		return "", false
	}
	return code, true
}

// FeedbackAgency is the registered agency a feedback token stands for:
// not_found for a token the gateway did not make, and for an agency
// deleted since.
func (s *Service) FeedbackAgency(ctx context.Context, token string) (*store.Agency, error) {
	code, ok := s.feedbackCode(token)
	if !ok {
		return nil, Errorf(NotFound, "", "unknown feedback link")
	}
	ag, err := s.Mongo.Agencies.Agency(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(NotFound, "", "unknown feedback link")
	}
	return ag, err
}
