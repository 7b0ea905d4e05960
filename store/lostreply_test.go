package store_test

import (
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// lossy is a TCP proxy to the test Redis that, once armed, swallows the
// next reply the server sends and drops the connection: the command ran,
// its reply is lost on the wire, and go-redis sends it again on a new
// connection. gwtest.Resend imitates this inside the client; this is the
// real client, coalescing included, against the real server.
func lossy(t *testing.T) (addr string, arm func(), lost *atomic.Int32) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var armed atomic.Bool
	lost = &atomic.Int32{}
	target := testenv.RedisServer(t)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() {
				defer c.Close()
				defer s.Close()
				b := make([]byte, 64<<10)
				for {
					n, err := s.Read(b)
					if n > 0 && armed.CompareAndSwap(true, false) {
						lost.Add(1)
						return
					}
					if n > 0 {
						if _, err := c.Write(b[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String(), func() { armed.Store(true) }, lost
}

// A conversation step, a lock and an answer's put whose replies are lost
// on the wire answer as when they arrive.
func TestRepliesLostOnTheWire(t *testing.T) {
	addr, arm, lost := lossy(t)
	r, err := store.OpenRedis(ctx, "redis://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	name := testenv.RandomID()

	// The commit's reply is lost (its scripts loaded by a first step).
	cv := &store.Conversations{R: r, TTL: time.Hour}
	who := "p-" + testenv.RandomID()
	step := func(msg, next string, lose bool) bool {
		t.Helper()
		dup, err := cv.Step(ctx, who, "sms", msg, &store.StepIO{}, func([]byte) ([]byte, error) {
			if lose {
				arm()
			}
			return []byte(next), nil
		})
		if err != nil {
			t.Fatalf("step %s: %v", msg, err)
		}
		return dup
	}
	step("m1", "s1", false)
	if dup := step("m2", "s2", true); dup || lost.Load() != 1 {
		t.Fatalf("a step whose commit reply was lost: duplicate %v, %d replies lost", dup, lost.Load())
	}
	if st, err := cv.State(ctx, who); err != nil || string(st) != "s2" {
		t.Fatalf("state %q %v", st, err)
	}
	if dup := step("m2", "s3", false); !dup {
		t.Fatal("the same message again was applied")
	}

	l := &store.Locks{R: r}
	if lease, err := l.Acquire(ctx, "warm-"+name, time.Minute); err == nil {
		_ = lease.Release(ctx)
	}
	arm()
	if _, err := l.Acquire(ctx, "job-"+name, time.Minute); err != nil || lost.Load() != 2 {
		t.Fatalf("a lock whose reply was lost: %v, %d replies lost", err, lost.Load())
	}

	o := store.NewOutbox(r, name)
	if _, _, err := o.Put(ctx, &store.Response{ID: "r-warm", InvitationID: "inv-warm"}, nil); err != nil {
		t.Fatal(err)
	}
	arm()
	if id, _, err := o.Put(ctx, &store.Response{ID: "r-1", InvitationID: "inv-1"}, nil); err != nil || id == "" || lost.Load() != 3 {
		t.Fatalf("a put whose reply was lost: entry %q, %v, %d replies lost", id, err, lost.Load())
	}
	if n, err := o.Pending(ctx); err != nil || n != 2 {
		t.Fatalf("the outbox holds %d, %v", n, err)
	}
}
