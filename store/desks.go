package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Desk is a one-stop desk with a kiosk: a tablet the citizen rates the
// dossier on while still at the desk. Collection desks, read by _id; its
// paired devices live in the document, so listing them is one read.
type Desk struct {
	ID      string `bson:"_id" json:"id"`
	Agency  string `bson:"agency_code" json:"agency_code"`
	Name    string `bson:"name" json:"name"`
	Officer string `bson:"officer,omitempty" json:"officer,omitempty"`
	// Form is "short" (one screen per criterion) or "full" (every SIPAS
	// indicator).
	Form      string        `bson:"form" json:"form"`
	Devices   []KioskDevice `bson:"devices" json:"devices"`
	CreatedAt time.Time     `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time     `bson:"updated_at" json:"updated_at"`
}

// KioskDevice is a tablet paired with a desk. Its token is never stored:
// Hash is its SHA-256, which also names its lookup document.
type KioskDevice struct {
	ID        string     `bson:"id" json:"id"`
	Hash      string     `bson:"hash" json:"-"`
	PairedAt  time.Time  `bson:"paired_at" json:"paired_at"`
	RevokedAt *time.Time `bson:"revoked_at,omitempty" json:"revoked_at,omitempty"`
}

// TokenHash names a device token without keeping it.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Desks is the desks collection and the device lookups (kiosk_devices,
// _id = token hash → desk), both read by _id only.
type Desks struct {
	c, devices *mongo.Collection
}

// Put creates or replaces a desk.
func (s *Desks) Put(ctx context.Context, d *Desk) error {
	d.CreatedAt, d.UpdatedAt = Millis(d.CreatedAt), Millis(d.UpdatedAt)
	if d.Devices == nil {
		d.Devices = []KioskDevice{}
	}
	if _, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save desk %s: %w", d.ID, err)
	}
	return nil
}

// Desk returns one desk.
func (s *Desks) Desk(ctx context.Context, id string) (*Desk, error) {
	return findOne[Desk](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// All returns every desk, by id (a configuration list: a province has
// hundreds, not millions).
func (s *Desks) All(ctx context.Context) ([]Desk, error) {
	return findAll[Desk](ctx, s.c, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
}

// Delete removes a desk and its devices' lookups.
func (s *Desks) Delete(ctx context.Context, d *Desk) error {
	for _, dev := range d.Devices {
		if _, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: dev.Hash}}); err != nil {
			return fmt.Errorf("delete kiosk device: %w", err)
		}
	}
	if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
		return fmt.Errorf("delete desk %s: %w", d.ID, err)
	}
	return nil
}

type deviceLookup struct {
	Hash string `bson:"_id"`
	Desk string `bson:"desk"`
	ID   string `bson:"device"`
}

// AddDevice records a paired device: its lookup first, then the desk.
func (s *Desks) AddDevice(ctx context.Context, d *Desk, dev KioskDevice) error {
	if _, err := s.devices.InsertOne(ctx, deviceLookup{Hash: dev.Hash, Desk: d.ID, ID: dev.ID}); err != nil {
		return fmt.Errorf("save kiosk device: %w", err)
	}
	d.Devices = append(d.Devices, dev)
	return s.Put(ctx, d)
}

// DeviceDesk finds the desk and device id of a token hash; ErrNotFound
// when it was never paired or was revoked.
func (s *Desks) DeviceDesk(ctx context.Context, hash string) (desk, device string, err error) {
	l, err := findOne[deviceLookup](ctx, s.devices, bson.D{{Key: "_id", Value: hash}})
	if err != nil {
		return "", "", err
	}
	return l.Desk, l.ID, nil
}

// DropDevice removes a device's lookup (its record in the desk stays,
// marked revoked by the caller).
func (s *Desks) DropDevice(ctx context.Context, hash string) error {
	if _, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: hash}}); err != nil {
		return fmt.Errorf("revoke kiosk device: %w", err)
	}
	return nil
}

// Presented is a dossier shown on a desk's kiosk: what the kiosk needs to
// ask its survey, never the citizen's phone or name.
type Presented struct {
	Seq        int64  `json:"seq"`
	Invitation string `json:"invitation_id"`
	Dossier    string `json:"dossier_code"`
	Agency     string `json:"agency_name"`
	Procedure  string `json:"procedure_code,omitempty"`
	Survey     string `json:"survey"`
	// Answered: the dossier was rated already; the kiosk says so.
	Answered bool      `json:"answered"`
	At       time.Time `json:"presented_at"`
}

// Kiosks is the kiosks' state in Redis: pairing codes, device lookups,
// each desk's current dossier, answer keys, and the wake-ups that reach
// a waiting kiosk on any replica (pub/sub on one channel per database,
// fanned out in-process by desk).
type Kiosks struct {
	R    redis.UniversalClient
	Name string

	mu      sync.Mutex
	waiters map[string][]chan struct{}
	sub     *redis.PubSub
	desks   sync.Map // desk id → keptDesk
}

// deskTTL is how long a process keeps a desk's settings (its name, officer
// and form); a device's revocation is checked in Redis on every request.
const deskTTL = 30 * time.Second

type keptDesk struct {
	d  *Desk
	at time.Time
}

// KeptDesk is a desk's settings as this process read them less than
// deskTTL ago, or nil.
func (k *Kiosks) KeptDesk(id string) *Desk {
	if v, ok := k.desks.Load(id); ok && time.Since(v.(keptDesk).at) < deskTTL {
		return v.(keptDesk).d
	}
	return nil
}

// KeepDesk keeps a desk's settings in the process for deskTTL.
func (k *Kiosks) KeepDesk(d *Desk) { k.desks.Store(d.ID, keptDesk{d, time.Now()}) }

// ForgetDesk drops this process's copy of a desk (after a change here;
// other replicas see it within deskTTL).
func (k *Kiosks) ForgetDesk(id string) { k.desks.Delete(id) }

func (k *Kiosks) key(kind, id string) string { return "gw:kiosk:" + kind + ":{" + k.Name + "}:" + id }

// PairTTL is how long a pairing code works.
const PairTTL = 15 * time.Minute

// OfferPairing makes code pair a device with desk, once, for PairTTL.
func (k *Kiosks) OfferPairing(ctx context.Context, code, desk string) error {
	return k.R.Set(ctx, k.key("pair", code), desk, PairTTL).Err()
}

// TakePairing uses a pairing code: the desk it pairs with, or ErrNotFound.
func (k *Kiosks) TakePairing(ctx context.Context, code string) (string, error) {
	desk, err := k.R.GetDel(ctx, k.key("pair", code)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNotFound
	}
	return desk, err
}

// deviceTTL bounds a cached device lookup: a revocation deletes it at once.
const deviceTTL = 24 * time.Hour

// CachedDevice is the desk and device of a token hash, if cached.
func (k *Kiosks) CachedDevice(ctx context.Context, hash string) (desk, device string, err error) {
	v, err := k.R.HMGet(ctx, k.key("dev", hash), "desk", "device").Result()
	if err != nil {
		return "", "", err
	}
	d, _ := v[0].(string)
	id, _ := v[1].(string)
	if d == "" {
		return "", "", ErrNotFound
	}
	return d, id, nil
}

// CacheDevice keeps a device lookup in Redis.
func (k *Kiosks) CacheDevice(ctx context.Context, hash, desk, device string) error {
	p := k.R.TxPipeline()
	p.HSet(ctx, k.key("dev", hash), "desk", desk, "device", device)
	p.Expire(ctx, k.key("dev", hash), deviceTTL)
	_, err := p.Exec(ctx)
	return err
}

// ForgetDevice drops a device's cached lookup.
func (k *Kiosks) ForgetDevice(ctx context.Context, hash string) error {
	return k.R.Del(ctx, k.key("dev", hash)).Err()
}

// presentTTL is how long a dossier stays on a kiosk's screen to be rated.
const presentTTL = 2 * time.Hour

// Present puts a dossier on a desk's kiosk (numbering it), lets that
// desk answer its invitation (survey token) until ttl, and wakes the
// desk's kiosks.
func (k *Kiosks) Present(ctx context.Context, desk string, p *Presented, token string, ttl time.Duration) error {
	seq, err := k.R.Incr(ctx, k.key("seq", desk)).Result()
	if err != nil {
		return err
	}
	p.Seq = seq
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	pipe := k.R.Pipeline()
	pipe.Set(ctx, k.key("cur", desk), b, presentTTL)
	pipe.Set(ctx, k.key("inv", p.Invitation), desk+" "+token, max(ttl, time.Minute))
	pipe.Publish(ctx, k.channel(), desk)
	_, err = pipe.Exec(ctx)
	return err
}

// Current is the dossier on a desk's kiosk, or nil.
func (k *Kiosks) Current(ctx context.Context, desk string) (*Presented, error) {
	b, err := k.R.Get(ctx, k.key("cur", desk)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Presented
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("kiosk state of %s: %w", desk, err)
	}
	return &p, nil
}

// Clear takes a dossier off a desk's kiosk once it is answered, unless
// another was presented since.
func (k *Kiosks) Clear(ctx context.Context, desk string, seq int64) error {
	cur, err := k.Current(ctx, desk)
	if err != nil || cur == nil || cur.Seq != seq {
		return err
	}
	if err := k.R.Del(ctx, k.key("cur", desk)).Err(); err != nil {
		return err
	}
	return k.Wake(ctx, desk)
}

// PresentedAt is the desk an invitation was presented at and its survey
// token ("" if none).
func (k *Kiosks) PresentedAt(ctx context.Context, invitation string) (desk, token string, err error) {
	v, err := k.R.Get(ctx, k.key("inv", invitation)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", nil
	}
	desk, token, _ = strings.Cut(v, " ")
	return desk, token, err
}

// answerKeyTTL is how long an answer's idempotency key is remembered:
// longer than a kiosk stays offline.
const answerKeyTTL = 30 * 24 * time.Hour

// ClaimAnswer claims an idempotency key for a desk's answer. It returns
// the outcome stored for the key when it was settled before, "pending"
// while another request holds it, or "" when this request holds it now.
func (k *Kiosks) ClaimAnswer(ctx context.Context, desk, key string) (string, error) {
	ok, err := k.R.SetNX(ctx, k.key("ans", desk+":"+key), "pending", time.Minute).Result()
	if err != nil || ok {
		return "", err
	}
	v, err := k.R.Get(ctx, k.key("ans", desk+":"+key)).Result()
	if errors.Is(err, redis.Nil) {
		return k.ClaimAnswer(ctx, desk, key) // expired in between
	}
	return v, err
}

// SettleAnswer stores an answer's outcome under its key; "" releases the
// key for a retry.
func (k *Kiosks) SettleAnswer(ctx context.Context, desk, key, outcome string) error {
	if outcome == "" {
		return k.R.Del(ctx, k.key("ans", desk+":"+key)).Err()
	}
	return k.R.Set(ctx, k.key("ans", desk+":"+key), outcome, answerKeyTTL).Err()
}

func (k *Kiosks) channel() string { return "gw:kiosk:wake:" + k.Name }

// Wake tells a desk's waiting kiosks, on every replica, to look again.
func (k *Kiosks) Wake(ctx context.Context, desk string) error {
	return k.R.Publish(ctx, k.channel(), desk).Err()
}

// Wait returns a channel closed at the next wake-up of desk (or when
// Redis's subscription fails), and a function to stop waiting.
func (k *Kiosks) Wait(ctx context.Context, desk string) (<-chan struct{}, func(), error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sub == nil {
		sub := k.R.Subscribe(context.Background(), k.channel())
		if _, err := sub.Receive(ctx); err != nil { // the subscription is confirmed
			_ = sub.Close()
			return nil, nil, err
		}
		k.sub, k.waiters = sub, map[string][]chan struct{}{}
		go k.fanOut(sub)
	}
	ch := make(chan struct{})
	k.waiters[desk] = append(k.waiters[desk], ch)
	stop := func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		list := k.waiters[desk]
		for i, c := range list {
			if c == ch {
				k.waiters[desk] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(k.waiters[desk]) == 0 {
			delete(k.waiters, desk)
		}
	}
	return ch, stop, nil
}

// fanOut wakes the waiters of each desk named on the channel; when the
// subscription ends, it wakes everyone and lets the next Wait resubscribe.
func (k *Kiosks) fanOut(sub *redis.PubSub) {
	for msg := range sub.Channel() {
		k.mu.Lock()
		for _, ch := range k.waiters[msg.Payload] {
			close(ch)
		}
		delete(k.waiters, msg.Payload)
		k.mu.Unlock()
	}
	k.mu.Lock()
	for desk, list := range k.waiters {
		for _, ch := range list {
			close(ch)
		}
		delete(k.waiters, desk)
	}
	if k.sub == sub {
		k.sub = nil
	}
	k.mu.Unlock()
}

// Close ends the subscription.
func (k *Kiosks) Close() error {
	k.mu.Lock()
	sub := k.sub
	k.mu.Unlock()
	if sub == nil {
		return nil
	}
	return sub.Close()
}
