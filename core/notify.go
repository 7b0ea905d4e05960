package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipasvn/gateway/store"
)

// Sign is the hex HMAC-SHA256 of body keyed by secret: the signature of
// the generic SMS format and of the agencies' webhooks.
func Sign(secret string, body []byte) string {
	sum := MAC(secret, body)
	return hex.EncodeToString(sum[:])
}

// MAC is the HMAC-SHA256 of body keyed by secret. Every inbound SMS of the
// generic format is checked with one, so each secret's store.KeyedMAC is
// kept for reuse. Rotated secrets are forgotten once maxMACKeys are kept.
func MAC(secret string, body []byte) [sha256.Size]byte {
	v, ok := macs.Load(secret)
	if !ok {
		if macKeys.Add(1) > maxMACKeys {
			macs.Clear()
			macKeys.Store(1)
		}
		v, _ = macs.LoadOrStore(secret, store.NewKeyedMAC([]byte(secret)))
	}
	return v.(*store.KeyedMAC).Sum(body)
}

var (
	macs    sync.Map // secret → its *store.KeyedMAC
	macKeys atomic.Int64
)

const maxMACKeys = 1000

// notice queues a case event for agency's webhook (none without a stream).
func (s *Service) notice(ctx context.Context, event, agency string, c *store.Case) error {
	if s.Notices == nil {
		return nil
	}
	return s.Notices.Add(ctx, store.NoticeEntry(event, agency, c, s.now()))
}

// noticeAttempts is how many times a notice is tried before it goes to the
// dead letters (Key:dead).
const noticeAttempts = 8

// DeliverNotices posts queued notices to their agencies' webhooks, signed
// with the agency's secret, until none waits; a failed one is tried again
// on a later pass (it stays pending) and buried after noticeAttempts. An
// agency without a webhook now drops its notices.
func (s *Service) DeliverNotices(ctx context.Context, consumer string, client *http.Client) (failed bool, err error) {
	for {
		es, err := s.Notices.Read(ctx, consumer, 20, time.Minute, -1)
		if err != nil || len(es) == 0 {
			return failed, err
		}
		progress := false
		for _, e := range es {
			err := s.deliver(ctx, client, e)
			if err == nil {
				progress = true
				if err := s.Notices.Ack(ctx, e.ID); err != nil {
					return failed, err
				}
				continue
			}
			failed = true
			n, ferr := s.Notices.Failed(ctx, e.ID)
			if ferr != nil {
				return failed, ferr
			}
			if n >= noticeAttempts {
				if err := s.Notices.Bury(ctx, e, err.Error()); err != nil {
					return failed, err
				}
				progress = true
			}
		}
		if !progress {
			return failed, nil // only failures left: a later pass tries again
		}
	}
}

func (s *Service) deliver(ctx context.Context, client *http.Client, e store.Entry) error {
	ag, err := s.Mongo.Agencies.Agency(ctx, e.Fields["agency"])
	if errors.Is(err, store.ErrNotFound) || (err == nil && ag.Webhook == nil) {
		return nil // nobody to tell any more
	}
	if err != nil {
		return err
	}
	body := []byte(e.Fields["notice"])
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ag.Webhook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", Sign(ag.Webhook.Secret, body))
	var n store.CaseNotice
	_ = json.Unmarshal(body, &n)
	req.Header.Set("X-Event", n.Event)
	req.Header.Set("X-Notice-Id", noticeID(e, &n))
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("webhook of %s answered %d", ag.Code, res.StatusCode)
	}
	return nil
}

// noticeID is the X-Notice-Id of every delivery of an entry, retries
// included. Delivery is at least once (a failed or unanswered post is
// tried again, and a replayed roll-up batch queues its notices again), so
// receivers dedupe on this header: the same id is the same notice. An
// entry queued before entries had ids gets the same id from its notice.
func noticeID(e store.Entry, n *store.CaseNotice) string {
	if id := e.Fields["id"]; id != "" {
		return id
	}
	return store.NoticeID(n.Event, n.Case.ID)
}

// RunNotices delivers notices until ctx ends: every few seconds, and
// after a failure a minute later.
func (s *Service) RunNotices(ctx context.Context, consumer string, log *slog.Logger) {
	client := &http.Client{Timeout: 10 * time.Second}
	for ctx.Err() == nil {
		wait := 3 * time.Second
		failed, err := s.DeliverNotices(ctx, consumer, client)
		if err != nil && ctx.Err() == nil {
			log.Warn("case notices: Redis or MongoDB failed; retrying", "err", err)
		}
		if failed || err != nil {
			wait = time.Minute
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}
