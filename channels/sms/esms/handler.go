// Package esms is eSMS.vn: short-code MO messages arrive by GET with an MD5
// sign, are answered with an XML ClientResponse, and invitations go out
// through SendMultipleMessage_V4_post_json.
package esms

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms"
	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/core"
)

func init() { sms.Register(adapter{}) }

type adapter struct{}

var _ sms.Adapter = adapter{}

const (
	defaultBase = "https://rest.esms.vn"
	sendPath    = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
	// DefaultSignFields is eSMS's documented order; sign_fields overrides it.
	DefaultSignFields = "cpid,smsid,content,receiverTime,private_key"
)

// Kind: cpid identifies the partner; private_key signs MO messages;
// api_key and secret_key authenticate sends; brandname and sms_type pick
// the sending route (sms_type "2" = customer care with brandname).
func (adapter) Kind() core.ChannelKind {
	return core.ChannelKind{Type: "sms.esms", Settings: []string{"cpid"},
		Optional: []string{"brandname", "sms_type", "api_base_url", "sign_fields", "unicode", "max_age"},
		Secrets:  []string{"private_key", "api_key", "secret_key"},
		Check: func(s map[string]any) error {
			if err := generic.CheckURL("api_base_url")(s); err != nil {
				return err
			}
			if err := channels.CheckMaxAge(s); err != nil {
				return err
			}
			if f, _ := s["sign_fields"].(string); f != "" {
				if _, err := signOrder(f); err != nil {
					return core.Errorf(core.Invalid, "settings.sign_fields", "%v", err)
				}
			}
			return nil
		}}
}

var signable = map[string]bool{"cpid": true, "smsid": true, "content": true, "receiverTime": true, "sender": true, "serviceNumber": true, "keyword": true, "private_key": true}

func signOrder(fields string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		if !signable[f] {
			return nil, fmt.Errorf("%q is not an MO field; list some of cpid, smsid, content, receiverTime, sender, serviceNumber, keyword, private_key", f)
		}
		out = append(out, f)
	}
	return out, nil
}

// Sign is the MD5 hex of the fields in order, private_key standing for the key.
func Sign(q url.Values, privateKey, fields string) string {
	order, err := signOrder(fields)
	if err != nil {
		order, _ = signOrder(DefaultSignFields)
	}
	var b strings.Builder
	for _, f := range order {
		if f == "private_key" {
			b.WriteString(privateKey)
		} else {
			b.WriteString(q.Get(f))
		}
	}
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Decode checks the MD5 sign (case-insensitive hex, constant time) and the
// cpid before reading the message.
//
//	GET /webhooks/sms/{id}?sender=84912345678&content=5+4+5+4+5&serviceNumber=8079
//	    &keyword=DG&smsid=123456&receiverTime=20261125080000&cpid=CP01&sign=<md5>
func (adapter) Decode(c *fiber.Ctx, ch *core.Channel, _ string) ([]sms.Message, error) {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return nil, core.Errorf(core.Invalid, "", "the query string does not parse: %v", err)
	}
	fields := ch.Setting("sign_fields")
	if fields == "" {
		fields = DefaultSignFields
	}
	want := Sign(q, ch.Secrets["private_key"], fields)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(q.Get("sign"))), []byte(want)) != 1 {
		return nil, core.Errorf(core.Unauthenticated, "sign", "missing or wrong sign (MD5 of %s)", fields)
	}
	if q.Get("cpid") != ch.Setting("cpid") {
		return nil, core.Errorf(core.Unauthenticated, "cpid", "the message is for another partner")
	}
	at, err := ReceiverTime(q.Get("receiverTime"))
	if err != nil {
		return nil, err
	}
	if err := channels.CheckFresh(at, time.Now(), channels.MaxAge(ch, channels.DefaultMaxAge), "receiverTime"); err != nil {
		return nil, err
	}
	return sms.One(Parse(q))
}

// vietnam is eSMS's time zone (Asia/Ho_Chi_Minh, UTC+7 all year).
var vietnam = time.FixedZone("ICT", 7*60*60)

// ReceiverTime reads eSMS's receiverTime, yyyyMMddHHmmss in Vietnam time.
func ReceiverTime(v string) (time.Time, error) {
	t, err := time.ParseInLocation("20060102150405", v, vietnam)
	if err != nil {
		return time.Time{}, core.Errorf(core.Invalid, "receiverTime", "%q is not yyyyMMddHHmmss (Vietnam time)", v)
	}
	return t, nil
}

// Warnings: a sign that leaves out the sender lets a captured MO be sent
// again from another number. The gateway refuses such a replay (the smsid
// is claimed per channel, receiverTime must be fresh), but a sign over the
// sender is what closes it.
func (adapter) Warnings(s map[string]any) []string {
	fields, _ := s["sign_fields"].(string)
	if fields == "" {
		fields = DefaultSignFields
	}
	order, _ := signOrder(fields)
	var out []string
	for _, need := range []struct{ field, why string }{
		{"sender", "a captured MO can be replayed with another sender; the gateway refuses an smsid already seen on this channel and a receiverTime older than max_age, but only a sign over the sender closes it"},
		{"receiverTime", "receiverTime can be changed, so the max_age freshness check does not stop a replay"},
		{"smsid", "smsid can be changed, so a captured MO can be replayed as a new message"},
	} {
		if !slices.Contains(order, need.field) {
			out = append(out, fmt.Sprintf("settings.sign_fields (%s) do not include %s: %s. Ask eSMS for a sign that covers it and list it, e.g. %q.", fields, need.field, need.why, RecommendedSignFields))
		}
	}
	return out
}

// RecommendedSignFields is a sign over every field the gateway acts on.
// eSMS's order must match what the account is set up with.
const RecommendedSignFields = "cpid,smsid,sender,content,receiverTime,private_key"

// Parse reads a verified MO query.
func Parse(q url.Values) (sms.Message, error) {
	return sms.FromValues(q, sms.Fields{ID: "smsid", From: "sender", To: "serviceNumber", Text: "content"})
}

// clientResponse is eSMS's synchronous reply:
//
//	<ClientResponse><Message>…</Message><Smsid>…</Smsid><Receiver>84…</Receiver></ClientResponse>
type clientResponse struct {
	XMLName  xml.Name `xml:"ClientResponse"`
	Message  string   `xml:"Message"`
	Smsid    string   `xml:"Smsid"`
	Receiver string   `xml:"Receiver"`
}

// Respond carries the reply in one ClientResponse; several replies (rare)
// are joined by a space, and no reply is an empty Message.
func (adapter) Respond(c *fiber.Ctx, _ *core.Channel, in []sms.Message, replies []sms.Reply) error {
	r := clientResponse{}
	if len(in) > 0 {
		r.Smsid = in[0].ID
	}
	var texts []string
	for _, rep := range replies {
		texts = append(texts, rep.Text)
		r.Receiver = rep.To
	}
	r.Message = strings.Join(texts, " ")
	b, err := xml.Marshal(r)
	if err != nil {
		return err
	}
	c.Type("xml", "utf-8")
	return c.Send(b)
}

// sendRequest is the JSON body of SendMultipleMessage_V4_post_json.
type sendRequest struct {
	ApiKey    string
	SecretKey string
	Phone     string
	Content   string
	Brandname string `json:",omitempty"`
	SmsType   string
	IsUnicode string
	RequestId string
}

// sendResponse: {"CodeResult":"100","CountRegenerate":0,"SMSID":"…"} or
// {"CodeResult":"101","ErrorMessage":"Authorize Failed"}.
type sendResponse struct {
	CodeResult   string
	SMSID        string
	ErrorMessage string
}

// Send posts one message; CodeResult 100 is accepted. 124 (duplicate
// RequestId) means an earlier attempt was accepted. Other codes are the
// account's or the number's problem and are not retried.
func (adapter) Send(ctx context.Context, _ channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	to, text := msg.To, msg.Text
	base := ch.Setting("api_base_url")
	if base == "" {
		base = defaultBase
	}
	smsType := ch.Setting("sms_type")
	if smsType == "" {
		smsType = "2"
	}
	unicode := "0"
	if ch.Flag("unicode") {
		unicode = "1"
	}
	reqID := requestID(ch.ID, to, text)
	body, _ := json.Marshal(sendRequest{ApiKey: ch.Secrets["api_key"], SecretKey: ch.Secrets["secret_key"], Phone: to, Content: text,
		Brandname: ch.Setting("brandname"), SmsType: smsType, IsUnicode: unicode, RequestId: reqID})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+sendPath, bytes.NewReader(body))
	if err != nil {
		return "", &channels.SendError{Provider: "sms.esms", Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return "", channels.HTTPFailure("sms.esms", nil, err, "", "")
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	var out sendResponse
	if res.StatusCode/100 != 2 || json.Unmarshal(b, &out) != nil {
		return "", channels.HTTPFailure("sms.esms", res, nil, "", strings.TrimSpace(string(b)))
	}
	switch out.CodeResult {
	case "100":
		return out.SMSID, nil
	case "124":
		return reqID, nil
	}
	return "", &channels.SendError{Provider: "sms.esms", Status: res.StatusCode, Code: out.CodeResult, Message: out.ErrorMessage}
}

// requestID is stable for one message, so eSMS drops a resend after a crash.
func requestID(channel, to, text string) string {
	sum := md5.Sum([]byte(channel + "\x00" + to + "\x00" + text))
	return "gw" + hex.EncodeToString(sum[:])[:30]
}
