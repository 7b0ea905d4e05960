package zalo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// event is a Zalo OA webhook event. Ids stay strings.
//
//	{"app_id": "360846524940903967", "event_name": "user_send_text",
//	 "timestamp": "1700000000000", "sender": {"id": "246845883529197922"},
//	 "recipient": {"id": "579745863508352884"}, "user_id_by_app": "552177279717587730",
//	 "message": {"text": "5", "msg_id": "96d3cdf3af150460909"}}
type event struct {
	AppID     flexString `json:"app_id"`
	Name      string     `json:"event_name"`
	Timestamp flexString `json:"timestamp"`
	Sender    struct {
		ID flexString `json:"id"`
	} `json:"sender"`
	Follower struct {
		ID flexString `json:"id"`
	} `json:"follower"`
	UserIDByApp flexString `json:"user_id_by_app"`
	Message     struct {
		Text       string       `json:"text"`
		MsgID      flexString   `json:"msg_id"`
		Rate       flexString   `json:"rate"`
		Note       string       `json:"note"`
		Feedbacks  []string     `json:"feedbacks"`
		TrackingID flexString   `json:"tracking_id"`
		MsgIDs     []flexString `json:"msg_ids"`
	} `json:"message"`
	Info struct {
		Phone flexString `json:"phone"`
		Name  string     `json:"name"`
	} `json:"info"`
}

// ParseEvent reads a verified event body.
func ParseEvent(body []byte) (event, error) {
	var e event
	if err := json.Unmarshal(body, &e); err != nil {
		return e, fmt.Errorf("zalo event is not JSON: %w", err)
	}
	if e.Name == "" {
		return e, errors.New("zalo event has no event_name")
	}
	return e, nil
}

// worker drains the inbox stream and keeps tokens fresh.
type worker struct {
	core   *core.Service
	log    *slog.Logger
	tokens *tokens
	name   string
}

// Run processes events until ctx ends. Entries a dead replica read but
// never acknowledged are taken over after 30 seconds; this replica's own
// unacknowledged entries are processed first after a restart.
func (w *worker) Run(ctx context.Context, d channels.Deps) {
	w.init(d)
	go w.refreshLoop(ctx)
	for ctx.Err() == nil {
		if err := w.Drain(ctx, 30*time.Second, time.Second); err != nil && ctx.Err() == nil {
			w.log.Error("zalo event pass failed; retrying", "err", err)
			time.Sleep(time.Second)
		}
	}
}

func (w *worker) init(d channels.Deps) {
	host, _ := os.Hostname()
	w.core, w.log = d.Core, d.Log.With("comp", "zalo")
	w.tokens = &tokens{core: d.Core, log: w.log}
	w.name = host + "-" + strconv.Itoa(os.Getpid())
}

// NewWorker returns a worker for tests, named so that several can share a
// stream as replicas do.
func NewWorker(d channels.Deps, name string) interface {
	Drain(ctx context.Context, stale, block time.Duration) error
} {
	w := &worker{}
	w.init(d)
	w.name = name
	return w
}

// Drain processes one batch of entries.
func (w *worker) Drain(ctx context.Context, stale, block time.Duration) error {
	entries, err := w.core.Inbox.Read(ctx, w.name, 50, stale, block)
	if err != nil {
		return err
	}
	for _, e := range entries {
		err := w.process(ctx, e.Fields["channel"], []byte(e.Fields["body"]))
		switch {
		case err == nil:
			err = w.core.Inbox.Ack(ctx, e.ID)
		case errors.Is(err, errPermanent):
			w.log.Warn("zalo event cannot be processed; kept as a dead letter", "entry", e.ID, "err", err)
			err = w.core.Inbox.Bury(ctx, e, err.Error())
		default:
			err = w.retryLater(ctx, e, err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// A failing event becomes a dead letter after maxAttempts tries over at
// least minAge, so one bad event cannot hold up the rest for long, while a
// short outage (MongoDB restarting) buries nothing.
const (
	maxAttempts = 5
	minAge      = 10 * time.Minute
)

// retryLater counts a failed try and returns the cause, so the pass stops
// and the worker backs off; an entry past its tries is buried instead.
func (w *worker) retryLater(ctx context.Context, e store.Entry, cause error) error {
	n, err := w.core.Inbox.Failed(ctx, e.ID)
	if err != nil {
		return err
	}
	if n >= maxAttempts && entryAge(e.ID) >= minAge {
		w.log.Error("zalo event failed too often; kept as a dead letter", "entry", e.ID, "attempts", n, "err", cause)
		return w.core.Inbox.Bury(ctx, e, cause.Error())
	}
	return fmt.Errorf("event %s, attempt %d: %w", e.ID, n, cause)
}

// entryAge reads a stream id's milliseconds ("1700000000000-0").
func entryAge(id string) time.Duration {
	ms, err := strconv.ParseInt(strings.SplitN(id, "-", 2)[0], 10, 64)
	if err != nil {
		return 0
	}
	return time.Since(time.UnixMilli(ms))
}

var errPermanent = errors.New("cannot be processed")

func (w *worker) process(ctx context.Context, channelID string, body []byte) error {
	ch, err := w.core.Channel(ctx, channelID)
	if core.CodeOf(err) == core.NotFound {
		return fmt.Errorf("%w: channel %s is gone", errPermanent, channelID)
	}
	if err != nil {
		return err
	}
	e, err := ParseEvent(body)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	switch e.Name {
	case "user_send_text":
		// A text without a msg_id is named by its user and time like
		// the events below: without an id, a delivery sent again (by
		// Zalo, or the inbox's add by go-redis after a lost reply) would
		// be applied again.
		id := string(e.Message.MsgID)
		if id == "" && e.Timestamp == "" {
			return fmt.Errorf("%w: a text with neither msg_id nor timestamp cannot be applied once", errPermanent)
		}
		if id == "" {
			id = "text-" + string(e.Sender.ID) + "-" + string(e.Timestamp)
		}
		return w.converse(ctx, ch, core.Inbound{User: string(e.Sender.ID), MessageID: id, Text: e.Message.Text})
	case "follow":
		// Events without a msg_id get one from the user and the time: ids
		// are claimed per channel, and two users may follow in one ms.
		w.linkFromProfile(ctx, ch, string(e.Follower.ID))
		return w.converse(ctx, ch, core.Inbound{User: string(e.Follower.ID), MessageID: "follow-" + string(e.Follower.ID) + "-" + string(e.Timestamp), Start: true})
	case "user_submit_info":
		return w.submitInfo(ctx, ch, e)
	case "user_feedback":
		return w.feedback(ctx, e)
	case "user_received_message":
		return w.delivered(ctx, ch, e)
	}
	channels.CountWebhook(ch.Type, "ignored_"+e.Name)
	return nil
}

// converse runs a message through the engine and sends the replies, the
// last one with answer buttons while a score is awaited.
func (w *worker) converse(ctx context.Context, ch *core.Channel, in core.Inbound) error {
	if in.User == "" {
		return fmt.Errorf("%w: event without a user id", errPermanent)
	}
	in.Channel, in.OneByOne, in.At = ch, true, time.Now()
	res, err := w.core.Converse(ctx, in, render)
	if err != nil || res.Duplicate {
		return err
	}
	if res.Invitation != "" && !res.Asking && !res.Confirming && len(res.Replies) > 0 {
		// Where an answer to this dossier's follow-up case can reach them.
		if err := w.core.Mongo.Links.ReplyTo(ctx, res.Invitation, ch.ID, in.User); err != nil {
			w.log.Warn("note the chat of an invitation", "err", err)
		}
	}
	var logs []*store.Message
	for i, text := range res.Replies {
		var buttons []button
		switch {
		case i < len(res.Replies)-1:
		case res.Asking:
			buttons = levels("vi")
		case res.Confirming:
			buttons = []button{{Title: "C - Đúng, xác nhận", Type: "oa.query.hide", Payload: "C"}}
		}
		if err := w.sendText(ctx, ch, in.User, text, buttons); err != nil {
			// The step is committed; a lost reply is logged, not replayed.
			w.log.Error("zalo reply not sent", "channel", ch.ID, "err", err)
			continue
		}
		logs = append(logs, &store.Message{Channel: ch.ID, Invitation: res.Invitation, Respondent: res.Respondent, Kind: "reply", Encoding: "zalo", Text: text})
	}
	if in.Start && res.Invitation == "" {
		if err := w.askPhone(ctx, ch, in.User, "vi"); err != nil {
			w.log.Error("zalo request-info not sent", "channel", ch.ID, "err", err)
		}
	}
	return w.core.RecordSent(ctx, logs...)
}

// linkFromProfile links a new follower whose profile already carries a
// phone shared with the OA, so their pending survey can start at once.
// Failing to read the profile only means the follower is asked for it.
func (w *worker) linkFromProfile(ctx context.Context, ch *core.Channel, user string) {
	var p profile
	err := w.tokens.withToken(ctx, ch, func(token string) (err error) {
		p, err = userProfile(ctx, ch, token, user)
		return err
	})
	if err != nil {
		w.log.Warn("zalo profile not read", "channel", ch.ID, "err", err)
		return
	}
	if phone, err := survey.CanonicalPhone(string(p.SharedInfo.Phone)); err == nil {
		if err := w.core.LinkUser(ctx, ch, user, phone); err != nil {
			w.log.Warn("zalo follower not linked", "channel", ch.ID, "err", err)
		}
	}
}

// submitInfo links the follower to the phone they shared and opens that
// phone's pending survey.
func (w *worker) submitInfo(ctx context.Context, ch *core.Channel, e event) error {
	phone, err := survey.CanonicalPhone(string(e.Info.Phone))
	if err != nil {
		return fmt.Errorf("%w: shared phone is not a Vietnamese mobile", errPermanent)
	}
	if err := w.core.LinkUser(ctx, ch, string(e.Sender.ID), phone); err != nil {
		return err
	}
	return w.converse(ctx, ch, core.Inbound{User: string(e.Sender.ID), MessageID: "info-" + string(e.Sender.ID) + "-" + string(e.Timestamp), Start: true})
}

// feedback completes an invitation from a rating template's stars.
func (w *worker) feedback(ctx context.Context, e event) error {
	rate, err := strconv.Atoi(string(e.Message.Rate))
	if err != nil || e.Message.TrackingID == "" {
		return fmt.Errorf("%w: feedback without a rate or tracking_id", errPermanent)
	}
	comment := strings.TrimSpace(e.Message.Note)
	if len(e.Message.Feedbacks) > 0 {
		comment = strings.TrimSpace(comment + " [" + strings.Join(e.Message.Feedbacks, "; ") + "]")
	}
	err = w.core.CompleteRating(ctx, string(e.Message.TrackingID), rate, comment, "zalo")
	if c := core.CodeOf(err); c == core.NotFound || c == core.Invalid || c == core.Gone {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	return err
}

// delivered marks an invitation's template message as received.
func (w *worker) delivered(ctx context.Context, ch *core.Channel, e event) error {
	ids := append([]flexString{e.Message.MsgID}, e.Message.MsgIDs...)
	for _, id := range ids {
		if id == "" {
			continue
		}
		m, err := w.core.Mongo.Messages.ByProviderID(ctx, ch.ID, string(id))
		if errors.Is(err, store.ErrNotFound) {
			// Its record may still wait in the message log queue.
			if err := w.core.DrainMessages(ctx, w.name, -1); err != nil {
				return err
			}
			m, err = w.core.Mongo.Messages.ByProviderID(ctx, ch.ID, string(id))
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		inv, err := w.core.Invitation(ctx, m.Invitation)
		if err != nil {
			continue
		}
		st := inv.Sends[m.Channel]
		st.Status, st.At = store.SendDelivered, time.Now()
		if err := w.core.NoteSent(ctx, inv, "zalo"); err != nil {
			return err
		}
		if err := w.core.Mongo.Invitations.SetSend(ctx, inv.ID, m.Channel, st); err != nil {
			return err
		}
	}
	return nil
}

// refreshLoop renews tokens an hour before they expire.
func (w *worker) refreshLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		chans, err := w.core.ChannelsOfFamily(ctx, "zalo")
		if err == nil {
			for _, ch := range chans {
				if _, err := w.tokens.fresh(ctx, ch); err != nil {
					w.log.Warn("zalo token not refreshed", "channel", ch.ID, "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SendChat sends a customer-service text to a follower.
func (provider) SendChat(ctx context.Context, d channels.Deps, ch *core.Channel, user, text string) error {
	w := &worker{core: d.Core, log: d.Log.With("comp", "zalo"), tokens: &tokens{core: d.Core, log: d.Log.With("comp", "zalo")}}
	return w.sendText(ctx, ch, user, text, nil)
}

// Send sends a rating template (ZNS) to the invitation's phone, tracked by
// the invitation id so the stars come back through user_feedback.
func (provider) Send(ctx context.Context, d channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	tid := ch.Setting("rating_template_id")
	if tid == "" {
		return "", &channels.SendError{Provider: "zalo.oa", Message: "settings.rating_template_id is not set", Fallback: true}
	}
	t := &tokens{core: d.Core, log: d.Log.With("comp", "zalo")}
	m := templateMessage{Phone: msg.To, TemplateID: tid, TrackingID: msg.Invitation,
		TemplateData: map[string]string{"dossier_code": msg.Dossier, "survey_url": msg.SurveyURL}}
	var id string
	err := t.withToken(ctx, ch, func(token string) error {
		data, err := call(ctx, base(ch, "zns_base_url", defaultZNS)+"/message/template", token, m)
		if err != nil {
			return err
		}
		var out struct {
			MsgID flexString `json:"msg_id"`
		}
		_ = json.Unmarshal(data, &out)
		id = string(out.MsgID)
		return nil
	})
	if err != nil {
		return "", sendError(err, true)
	}
	return id, nil
}

// Check reads the OA's profile with a fresh token: the credentials work.
func (provider) Check(ctx context.Context, d channels.Deps, ch *core.Channel) (string, error) {
	t := &tokens{core: d.Core, log: d.Log.With("comp", "zalo")}
	var name string
	err := t.withToken(ctx, ch, func(token string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base(ch, "api_base_url", defaultAPI)+"/v2.0/oa/getoa", nil)
		if err != nil {
			return err
		}
		req.Header.Set("access_token", token)
		data, err := do(req)
		if err != nil {
			return err
		}
		var oa struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(data, &oa)
		name = oa.Name
		return nil
	})
	if err != nil {
		return "", sendError(err, false)
	}
	return "Zalo OA " + name + " answers with the stored token", nil
}
