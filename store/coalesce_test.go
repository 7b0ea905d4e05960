package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// busy keeps Redis running one script for ARGV[1] µs: while it runs, the
// one round trip a client with limit 1 may fly is taken.
var busy = redis.NewScript(`local t0 = redis.call('TIME')
repeat local t = redis.call('TIME')
until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > tonumber(ARGV[1])
return 1`)

var twice = redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1]) * 2`)

func coalesced(t *testing.T, limit int) (redis.UniversalClient, func() int64, func() int) {
	t.Helper()
	c, batches, waiting, err := store.CoalescedClient("redis://"+testenv.RedisServer(t), limit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	return c, batches, waiting
}

// hold takes the client's one round trip for d; it returns a channel
// closed when the round trip is over, once callers queue behind it.
func hold(t *testing.T, c redis.UniversalClient, d time.Duration) <-chan struct{} {
	t.Helper()
	if err := busy.Load(context.Background(), c).Err(); err != nil {
		t.Fatal(err)
	}
	over := make(chan struct{})
	go func() {
		defer close(over)
		if err := busy.Run(context.Background(), c, nil, d.Microseconds()).Err(); err != nil {
			t.Error(err)
		}
	}()
	return over
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
	}
}

// Callers that queue behind a round trip in flight go together in the
// next one, and each gets its own replies and its own errors.
func TestCoalescedCallersShareARoundTripAndKeepTheirReplies(t *testing.T) {
	c, batches, waiting := coalesced(t, 1)
	ctx := context.Background()
	p := fmt.Sprintf("co:%d:", time.Now().UnixNano())
	if err := c.Set(ctx, p+"str", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := twice.Load(ctx, c).Err(); err != nil {
		t.Fatal(err)
	}
	over := hold(t, c, 300*time.Millisecond)
	time.Sleep(20 * time.Millisecond)

	const callers = 24
	var wg sync.WaitGroup
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("%sk%d", p, i)
			switch i % 4 {
			case 0: // a pipeline: its replies in order
				var get *redis.StringCmd
				_, err := c.Pipelined(ctx, func(pp redis.Pipeliner) error {
					pp.Set(ctx, k, i, time.Minute)
					get = pp.Get(ctx, k)
					return nil
				})
				if err == nil && get.Val() != fmt.Sprint(i) {
					err = fmt.Errorf("pipeline read %q", get.Val())
				}
				errs[i] = err
			case 1: // a script
				n, err := twice.Run(ctx, c, []string{k}, i).Int()
				if err == nil && n != 2*i {
					err = fmt.Errorf("script gave %d", n)
				}
				errs[i] = err
			case 2: // a missing key: redis.Nil for this caller only
				if err := c.Get(ctx, k).Err(); !errors.Is(err, redis.Nil) {
					errs[i] = fmt.Errorf("missing key: %v", err)
				}
			case 3: // a wrong type: this caller's error only
				err := c.HGet(ctx, p+"str", "f").Err()
				if err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
					errs[i] = fmt.Errorf("wrong type: %v", err)
				}
			}
		}()
	}
	waitFor(t, "every caller queued", func() bool { return waiting() == callers })
	<-over
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if b := batches(); b != 1 {
		t.Errorf("%d round trips carried the queue of %d callers, want 1", b, callers)
	}
}

// A caller whose context ends while it waits leaves the queue: its
// command is never sent.
func TestCoalescedCallerLeavesTheQueueWhenItsContextEnds(t *testing.T) {
	c, _, waiting := coalesced(t, 1)
	k := fmt.Sprintf("co:%d:left", time.Now().UnixNano())
	over := hold(t, c, 300*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Set(ctx, k, 1, time.Minute).Err() }()
	waitFor(t, "the caller queued", func() bool { return waiting() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	if w := waiting(); w != 0 {
		t.Fatalf("%d still queued", w)
	}
	var get *redis.StringCmd
	go func() {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			get = p.Get(ctx, k)
			return nil
		})
		done <- err
	}()
	if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(get.Err(), context.Canceled) {
		t.Fatalf("a cancelled pipeline: %v, its command: %v", err, get.Err())
	}
	<-over
	if err := c.Get(context.Background(), k).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("the cancelled SET reached Redis: %v", err)
	}
}

// A read that blocks on the server does not take the round trip others
// would queue behind, and a transaction never joins a queue: WATCH, MULTI
// and EXEC stay on one connection.
func TestBlockingReadsAndTransactionsKeepTheirConnection(t *testing.T) {
	c, _, waiting := coalesced(t, 1)
	ctx := context.Background()
	p := fmt.Sprintf("co:%d:", time.Now().UnixNano())

	read := make(chan error, 1)
	go func() {
		read <- c.XRead(ctx, &redis.XReadArgs{Streams: []string{p + "stream", "$"}, Block: 5 * time.Second}).Err()
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Set(ctx, p+"a", 1, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-read:
		t.Fatalf("the blocking read ended first: %v", err)
	default:
	}
	if err := c.XAdd(ctx, &redis.XAddArgs{Stream: p + "stream", Values: []any{"f", 1}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	_ = c.Expire(ctx, p+"stream", time.Minute)

	var watched int64
	var inTx *redis.IntCmd
	err := c.Watch(ctx, func(tx *redis.Tx) error {
		watched = tx.ClientID(ctx).Val()
		_, err := tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
			pp.Incr(ctx, p+"a")
			pp.Expire(ctx, p+"a", time.Minute)
			inTx = pp.ClientID(ctx)
			return nil
		})
		return err
	}, p+"a")
	if err != nil {
		t.Fatal(err)
	}
	if watched == 0 || watched != inTx.Val() {
		t.Fatalf("WATCH ran on connection %d, the transaction on %d", watched, inTx.Val())
	}

	over := hold(t, c, 200*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	txDone := make(chan error, 1)
	go func() {
		_, err := c.TxPipelined(ctx, func(pp redis.Pipeliner) error {
			pp.Incr(ctx, p+"a")
			return nil
		})
		txDone <- err
	}()
	for range 50 {
		if w := waiting(); w != 0 {
			t.Fatalf("a transaction queued (%d waiting)", w)
		}
		time.Sleep(time.Millisecond)
	}
	<-over
	if err := <-txDone; err != nil {
		t.Fatal(err)
	}
	if n, err := c.Get(ctx, p+"a").Int(); err != nil || n != 3 {
		t.Fatalf("counter %d, %v: want 3", n, err)
	}
}

// boom is an argument whose encoding panics.
type boom struct{}

func (boom) MarshalBinary() ([]byte, error) { panic("boom") }

// A panic while a round trip is written fails that round trip's commands,
// not the process, and frees its slot: later commands still go.
func TestCoalescedRoundTripSurvivesAPanic(t *testing.T) {
	c, _, waiting := coalesced(t, 1)
	ctx := context.Background()
	k := fmt.Sprintf("co:%d:after", time.Now().UnixNano())
	alive := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := c.Set(ctx, k, 1, time.Minute).Err(); err != nil {
			t.Fatalf("after the panic: %v", err)
		}
	}

	func() { // at once: the caller's own panic, as without coalescing
		defer func() {
			if recover() == nil {
				t.Fatal("no panic")
			}
		}()
		c.Set(ctx, k, boom{}, time.Minute)
	}()
	alive()

	over := hold(t, c, 200*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	errs := make(chan error, 2)
	go func() { errs <- c.Set(ctx, k+":x", boom{}, time.Minute).Err() }()
	go func() { errs <- c.Set(ctx, k+":y", 1, time.Minute).Err() }()
	waitFor(t, "both queued", func() bool { return waiting() == 2 })
	<-over
	for range 2 {
		if err := <-errs; err == nil || !strings.Contains(err.Error(), "panicked") {
			t.Errorf("a command of the panicking round trip: %v", err)
		}
	}
	alive()
}

// A long queue goes as round trips of at most 512 commands, a caller's
// pipeline whole in one of them.
func TestCoalescedRoundTripsAreBounded(t *testing.T) {
	c, batches, waiting := coalesced(t, 1)
	ctx := context.Background()
	p := fmt.Sprintf("co:%d:", time.Now().UnixNano())
	over := hold(t, c, 300*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	errs := make(chan error, 3)
	for i := range 3 { // 200 commands each: two callers fit in 512, not three
		go func() {
			cmds, err := c.Pipelined(ctx, func(pp redis.Pipeliner) error {
				for j := range 100 {
					k := fmt.Sprintf("%s%d:%d", p, i, j)
					pp.Set(ctx, k, j, time.Minute)
					pp.Get(ctx, k)
				}
				return nil
			})
			for j := 1; err == nil && j < len(cmds); j += 2 {
				if v := cmds[j].(*redis.StringCmd).Val(); v != fmt.Sprint(j/2) {
					err = fmt.Errorf("caller %d read %q for %d", i, v, j/2)
				}
			}
			errs <- err
		}()
	}
	waitFor(t, "three callers queued", func() bool { return waiting() == 3 })
	<-over
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if b := batches(); b != 2 {
		t.Errorf("600 queued commands went in %d round trips, want 2 (400 and 200)", b)
	}
}
