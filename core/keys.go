package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Role is what a key or a console user may do.
type Role = store.Role

// Roles of API keys and console users.
const (
	RoleAdmin  = store.RoleAdmin  // everything
	RoleAgency = store.RoleAgency // invitations and reports of one agency subtree
	RoleViewer = store.RoleViewer // reports only
)

// Principal is who a request acts as.
type Principal struct {
	KeyID  string
	Name   string
	Role   Role
	Agency string // for RoleAgency (and optionally RoleViewer): the subtree root
	// Via names the front end used ("console"), for the audit log.
	Via string
}

// Who names the principal in the audit log.
func (p *Principal) Who() string {
	if p.KeyID == "" {
		return "admin (GATEWAY_ADMIN_KEY)"
	}
	return p.KeyID + " (" + p.Name + ")"
}

// KeyInput is the body of POST /api/v1/keys.
type KeyInput struct {
	Name   string `json:"name"`
	Role   Role   `json:"role"`
	Agency string `json:"agency"`
}

func hashKey(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// CreateKey makes a key for p and returns its value, shown this once.
func (s *Service) CreateKey(ctx context.Context, p *Principal, in KeyInput) (*store.APIKey, string, error) {
	in.Name = survey.CleanText(in.Name)
	switch {
	case in.Name == "" || len(in.Name) > 100:
		return nil, "", Errorf(Invalid, "name", "required, at most 100 characters: who or what uses the key")
	case in.Role != RoleAdmin && in.Role != RoleAgency && in.Role != RoleViewer:
		return nil, "", Errorf(Invalid, "role", "%q is not admin, agency or viewer", in.Role)
	case in.Role == RoleAgency && in.Agency == "":
		return nil, "", Errorf(Invalid, "agency", "an agency key needs the agency whose subtree it may use")
	case in.Role == RoleAdmin && in.Agency != "":
		return nil, "", Errorf(Invalid, "agency", "an admin key is not limited to an agency; leave agency out")
	}
	if in.Agency != "" {
		if _, err := s.Mongo.Agencies.Agency(ctx, in.Agency); err != nil {
			return nil, "", Errorf(Invalid, "agency", "agency %s is not registered; create it first", in.Agency)
		}
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", err
	}
	value := "sk_" + base64.RawURLEncoding.EncodeToString(raw[:])
	k := &store.APIKey{ID: newID(), Hash: hashKey(value), Prefix: value[:10], Name: in.Name, Role: in.Role, Agency: in.Agency, Created: store.Millis(s.now())}
	if err := s.Mongo.Keys.Create(ctx, k); err != nil {
		return nil, "", err
	}
	return k, value, s.Audit(ctx, p, "key.create", k.ID, map[string]any{"name": k.Name, "role": k.Role, "agency": k.Agency, "prefix": k.Prefix})
}

// RevokeKey revokes a key at once.
func (s *Service) RevokeKey(ctx context.Context, p *Principal, id string) error {
	k, err := s.Mongo.Keys.Revoke(ctx, id, s.now())
	if err != nil {
		return err
	}
	return s.Audit(ctx, p, "key.revoke", k.ID, map[string]any{"name": k.Name})
}

// Authenticate turns a bearer token into a principal. The bootstrap admin
// key is compared in constant time; other keys are found by their hash.
func (s *Service) Authenticate(ctx context.Context, token, adminKey string) (*Principal, error) {
	if token == "" {
		return nil, Errorf(Unauthenticated, "", "send Authorization: Bearer <api key>")
	}
	if adminKey != "" && subtle.ConstantTimeCompare([]byte(token), []byte(adminKey)) == 1 {
		return &Principal{Role: RoleAdmin, Name: "bootstrap"}, nil
	}
	k, err := s.Mongo.Keys.ByHash(ctx, hashKey(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Revoked != nil) {
		return nil, Errorf(Unauthenticated, "", "the API key is not valid or was revoked")
	}
	if err != nil {
		return nil, err
	}
	_ = s.Mongo.Keys.Touch(ctx, k.ID, s.now())
	return &Principal{KeyID: k.ID, Name: k.Name, Role: k.Role, Agency: k.Agency}, nil
}

// Audit records a change; detail must hold no secret.
func (s *Service) Audit(ctx context.Context, p *Principal, action, target string, detail map[string]any) error {
	if p.Via != "" {
		if detail == nil {
			detail = map[string]any{}
		}
		detail["via"] = p.Via
	}
	return s.Mongo.Audit.Add(ctx, &store.AuditEntry{ID: newID(), At: s.now(), Who: p.Who(), Action: action, Target: target, Detail: detail})
}

// UserInput creates a console user.
type UserInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     Role   `json:"role"`
	Agency   string `json:"agency"`
}

var usernameRe = regexp.MustCompile(`^[a-z0-9._-]{3,40}$`)

// PutUser creates or replaces a console user; the password is kept only as
// a bcrypt hash.
func (s *Service) PutUser(ctx context.Context, p *Principal, in UserInput) (*store.User, error) {
	switch {
	case !usernameRe.MatchString(in.Username):
		return nil, Errorf(Invalid, "username", "3–40 lower-case letters, digits, dots, dashes or underscores")
	case len(in.Password) < 10 || len(in.Password) > 72:
		return nil, Errorf(Invalid, "password", "use 10 to 72 characters")
	case in.Role != RoleAdmin && in.Role != RoleAgency && in.Role != RoleViewer:
		return nil, Errorf(Invalid, "role", "%q is not admin, agency or viewer", in.Role)
	case in.Role == RoleAgency && in.Agency == "":
		return nil, Errorf(Invalid, "agency", "an agency user needs an agency")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	u := &store.User{Username: in.Username, Hash: hash, Role: in.Role, Agency: in.Agency, Created: s.now()}
	if err := s.Mongo.Users.Put(ctx, u); err != nil {
		return nil, err
	}
	return u, s.Audit(ctx, p, "user.put", u.Username, map[string]any{"role": u.Role, "agency": u.Agency})
}

// Login checks a username and password.
func (s *Service) Login(ctx context.Context, username, password string) (*Principal, error) {
	u, err := s.Mongo.Users.User(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password)) // same time as a real check
		return nil, Errorf(Unauthenticated, "", "wrong username or password")
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || bcrypt.CompareHashAndPassword(u.Hash, []byte(password)) != nil {
		return nil, Errorf(Unauthenticated, "", "wrong username or password")
	}
	return &Principal{KeyID: "user:" + u.Username, Name: u.Username, Role: u.Role, Agency: u.Agency}, nil
}

// dummyHash makes an unknown username cost as much as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)
	return h
})

// AdminFingerprint identifies the bootstrap admin key without revealing it.
func AdminFingerprint(adminKey string) string { return hashKey("admin:" + adminKey)[:16] }

// Recheck confirms that the key or user behind a console session still
// stands, and returns its current role and agency: a revoked key, a
// disabled user or a changed bootstrap key ends the session.
func (s *Service) Recheck(ctx context.Context, sess *store.Session, adminKey string) (*Principal, error) {
	gone := Errorf(Unauthenticated, "", "the session's key or user is no longer valid; sign in again")
	switch {
	case sess.KeyID == "":
		if sess.Admin == "" || adminKey == "" || sess.Admin != AdminFingerprint(adminKey) {
			return nil, gone
		}
		return &Principal{Role: RoleAdmin, Name: "bootstrap"}, nil
	case strings.HasPrefix(sess.KeyID, "user:"):
		u, err := s.Mongo.Users.User(ctx, strings.TrimPrefix(sess.KeyID, "user:"))
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			return nil, gone
		}
		if err != nil {
			return nil, err
		}
		return &Principal{KeyID: sess.KeyID, Name: u.Username, Role: u.Role, Agency: u.Agency}, nil
	}
	k, err := s.Mongo.Keys.Key(ctx, sess.KeyID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Revoked != nil) {
		return nil, gone
	}
	if err != nil {
		return nil, err
	}
	return &Principal{KeyID: k.ID, Name: k.Name, Role: k.Role, Agency: k.Agency}, nil
}

// SignInLimits lock client addresses and user names after repeated
// failed sign-ins (see store.Lockout).
type SignInLimits struct{ ByIP, ByUser *store.Lockout }

// SignIn checks a console sign-in (an API key, or a user name and
// password) from client address ip, refusing at once, without a password
// check, while that address or name is locked after repeated failures; a
// lock that starts is audited.
func (s *Service) SignIn(ctx context.Context, ip, key, adminKey, username, password string) (*Principal, error) {
	type lock struct {
		l   *store.Lockout
		key string
	}
	var locks []lock
	if l := s.SignIns; l != nil {
		locks = append(locks, lock{l.ByIP, ip})
		if key == "" {
			locks = append(locks, lock{l.ByUser, strings.ToLower(strings.TrimSpace(username))})
		}
	}
	for _, k := range locks {
		wait, err := k.l.Locked(ctx, k.key)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			e := Errorf(RateLimited, "", "too many failed sign-ins; try again in %s", wait.Round(time.Second))
			e.RetryAfter = wait
			return nil, e
		}
	}
	var p *Principal
	var err error
	if key != "" {
		p, err = s.Authenticate(ctx, key, adminKey)
	} else {
		p, err = s.Login(ctx, username, password)
	}
	if CodeOf(err) != Unauthenticated {
		if err == nil && len(locks) > 1 {
			_ = locks[1].l.Clear(ctx, locks[1].key)
		}
		return p, err
	}
	for _, k := range locks {
		if wait, lerr := k.l.Fail(ctx, k.key); lerr == nil && wait > 0 {
			_ = s.Audit(ctx, &Principal{KeyID: "sign-in", Name: ip}, "signin.locked", k.l.Name+" "+k.key,
				map[string]any{"for": wait.Round(time.Second).String()})
		}
	}
	return nil, err
}
