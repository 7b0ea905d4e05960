// Package embedded runs the gateway's stores in-process for the zero-config
// default: FerretDB (MongoDB wire protocol, SQLite files under the data
// folder) and miniredis. The gateway then talks to them through the same
// go-redis and mongo-driver code it uses against real servers.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"github.com/alicebob/miniredis/v2"
)

// Servers are the running in-process stores.
type Servers struct {
	RedisURL string
	MongoURI string
	redis    *miniredis.Miniredis
	cancel   context.CancelFunc
}

// StartMongo runs FerretDB with its SQLite files in dir/ferretdb, listening on
// addr ("127.0.0.1:0" picks a free port).
func StartMongo(dir, addr string, log *slog.Logger) (uri string, stop func(), err error) {
	path := filepath.Join(dir, "ferretdb")
	if err := os.MkdirAll(path, 0o700); err != nil {
		return "", nil, fmt.Errorf("embedded mongo: create %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, err
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
		Logger:    log,
	})
	if err != nil {
		return "", nil, fmt.Errorf("embedded mongo: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, indexed := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	ix := NewIDIndexer(abs, log)
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
	uri, stopMongo, err := StartMongo(dir, "127.0.0.1:0", log)
	if err != nil {
		return nil, err
	}
	r := miniredis.NewMiniRedis()
	if err := r.StartAddr("127.0.0.1:0"); err != nil {
		stopMongo()
		return nil, errors.Join(errors.New("embedded redis"), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go expireKeys(ctx, r)
	s := &Servers{RedisURL: "redis://" + r.Addr(), MongoURI: uri, redis: r}
	s.cancel = func() { cancel(); stopMongo() }
	return s, nil
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
