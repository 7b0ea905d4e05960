package store

import "github.com/redis/go-redis/v9"

// CoalescedClient opens a client whose coalescing lets limit round trips
// fly; batches tells how many round trips carried a queue, waiting how
// many callers wait now.
func CoalescedClient(url string, limit int) (c redis.UniversalClient, batches func() int64, waiting func() int, err error) {
	c, h, err := coalescedClient(url, limit)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, h.batches.Load, h.waiting, nil
}

// DecodeMessageFast is DecodeMessage's own reader, without encoding/json.
func DecodeMessageFast(raw string, m *Message) bool { return m.decodeJSON(raw) }
