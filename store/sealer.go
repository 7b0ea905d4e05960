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
	"sync"
)

// Sealer encrypts personal data at rest (AES-256-GCM) and makes keyed hashes
// that stand for a person without revealing them. Both keys derive from
// GATEWAY_SECRET_KEY, each for its own purpose.
type Sealer struct {
	aead    cipher.AEAD
	hashMAC *KeyedMAC // an SMS webhook takes several hashes
	tagKey  []byte
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
	return &Sealer{aead: aead, hashMAC: NewKeyedMAC(derive(secret, "gateway/hash/v1")), tagKey: derive(secret, "gateway/tag/v1")}
}

// KeyedMAC computes HMAC-SHA256 under one key, reusing reset HMACs: a
// fresh one costs two blocks of SHA-256 for its key and 0.5 KB.
type KeyedMAC struct {
	key  []byte
	macs sync.Pool
}

// NewKeyedMAC returns the MAC keyed by key.
func NewKeyedMAC(key []byte) *KeyedMAC { return &KeyedMAC{key: key} }

// macState is a pooled HMAC with room for its input and sum, so that a
// sum allocates nothing (through the hash.Hash interface, a local sum or
// a string's bytes would escape to the heap, on every message's hashes).
type macState struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

// Sum is the HMAC-SHA256 of b.
func (k *KeyedMAC) Sum(b []byte) [sha256.Size]byte {
	st := k.state()
	st.h.Write(b)
	return k.done(st)
}

// SumString is the HMAC-SHA256 of s.
func (k *KeyedMAC) SumString(s string) [sha256.Size]byte {
	st := k.state()
	st.in = append(st.in[:0], s...)
	st.h.Write(st.in)
	if cap(st.in) > 4096 {
		st.in = nil // a long input's room is not kept
	}
	return k.done(st)
}

func (k *KeyedMAC) state() *macState {
	st, _ := k.macs.Get().(*macState)
	if st == nil {
		st = &macState{h: hmac.New(sha256.New, k.key)}
	}
	st.h.Reset()
	return st
}

func (k *KeyedMAC) done(st *macState) [sha256.Size]byte {
	st.h.Sum(st.sum[:0])
	sum := st.sum
	k.macs.Put(st)
	return sum
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
	sum := s.hashMAC.SumString(v)
	return hex.EncodeToString(sum[:16])
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
