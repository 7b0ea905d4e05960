package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"
)

// Outbox makes a completed response durable in Redis before anything is
// acknowledged, and decides "exactly once" there: a done mark per
// invitation and the stream entry are written in one script. The response
// then goes to MongoDB at once when it can, or later from the stream when
// MongoDB is down or slow (see core.Service.RunOutbox).
type Outbox struct {
	Stream
	// DoneTTL is how long a done mark is kept (beyond any invitation's life).
	DoneTTL time.Duration
}

// NewOutbox returns the outbox of a deployment. Its keys share one hash
// tag, so the script works on Redis Cluster.
func NewOutbox(r redis.UniversalClient, name string) *Outbox {
	return &Outbox{Stream: Stream{R: r, Key: "gw:{outbox:" + name + "}", Group: "gateway"}, DoneTTL: 400 * 24 * time.Hour}
}

func (o *Outbox) doneKey(invitation string) string { return o.Key + ":done:" + invitation }

var putResponse = redis.NewScript(`
if redis.call("EXISTS", KEYS[2]) == 1 then return "" end
redis.call("SET", KEYS[2], "1", "PX", ARGV[2])
return redis.call("XADD", KEYS[1], "*", "response", ARGV[1])`)

// Put stores r unless its invitation already has a response in the outbox;
// it returns the stream entry id, or "" when the invitation was done.
func (o *Outbox) Put(ctx context.Context, r *Response) (string, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	id, err := putResponse.Run(ctx, o.R, []string{o.Key, o.doneKey(r.InvitationID)}, b, o.DoneTTL.Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("outbox: %w", err)
	}
	return id, nil
}

// Done reports whether the invitation has a response in the outbox.
func (o *Outbox) Done(ctx context.Context, invitation string) (bool, error) {
	n, err := o.R.Exists(ctx, o.doneKey(invitation)).Result()
	return n == 1, err
}

// Decode reads a stream entry's response.
func (o *Outbox) Decode(e Entry) (*Response, error) {
	var r Response
	if err := json.Unmarshal([]byte(e.Fields["response"]), &r); err != nil {
		return nil, fmt.Errorf("outbox entry %s: %w", e.ID, err)
	}
	return &r, nil
}

// Unavailable reports whether err means a store cannot be reached (as
// opposed to refusing what was asked): worth waiting and retrying.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, &ne) || errors.Is(err, mongo.ErrClientDisconnected) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"server selection", "connection refused", "connection reset", "broken pipe", "i/o timeout", "EOF", "context deadline exceeded", "client is closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// OldestAge is how long the oldest waiting response has waited (0 if none).
func (o *Outbox) OldestAge(ctx context.Context) (time.Duration, error) {
	msgs, err := o.R.XRangeN(ctx, o.Key, "-", "+", 1).Result()
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	var ms int64
	if _, err := fmt.Sscanf(msgs[0].ID, "%d-", &ms); err != nil {
		return 0, nil
	}
	return time.Since(time.UnixMilli(ms)), nil
}
