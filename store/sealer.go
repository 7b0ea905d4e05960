package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"sync"
)

// Sealer encrypts personal data at rest (AES-256-GCM) and makes keyed hashes
// that stand for a person without revealing them. Both keys derive from
// GATEWAY_SECRET_KEY, each for its own purpose.
type Sealer struct {
	aead    cipher.AEAD
	hashKey []byte
	tagKey  []byte
	// hashes keeps keyed HMACs for Hash: a fresh one costs two blocks of
	// SHA-256 for its key and 0.5 KB, and an SMS webhook takes several.
	hashes sync.Pool
}

// NewSealer derives the sealing and hashing keys from secret.
func NewSealer(secret string) *Sealer {
	enc := derive(secret, "gateway/seal/v1")
	block, err := aes.NewCipher(enc)
	if err != nil {
		panic(err) // 32-byte key: cannot fail
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{aead: aead, hashKey: derive(secret, "gateway/hash/v1"), tagKey: derive(secret, "gateway/tag/v1")}
}

func derive(secret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// Seal encrypts plain with a fresh nonce.
func (s *Sealer) Seal(plain string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(plain), nil)
}

// Open decrypts what Seal made.
func (s *Sealer) Open(sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed value too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", errors.New("sealed value does not open with this GATEWAY_SECRET_KEY")
	}
	return string(plain), nil
}

// Hash returns a keyed hash of v (hex, 128 bits): the same person gives the
// same hash, and the hash cannot be reversed without the key.
func (s *Sealer) Hash(v string) string {
	m, _ := s.hashes.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, s.hashKey)
	}
	m.Reset()
	_, _ = io.WriteString(m, v)
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0])[:16])
	s.hashes.Put(m)
	return out
}

// Tag is a keyed MAC of v for one purpose (HMAC-SHA256, 32 bytes): what
// the gateway hands out and must recognise again without storing it (an
// agency's feedback link). Its key is its own, so a tag is never a
// respondent hash, and the purpose keeps one use's tags from passing
// for another's.
func (s *Sealer) Tag(purpose, v string) []byte {
	m := hmac.New(sha256.New, s.tagKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(v))
	return m.Sum(nil)
}
