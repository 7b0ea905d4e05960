package core

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// While one batch is being written, every request that arrives queues, and
// the next leader writes them all in one batch; each item is written once
// and gets its own outcome.
func TestGroupCommitBatchesWhatQueues(t *testing.T) {
	var g groupCommit[int]
	var mu sync.Mutex
	var batches [][]int
	queued := func() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.queue) }
	save := func(_ context.Context, items []int) ([]error, error) {
		mu.Lock()
		first := len(batches) == 0
		batches = append(batches, items)
		mu.Unlock()
		for first && queued() < 99 { // hold the first batch until the rest queue
			time.Sleep(time.Millisecond)
		}
		errs := make([]error, len(items))
		for i, v := range items {
			if v%10 == 0 {
				errs[i] = errors.New("refused")
			}
		}
		return errs, nil
	}
	started := make(chan struct{})
	var wg sync.WaitGroup
	outcome := make([]error, 100)
	wg.Add(1)
	go func() { defer wg.Done(); close(started); outcome[1] = g.do(t.Context(), 1, save) }()
	<-started
	for queued() == 0 && func() bool { mu.Lock(); defer mu.Unlock(); return len(batches) == 0 }() {
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		if i == 1 {
			continue
		}
		wg.Add(1)
		go func() { defer wg.Done(); outcome[i] = g.do(t.Context(), i, save) }()
	}
	wg.Wait()
	if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != 99 {
		t.Fatalf("%d batches (sizes %d, …); want one of 1 then one of 99", len(batches), len(batches[0]))
	}
	seen := map[int]int{}
	for _, b := range batches {
		for _, v := range b {
			seen[v]++
		}
	}
	for i := 0; i < 100; i++ {
		if seen[i] != 1 {
			t.Fatalf("item %d written %d times", i, seen[i])
		}
		if (outcome[i] != nil) != (i%10 == 0) {
			t.Fatalf("item %d: outcome %v", i, outcome[i])
		}
	}
	if g.busy || len(g.queue) != 0 {
		t.Fatal("the group is left busy")
	}
}
