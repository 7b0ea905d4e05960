package core_test

import (
	"context"
	"testing"
	"unsafe"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// A webhook names its channel with a string fiber does not copy: its
// bytes are the request buffer's, reused for the next request. The cache
// keeps the channel under a copy of the id: under the borrowed string
// itself, the next request's bytes hid the channel from the cache, and
// keys changing inside the sync.Map made it panic ("ran out of hash
// bits") on every webhook of the channel after a restart under load.
func TestChannelCacheKeepsItsOwnKeys(t *testing.T) {
	g := gwtest.New(t, "")
	if res, out := g.API("PUT", "/api/v1/channels/sms-cache", map[string]any{"type": "sms.generic", "enabled": true,
		"settings": map[string]any{"send_url": "http://127.0.0.1:9/unused"}, "secrets": map[string]any{"secret": "cache-secret-0123456789"}}); res.StatusCode != 200 && res.StatusCode != 201 {
		t.Fatalf("put channel: %d %v", res.StatusCode, out)
	}
	buf := []byte("sms-cache")
	borrowed := unsafe.String(&buf[0], len(buf)) // as c.Params gives it
	ctx := context.Background()
	first, err := g.Core.Channel(ctx, borrowed)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "zalo-next") // the buffer's next request
	if ch, err := g.Core.Channel(ctx, "sms-cache"); err != nil || ch != first {
		t.Fatalf("after the buffer was reused the cache lost the channel: read %p %v, cached %p", ch, err, first)
	}
}
