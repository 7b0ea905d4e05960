package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// dies makes a Redis client fail every command once its process is
// "killed": a dead process neither commits nor releases anything.
type dies struct{ dead atomic.Bool }

func (d *dies) DialHook(next redis.DialHook) redis.DialHook { return next }
func (d *dies) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if d.dead.Load() {
			cmd.SetErr(errKilled)
			return errKilled
		}
		return next(ctx, cmd)
	}
}
func (d *dies) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if d.dead.Load() {
			for _, cmd := range cmds {
				cmd.SetErr(errKilled)
			}
			return errKilled
		}
		return next(ctx, cmds)
	}
}

var errKilled = errors.New("the process was killed")

// A delivery whose process died while applying a message leaves its
// in-flight marker behind; the provider's retry takes the message over
// within about a second, not after a lease long enough for the slowest
// live step (it was 10 s, and retries after a crash waited that long).
func TestStepTakesOverFromADeadDeliveryPromptly(t *testing.T) {
	r := testenv.Redis(t)
	killed := &dies{}
	doomed := testenv.Redis(t)
	doomed.AddHook(killed)
	who := testenv.RandomID()
	_, err := (&store.Conversations{R: doomed, TTL: time.Hour}).Step(ctx, who, "sms", "k", nil, func([]byte) ([]byte, error) {
		killed.dead.Store(true)
		return nil, errKilled
	})
	if !errors.Is(err, errKilled) {
		t.Fatalf("the killed delivery: %v", err)
	}
	if !r.HExists(ctx, "gw:conv:{"+who+"}:seen", "sms:k").Val() {
		t.Fatal("the dead delivery left no in-flight marker: nothing to take over")
	}
	retry, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c := &store.Conversations{R: r, TTL: time.Hour}
	if dup, err := c.Step(retry, who, "sms", "k", nil, appendMsg("k")); err != nil || dup {
		t.Fatalf("the retry after a crash: dup %v, %v", dup, err)
	}
	if got := stateList(t, c, who); len(got) != 1 || got[0] != "k" {
		t.Fatalf("state after the retry: %v", got)
	}
}

// A live delivery slower than the lease keeps its marker fresh: a retry
// that arrives meanwhile waits for its mark instead of running the step
// beside it.
func TestStepWaitsForASlowLiveDelivery(t *testing.T) {
	c := &store.Conversations{R: testenv.Redis(t), TTL: time.Hour}
	who := testenv.RandomID()
	var runs atomic.Int32
	started, finished := make(chan struct{}), make(chan error, 1)
	go func() {
		io := &store.StepIO{}
		_, err := c.Step(ctx, who, "sms", "slow", io, func(state []byte) ([]byte, error) {
			runs.Add(1)
			close(started)
			time.Sleep(3 * time.Second) // three leases
			io.Mark = `["slow"]`
			return appendMsg("slow")(state)
		})
		finished <- err
	}()
	<-started
	io := &store.StepIO{}
	dup, err := c.Step(ctx, who, "sms", "slow", io, func([]byte) ([]byte, error) {
		runs.Add(1)
		return nil, errors.New("ran beside a live delivery")
	})
	if err := <-finished; err != nil {
		t.Fatalf("the slow delivery: %v", err)
	}
	if err != nil || !dup || io.Seen != `["slow"]` || runs.Load() != 1 {
		t.Fatalf("the retry: dup %v, seen %q, %v; the step ran %d times", dup, io.Seen, err, runs.Load())
	}
}
