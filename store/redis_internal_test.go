package store

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
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
	for _, bad := range []string{"http://x", "redis://h?master_name=m&bogus=1", "::"} {
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
// so it does not peek at the socket each time it hands one out.
func TestRedisConnectionsAreNotPeekedAt(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := uncheckedDialer(nil, 0)(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(syscall.Conn); ok {
		t.Fatal("the connection exposes SyscallConn: go-redis will peek at it on every use")
	}
	if uncheckedDialer(&tls.Config{}, 0) != nil {
		t.Fatal("a TLS connection does not keep go-redis' own dialer")
	}
}
