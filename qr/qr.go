// Package qr owns survey tokens and the QR codes that carry survey links: a
// token is 96 random bits written as 16 URL-safe characters, short enough that
// a survey URL on a 30-character base fits a version-4 code at medium error
// correction, and unguessable because it is random, not derived.
package qr

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// Token is a survey token as it appears in /s/{token}.
type Token string

// TokenLen is the length of a token in characters (12 random bytes, base64url).
const TokenLen = 16

// ErrBadToken means the text cannot be a token we issued.
var ErrBadToken = errors.New("not a survey token")

// NewToken returns a fresh random token.
func NewToken() Token {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no entropy: nothing safe to do
	}
	return Token(base64.RawURLEncoding.EncodeToString(b[:]))
}

// ParseToken checks that s has the shape of a token. It does not say the
// token exists: only the invitation store can.
func ParseToken(s string) (Token, error) {
	if len(s) != TokenLen {
		return "", ErrBadToken
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", ErrBadToken
		}
	}
	// 16 characters carry 96 bits exactly; the last character's low bits are
	// always used, so every such string decodes. Check anyway: cheap and exact.
	if _, err := base64.RawURLEncoding.DecodeString(s); err != nil {
		return "", ErrBadToken
	}
	return Token(s), nil
}

// Size limits for PNG output, in pixels.
const (
	MinSize     = 128
	MaxSize     = 1024
	DefaultSize = 256
)

// Code is an encoded QR symbol.
type Code struct {
	q *qrcode.QRCode
}

// Encode builds a QR code for content at medium error correction.
func Encode(content string) (*Code, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode qr: %w", err)
	}
	return &Code{q: q}, nil
}

// Version is the QR version (1–40): smaller prints and scans better.
func (c *Code) Version() int { return c.q.VersionNumber }

// PNG renders the code size×size pixels with the standard 4-module quiet zone.
func (c *Code) PNG(size int) ([]byte, error) {
	if size < MinSize || size > MaxSize {
		return nil, fmt.Errorf("size %d is outside %d..%d", size, MinSize, MaxSize)
	}
	return c.q.PNG(size)
}
