package core

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
)

// ChannelKind describes what one channel type needs, for validation. The
// channels registry supplies it; the core does not know providers.
type ChannelKind struct {
	Type     string
	Settings []string // required settings
	Optional []string // optional settings
	Secrets  []string // required secrets
	// OptionalSecrets may be set but need not be.
	OptionalSecrets []string
	// Check, when set, validates settings further (URLs, formats); it names
	// the setting in its error.
	Check func(settings map[string]any) error
}

// Family is the first part of a type: "sms" for "sms.twilio".
func Family(typ string) string {
	f, _, _ := strings.Cut(typ, ".")
	return f
}

// ChannelInput is the body of PUT /api/v1/channels/{id}.
type ChannelInput struct {
	Type     string            `json:"type"`
	Enabled  *bool             `json:"enabled"`
	Settings map[string]any    `json:"settings"`
	Secrets  map[string]string `json:"secrets"`
}

// Channel is a configured channel with its secrets opened, for the code
// that calls the provider. Never serialise it.
type Channel struct {
	ID       string
	Type     string
	Enabled  bool
	Settings map[string]any
	Secrets  map[string]string
	// TokenExpires is when the access token stops working (Zalo); zero
	// when unknown.
	TokenExpires time.Time
	// Prompts names a voice channel's uploaded recordings, with their
	// versions (see PromptURL).
	Prompts map[string]int64
}

// Setting returns a string setting, or "".
func (c *Channel) Setting(key string) string {
	s, _ := c.Settings[key].(string)
	return s
}

// Flag returns a boolean setting.
func (c *Channel) Flag(key string) bool {
	b, _ := c.Settings[key].(bool)
	return b
}

var channelIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// signing are the secrets that sign or check messages (a province's own,
// or the provider's); a short one can be found from the signatures it
// makes, so it needs minSecret characters. Credentials a provider issues
// (API keys, tokens) are taken as given.
var signing = map[string]bool{"secret": true, "oa_secret_key": true, "private_key": true, "auth_token": true, "signing_secret": true}

const minSecret = 16

// PutChannel validates and stores a channel. Secrets not given keep their
// stored values, so settings can change without resending secrets.
func (s *Service) PutChannel(ctx context.Context, p *Principal, kind ChannelKind, id string, in ChannelInput) (*store.Channel, error) {
	if !channelIDRe.MatchString(id) {
		return nil, Errorf(Invalid, "id", "%q: use 1–32 lower-case letters, digits, - and _, starting with a letter or digit", id)
	}
	old, err := s.Mongo.Channels.Channel(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	ch := &store.Channel{ID: id, Type: kind.Type, Enabled: in.Enabled == nil || *in.Enabled,
		Settings: in.Settings, Secrets: map[string][]byte{}, Updated: store.Millis(s.now())}
	if ch.Settings == nil {
		ch.Settings = map[string]any{}
	}
	if old != nil && old.Type == kind.Type {
		for k, v := range old.Secrets {
			ch.Secrets[k] = v
		}
		ch.TokenExpires, ch.Prompts = old.TokenExpires, old.Prompts
	}
	for k, v := range in.Secrets {
		if !contains(kind.Secrets, k) && !contains(kind.OptionalSecrets, k) {
			return nil, Errorf(Invalid, "secrets."+k, "%s takes no secret %q; it takes %s", kind.Type, k, list(append(kind.Secrets, kind.OptionalSecrets...)))
		}
		if v == "" {
			delete(ch.Secrets, k)
			continue
		}
		if n := utf8.RuneCountInString(v); signing[k] && n < minSecret {
			return nil, Errorf(Invalid, "secrets."+k, "only %d characters; a secret that signs messages needs at least %d (openssl rand -hex 16)", n, minSecret)
		}
		ch.Secrets[k] = s.Sealer.Seal(v)
		if k == "access_token" {
			ch.TokenExpires = time.Time{} // a new token of unknown age
		}
	}
	if err := checkKind(kind, ch); err != nil {
		return nil, err
	}
	if d, _ := ch.Settings["default"].(bool); d && ch.Enabled {
		if err := s.clearDefault(ctx, Family(kind.Type), id); err != nil {
			return nil, err
		}
	}
	if err := s.Mongo.Channels.Put(ctx, ch); err != nil {
		return nil, err
	}
	if err := s.channelsChanged(ctx); err != nil {
		return nil, err
	}
	return ch, s.Audit(ctx, p, "channel.put", ch.ID, map[string]any{"type": ch.Type, "enabled": ch.Enabled, "settings": ch.Settings, "secrets_set": SecretNames(ch)})
}

// SecretNames lists which secrets a channel has, sorted; never their values.
func SecretNames(ch *store.Channel) []string {
	names := make([]string, 0, len(ch.Secrets))
	for k := range ch.Secrets {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// DeleteChannel removes a channel.
func (s *Service) DeleteChannel(ctx context.Context, p *Principal, id string) error {
	if err := s.Mongo.Channels.Delete(ctx, id); err != nil {
		return err
	}
	if err := s.channelsChanged(ctx); err != nil {
		return err
	}
	return s.Audit(ctx, p, "channel.delete", id, nil)
}

func checkKind(kind ChannelKind, ch *store.Channel) error {
	for k, v := range ch.Settings {
		if !contains(kind.Settings, k) && !contains(kind.Optional, k) && k != "default" {
			return Errorf(Invalid, "settings."+k, "%s has no setting %q; it takes %s", kind.Type, k, list(append(kind.Settings, kind.Optional...)))
		}
		if _, isBool := v.(bool); !isBool && k == "default" {
			return Errorf(Invalid, "settings.default", "must be true or false")
		}
	}
	for _, k := range kind.Settings {
		if v, ok := ch.Settings[k].(string); !ok || strings.TrimSpace(v) == "" {
			return Errorf(Invalid, "settings."+k, "%s needs the setting %q (a string)", kind.Type, k)
		}
	}
	for _, k := range kind.Secrets {
		if len(ch.Secrets[k]) == 0 {
			return Errorf(Invalid, "secrets."+k, "%s needs the secret %q", kind.Type, k)
		}
	}
	if kind.Check != nil {
		return kind.Check(ch.Settings)
	}
	return nil
}

// clearDefault makes id the only default channel of its family.
func (s *Service) clearDefault(ctx context.Context, family, id string) error {
	all, err := s.Mongo.Channels.All(ctx)
	if err != nil {
		return err
	}
	for i := range all {
		ch := &all[i]
		if d, _ := ch.Settings["default"].(bool); d && ch.ID != id && Family(ch.Type) == family {
			ch.Settings["default"] = false
			if err := s.Mongo.Channels.Put(ctx, ch); err != nil {
				return err
			}
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return strings.Join(sorted, ", ")
}

// ChannelCache keeps channels, secrets opened, in the process: every
// webhook names its channel, and reading it from MongoDB would make each
// citizen's message wait on it. A change on any replica (PutChannel,
// DeleteChannel, SetTokens) empties every replica's cache through
// Changes; an entry also lives at most channelFresh, for announcements
// lost while a replica's subscription was down.
type ChannelCache struct {
	Changes *store.Changes
	m       sync.Map // id → cachedChannel; see keep
}

// keep caches ch under a copy of id. Webhooks pass the id from the URL,
// which fiber hands out without copying: its bytes belong to a buffer
// fasthttp reuses for the next request. A key whose bytes change inside
// the map no longer hashes to where it is stored: lookups miss it, and
// later stores can make sync.Map panic ("ran out of hash bits"), on
// every webhook of the channel until the process restarts.
func (c *ChannelCache) keep(id string, ch *Channel) {
	c.m.Store(strings.Clone(id), cachedChannel{ch, time.Now()})
}

type cachedChannel struct {
	ch *Channel
	at time.Time
}

// channelFresh bounds how long a cached channel is used.
const channelFresh = time.Minute

// WatchChannels fills the cache with every channel, so that webhooks can
// be answered while MongoDB is down, then empties it on every change
// announced, until ctx ends.
func (s *Service) WatchChannels(ctx context.Context) {
	if s.Channels == nil {
		return
	}
	_ = s.WarmChannels(ctx) // failing, channels are read on first use
	s.Channels.Changes.Watch(ctx, s.Channels.m.Clear)
}

// WarmChannels reads every channel into the cache.
func (s *Service) WarmChannels(ctx context.Context) error {
	all, err := s.Mongo.Channels.All(ctx)
	if err != nil {
		return err
	}
	for _, st := range all {
		if _, err := s.FreshChannel(ctx, st.ID); err != nil {
			return err
		}
	}
	return nil
}

// channelsChanged empties this process's cache and tells the other replicas.
func (s *Service) channelsChanged(ctx context.Context) error {
	if s.Channels == nil {
		return nil
	}
	s.Channels.m.Clear()
	return s.Channels.Changes.Announce(ctx)
}

// Channel returns a channel with its secrets opened, from the process's
// cache when it has it.
func (s *Service) Channel(ctx context.Context, id string) (*Channel, error) {
	if s.Channels == nil {
		return s.readChannel(ctx, id)
	}
	v, ok := s.Channels.m.Load(id)
	if ok && time.Since(v.(cachedChannel).at) < channelFresh {
		return v.(cachedChannel).ch, nil
	}
	ch, err := s.readChannel(ctx, id)
	switch {
	case err == nil:
		s.Channels.keep(id, ch)
	case ok && store.Unavailable(err):
		return v.(cachedChannel).ch, nil // MongoDB is down: the last copy read beats no answer
	}
	return ch, err
}

// FreshChannel reads a channel from MongoDB, bypassing the cache: for a
// decision that must see another replica's change at once (has the Zalo
// token just been refreshed?).
func (s *Service) FreshChannel(ctx context.Context, id string) (*Channel, error) {
	ch, err := s.readChannel(ctx, id)
	if err == nil && s.Channels != nil {
		s.Channels.keep(id, ch)
	}
	return ch, err
}

func (s *Service) readChannel(ctx context.Context, id string) (*Channel, error) {
	st, err := s.Mongo.Channels.Channel(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, "channel %s does not exist", id)
	}
	ch := &Channel{ID: st.ID, Type: st.Type, Enabled: st.Enabled, Settings: st.Settings, Secrets: map[string]string{}, TokenExpires: st.TokenExpires, Prompts: st.Prompts}
	for k, v := range st.Secrets {
		plain, err := s.Sealer.Open(v)
		if err != nil {
			return nil, fmt.Errorf("channel %s secret %s: %w", id, k, err)
		}
		ch.Secrets[k] = plain
	}
	return ch, nil
}

// SetTokens seals and stores new tokens of a channel in one write.
func (s *Service) SetTokens(ctx context.Context, id string, tokens map[string]string, expires time.Time) error {
	sealed := map[string][]byte{}
	for k, v := range tokens {
		sealed[k] = s.Sealer.Seal(v)
	}
	if err := s.Mongo.Channels.SetSecrets(ctx, id, sealed, expires); err != nil {
		return err
	}
	return s.channelsChanged(ctx)
}

// ChannelsOfFamily returns the enabled channels of a family, secrets opened.
func (s *Service) ChannelsOfFamily(ctx context.Context, family string) ([]*Channel, error) {
	all, err := s.Mongo.Channels.All(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Channel
	for _, st := range all {
		if Family(st.Type) == family && st.Enabled {
			ch, err := s.Channel(ctx, st.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, ch)
		}
	}
	return out, nil
}

// ResolveChannel turns an invitation's send entry — a family ("sms") or a
// channel id — into an enabled channel.
func (s *Service) ResolveChannel(ctx context.Context, entry string) (*store.Channel, error) {
	all, err := s.Mongo.Channels.All(ctx)
	if err != nil {
		return nil, err
	}
	var family []store.Channel
	for _, ch := range all {
		if ch.ID == entry && ch.Enabled {
			return &ch, nil
		}
		if Family(ch.Type) == entry && ch.Enabled {
			family = append(family, ch)
		}
	}
	for _, ch := range family {
		if d, _ := ch.Settings["default"].(bool); d || len(family) == 1 {
			return &ch, nil
		}
	}
	if len(family) > 1 {
		return nil, Errorf(Invalid, "send", "several %s channels are enabled and none is the default; name one or set settings.default on one", entry)
	}
	return nil, Errorf(Invalid, "send", "no enabled channel %q; configure one with PUT /api/v1/channels/{id}", entry)
}

// Enqueue queues the invitation on each channel named in send, each to go
// as soon as the agency's send hours allow; none when another invitation
// holds the phone's contact window (each send is then recorded skipped,
// reason contact_limit: the citizen keeps the QR code and kiosk).
func (s *Service) Enqueue(ctx context.Context, inv *store.Invitation, chans []*store.Channel) error {
	if len(chans) == 0 {
		return nil
	}
	now := s.now()
	free, err := s.ClaimContact(ctx, inv)
	if err != nil {
		return Errorf(Unavailable, "", "the invitation is saved but could not be queued for sending: %v; retry the request", err)
	}
	if inv.Sends == nil {
		inv.Sends = map[string]store.SendStatus{}
	}
	var events []store.FunnelEvent
	for _, ch := range chans {
		st := store.SendStatus{Status: store.SendQueued, At: store.Millis(now)}
		if !free {
			st.Status, st.Reason = store.SendSkipped, store.ReasonContactLimit
			st.Error = "a survey invitation went to this phone less than " + s.contactWindow() + " ago (GATEWAY_CONTACT_EVERY); the citizen can still answer by the QR code or the kiosk"
		}
		if err := s.Mongo.Invitations.SetSend(ctx, inv.ID, ch.ID, st); err != nil {
			return err
		}
		inv.Sends[ch.ID] = st
		if !free {
			continue
		}
		family, _, _ := strings.Cut(ch.Type, ".")
		job := store.SendJob{ID: inv.ID + ":" + ch.ID, Invitation: inv.ID, Channel: ch.ID}
		if err := s.Queue.Enqueue(ctx, job, s.SendAt(ctx, inv.AgencyCode, family, job.ID, now)); err != nil {
			return Errorf(Unavailable, "", "the invitation is saved but could not be queued for sending: %v; retry the request", err)
		}
		events = append(events, store.FunnelEvent{Step: store.FunnelQueued, Invitation: inv.ID, Agency: inv.AgencyCode,
			Month: store.MonthOf(inv.CreatedAt), Family: family, Survey: inv.Survey})
	}
	if s.Funnel != nil && len(events) > 0 {
		if err := s.Funnel.Note(ctx, events...); err != nil {
			return err
		}
	}
	if free && s.Queued != nil {
		s.Queued()
	}
	return nil
}

// contactWindow is GATEWAY_CONTACT_EVERY in days, for a skip's reason.
func (s *Service) contactWindow() string {
	if s.Reach == nil {
		return ""
	}
	return strconv.Itoa(int(s.Reach.ContactEvery.Hours()/24)) + " days"
}

// ChannelTestsPerMinute bounds the test messages (and credential checks)
// of one channel: a test reaches the provider and costs a message, and a
// form sent twice by mistake should not turn into a run of texts.
const ChannelTestsPerMinute = 3

// AllowChannelTest spends one of a channel's tests of this minute, or is
// a rate_limited error naming phone with when to try again.
func (s *Service) AllowChannelTest(ctx context.Context, id string) error {
	return s.limited(ctx, "channel_test:"+id, ChannelTestsPerMinute, time.Minute, "phone", "tests of channel "+id)
}
