package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A pooled connection the server closed while it sat idle (a restart, a
// failover, CLIENT KILL) costs the next command nothing but a retry on a
// new connection: the pool does not check connections before use.
func TestRedisClosedIdleConnectionIsRetried(t *testing.T) {
	ctx := context.Background()
	c, err := store.OpenRedis(ctx, "redis://"+testenv.RedisServer(t)+"?pool_size=1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	killer := testenv.Redis(t)
	for i := range 3 {
		id, err := c.ClientID(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := killer.ClientKillByFilter(ctx, "ID", strconv.FormatInt(id, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.Set(ctx, "gw:test:killed", i, 0).Err(); err != nil {
			t.Fatalf("round %d: a command on a killed idle connection failed: %v", i, err)
		}
		again, err := c.ClientID(ctx).Result()
		if err != nil || again == id {
			t.Fatalf("round %d: still on connection %d (%d, %v)", i, id, again, err)
		}
	}
}
