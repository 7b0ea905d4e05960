package channels

import (
	"context"
	"errors"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// callLock is how long a placed call holds its phone: longer than any
// survey call. The call's end (its status webhook) frees it sooner.
const callLock = 20 * time.Minute

// callBusyWait is how long a call waits when its phone is being called
// already (another invitation's call, or a callback under way).
const callBusyWait = 5 * time.Minute

// call places send job j's call to invitation inv's phone on voice
// channel ch: one call at a time per phone, the attempt counted in the
// phone's messages of the day (gate took it). How the call went comes
// with its end (voice.Ended): answered, or tried again, or the SMS
// fallback. A call that cannot be placed at all (refused by the
// provider) falls back to SMS at once.
func (d *Dispatcher) call(ctx context.Context, j store.SendJob, inv *store.Invitation, ch *core.Channel, p Provider, phone string, st store.SendStatus, now time.Time) error {
	c := d.Core
	ok, err := c.Calls.LockPhone(ctx, inv.Respondent, j.ID, callLock)
	if err != nil || !ok {
		c.GiveBackMessage(ctx, inv.Respondent, core.SendOf(j), now)
		if err != nil {
			return err
		}
		return c.Queue.Postpone(ctx, j, now.Add(callBusyWait))
	}
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: phone, Invitation: inv.ID, Dossier: inv.DossierCode})
	if err != nil {
		c.GiveBackMessage(ctx, inv.Respondent, core.SendOf(j), now)
		_ = c.Calls.UnlockPhone(ctx, inv.Respondent, j.ID)
		var se *SendError
		if errors.As(err, &se) && (!se.Retryable() || j.Attempt+1 >= MaxAttempts) {
			se.Fallback = true
		}
		return d.failed(ctx, j, j.Channel, st, inv, err)
	}
	// Still queued: a call reaches the citizen (sent, in the reach
	// figures) only once a person picks up, which its end tells.
	st.Status, st.Error = store.SendQueued, "call "+pid+" placed"
	return d.finish(ctx, j, j.Channel, st)
}
