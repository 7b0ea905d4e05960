package core

import (
	"strings"
	"testing"

	"github.com/sipasvn/gateway/store"
)

// A feedback token names its agency and cannot be made without the key:
// another code, an altered MAC, a MAC of another key or a token cut short
// is refused; the same token typed in lower case is taken.
func TestFeedbackTokens(t *testing.T) {
	s := &Service{Sealer: store.NewSealer("feedback-test-secret-0123456789abcdef"), BaseURL: "https://ks.example.vn"}
	other := &Service{Sealer: store.NewSealer("another-secret-0123456789abcdef-xyz")}
	tok := s.FeedbackToken("000.00.12.H49")
	if !strings.HasPrefix(tok, "000.00.12.H49-") || len(tok) != len("000.00.12.H49-")+16 {
		t.Fatalf("token %q", tok)
	}
	if u := s.FeedbackURL("000.00.12.H49"); u != "https://ks.example.vn/g/"+tok {
		t.Fatalf("url %q", u)
	}
	if code, ok := s.feedbackCode(tok); !ok || code != "000.00.12.H49" {
		t.Fatalf("own token: %q %v", code, ok)
	}
	if code, ok := s.feedbackCode(strings.ToLower(tok)); !ok || code != "000.00.12.H49" {
		t.Fatalf("lower case: %q %v", code, ok)
	}
	mac := tok[strings.LastIndexByte(tok, '-')+1:]
	flipped := []byte(mac)
	flipped[3] ^= 'A' ^ 'B'
	if flipped[3] == mac[3] {
		flipped[3] = 'C'
	}
	for _, bad := range []string{
		"000.00.13.H49-" + mac,                     // another agency, this MAC
		"000.00.12.H49-" + string(flipped),         // one character changed
		other.FeedbackToken("000.00.12.H49"),       // another gateway's key
		tok[:len(tok)-1],                           // cut short
		"000.00.12.H49",                            // no MAC
		"-" + mac,                                  // no code
		"000.00.12.H49-" + mac + "A",               // too long
		"000.00.12.h49 -" + mac,                    // not a code
		strings.Repeat("1", 40) + "-" + mac,        // longer than any code
		"000.00.12.H49-!!!!!!!!!!!!!!!!",           // not base32
		"000.00.12.H49-" + strings.Repeat("A", 16), // a guess
	} {
		if code, ok := s.feedbackCode(bad); ok {
			t.Errorf("%q taken as %s", bad, code)
		}
	}
}
