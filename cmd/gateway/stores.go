package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/store/embedded"
)

// stores are the open connections, embedded or external.
type stores struct {
	redis    redis.UniversalClient
	mongo    *store.Mongo
	embedded *embedded.Servers
}

// openStores starts the embedded servers when no URLs are configured, then
// connects to Redis and MongoDB the same way in both modes.
func openStores(ctx context.Context, cfg *config.Config, log *slog.Logger) (*stores, error) {
	s := &stores{}
	redisURL, mongoURI := cfg.RedisURL, cfg.MongoURI
	if cfg.Embedded() {
		srv, err := embedded.Start(cfg.DataDir, embedded.Quiet(log.With("comp", "ferretdb")))
		if err != nil {
			return nil, err
		}
		s.embedded = srv
		redisURL, mongoURI = srv.RedisURL, srv.MongoURI
		log.Warn("embedded mode: Redis state (survey progress in flight) lives in memory and is lost on restart; saved invitations and responses are kept in "+filepath.Join(cfg.DataDir, "ferretdb"),
			"comp", "gateway")
	}
	var err error
	if s.redis, err = store.OpenRedis(ctx, redisURL); err != nil {
		s.close(context.Background())
		return nil, err
	}
	if s.mongo, err = store.OpenMongo(ctx, mongoURI, cfg.MongoDatabase); err != nil {
		s.close(context.Background())
		return nil, err
	}
	return s, nil
}

func (s *stores) close(ctx context.Context) {
	if s.redis != nil {
		_ = s.redis.Close()
	}
	if s.mongo != nil {
		_ = s.mongo.Close(ctx)
	}
	if s.embedded != nil {
		s.embedded.Stop()
	}
}

// keyFile returns the key kept in dir/name, making one the first time, so a
// restart keeps the same key.
func keyFile(dir, name string) (key string, made bool, err error) {
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", false, err
	}
	key = hex.EncodeToString(raw[:])
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w (is GATEWAY_DATA_DIR writable?)", path, err)
	}
	return key, true, nil
}

// fillKeys supplies the secret and admin keys the configuration left unset.
func fillKeys(cfg *config.Config) (adminMade bool, err error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return false, fmt.Errorf("GATEWAY_DATA_DIR %s: %w", cfg.DataDir, err)
	}
	if cfg.SecretKey == "" {
		if cfg.SecretKey, _, err = keyFile(cfg.DataDir, "secret.key"); err != nil {
			return false, err
		}
	}
	if cfg.AdminKey == "" {
		if cfg.AdminKey, adminMade, err = keyFile(cfg.DataDir, "admin.key"); err != nil {
			return false, err
		}
	}
	return adminMade, nil
}

// printAdminKey says where the admin key comes from. It shows the key only
// when this start made it: a key that was given, or kept from an earlier
// start, is already known to whoever needs it, and a start-up log is read
// (and kept) by more people than the key is meant for.
func printAdminKey(out io.Writer, cfg config.Config, made, given bool, args []string, getenv func(string) string) {
	file := filepath.Join(cfg.DataDir, "admin.key")
	switch {
	case made:
		fmt.Fprintf(out, "admin key (new, kept in %s): %s\n", file, cfg.AdminKey)
	case given:
		fmt.Fprintf(out, "admin key (from %s; not shown)\n", adminKeySource(args, getenv))
	default:
		fmt.Fprintf(out, "admin key (kept in %s since an earlier start; not shown)\n", file)
	}
}

// adminKeySource names the setting that gave the admin key, by the order
// config.Load applies them: flag, environment, then the config file.
func adminKeySource(args []string, getenv func(string) string) string {
	for _, a := range args {
		if name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && name == "admin-key" {
			return "the -admin-key flag"
		}
	}
	switch {
	case getenv("GATEWAY_ADMIN_KEY") != "":
		return "GATEWAY_ADMIN_KEY"
	case getenv("GATEWAY_ADMIN_KEY_FILE") != "":
		return "GATEWAY_ADMIN_KEY_FILE " + getenv("GATEWAY_ADMIN_KEY_FILE")
	}
	return "the config file"
}
