package zalo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// refreshAhead is how long before expiry tokens are refreshed.
const refreshAhead = time.Hour

// tokens keeps a channel's access token working. Only one replica refreshes
// at a time (a Redis lease), and the new single-use refresh token is stored
// with the new access token, in one write, before that token is used. A
// refresh that fails leaves the old tokens in place, logs, and shows a
// warning on /readyz.
type tokens struct {
	core *core.Service
	log  *slog.Logger
}

// refresh renews ch's tokens unless another replica already did (the
// stored access token is no longer stale). It returns the channel with the
// tokens to use.
func (t *tokens) refresh(ctx context.Context, ch *core.Channel, stale string) (*core.Channel, error) {
	lease, err := t.lease(ctx, ch.ID)
	if err != nil {
		return nil, err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	cur, err := t.core.FreshChannel(ctx, ch.ID) // not a cached copy: the refresh token is single-use
	if err != nil {
		return nil, err
	}
	if cur.Secrets["access_token"] != stale {
		return cur, nil // refreshed by someone else meanwhile
	}
	tr, life, err := refreshTokens(ctx, cur)
	if err != nil {
		msg := fmt.Sprintf("token refresh failed at %s: %v; the old tokens are kept — check app_secret and refresh_token", time.Now().UTC().Format(time.RFC3339), err)
		t.log.Error("zalo token refresh failed; old tokens kept", "channel", ch.ID, "err", err)
		_ = t.core.Warnings.Set(ctx, ch.ID, msg)
		return nil, errors.Join(errTokenRefresh, err)
	}
	expires := time.Now().Add(life)
	if err := t.core.SetTokens(ctx, ch.ID, map[string]string{"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken}, expires); err != nil {
		// The refresh token is spent and the new one is not stored: say so loudly.
		t.log.Error("zalo tokens refreshed but not stored; re-authorise the OA if calls start failing", "channel", ch.ID, "err", err)
		_ = t.core.Warnings.Set(ctx, ch.ID, "new tokens could not be stored: "+err.Error())
		return nil, err
	}
	_ = t.core.Warnings.Clear(ctx, ch.ID)
	t.log.Info("zalo tokens refreshed", "channel", ch.ID, "expires_at", expires.UTC().Format(time.RFC3339))
	return t.core.FreshChannel(ctx, ch.ID)
}

var errTokenRefresh = errors.New("zalo token refresh failed")

// lease takes the channel's refresh lock, waiting for another holder.
func (t *tokens) lease(ctx context.Context, id string) (*store.Lease, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		l, err := t.core.Locks.Acquire(ctx, "zalo-token:"+id, 30*time.Second)
		if !errors.Is(err, store.ErrLocked) {
			return l, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("zalo token of %s: another replica holds the refresh lock", id)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fresh returns ch, refreshed first when its token expires soon.
func (t *tokens) fresh(ctx context.Context, ch *core.Channel) (*core.Channel, error) {
	if ch.TokenExpires.IsZero() || time.Until(ch.TokenExpires) > refreshAhead {
		return ch, nil
	}
	return t.refresh(ctx, ch, ch.Secrets["access_token"])
}

// withToken runs fn with a fresh token; on -216/-220 it refreshes once and
// retries once.
func (t *tokens) withToken(ctx context.Context, ch *core.Channel, fn func(token string) error) error {
	ch, err := t.fresh(ctx, ch)
	if err != nil {
		return err
	}
	err = fn(ch.Secrets["access_token"])
	var ae *apiError
	if !errors.As(err, &ae) || !ae.tokenProblem() {
		return err
	}
	ch, rerr := t.refresh(ctx, ch, ch.Secrets["access_token"])
	if rerr != nil {
		return errors.Join(err, rerr)
	}
	return fn(ch.Secrets["access_token"])
}

// RefreshTokens renews a channel's tokens now unless its access token is no
// longer stale (another replica refreshed it); for operators' tools and tests.
func RefreshTokens(ctx context.Context, c *core.Service, log *slog.Logger, channelID, stale string) error {
	ch, err := c.Channel(ctx, channelID)
	if err != nil {
		return err
	}
	_, err = (&tokens{core: c, log: log}).refresh(ctx, ch, stale)
	return err
}
