package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sipasvn/gateway/survey"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Desk is a one-stop desk with a kiosk: a tablet the citizen rates the
// dossier on while still at the desk. Collection desks, read by _id; its
// paired devices live in the document, keyed by device id, so a pairing
// and a revocation each change one field and listing them is one read.
type Desk struct {
	ID      string `bson:"_id" json:"id"`
	Agency  string `bson:"agency_code" json:"agency_code"`
	Name    string `bson:"name" json:"name"`
	Officer string `bson:"officer,omitempty" json:"officer,omitempty"`
	// Form is "short" (one screen per criterion) or "full" (every SIPAS
	// indicator).
	Form string `bson:"form" json:"form"`
	// PINHash is the keyed hash of the officer's PIN that lets dossiers be
	// shown from the tablet itself ("" = only the desk software can).
	PINHash string                 `bson:"pin_hash,omitempty" json:"-"`
	Devices map[string]KioskDevice `bson:"devices" json:"-"`
	// Incarnation is made when the desk is, at random: a desk deleted and
	// registered again under its id is another incarnation, and what named
	// the old one (a pairing code, a tablet, a dossier presented) names
	// nothing now. "" for desks made before incarnations.
	Incarnation string    `bson:"incarnation,omitempty" json:"-"`
	CreatedAt   time.Time `bson:"created_at" json:"created_at"`
	UpdatedAt   time.Time `bson:"updated_at" json:"updated_at"`
}

// DeskRef names one incarnation of a desk.
type DeskRef struct{ ID, Incarnation string }

// Ref names this incarnation of the desk.
func (d *Desk) Ref() DeskRef { return DeskRef{d.ID, d.Incarnation} }

// refOf reads a DeskRef written as "<id>" or "<id> <incarnation>".
func refOf(s string) DeskRef {
	id, inc, _ := strings.Cut(s, " ")
	return DeskRef{id, inc}
}

func (r DeskRef) String() string {
	if r.Incarnation == "" {
		return r.ID
	}
	return r.ID + " " + r.Incarnation
}

// DeviceList is the desk's tablets, first paired first.
func (d *Desk) DeviceList() []KioskDevice {
	out := make([]KioskDevice, 0, len(d.Devices))
	for _, dev := range d.Devices {
		out = append(out, dev)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PairedAt.Before(out[j].PairedAt) })
	return out
}

// KioskFamily is the channel family of answers taken on a desk's kiosk.
const KioskFamily = "kiosk"

// Channel is the channel the desk's answers are recorded under:
// kiosk.<desk>, and .<officer> when the desk names one, so reports can
// break answers down by desk and by officer (KioskDesk, KioskOfficer).
func (d *Desk) Channel() string {
	ch := KioskFamily + "." + d.ID
	if o := officerSlug(d.Officer); o != "" {
		ch += "." + o
	}
	return ch
}

// OfficerGroup is how group_by=officer names the desk's officer in
// reports ("<desk>.<officer>", "" when the desk names none).
func (d *Desk) OfficerGroup() string { return KioskOfficer(d.Channel()) }

// KioskDesk is the desk of a kiosk channel, "" for other channels.
func KioskDesk(channel string) string {
	parts := strings.SplitN(channel, ".", 3)
	if parts[0] != KioskFamily || len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// KioskOfficer is "<desk>.<officer>" of a kiosk channel naming an officer
// (two officers of one name at two desks stay apart), "" otherwise.
func KioskOfficer(channel string) string {
	parts := strings.SplitN(channel, ".", 3)
	if parts[0] != KioskFamily || len(parts) < 3 {
		return ""
	}
	return parts[1] + "." + parts[2]
}

// officerSlug is an officer's name as a channel part: "Nguyễn Văn An" →
// "nguyen-van-an".
func officerSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(survey.Unaccent(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
		if b.Len() >= 32 {
			break
		}
	}
	return b.String()
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

// Desks is the desks collection, the device lookups (kiosk_devices, _id =
// token hash) and the record of where each invitation was presented
// (kiosk_presented, _id = invitation id), all read by _id.
type Desks struct {
	c, devices, presented *mongo.Collection
}

func (s *Desks) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.devices, index(bson.D{{Key: "desk", Value: 1}}, false))
}

// Save creates a desk (a new incarnation) or changes its settings (its
// tablets stay); the PIN's hash changes only when setPIN. d becomes the
// desk as stored: of two requests creating one desk, both get the
// incarnation that won.
func (s *Desks) Save(ctx context.Context, d *Desk, setPIN bool) error {
	set := bson.D{{Key: "agency_code", Value: d.Agency}, {Key: "name", Value: d.Name}, {Key: "officer", Value: d.Officer},
		{Key: "form", Value: d.Form}, {Key: "updated_at", Value: Millis(d.UpdatedAt)}}
	if setPIN {
		set = append(set, bson.E{Key: "pin_hash", Value: d.PINHash})
	}
	var inc [8]byte
	if _, err := rand.Read(inc[:]); err != nil {
		return err
	}
	onInsert := bson.D{{Key: "created_at", Value: Millis(d.CreatedAt)}, {Key: "devices", Value: bson.D{}}, {Key: "incarnation", Value: hex.EncodeToString(inc[:])}}
	var saved Desk
	err := s.c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: d.ID}}, bson.D{{Key: "$set", Value: set}, {Key: "$setOnInsert", Value: onInsert}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&saved)
	if err != nil {
		return fmt.Errorf("save desk %s: %w", d.ID, err)
	}
	*d = saved
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

// Delete removes a desk and every device lookup that names it (also one
// whose pairing raced the removal).
func (s *Desks) Delete(ctx context.Context, id string) error {
	if _, err := s.devices.DeleteMany(ctx, bson.D{{Key: "desk", Value: id}}); err != nil {
		return fmt.Errorf("delete kiosk devices of %s: %w", id, err)
	}
	if _, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("delete desk %s: %w", id, err)
	}
	return nil
}

type deviceLookup struct {
	Hash        string `bson:"_id"`
	Desk        string `bson:"desk"`
	Incarnation string `bson:"incarnation,omitempty"`
	ID          string `bson:"device"`
}

// AddDevice records a device paired with an incarnation of a desk: its
// lookup first, then its field in the desk.
func (s *Desks) AddDevice(ctx context.Context, desk DeskRef, dev KioskDevice) error {
	if _, err := s.devices.InsertOne(ctx, deviceLookup{Hash: dev.Hash, Desk: desk.ID, Incarnation: desk.Incarnation, ID: dev.ID}); err != nil {
		return fmt.Errorf("save kiosk device: %w", err)
	}
	dev.PairedAt = Millis(dev.PairedAt)
	if _, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: desk.ID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "devices." + dev.ID, Value: dev}}}}); err != nil {
		return fmt.Errorf("save kiosk device: %w", err)
	}
	return nil
}

// RevokeDevice drops a device's lookup and marks it revoked in its desk.
func (s *Desks) RevokeDevice(ctx context.Context, desk string, dev KioskDevice, at time.Time) error {
	if _, err := s.devices.DeleteOne(ctx, bson.D{{Key: "_id", Value: dev.Hash}}); err != nil {
		return fmt.Errorf("revoke kiosk device: %w", err)
	}
	if _, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: desk}}, bson.D{{Key: "$set", Value: bson.D{{Key: "devices." + dev.ID + ".revoked_at", Value: Millis(at)}}}}); err != nil {
		return fmt.Errorf("revoke kiosk device: %w", err)
	}
	return nil
}

// DeviceDesk finds the desk (incarnation) and device id of a token hash;
// ErrNotFound when it was never paired or was revoked.
func (s *Desks) DeviceDesk(ctx context.Context, hash string) (desk DeskRef, device string, err error) {
	l, err := findOne[deviceLookup](ctx, s.devices, bson.D{{Key: "_id", Value: hash}})
	if err != nil {
		return DeskRef{}, "", err
	}
	return DeskRef{l.Desk, l.Incarnation}, l.ID, nil
}

type presentedAt struct {
	Invitation  string `bson:"_id"`
	Desk        string `bson:"desk"`
	Incarnation string `bson:"incarnation,omitempty"`
	// Unasked: every presentation found the dossier answered, so the kiosk
	// asked nothing and it is not counted as sent there. Absent on records
	// kept before it was, which count: the usual case.
	Unasked bool `bson:"unasked,omitempty"`
	// At is when it was last presented (absent on records kept before).
	At time.Time `bson:"at,omitempty"`
}

// NotePresented records the desk an invitation was presented at, for when
// Redis has lost it (an answer may wait on a tablet for days), and
// whether the kiosk asked its survey (it was not answered yet): the
// response rates count it as sent on the kiosk, and a rebuild of them
// reads that here; and when (at), for the answer's provenance.
func (s *Desks) NotePresented(ctx context.Context, invitation string, desk DeskRef, asked bool, at time.Time) error {
	up := bson.D{{Key: "$set", Value: bson.D{{Key: "desk", Value: desk.ID}, {Key: "incarnation", Value: desk.Incarnation}, {Key: "at", Value: Millis(at)}}}}
	if asked {
		up = append(up, bson.E{Key: "$unset", Value: bson.D{{Key: "unasked", Value: ""}}})
	} else { // an earlier presentation that asked still counts
		up = append(up, bson.E{Key: "$setOnInsert", Value: bson.D{{Key: "unasked", Value: true}}})
	}
	_, err := s.presented.UpdateOne(ctx, bson.D{{Key: "_id", Value: invitation}}, up, options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("note presented dossier: %w", err)
	}
	return nil
}

// AskedOnKiosks returns the invitations a kiosk asked (see NotePresented).
// It reads the whole collection: rebuilds only.
func (s *Desks) AskedOnKiosks(ctx context.Context) (map[string]bool, error) {
	cur, err := s.presented.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "unasked", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("read presented dossiers: %w", err)
	}
	defer cur.Close(ctx)
	out := map[string]bool{}
	for cur.Next(ctx) {
		var p presentedAt
		if err := cur.Decode(&p); err != nil {
			return nil, err
		}
		if !p.Unasked {
			out[p.Invitation] = true
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read presented dossiers: %w", err)
	}
	return out, nil
}

// PresentedDesk is the desk an invitation was last presented at and when
// (zero if none).
func (s *Desks) PresentedDesk(ctx context.Context, invitation string) (DeskRef, time.Time, error) {
	p, err := findOne[presentedAt](ctx, s.presented, bson.D{{Key: "_id", Value: invitation}})
	if errors.Is(err, ErrNotFound) {
		return DeskRef{}, time.Time{}, nil
	}
	if err != nil {
		return DeskRef{}, time.Time{}, err
	}
	return DeskRef{p.Desk, p.Incarnation}, p.At, nil
}

// ForgetPresented drops the record that invitation was presented at desk
// (none if it was presented elsewhere since). By _id: a filter on desk
// alone would read the whole collection on FerretDB.
func (s *Desks) ForgetPresented(ctx context.Context, invitation, desk string) error {
	if _, err := s.presented.DeleteOne(ctx, bson.D{{Key: "_id", Value: invitation}, {Key: "desk", Value: desk}}); err != nil {
		return fmt.Errorf("forget presented dossier: %w", err)
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

// ErrRevoked means a device token was revoked.
var ErrRevoked = errors.New("kiosk device revoked")

// Kiosks is the kiosks' state in Redis: pairing codes, device lookups,
// each desk's current dossier, answer keys, and the wake-ups that reach a
// waiting kiosk on any replica (pub/sub on one channel per database,
// fanned out in-process by desk). Every key carries the database in one
// hash tag, so its scripts run on Redis Cluster.
type Kiosks struct {
	R    redis.UniversalClient
	Name string

	subMu  sync.Mutex // held while subscribing
	sub    *redis.PubSub
	closed bool
	mu     sync.Mutex // guards waiters
	// waiters are the channels to close at a desk's next wake-up.
	waiters map[string][]chan struct{}
}

func (k *Kiosks) key(kind, id string) string { return "gw:kiosk:" + kind + ":{" + k.Name + "}:" + id }

// PairTTL is how long a pairing code works.
const PairTTL = 15 * time.Minute

// OfferPairing makes code pair a device with desk, once, for PairTTL,
// and cancels the desk's previous code. ErrDuplicate: code is taken.
func (k *Kiosks) OfferPairing(ctx context.Context, code string, desk DeskRef) error {
	// Taken for the same desk: this offer's own, sent again by go-redis
	// after a lost reply (a new code would leave this one working unseen).
	ok, err := takeKey(ctx, k.R, k.key("pair", code), desk.String(), PairTTL)
	if err != nil {
		return err
	}
	if !ok {
		return ErrDuplicate
	}
	old, err := k.R.SetArgs(ctx, k.key("paircode", desk.ID), code, redis.SetArgs{TTL: PairTTL, Get: true}).Result()
	if err == nil && old != "" && old != code { // code: this SET sent again
		err = k.R.Del(ctx, k.key("pair", old)).Err()
	}
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	return err
}

// takePairing uses a pairing code once: it answers the desk and leaves
// the code used by this taking's nonce for a minute, so the script sent
// again by go-redis after a lost reply answers the desk again, where a
// GETDEL answered "no such code" and the tablet was told its code was
// wrong. KEYS: the code. ARGV: the nonce.
var takePairing = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if not v then return false end
local used = "~used " .. ARGV[1] .. " "
if string.sub(v, 1, 6) == "~used " then
  if string.sub(v, 1, #used) == used then return string.sub(v, #used + 1) end
  return false
end
redis.call("SET", KEYS[1], used .. v, "PX", 60000)
return v`)

// TakePairing uses a pairing code: the desk it pairs with, or ErrNotFound.
func (k *Kiosks) TakePairing(ctx context.Context, code string) (DeskRef, error) {
	desk, err := takePairing.Run(ctx, k.R, []string{k.key("pair", code)}, nonce()).Text()
	if errors.Is(err, redis.Nil) {
		return DeskRef{}, ErrNotFound
	}
	return refOf(desk), err
}

// deviceTTL bounds a cached device lookup and a revocation's tombstone.
const deviceTTL = 24 * time.Hour

// CachedDevice is the desk (incarnation) and device of a token hash:
// ErrNotFound when not cached, ErrRevoked when revoked.
func (k *Kiosks) CachedDevice(ctx context.Context, hash string) (desk DeskRef, device string, err error) {
	v, err := k.R.HMGet(ctx, k.key("dev", hash), "desk", "device", "revoked", "incarnation").Result()
	if err != nil {
		return DeskRef{}, "", err
	}
	if v[2] != nil {
		return DeskRef{}, "", ErrRevoked
	}
	d, _ := v[0].(string)
	id, _ := v[1].(string)
	inc, _ := v[3].(string)
	if d == "" {
		return DeskRef{}, "", ErrNotFound
	}
	return DeskRef{d, inc}, id, nil
}

// CacheDevice keeps a device lookup in Redis; a revocation's tombstone in
// the same hash outlives it.
func (k *Kiosks) CacheDevice(ctx context.Context, hash string, desk DeskRef, device string) error {
	p := k.R.TxPipeline()
	p.HSet(ctx, k.key("dev", hash), "desk", desk.ID, "device", device, "incarnation", desk.Incarnation)
	p.Expire(ctx, k.key("dev", hash), deviceTTL)
	_, err := p.Exec(ctx)
	return err
}

// RevokeDevice marks a token revoked: from now on every replica refuses it,
// even one that read its lookup from MongoDB just before.
func (k *Kiosks) RevokeDevice(ctx context.Context, hash string) error {
	p := k.R.TxPipeline()
	p.HSet(ctx, k.key("dev", hash), "revoked", "1")
	p.Expire(ctx, k.key("dev", hash), deviceTTL)
	_, err := p.Exec(ctx)
	return err
}

// deskSettings is what a tablet's requests need of its desk, kept in Redis.
type deskSettings struct {
	ID, Agency, Name, Officer, Form, PINHash, Incarnation string
}

// CachedDesk is a desk's settings as Redis keeps them (no devices), or
// ErrNotFound: a tablet's requests then read no MongoDB.
func (k *Kiosks) CachedDesk(ctx context.Context, id string) (*Desk, error) {
	b, err := k.R.Get(ctx, k.key("desk", id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var d deskSettings
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("kiosk desk %s: %w", id, err)
	}
	return &Desk{ID: d.ID, Agency: d.Agency, Name: d.Name, Officer: d.Officer, Form: d.Form, PINHash: d.PINHash, Incarnation: d.Incarnation}, nil
}

// CacheDesk keeps a desk's settings in Redis for deviceTTL. A fill (from
// a read of MongoDB) never replaces settings a change wrote meanwhile.
func (k *Kiosks) CacheDesk(ctx context.Context, d *Desk, fill bool) error {
	b, err := json.Marshal(deskSettings{d.ID, d.Agency, d.Name, d.Officer, d.Form, d.PINHash, d.Incarnation})
	if err != nil {
		return err
	}
	if fill {
		return k.R.SetNX(ctx, k.key("desk", d.ID), b, deviceTTL).Err()
	}
	return k.R.Set(ctx, k.key("desk", d.ID), b, deviceTTL).Err()
}

// ForgetDesk drops a removed desk's settings, screen and pairing code
// from Redis.
func (k *Kiosks) ForgetDesk(ctx context.Context, id string) error {
	code, err := k.R.GetDel(ctx, k.key("paircode", id)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	keys := []string{k.key("desk", id), k.key("cur", id), k.key("presentop", id)}
	if code != "" {
		keys = append(keys, k.key("pair", code))
	}
	return k.R.Del(ctx, keys...).Err()
}

// presentTTL is how long a dossier stays on a kiosk's screen to be rated.
const presentTTL = 2 * time.Hour

// present numbers a desk's new dossier, puts it on screen, lets the desk
// answer its invitation, lists the invitation under the desk (until the
// mark expires, so a delete finds the marks), wakes the desk's kiosks and
// keeps when it was presented (the kiosk's answering time runs from it),
// in one step. The time has a key of its own, beside the mark, so a
// replica that reads marks without it still reads them.
//
// The desk's last presentation keeps its nonce (KEYS[6]), so the script
// sent again by go-redis after a lost reply answers its number again:
// numbered anew, the same dossier would reach the kiosk as a new one,
// which clears the answers a citizen has begun.
var present = redis.NewScript(`
local last = redis.call('GET', KEYS[6])
if last and string.sub(last, 1, #ARGV[11] + 1) == ARGV[11] .. ' ' then return tonumber(string.sub(last, #ARGV[11] + 2)) end
local seq = redis.call('INCR', KEYS[1])
redis.call('SET', KEYS[6], ARGV[11] .. ' ' .. seq, 'PX', ARGV[2])
redis.call('SET', KEYS[2], seq .. ' ' .. ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', ARGV[9])
if redis.call('PTTL', KEYS[4]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[4], ARGV[4]) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
redis.call('SET', KEYS[5], ARGV[10], 'PX', ARGV[4])
return seq`)

// Present puts a dossier on a desk's kiosk (numbering it), lets that
// incarnation of the desk answer its invitation (survey token) until ttl,
// and wakes the desk's kiosks.
func (k *Kiosks) Present(ctx context.Context, desk DeskRef, p *Presented, token string, ttl time.Duration) error {
	p.Seq = 0
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	screen := string(b)
	if desk.Incarnation != "" {
		screen = desk.Incarnation + " " + screen
	}
	mark := strings.TrimSuffix(desk.ID+" "+token+" "+desk.Incarnation, " ")
	ttl = max(ttl, time.Minute)
	now := time.Now()
	seq, err := present.Run(ctx, k.R, []string{k.key("seq", desk.ID), k.key("cur", desk.ID), k.key("inv", p.Invitation), k.key("presented", desk.ID), k.key("at", p.Invitation), k.key("presentop", desk.ID)},
		screen, presentTTL.Milliseconds(), mark, ttl.Milliseconds(), k.channel(), desk.ID,
		now.Add(ttl).UnixMilli(), p.Invitation, now.UnixMilli(), cmp.Or(p.At, now).UnixMilli(), nonce()).Int64()
	p.Seq = seq
	return err
}

// Current is the dossier on a desk's kiosk, or nil (also when it was
// presented at another incarnation of the desk).
func (k *Kiosks) Current(ctx context.Context, desk DeskRef) (*Presented, error) {
	v, err := k.R.Get(ctx, k.key("cur", desk.ID)).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	seq, raw, _ := strings.Cut(v, " ")
	inc := ""
	if !strings.HasPrefix(raw, "{") {
		inc, raw, _ = strings.Cut(raw, " ")
	}
	if inc != desk.Incarnation {
		return nil, nil
	}
	var p Presented
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return nil, fmt.Errorf("kiosk state of %s: %w", desk.ID, err)
	}
	p.Seq, _ = strconv.ParseInt(seq, 10, 64)
	return &p, nil
}

// clear takes a dossier off screen only if it is still the one numbered
// ARGV[1], and wakes the desk's kiosks.
var clear = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 0`)

// Clear takes a dossier off a desk's kiosk once it is answered, unless
// another was presented since.
func (k *Kiosks) Clear(ctx context.Context, desk string, seq int64) error {
	return clear.Run(ctx, k.R, []string{k.key("cur", desk)}, strconv.FormatInt(seq, 10), k.channel(), desk).Err()
}

// PresentedAt is the desk an invitation was presented at, its survey
// token and when (zero if Redis has none; a zero time for a mark kept
// before times were).
func (k *Kiosks) PresentedAt(ctx context.Context, invitation string) (desk DeskRef, token string, at time.Time, err error) {
	vs, err := k.R.MGet(ctx, k.key("inv", invitation), k.key("at", invitation)).Result()
	if err != nil {
		return DeskRef{}, "", time.Time{}, err
	}
	v, _ := vs[0].(string)
	if v == "" {
		return DeskRef{}, "", time.Time{}, nil
	}
	desk.ID, v, _ = strings.Cut(v, " ")
	token, desk.Incarnation, _ = strings.Cut(v, " ")
	if ms, err := strconv.ParseInt(fmt.Sprint(vs[1]), 10, 64); err == nil {
		at = time.UnixMilli(ms).UTC()
	}
	return desk, token, at, nil
}

// PresentedAtDesk lists the invitations presented at a desk whose marks
// may still be in Redis (the list drops each as its mark expires).
func (k *Kiosks) PresentedAtDesk(ctx context.Context, desk string) ([]string, error) {
	return k.R.ZRange(ctx, k.key("presented", desk), 0, -1).Result()
}

// forget drops each mark (KEYS) that still names the desk ARGV[1].
var forget = redis.NewScript(`
for _, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. ' ' then redis.call('DEL', key) end
end
return 0`)

// ForgetPresented drops the marks that let a removed desk answer the
// invitations (those not presented elsewhere since), then its list of them.
func (k *Kiosks) ForgetPresented(ctx context.Context, desk string, invitations []string) error {
	for batch := range slices.Chunk(invitations, 500) {
		keys := make([]string, len(batch))
		for i, inv := range batch {
			keys[i] = k.key("inv", inv)
		}
		if err := forget.Run(ctx, k.R, keys, desk).Err(); err != nil {
			return err
		}
	}
	return k.R.Del(ctx, k.key("presented", desk)).Err()
}

func (k *Kiosks) channel() string { return "gw:kiosk:wake:" + k.Name }

// Wake tells a desk's waiting kiosks, on every replica, to look again.
func (k *Kiosks) Wake(ctx context.Context, desk string) error {
	return k.R.Publish(ctx, k.channel(), desk).Err()
}

// Wait returns a channel closed at the next wake-up of desk, and a
// function to stop waiting. Waiters are also woken when the subscription
// is made again after Redis came back, as a wake-up may have been missed.
func (k *Kiosks) Wait(ctx context.Context, desk string) (<-chan struct{}, func(), error) {
	if err := k.subscribe(ctx); err != nil {
		return nil, nil, err
	}
	ch := make(chan struct{})
	k.mu.Lock()
	if k.waiters == nil {
		k.waiters = map[string][]chan struct{}{}
	}
	k.waiters[desk] = append(k.waiters[desk], ch)
	k.mu.Unlock()
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

// subscribe makes the process's one subscription, once.
func (k *Kiosks) subscribe(ctx context.Context) error {
	k.subMu.Lock()
	defer k.subMu.Unlock()
	if k.closed {
		return errors.New("kiosk wake-ups are closed: the gateway is shutting down")
	}
	if k.sub != nil {
		return nil
	}
	sub := k.R.Subscribe(context.Background(), k.channel())
	if _, err := sub.Receive(ctx); err != nil { // the subscription is confirmed
		_ = sub.Close()
		return err
	}
	k.sub = sub
	go k.fanOut(sub.ChannelWithSubscriptions())
	return nil
}

// fanOut wakes the waiters of each desk named on the channel, and every
// waiter when the subscription is made again.
func (k *Kiosks) fanOut(msgs <-chan any) {
	for m := range msgs {
		k.mu.Lock()
		switch m := m.(type) {
		case *redis.Message:
			for _, ch := range k.waiters[m.Payload] {
				close(ch)
			}
			delete(k.waiters, m.Payload)
		case *redis.Subscription:
			k.mu.Unlock()
			k.wakeAll()
			continue
		}
		k.mu.Unlock()
	}
	k.wakeAll() // closed: nobody waits for a wake-up that cannot come
}

func (k *Kiosks) wakeAll() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for desk, list := range k.waiters {
		for _, ch := range list {
			close(ch)
		}
		delete(k.waiters, desk)
	}
}

// Close ends the subscription and wakes every waiting kiosk; from then on
// Wait fails, so a shutting-down replica sends its tablets elsewhere.
func (k *Kiosks) Close() error {
	k.subMu.Lock()
	defer k.subMu.Unlock()
	k.closed = true
	if k.sub == nil {
		return nil
	}
	err := k.sub.Close()
	k.sub = nil
	return err
}
