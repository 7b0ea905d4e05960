package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"
)

// OpenRedis connects through go-redis' universal client interface:
//   - redis://[user:pass@]host:6379/0 (or rediss://) — one server;
//   - redis://host1:26379?master_name=mymaster&addr=host2:26379 — Sentinel;
//   - redis://host1:6379?addr=host2:6379&addr=host3:6379 — Cluster.
func OpenRedis(ctx context.Context, rawURL string) (redis.UniversalClient, error) {
	c, err := redisClient(rawURL)
	if err != nil {
		return nil, err
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("ping redis: %w", err)
	}
	return c, nil
}

// redisClient picks the client kind from the URL's shape, and adds
// coalescing (coalesce.go) before the client may dial.
func redisClient(rawURL string) (redis.UniversalClient, error) {
	c, _, err := coalescedClient(rawURL, coalesceLimit())
	return c, err
}

func coalescedClient(rawURL string, limit int) (redis.UniversalClient, *coalesce, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error // it repeats the whole URL, password and all
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, nil, fmt.Errorf("GATEWAY_REDIS_URL: %w", err)
	}
	ready := make(chan struct{})
	var c redis.UniversalClient
	q := u.Query()
	switch {
	case q.Get("master_name") != "":
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("GATEWAY_REDIS_URL (sentinel): %w", err)
		}
		if o.RouteByLatency || o.RouteRandomly { // NewFailoverClient panics on them
			return nil, nil, errors.New("GATEWAY_REDIS_URL (sentinel): route_by_latency and route_randomly spread reads over replicas, which the gateway must not read from; remove them")
		}
		o.Dialer = dialer(o.TLSConfig, o.DialTimeout, ready)
		c = redis.NewFailoverClient(o)
	case q.Has("addr"):
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("GATEWAY_REDIS_URL (cluster): %w", err)
		}
		o.Dialer = dialer(o.TLSConfig, o.DialTimeout, ready)
		c = redis.NewClusterClient(o)
	default:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, nil, fmt.Errorf("GATEWAY_REDIS_URL: %w", err)
		}
		o.Dialer = dialer(o.TLSConfig, o.DialTimeout, ready)
		c = redis.NewClient(o)
	}
	h := withCoalescing(c, limit)
	close(ready)
	return c, h, nil
}

// dialer dials as go-redis does, with two differences.
//
// It waits for ready: go-redis sets up each new connection through hooks
// copied from the client's, and coalescing must be in place first (see
// withCoalescing). A client may dial as soon as it exists (min_idle_conns).
//
// It hides a plain TCP or unix connection's file descriptor from the
// pool. The pool otherwise peeks at the socket (a recvfrom system call)
// each time it hands a connection out, to find one the server closed
// while idle: that was 6.6% of the gateway's CPU per SMS webhook, a check
// for what is rare. A connection found closed when used fails with EOF and
// go-redis retries the command on a new one (MaxRetries), as it does for
// TLS connections, which that check never peeks at. Hidden too from its
// check for push notifications waiting on an idle connection (RESP3
// MOVING/MIGRATING, sent by managed Redis during maintenance): those are
// read with the connection's next reply instead.
func dialer(tlsConf *tls.Config, timeout time.Duration, ready <-chan struct{}) func(context.Context, string, string) (net.Conn, error) {
	d := &net.Dialer{Timeout: cmp.Or(timeout, 5*time.Second), // go-redis' defaults
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3}}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if tlsConf != nil {
			return (&tls.Dialer{NetDialer: d, Config: tlsConf}).DialContext(ctx, network, addr)
		}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return unchecked{c}, nil
	}
}

// unchecked is a connection without SyscallConn (see dialer).
type unchecked struct{ net.Conn }

// Progress keeps a web survey's answers between steps, so a citizen who closes
// the tab resumes where they left off. Keys expire with the invitation.
type Progress struct{ R redis.UniversalClient }

// progressKey uses a hash tag so that, on Redis Cluster, everything of one
// token lives in one slot.
func progressKey(token string) string { return "gw:web:{" + token + "}" }

// Load returns the saved fields (question id → score, and "comment").
func (p *Progress) Load(ctx context.Context, token string) (map[string]string, error) {
	var load func() (map[string]string, error)
	_, _ = p.R.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		load = p.LoadIn(ctx, pipe, token)
		return nil
	})
	return load()
}

// LoadIn queues Load's read on pipe (the round trip of the token's other
// keys); the func returned gives its answer once pipe has run.
func (p *Progress) LoadIn(ctx context.Context, pipe redis.Pipeliner, token string) func() (map[string]string, error) {
	cmd := pipe.HGetAll(ctx, progressKey(token))
	return func() (map[string]string, error) {
		m, err := cmd.Result()
		if err != nil {
			return nil, fmt.Errorf("load progress: %w", err)
		}
		return m, nil
	}
}

// Save merges fields into the saved progress and keeps it for ttl.
func (p *Progress) Save(ctx context.Context, token string, fields map[string]string, ttl time.Duration) error {
	if len(fields) == 0 {
		return nil
	}
	k := progressKey(token)
	_, err := p.R.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HSet(ctx, k, fields)
		pipe.Expire(ctx, k, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save progress: %w", err)
	}
	return nil
}

// Clear forgets the progress once the answers are saved for good.
func (p *Progress) Clear(ctx context.Context, token string) error {
	return p.R.Del(ctx, progressKey(token)).Err()
}

// ClearIn queues Clear on pipe.
func (p *Progress) ClearIn(ctx context.Context, pipe redis.Pipeliner, token string) {
	pipe.Del(ctx, progressKey(token))
}

// viewKey holds when token's survey page was first seen, in the token's
// slot.
func viewKey(token string) string { return "gw:web:view:{" + token + "}" }

// ViewIn queues on pipe the note that token's survey page is seen at at
// (the first time stays, for ttl) and its read: the func gives the first
// view once pipe has run. The answering time of a web response runs from
// it, so a page's view costs no round trip of its own.
func (p *Progress) ViewIn(ctx context.Context, pipe redis.Pipeliner, token string, at time.Time, ttl time.Duration) func() (time.Time, error) {
	pipe.SetNX(ctx, viewKey(token), at.UnixMilli(), ttl)
	cmd := pipe.Get(ctx, viewKey(token))
	return func() (time.Time, error) {
		ms, err := cmd.Int64()
		if err != nil {
			return time.Time{}, fmt.Errorf("first view: %w", err)
		}
		return time.UnixMilli(ms).UTC(), nil
	}
}

// ForgetViewIn queues dropping token's first view (its survey is done).
func (p *Progress) ForgetViewIn(ctx context.Context, pipe redis.Pipeliner, token string) {
	pipe.Del(ctx, viewKey(token))
}

// Locks hands out short leases in Redis so that one replica at a time does a
// job (the roll-up writer, for one).
type Locks struct{ R redis.UniversalClient }

// ErrLocked means another holder has the lease.
var ErrLocked = errors.New("locked by another holder")

// take sets a free key to its taker's value (1), or says whether the
// taker holds it already (1, or 0 for another): go-redis sends a command
// again when its reply was lost though it ran, and a plain SET NX sent
// again finds its own first run's value and answers "taken". KEYS: the
// key. ARGV: the taker's value (unique to it), the TTL in ms.
var take = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if not cur then
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
  return 1
end
if cur == ARGV[1] then return 1 end
return 0`)

// nonce is 16 random bytes in hex: who takes a key, or made a write.
func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// takeKey runs take: whether key is now the taker's, who is named by
// value (a random one per taking).
func takeKey(ctx context.Context, r redis.Scripter, key, value string, ttl time.Duration) (bool, error) {
	n, err := take.Run(ctx, r, []string{key}, value, ttl.Milliseconds()).Int()
	return n == 1, err
}

var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)
var extend = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)

// Lease is a held lock.
type Lease struct {
	r     redis.UniversalClient
	key   string
	owner string
}

// Acquire takes the lock name for ttl, or returns ErrLocked.
func (l *Locks) Acquire(ctx context.Context, name string, ttl time.Duration) (*Lease, error) {
	lease := &Lease{r: l.R, key: "gw:lock:" + name, owner: nonce()}
	ok, err := takeKey(ctx, l.R, lease.key, lease.owner, ttl)
	if err != nil {
		return nil, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	if !ok {
		return nil, ErrLocked
	}
	return lease, nil
}

// Holding runs fn while holding the lock name, kept alive every ttl/3
// (fn's context ends if it is lost). Another holder is not an error: fn
// does not run and Holding returns nil.
func (l *Locks) Holding(ctx context.Context, name string, ttl time.Duration, fn func(context.Context) error) error {
	lease, err := l.Acquire(ctx, name, ttl)
	if errors.Is(err, ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, ttl)
	defer stop()
	return fn(ctx)
}

// Extend renews the lease; ErrLocked means it was lost.
func (l *Lease) Extend(ctx context.Context, ttl time.Duration) error {
	n, err := extend.Run(ctx, l.r, []string{l.key}, l.owner, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("extend lock: %w", err)
	}
	if n == 0 {
		return ErrLocked
	}
	return nil
}

// Release gives the lease back if it is still ours.
func (l *Lease) Release(ctx context.Context) error {
	return unlock.Run(ctx, l.r, []string{l.key}, l.owner).Err()
}

// Keep extends the lease every ttl/3 until stop is called, and returns a
// context that ends if the lease is lost, so work done under it stops
// instead of racing a new holder.
func (l *Lease) Keep(ctx context.Context, ttl time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := l.Extend(ctx, ttl); err != nil {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, func() { cancel(); <-done }
}

// Changes tells every replica that something they keep in memory changed
// (channels and their tokens), by Redis pub/sub.
type Changes struct {
	R   redis.UniversalClient
	Key string
}

// Announce tells every replica, this one included.
func (c *Changes) Announce(ctx context.Context) error {
	return c.R.Publish(ctx, c.Key, "changed").Err()
}

// Watch calls fn on every announcement until ctx ends. go-redis subscribes
// again after a lost connection, but announcements made meanwhile are lost:
// what is kept in memory must also expire on its own.
func (c *Changes) Watch(ctx context.Context, fn func()) {
	sub := c.R.Subscribe(ctx, c.Key)
	defer sub.Close()
	// Once subscribed, forget what was kept before: a change announced
	// until now was not heard.
	if _, err := sub.Receive(ctx); err == nil {
		fn()
	}
	ch := sub.Channel(redis.WithChannelHealthCheckInterval(10 * time.Second))
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			fn()
		}
	}
}
