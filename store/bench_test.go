package store_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// bump is a step on a state the size of a real one (about 100 bytes).
func bump(state []byte) ([]byte, error) {
	var s struct {
		N   int    `json:"n"`
		Pad string `json:"p"`
	}
	if state != nil {
		if err := json.Unmarshal(state, &s); err != nil {
			return nil, err
		}
	}
	s.N++
	s.Pad = strings.Repeat("x", 80)
	return json.Marshal(s)
}

// BenchmarkStep is one conversation step against the real redis-server:
// read the state and the dedupe mark, change it, commit it with the mark.
// "parallel" runs steps of many citizens at once, "contended" of one.
func BenchmarkStep(b *testing.B) {
	c := &store.Conversations{R: testenv.Redis(b), TTL: time.Hour}
	var msg atomic.Int64
	b.Run("serial", func(b *testing.B) {
		who := testenv.RandomID()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Step(ctx, who, "sms", strconv.FormatInt(msg.Add(1), 10), nil, bump); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, name := range []string{"parallel", "contended"} {
		b.Run(name, func(b *testing.B) {
			one := testenv.RandomID()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				who := testenv.RandomID()
				if name == "contended" {
					who = one
				}
				for pb.Next() {
					if _, err := c.Step(ctx, who, "sms", strconv.FormatInt(msg.Add(1), 10), nil, bump); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
