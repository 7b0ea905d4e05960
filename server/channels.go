package server

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// ChannelView is a channel as the API shows it: secret names, never values.
type ChannelView struct {
	ID         string         `json:"id"`
	Type       string         `json:"type"`
	Enabled    bool           `json:"enabled"`
	Settings   map[string]any `json:"settings"`
	SecretsSet []string       `json:"secrets_set"`
	WebhookURL string         `json:"webhook_url"`
	UpdatedAt  time.Time      `json:"updated_at"`
	// Warnings name risky settings (an eSMS sign that leaves out the sender).
	Warnings []string `json:"warnings,omitempty"`
}

func (a *API) ChannelView(ch *store.Channel) ChannelView {
	return ChannelView{ID: ch.ID, Type: ch.Type, Enabled: ch.Enabled, Settings: ch.Settings, SecretsSet: core.SecretNames(ch),
		WebhookURL: a.Core.BaseURL + "/webhooks/" + core.Family(ch.Type) + "/" + ch.ID, UpdatedAt: ch.Updated,
		Warnings: channels.Warnings(ch.Type, ch.Settings)}
}

func (a *API) putChannel(c *fiber.Ctx) error {
	var in core.ChannelInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, ok := channels.ProviderOf(in.Type)
	if !ok {
		return core.Errorf(core.Invalid, "type", "unknown channel type %q; use one of %v", in.Type, channels.Types())
	}
	ch, err := a.Core.PutChannel(c.UserContext(), Principal(c), p.Kind(), c.Params("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(a.ChannelView(ch))
}

func (a *API) channel(c *fiber.Ctx) error {
	ch, err := a.Core.Mongo.Channels.Channel(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(a.ChannelView(ch))
}

type channelList struct {
	Channels []ChannelView `json:"channels"`
}

// channelTest is what a channel test found: ok with the provider's
// answer, or (502) not ok with its error.
type channelTest struct {
	OK     bool   `json:"ok"`
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

func (a *API) channelList(c *fiber.Ctx) error {
	all, err := a.Core.Mongo.Channels.All(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]ChannelView, len(all))
	for i := range all {
		out[i] = a.ChannelView(&all[i])
	}
	return c.JSON(channelList{Channels: out})
}

func (a *API) deleteChannel(c *fiber.Ctx) error {
	if err := a.Core.DeleteChannel(c.UserContext(), Principal(c), strings.Clone(c.Params("id"))); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Conversation is an invitation's transcript as the API and the console
// show it: every text sent and received, in time order, the phone masked.
type Conversation struct {
	Messages    []store.Line `json:"messages"`
	Parts       int          `json:"parts"` // SMS parts sent, for cost
	PhoneMasked string       `json:"phone_masked,omitempty"`
}

func (a *API) Conversation(ctx context.Context, inv *store.Invitation) (*Conversation, error) {
	t, err := a.Core.Mongo.Transcripts.Get(ctx, inv.ID)
	if err != nil {
		return nil, err
	}
	out := &Conversation{Messages: t.Lines}
	if out.Messages == nil {
		out.Messages = []store.Line{}
	}
	for _, l := range t.Lines {
		out.Parts += l.Parts
	}
	if phone, err := a.Core.Phone(inv); err == nil && phone != "" {
		out.PhoneMasked = survey.MaskPhone(phone)
	}
	return out, nil
}

// invitationMessages shows an invitation's conversation: GET
// /api/v1/invitations/{id}/messages.
func (a *API) invitationMessages(c *fiber.Ctx) error {
	inv, err := a.Scoped(c)(a.Core.Invitation(c.UserContext(), c.Params("id")))
	if err != nil {
		return err
	}
	conv, err := a.Conversation(c.UserContext(), inv)
	if err != nil {
		return err
	}
	return c.JSON(conv)
}

func channelsTypes() []string { return channels.Types() }

func ProviderKind(typ string) (core.ChannelKind, bool) {
	p, ok := channels.ProviderOf(typ)
	if !ok {
		return core.ChannelKind{}, false
	}
	return p.Kind(), true
}

// testChannel checks a channel's credentials, or sends a test message to a
// phone: POST /api/v1/channels/{id}/test {"phone": "09…"}.
func (a *API) testChannel(c *fiber.Ctx) error {
	var in struct {
		Phone string `json:"phone"`
	}
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	ch, err := a.Core.Channel(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	p, ok := channels.ProviderOf(ch.Type)
	if !ok {
		return core.Errorf(core.Invalid, "type", "unknown channel type %q", ch.Type)
	}
	d := channels.Deps{Core: a.Core, Log: a.log}
	var result string
	switch chk, canCheck := p.(channels.Checker); {
	case in.Phone != "":
		phone, perr := survey.CanonicalPhone(in.Phone)
		if perr != nil {
			return core.Errorf(core.Invalid, "phone", "%v", perr)
		}
		text := "Tin nhan thu tu cong khao sat SIPAS. Test message from the SIPAS survey gateway."
		var id string
		if id, err = p.Send(c.UserContext(), d, ch, channels.Outgoing{To: phone, Text: text, Invitation: "test-" + ch.ID}); err == nil {
			result = "sent a test message to " + survey.MaskPhone(phone) + " (provider id " + id + ")"
		}
	case canCheck:
		result, err = chk.Check(c.UserContext(), d, ch)
	default:
		return core.Errorf(core.Invalid, "phone", "%s has no credential check; give a phone to send a test message to", ch.Type)
	}
	if err != nil {
		return c.Status(fiber.StatusBadGateway).JSON(channelTest{Error: err.Error()})
	}
	_ = a.Core.Audit(c.UserContext(), Principal(c), "channel.test", ch.ID, map[string]any{"result": result})
	return c.JSON(channelTest{OK: true, Result: result})
}
