package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// TestDossierIndexMemory prints what the dossier index costs Redis per
// invitation (INFO used_memory before and after indexing 20,000 codes of
// 60 agencies over 6 months, as a province's look) and fails above 700
// bytes: docs/search.md plans a deployment's memory by it.
func TestDossierIndexMemory(t *testing.T) {
	ctx := context.Background()
	r := redis.NewClient(&redis.Options{Addr: testenv.RedisServer(t), DB: 15})
	defer r.Close()
	if err := r.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	d := &store.Dossiers{R: r, Name: "mem"}
	before := usedMemory(t, r)
	const n = 20000
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var batch []*store.Invitation
	for i := range n {
		agency := fmt.Sprintf("000.%02d.%02d.H49", i%3, 10+i%20)
		at := start.Add(time.Duration(i) * 6 * 30 * 24 * time.Hour / n)
		batch = append(batch, &store.Invitation{ID: primitive.NewObjectID().Hex(), AgencyCode: agency, CreatedAt: at,
			DossierCode: fmt.Sprintf("%s-%s-%04d", agency, at.Format("060102"), i%97)})
		if len(batch) == 1000 {
			if err := d.Add(ctx, batch...); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	per := (usedMemory(t, r) - before) / n
	t.Logf("dossier index: %d bytes per invitation (INFO used_memory, %d invitations)", per, n)
	if per > 700 {
		t.Errorf("dossier index: %d bytes per invitation, over 700", per)
	}
	_ = r.FlushDB(ctx)
}

func usedMemory(t *testing.T, r *redis.Client) int64 {
	t.Helper()
	info, err := r.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no used_memory")
	return 0
}
