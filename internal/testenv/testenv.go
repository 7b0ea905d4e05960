// Package testenv gives tests the real servers they need: a redis-server of
// their own and the MongoDB-protocol server named by GATEWAY_TEST_MONGO_URI
// (the test command starts FerretDB and sets it). A missing server or tool
// fails the test loudly; nothing is skipped.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/store"
)

// Tool returns the path of a command the test needs, or fails.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run the test command from the README (./test.sh), which installs it", name)
	}
	return p
}

var (
	redisOnce sync.Once
	redisAddr string
	redisErr  error
	redisCmd  *exec.Cmd
)

// RedisServer starts one redis-server for this test binary and returns its
// address. It dies with the test process.
func RedisServer(t testing.TB) string {
	t.Helper()
	bin := Tool(t, "redis-server")
	redisOnce.Do(func() {
		port, err := freePort()
		if err != nil {
			redisErr = err
			return
		}
		dir, err := os.MkdirTemp("", "gw-redis-")
		if err != nil {
			redisErr = err
			return
		}
		redisAddr = fmt.Sprintf("127.0.0.1:%d", port)
		redisCmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
		redisCmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if redisErr = redisCmd.Start(); redisErr != nil {
			return
		}
		redisErr = waitTCP(redisAddr, 10*time.Second)
	})
	if redisErr != nil {
		t.Fatalf("start redis-server: %v", redisErr)
	}
	return redisAddr
}

// Redis returns a client of this binary's redis-server.
func Redis(t testing.TB) redis.UniversalClient {
	t.Helper()
	c, err := store.OpenRedis(context.Background(), "redis://"+RedisServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// MongoURI is the server the test command started.
func MongoURI(t testing.TB) string {
	t.Helper()
	uri := os.Getenv("GATEWAY_TEST_MONGO_URI")
	if uri == "" {
		t.Fatal("GATEWAY_TEST_MONGO_URI is not set: run the test command from the README (./test.sh), which starts FerretDB, or point it at a MongoDB")
	}
	return uri
}

// Mongo opens the stores on a fresh database, dropped when the test ends.
func Mongo(t testing.TB) *store.Mongo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := store.OpenMongo(ctx, MongoURI(t), "t_"+RandomID())
	if err != nil {
		t.Fatalf("open mongo: %v", err)
	}
	t.Cleanup(func() {
		_ = m.DB.Drop(context.Background())
		_ = m.Close(context.Background())
	})
	return m
}

// RandomID is a short random name.
func RandomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after %s", addr, d)
}

// Concurrently runs fn in n goroutines at once (g is each one's number)
// and fails t with the first error any of them returns.
func Concurrently(t testing.TB, n int, fn func(g int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(g); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
