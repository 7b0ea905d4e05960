package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// The collector's target is raised unless GOGC is set, and a container's
// memory limit bounds it unless GOMEMLIMIT is set.
func TestTuneGC(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(100); debug.SetMemoryLimit(math.MaxInt64) })
	dir := t.TempDir()
	file := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	limited, unlimited, v1none := file("v2", "1073741824\n"), file("max", "max\n"), file("v1", "9223372036854771712\n")

	debug.SetGCPercent(100)
	if got := tuneGC(env(), []string{filepath.Join(dir, "absent"), limited}); got != 805306368 || debug.SetMemoryLimit(-1) != 805306368 {
		t.Fatalf("a 1 GiB container: limit %d", got)
	}
	if p := debug.SetGCPercent(100); p != gcPercent {
		t.Fatalf("GOGC unset: %d", p)
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if got := tuneGC(env("GOGC", "100", "GOMEMLIMIT", "2GiB"), []string{limited}); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT set: limit %d", got)
	}
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("GOGC set: %d", p)
	}
	for _, f := range []string{unlimited, v1none} {
		if got := tuneGC(env("GOGC", "100"), []string{f}); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
			t.Fatalf("no container limit (%s): limit %d", f, got)
		}
	}
}
