package store_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo/options"

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

// BenchmarkCasesIn is the follow-up list's read: one agency's cases of a
// month (100 of 3,000) and every agency's (3,000, a province-month at 1M
// dossiers a year and 3.6% unhappy), by index documents and _id lookups;
// and the work list, the 150 still open, from the Redis open-case index.
func BenchmarkCasesIn(b *testing.B) {
	m := testenv.Mongo(b)
	now := time.Now()
	month := store.MonthOf(now)
	var cases []*store.Case
	for i := range 3000 {
		id := testenv.RandomID()
		cases = append(cases, &store.Case{ID: id, ResponseID: id, InvitationID: "inv-" + id, Agency: "AG-" + strconv.Itoa(i%30),
			Dossier: "D-" + strconv.Itoa(i), Channel: "web", Survey: "sipas-5", Low: []string{"A"}, Reason: "low_score",
			Status: store.CaseOpen, OpenedAt: now, DueAt: now.Add(7 * 24 * time.Hour), Comment: strings.Repeat("chờ lâu ", 10)})
	}
	for i := 0; i < len(cases); i += 500 {
		if err := m.Cases.Open(ctx, cases[i:i+500]...); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("one agency", func(b *testing.B) {
		for b.Loop() {
			if got, err := m.Cases.In(ctx, []string{"AG-7"}, []string{month}); err != nil || len(got) != 100 {
				b.Fatalf("%d %v", len(got), err)
			}
		}
	})
	// The work list: 150 cases still open of the 3,000, from the Redis
	// index of open cases.
	open := &store.OpenCases{R: testenv.Redis(b), Name: testenv.RandomID()}
	if err := open.Add(ctx, cases[:150]...); err != nil {
		b.Fatal(err)
	}
	b.Run("open cases, province", func(b *testing.B) {
		for b.Loop() {
			ids, err := open.IDs(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			if got, err := m.Cases.Read(ctx, ids); err != nil || len(got) != 150 {
				b.Fatalf("%d %v", len(got), err)
			}
		}
	})
	b.Run("province", func(b *testing.B) {
		for b.Loop() {
			if got, err := m.Cases.In(ctx, nil, []string{month}); err != nil || len(got) != 3000 {
				b.Fatalf("%d %v", len(got), err)
			}
		}
	})
}

// BenchmarkUncountedBatch reads the roll-up writer's next batch of 200 from
// a backlog of uncounted copies, as it does on every pass: "sorted" the
// way it did before (FerretDB then reads and sorts the whole backlog),
// "natural" as it does now (FerretDB passes the limit to SQLite).
func BenchmarkUncountedBatch(b *testing.B) {
	m := testenv.Mongo(b)
	c := m.DB.Collection("bench_uncounted_" + testenv.RandomID())
	for _, backlog := range []int{2_000, 20_000} {
		if n, _ := c.CountDocuments(ctx, map[string]any{}); int(n) < backlog {
			docs := make([]any, 0, backlog-int(n))
			for i := int(n); i < backlog; i++ {
				docs = append(docs, map[string]any{"_id": fmt.Sprintf("%024x", i), "survey": "sipas-5", "agency_code": "000.00.12.H49",
					"answers": []map[string]any{{"question": "A", "score": 5}, {"question": "B", "score": 4}}, "comment": strings.Repeat("x", 60)})
			}
			if _, err := c.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
		}
		for _, sorted := range []bool{true, false} {
			name := map[bool]string{true: "sorted", false: "natural"}[sorted]
			b.Run(fmt.Sprintf("%s/backlog=%d", name, backlog), func(b *testing.B) {
				opts := options.Find().SetLimit(200)
				if sorted {
					opts.SetSort(map[string]any{"_id": 1})
				}
				for b.Loop() {
					cur, err := c.Find(ctx, map[string]any{}, opts)
					if err != nil {
						b.Fatal(err)
					}
					var got []map[string]any
					if err := cur.All(ctx, &got); err != nil || len(got) != 200 {
						b.Fatalf("%d %v", len(got), err)
					}
				}
			})
		}
	}
}
