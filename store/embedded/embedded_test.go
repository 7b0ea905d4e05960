package embedded

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

func startBoth(t *testing.T, dir string) *Servers {
	t.Helper()
	s, err := Start(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// The embedded Redis answers only a client that gives this start's password.
func TestEmbeddedRedisRequiresThePassword(t *testing.T) {
	s := startBoth(t, t.TempDir())
	ctx := context.Background()
	u, err := url.Parse(s.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	if len(pw) < 20 {
		t.Fatalf("password %q in %s: want a long random one", pw, s.RedisURL)
	}
	for _, c := range []struct {
		name string
		opts *redis.Options
	}{
		{"no password", &redis.Options{Addr: u.Host}},
		{"wrong password", &redis.Options{Addr: u.Host, Password: "guess"}},
	} {
		r := redis.NewClient(c.opts)
		err := r.Set(ctx, "k", "v", 0).Err()
		_ = r.Close()
		if err == nil || !strings.Contains(err.Error(), "NOAUTH") && !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("%s: SET gave %v, want an authentication error", c.name, err)
		}
	}
	opts, err := redis.ParseURL(s.RedisURL)
	if err != nil {
		t.Fatal(err)
	}
	r := redis.NewClient(opts)
	defer r.Close()
	if err := r.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET with the URL's password: %v", err)
	}
	if again := startBoth(t, t.TempDir()); again.RedisURL == s.RedisURL {
		t.Fatal("two starts share a Redis password")
	}
}

// The embedded FerretDB takes any user name and password, so it asks for
// this start's client certificate instead: without it a client gets
// nothing, and only this user may read it.
func TestEmbeddedMongoRequiresTheClientCertificate(t *testing.T) {
	dir := t.TempDir()
	s := startBoth(t, dir)
	u, err := url.Parse(s.MongoURI)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("tlsCertificateKeyFile")
	noCert := (&url.URL{Scheme: "mongodb", Host: u.Host, Path: "/", RawQuery: q.Encode()}).String()
	for name, uri := range map[string]string{
		"plain TCP":                          "mongodb://" + u.Host + "/",
		"plain TCP, a password":              "mongodb://gateway:guess@" + u.Host + "/?authMechanism=PLAIN",
		"TLS without the client certificate": noCert,
	} {
		if err := ping(uri, time.Second); err == nil {
			t.Errorf("%s: %s answered", name, uri)
		}
	}
	if err := ping(s.MongoURI, 30*time.Second); err != nil {
		t.Fatalf("with the URI's certificate: %v", err)
	}
	tlsDir := filepath.Join(dir, "mongo-tls")
	want := map[string]os.FileMode{tlsDir: os.ModeDir | 0o700}
	for _, f := range []string{"ca.pem", "server.pem", "server-key.pem", "client.pem"} {
		want[filepath.Join(tlsDir, f)] = 0o600
	}
	for path, mode := range want {
		if fi, err := os.Stat(path); err != nil {
			t.Error(err)
		} else if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode(), mode)
		}
	}
}

// ping connects to uri and inserts a document: a server that lets a client
// connect and then refuses the command still counts as refusing.
func ping(uri string, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background())
	_, err = client.Database("t").Collection("c").InsertOne(ctx, bson.D{{Key: "n", Value: 1}})
	return err
}
