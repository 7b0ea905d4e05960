package server

import (
	"context"
	"errors"
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
	hook := a.Core.BaseURL + "/webhooks/" + core.Family(ch.Type) + "/" + ch.ID
	if core.Family(ch.Type) == "voice" {
		hook += "/answer" // the number's voice URL (answer_url); a call's key and status URLs come with its answers
	}
	return ChannelView{ID: ch.ID, Type: ch.Type, Enabled: ch.Enabled, Settings: ch.Settings, SecretsSet: core.SecretNames(ch),
		WebhookURL: hook, UpdatedAt: ch.Updated, Warnings: channels.Warnings(ch.Type, ch.Settings)}
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
// answer, or (502) not ok with its error. Provider texts are cut and the
// channel's secrets blanked out before they are shown or audited.
type channelTest struct {
	OK     bool   `json:"ok"`
	Result string `json:"result,omitempty"`
	// ProviderID is the provider's id of the test message, when it sent one.
	ProviderID string `json:"provider_id,omitempty"`
	Error      string `json:"error,omitempty"`
	// ProviderStatus and ProviderCode are the provider's HTTP status and
	// its own error code, when it refused.
	ProviderStatus int    `json:"provider_status,omitempty"`
	ProviderCode   string `json:"provider_code,omitempty"`
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

// testChannel checks a channel's credentials, or sends a short test text
// to a phone: POST /api/v1/channels/{id}/test {"phone": "09…"}. It is no
// invitation: nothing is stored but the audit entry, and it is limited to
// core.ChannelTestsPerMinute a channel.
func (a *API) testChannel(c *fiber.Ctx) error {
	var in struct {
		Phone string `json:"phone"`
	}
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	ctx := c.UserContext()
	out, err := a.TestChannel(ctx, Principal(c), c.Params("id"), in.Phone)
	if err != nil {
		return err
	}
	if !out.OK {
		c.Status(fiber.StatusBadGateway)
	}
	return c.JSON(out)
}

// testText is the test message: ASCII, one SMS part, and dated so that a
// provider that drops repeats of a text (eSMS's RequestId, the generic
// format's id) sends each test.
func testText(now time.Time) string {
	return "Tin nhan thu tu cong khao sat SIPAS luc " + now.Format("15:04:05 02/01/2006") + ". Test message from the SIPAS survey gateway."
}

// TestChannel sends a test text through channel id to phone (or, with no
// phone, checks the credentials of a provider that can): the console's
// "Gửi tin thử" and the API's test. Bad input and the rate limit are
// errors; what the provider answered is the result, ok or not.
func (a *API) TestChannel(ctx context.Context, p *core.Principal, id, phone string) (*channelTest, error) {
	ch, err := a.Core.Channel(ctx, id)
	if err != nil {
		return nil, err
	}
	prov, ok := channels.ProviderOf(ch.Type)
	if !ok {
		return nil, core.Errorf(core.Invalid, "type", "unknown channel type %q", ch.Type)
	}
	chk, canCheck := prov.(channels.Checker)
	to := ""
	switch {
	case strings.TrimSpace(phone) != "":
		if to, err = survey.CanonicalPhone(phone); err != nil {
			return nil, core.Errorf(core.Invalid, "phone", "%q is not a Vietnamese mobile number: write 0 and 9 digits (e.g. 0912345678), or 84 and 9 digits", phone)
		}
	case !canCheck:
		return nil, core.Errorf(core.Invalid, "phone", "required: %s has no credential check, so the test sends a message; give the phone to send it to", ch.Type)
	}
	if err := a.Core.AllowChannelTest(ctx, ch.ID); err != nil {
		return nil, err
	}
	d := channels.Deps{Core: a.Core, Log: a.log}
	out := &channelTest{}
	if to != "" {
		out.ProviderID, err = prov.Send(ctx, d, ch, channels.Outgoing{To: to, Text: testText(time.Now().In(a.Zone)), Invitation: "test-" + ch.ID})
		out.Result = "sent a test message to " + survey.MaskPhone(to)
	} else {
		out.Result, err = chk.Check(ctx, d, ch)
	}
	if err != nil {
		out.Result = ""
		out.Error = scrub(err.Error(), ch.Secrets)
		var se *channels.SendError
		if errors.As(err, &se) {
			out.ProviderStatus, out.ProviderCode = se.Status, scrub(se.Code, ch.Secrets)
		}
	} else {
		out.OK, out.Result, out.ProviderID = true, scrub(out.Result, ch.Secrets), scrub(out.ProviderID, ch.Secrets)
	}
	detail := map[string]any{"ok": out.OK, "result": out.Result, "provider_id": out.ProviderID, "error": out.Error, "provider_status": out.ProviderStatus}
	if to != "" {
		detail["phone"] = survey.MaskPhone(to)
	}
	if err := a.Core.Audit(ctx, p, "channel.test", ch.ID, detail); err != nil {
		// The provider has answered (a text may be on its way): say what it
		// said rather than a 500 that invites another test.
		a.log.Warn("audit a channel test", "channel", ch.ID, "err", err)
	}
	return out, nil
}

// providerTextMax bounds a provider's text shown back: its error body
// can be a whole HTML page.
const providerTextMax = 300

// scrub blanks out every secret of a channel from a provider's text (an
// error body may echo a key it was sent) and cuts it to providerTextMax.
func scrub(s string, secrets map[string]string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[secret]")
		}
	}
	if r := []rune(s); len(r) > providerTextMax {
		s = string(r[:providerTextMax-1]) + "…"
	}
	return s
}

// promptView is a voice prompt's recording as the API shows it.
type promptView struct {
	Channel   string    `json:"channel"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Bytes     int       `json:"bytes"`
	UpdatedAt time.Time `json:"updated_at"`
}

// putPrompt stores a voice channel's recording of one prompt: PUT
// /api/v1/channels/{id}/prompts/{name} with an MP3 or WAV body.
func (a *API) putPrompt(c *fiber.Ctx) error {
	p, err := a.Core.PutPrompt(c.UserContext(), Principal(c), strings.Clone(c.Params("id")), strings.Clone(c.Params("name")), c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	return c.JSON(promptView{Channel: p.Channel, Name: p.Name, Type: p.Type, Bytes: len(p.Data), UpdatedAt: p.Updated})
}
