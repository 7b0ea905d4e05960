package main

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// gcPercent is the collector's target when the operator sets no GOGC:
// the heap may grow to five times what is live between collections,
// not twice. The gateway's live heap is small and it allocates some
// 40 KB per SMS webhook, so at the default it collected several times
// a second, about a seventh of its CPU. Measured in seven alternating
// pairs of servers-mode SMS runs: 233 against 216 µs of gateway CPU per
// webhook on average, for 37 MB more peak RSS (78 to 115 MB).
const gcPercent = 400

// cgroupLimits are where a container's memory limit is read, cgroup v2
// first.
var cgroupLimits = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// tuneGC sets the collector's target (gcPercent) unless GOGC is set and,
// unless GOMEMLIMIT is, a soft memory limit of three quarters of the
// container's memory limit, if it has one: near it the collector works
// harder rather than let the larger target run the process out of
// memory. It returns the limit set (0 for none).
func tuneGC(getenv func(string) string, limits []string) int64 {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") != "" {
		return 0
	}
	for _, f := range limits {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<50 { // "max", or cgroup v1's "no limit"
			return 0
		}
		debug.SetMemoryLimit(n / 4 * 3)
		return n / 4 * 3
	}
	return 0
}
