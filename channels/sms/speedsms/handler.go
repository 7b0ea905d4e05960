// Package speedsms is SpeedSMS.vn. Sending uses its REST API with HTTP
// Basic auth (access token as user, "x" as password). Its inbound (MO)
// webhook format could not be confirmed from SpeedSMS's documentation, so
// inbound messages come in the gateway's generic JSON format (signed with
// the channel's "secret"), through whatever relays them, and the replies go
// back in the generic format's synchronous answer.
package speedsms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms"
	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/core"
)

func init() { sms.Register(adapter{generic.Adapter{TypeName: "sms.speedsms"}}) }

// adapter decodes and answers like the generic format and sends through
// SpeedSMS.
type adapter struct{ generic.Adapter }

var _ sms.Adapter = adapter{}

const defaultBase = "https://api.speedsms.vn"

// Kind: access_token sends; secret verifies inbound generic webhooks.
// sms_type: 2 random number (default), 3 own brandname, 4 default
// brandname, 5 Android app, 8 two-way number; sender is needed for 3, 5, 8.
func (adapter) Kind() core.ChannelKind {
	return core.ChannelKind{Type: "sms.speedsms", Optional: []string{"sender", "sms_type", "api_base_url", "unicode", "max_age"},
		Secrets: []string{"access_token", "secret"},
		Check: func(s map[string]any) error {
			if err := generic.CheckURL("api_base_url")(s); err != nil {
				return err
			}
			if err := channels.CheckMaxAge(s); err != nil {
				return err
			}
			t, _ := s["sms_type"].(string)
			if t != "" && !strings.Contains(",2,3,4,5,6,7,8,", ","+t+",") {
				return core.Errorf(core.Invalid, "settings.sms_type", "%q is not a SpeedSMS sms_type (2, 3, 4, 5, 6, 7 or 8)", t)
			}
			if sender, _ := s["sender"].(string); sender == "" && strings.Contains(",3,5,7,8,", ","+t+",") {
				return core.Errorf(core.Invalid, "settings.sender", "sms_type %s needs a sender", t)
			}
			return nil
		}}
}

type sendRequest struct {
	To      []string `json:"to"`
	Content string   `json:"content"`
	SMSType int      `json:"sms_type"`
	Sender  string   `json:"sender"`
}

// sendResponse: {"status":"success","code":"00","data":{"tranId":123,…}}
// or {"status":"error","code":"105","message":"invalid phone"}.
type sendResponse struct {
	Status  string `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Data    struct {
		TranID json.Number `json:"tranId"`
	} `json:"data"`
}

// Send posts to /index.php/sms/send. Code 500 ("try again") and HTTP 429
// (60 requests a minute) are temporary.
func (adapter) Send(ctx context.Context, _ channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	to, text := msg.To, msg.Text
	base := ch.Setting("api_base_url")
	if base == "" {
		base = defaultBase
	}
	typ, err := strconv.Atoi(ch.Setting("sms_type"))
	if err != nil {
		typ = 2
	}
	body, _ := json.Marshal(sendRequest{To: []string{to}, Content: text, SMSType: typ, Sender: ch.Setting("sender")})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/index.php/sms/send", bytes.NewReader(body))
	if err != nil {
		return "", &channels.SendError{Provider: "sms.speedsms", Message: err.Error()}
	}
	req.SetBasicAuth(ch.Secrets["access_token"], "x")
	req.Header.Set("Content-Type", "application/json")
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return "", channels.HTTPFailure("sms.speedsms", nil, err, "", "")
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	var out sendResponse
	_ = json.Unmarshal(b, &out)
	if res.StatusCode/100 != 2 {
		return "", channels.HTTPFailure("sms.speedsms", res, nil, out.Code, out.Message)
	}
	if out.Status != "success" {
		return "", &channels.SendError{Provider: "sms.speedsms", Status: res.StatusCode, Code: out.Code,
			Message: fmt.Sprintf("%s (status %q)", out.Message, out.Status), Temporary: out.Code == "500"}
	}
	return out.Data.TranID.String(), nil
}
