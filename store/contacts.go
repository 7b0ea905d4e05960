package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Contacts keeps, per phone (its keyed hash), the day's messages and the
// invitation that holds its contact window (see core.Reach): counters in
// Redis, read and changed by one script call each, so two replicas'
// senders cannot both take the last message of a day or both invite one
// phone. Redis losing them (the embedded default after a crash) forgets
// the limits until they fill again; nothing is sent twice because of it.
type Contacts struct {
	R    redis.UniversalClient
	Name string
}

// dailyKey holds the day's messages to who as a set of the sends that
// took them (their job and attempt), so a take or a give-back sent again
// by go-redis after a lost reply counts once. (The counter it replaced,
// gw:daily:…, is left to expire.)
func (c *Contacts) dailyKey(who, day string) string {
	return "gw:dailysends:" + c.Name + ":{" + who + "}:" + day
}

func (c *Contacts) contactKey(who string) string { return "gw:contact:" + c.Name + ":{" + who + "}" }

var takeDaily = redis.NewScript(`
if redis.call("SISMEMBER", KEYS[1], ARGV[3]) == 1 then return 1 end
if redis.call("SCARD", KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call("SADD", KEYS[1], ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1`)

// TakeDaily takes one of the max messages of day (YYYY-MM-DD) to who for
// send (a job's id and attempt: the same send takes one message however
// often it asks); false when they are all taken.
func (c *Contacts) TakeDaily(ctx context.Context, who, day, send string, max int) (bool, error) {
	ok, err := takeDaily.Run(ctx, c.R, []string{c.dailyKey(who, day)}, max, (48 * time.Hour).Milliseconds(), send).Int()
	if err != nil {
		return false, fmt.Errorf("count the day's messages to a phone: %w", err)
	}
	return ok == 1, nil
}

// GiveBackDaily returns the message TakeDaily took for send, which did
// not go out (the provider refused it, or it waits for a retry).
func (c *Contacts) GiveBackDaily(ctx context.Context, who, day, send string) error {
	return c.R.SRem(ctx, c.dailyKey(who, day), send).Err()
}

// Daily is how many of day's messages to who were taken.
func (c *Contacts) Daily(ctx context.Context, who, day string) (int, error) {
	n, err := c.R.SCard(ctx, c.dailyKey(who, day)).Result()
	return int(n), err
}

var claimContact = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v then
  local sep = string.find(v, "|", 1, true)
  if sep and tonumber(string.sub(v, sep + 1)) > tonumber(ARGV[2]) then return string.sub(v, 1, sep - 1) end
end
redis.call("SET", KEYS[1], ARGV[1] .. "|" .. ARGV[3], "PX", ARGV[4])
return ARGV[1]`)

// ClaimContact makes invitation inv the one that contacts who from now
// for every (its other channels, retries and fallback included), unless
// another invitation holds the window: then it returns that one's id. The
// window's end is kept with it, counted on the caller's clock (the key
// itself outlives it by a day).
func (c *Contacts) ClaimContact(ctx context.Context, who, inv string, now time.Time, every time.Duration) (holder string, err error) {
	end := now.Add(every)
	holder, err = claimContact.Run(ctx, c.R, []string{c.contactKey(who)}, inv, now.UnixMilli(), end.UnixMilli(),
		(every + 24*time.Hour).Milliseconds()).Text()
	if err != nil {
		return "", fmt.Errorf("read the phone's contact window: %w", err)
	}
	return holder, nil
}

var releaseContact = redis.NewScript(`
local v = redis.call("GET", KEYS[1])
if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. "|" then redis.call("DEL", KEYS[1]) end
return 1`)

// ReleaseContact gives the window back when inv holds it and reached no
// one (every send of it failed).
func (c *Contacts) ReleaseContact(ctx context.Context, who, inv string) error {
	return releaseContact.Run(ctx, c.R, []string{c.contactKey(who)}, inv).Err()
}
