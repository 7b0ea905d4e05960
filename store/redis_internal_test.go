package store

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRedisURLShapes(t *testing.T) {
	cases := map[string]string{
		"redis://localhost:6379/0":                            "*redis.Client",
		"rediss://user:pw@redis.example:6380/1":               "*redis.Client",
		"redis://s1:26379?master_name=mymaster&addr=s2:26379": "*redis.Client", // failover client
		"redis://n1:6379?addr=n2:6379&addr=n3:6379":           "*redis.ClusterClient",
	}
	for u, want := range cases {
		c, err := redisClient(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if got := fmt.Sprintf("%T", c); got != want {
			t.Errorf("%s: %s, want %s", u, got, want)
		}
		_ = c.Close()
	}
	for _, bad := range []string{"http://x", "redis://h?master_name=m&bogus=1", "::",
		"redis://s1:26379?master_name=m&route_by_latency=true", "redis://s1:26379?master_name=m&route_randomly=true"} {
		if _, err := redisClient(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// A Redis URL that cannot be read is refused without repeating its
// password: the error is printed at start-up, to every log collector.
func TestRedisURLErrorsHideThePassword(t *testing.T) {
	for _, bad := range []string{
		"redis://:s3cret-pw@127.0.0.1:6379/0%zz",
		"redis://user:s3cret-pw@[::1/0",
		"redis://:s3cret-pw@127.0.0.1:6379/x",
		"redis://:s3cret-pw@s1:26379?master_name=m&dial_timeout=zz",
		"redis://:s3cret-pw@n1:6379?addr=n2:6379&dial_timeout=zz",
	} {
		_, err := redisClient(bad)
		if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// Plain connections reach go-redis' pool without their file descriptor,
// so it does not peek at the socket each time it hands one out; TLS ones
// are TLS; and none is dialled before the client is ready.
func TestRedisDialer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ready := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := dialer(nil, 0, ready)(ctx, "tcp", l.Addr().String()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dialled before ready: %v", err)
	}
	close(ready)
	c, err := dialer(nil, 0, ready)(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(syscall.Conn); ok {
		t.Fatal("the connection exposes SyscallConn: go-redis will peek at it on every use")
	}
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	tc, err := dialer(&tls.Config{InsecureSkipVerify: true}, 0, ready)(context.Background(), "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if _, ok := tc.(*tls.Conn); !ok {
		t.Fatalf("a TLS URL dialled %T", tc)
	}
}
