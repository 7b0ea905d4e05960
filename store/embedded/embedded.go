// Package embedded runs the gateway's stores in-process for the zero-config
// default: FerretDB (MongoDB wire protocol, SQLite files under the data
// folder) and miniredis. The gateway then talks to them through the same
// go-redis and mongo-driver code it uses against real servers.
package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/alicebob/miniredis/v2"
)

// Servers are the running in-process stores. Neither is open to other
// users of the machine: Redis asks for a password made on this start, and
// FerretDB, which cannot check one (its SQLite backend takes any user),
// asks for a client certificate made on this start.
type Servers struct {
	RedisURL string
	MongoURI string
	// RedisURLFile keeps RedisURL, password included, readable by this
	// user only, for another process of this user (a rebuild, the load
	// tool), as the Mongo URI names its certificate files.
	RedisURLFile string
	redis        *miniredis.Miniredis
	cancel       context.CancelFunc
}

// StartMongo runs FerretDB with its SQLite files in dir/ferretdb, listening on
// the TCP address addr ("127.0.0.1:0" picks a free port). Anyone who reaches
// addr may read and write: it is for tests and local tools.
func StartMongo(dir, addr string, log *slog.Logger) (uri string, stop func(), err error) {
	path, err := mongoDir(dir)
	if err != nil {
		return "", nil, err
	}
	return startMongo(path, ferretdb.ListenerConfig{TCP: addr}, log)
}

// startTLSMongo runs FerretDB on a free port of 127.0.0.1 that answers
// only clients holding this start's certificate (see tlsFiles), kept with
// its CA in dir/mongo-tls. The URI names the CA and the client certificate,
// so another process of this user (a load test, mongosh) may connect; other
// users cannot read them. A unix socket of mode 0600 would have been
// simpler, but mongo-driver lowercases a socket's path before it dials, so
// it cannot reach one in a folder whose name has a capital letter.
func startTLSMongo(dir string, log *slog.Logger) (uri string, stop func(), err error) {
	path, err := mongoDir(dir)
	if err != nil {
		return "", nil, err
	}
	certs, err := makeTLS(filepath.Join(filepath.Dir(path), "mongo-tls"))
	if err != nil {
		return "", nil, err
	}
	uri, stop, err = startMongo(path, ferretdb.ListenerConfig{TLS: "127.0.0.1:0",
		TLSCertFile: certs.ServerCert, TLSKeyFile: certs.ServerKey, TLSCAFile: certs.CA}, log)
	if err != nil {
		return "", nil, err
	}
	u, err := url.Parse(uri) // mongodb://127.0.0.1:port/?tls=true
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("embedded mongo: %w", err)
	}
	q := u.Query()
	q.Set("tlsCAFile", certs.CA)
	q.Set("tlsCertificateKeyFile", certs.Client)
	u.RawQuery = q.Encode()
	return u.String(), stop, nil
}

// mongoDir makes dir/ferretdb private to this user (a folder made by an
// older version may be wider) and returns its absolute path.
func mongoDir(dir string) (string, error) {
	path := filepath.Join(dir, "ferretdb")
	if err := os.MkdirAll(path, 0o700); err != nil {
		return "", fmt.Errorf("embedded mongo: create %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return "", fmt.Errorf("embedded mongo: %w", err)
	}
	return filepath.Abs(path)
}

func startMongo(path string, l ferretdb.ListenerConfig, log *slog.Logger) (uri string, stop func(), err error) {
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  l,
		Handler:   "sqlite",
		SQLiteURL: "file:" + path + "/",
		Logger:    slog.New(lazy(log.Handler())),
	})
	if err != nil {
		return "", nil, fmt.Errorf("embedded mongo: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, indexed := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	ix := NewIDIndexer(path, log)
	go func() { defer close(indexed); defer ix.Close(); ix.Run(ctx, IndexEvery) }()
	uri = f.MongoDBURI()
	return uri, func() { cancel(); waitOrGiveUp(done); waitOrGiveUp(indexed) }, nil
}

// IndexEvery is how often the embedded server looks for collections
// without the _id lookup index (see IDIndexer): a check that reads only
// SQLite's schema, so it costs next to nothing.
const IndexEvery = time.Second

func waitOrGiveUp(done chan struct{}) {
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// Start runs both stores. Redis state lives in memory only and is lost when
// the process stops; the FerretDB files under dir survive restarts.
func Start(dir string, log *slog.Logger) (*Servers, error) {
	uri, stopMongo, err := startTLSMongo(dir, log)
	if err != nil {
		return nil, err
	}
	password := rand.Text() // 130 random bits, new on every start
	r := miniredis.NewMiniRedis()
	r.RequireAuth(password)
	if err := r.StartAddr("127.0.0.1:0"); err != nil {
		stopMongo()
		return nil, errors.Join(errors.New("embedded redis"), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go expireKeys(ctx, r)
	redisURL := (&url.URL{Scheme: "redis", User: url.UserPassword("", password), Host: r.Addr()}).String()
	s := &Servers{RedisURL: redisURL, MongoURI: uri, RedisURLFile: filepath.Join(dir, "redis.url"), redis: r}
	s.cancel = func() { cancel(); stopMongo() }
	if err := writePrivate(s.RedisURLFile, redisURL+"\n"); err != nil {
		s.Stop()
		return nil, fmt.Errorf("embedded redis: %w", err)
	}
	return s, nil
}

// writePrivate writes a file only this user may read, whatever mode an
// earlier file had.
func writePrivate(path, text string) error {
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// expireKeys moves miniredis' clock: it counts TTLs down only when told to,
// and the gateway's sessions and locks rely on keys expiring in real time.
func expireKeys(ctx context.Context, r *miniredis.Miniredis) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.FastForward(time.Second)
		}
	}
}

// Stop shuts both stores down.
func (s *Servers) Stop() {
	s.redis.Close()
	s.cancel()
}

// Quiet keeps only errors of log: FerretDB logs every
// connection at info level and every unsupported command at warn level,
// which drowns the gateway's own lines.
func Quiet(log *slog.Logger) *slog.Logger { return slog.New(errorsOnly{log.Handler()}) }

type errorsOnly struct{ slog.Handler }

func (w errorsOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && w.Handler.Enabled(ctx, l)
}
func (w errorsOnly) WithAttrs(a []slog.Attr) slog.Handler { return errorsOnly{w.Handler.WithAttrs(a)} }
func (w errorsOnly) WithGroup(n string) slog.Handler      { return errorsOnly{w.Handler.WithGroup(n)} }
