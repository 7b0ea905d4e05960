package zalo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
)

// Default API hosts; settings api_base_url, oauth_base_url and zns_base_url
// replace them (tests, staging).
const (
	defaultAPI   = "https://openapi.zalo.me"
	defaultOAuth = "https://oauth.zaloapp.com"
	defaultZNS   = "https://business.openapi.zalo.me"
)

func base(ch *core.Channel, key, def string) string {
	if v := ch.Setting(key); v != "" {
		return strings.TrimRight(v, "/")
	}
	return def
}

// Zalo error codes that change what the gateway does.
const (
	errInvalidToken = -216
	errExpiredToken = -220
	errNoRecentChat = -230 // the user has not written to the OA in 7 days
	errRateLimited  = -32
)

// apiError is Zalo's {"error": -216, "message": "…"}.
type apiError struct {
	Code    int
	Message string
	Status  int
}

func (e *apiError) Error() string {
	return fmt.Sprintf("zalo error %d: %s", e.Code, e.Message)
}

func (e *apiError) tokenProblem() bool { return e.Code == errInvalidToken || e.Code == errExpiredToken }

// sendError types a Zalo failure for the sender: token problems that
// survived a refresh and other errors fail; -32 and HTTP 5xx are retried;
// -230 and, for template messages, any refusal fall back to SMS.
func sendError(err error, zns bool) error {
	e, ok := err.(*apiError)
	if !ok {
		return err // already a *channels.SendError (network, HTTP)
	}
	se := &channels.SendError{Provider: "zalo.oa", Status: e.Status, Code: strconv.Itoa(e.Code), Message: e.Message}
	switch {
	case e.Code == errRateLimited:
		se.Temporary = true
	case e.Code == errNoRecentChat, zns && !e.tokenProblem():
		se.Fallback = true
	}
	return se
}

// envelope is every OpenAPI answer: {"error": 0, "message": "Success", "data": {…}}.
type envelope struct {
	Error   int             `json:"error"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call POSTs body as JSON with the access token and reads the envelope.
func call(ctx context.Context, url, token string, body any) (json.RawMessage, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("access_token", token)
	return do(req)
}

func do(req *http.Request) (json.RawMessage, error) {
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return nil, channels.HTTPFailure("zalo.oa", nil, err, "", "")
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	var env envelope
	if res.StatusCode/100 != 2 || json.Unmarshal(raw, &env) != nil {
		return nil, channels.HTTPFailure("zalo.oa", res, nil, "", strings.TrimSpace(string(raw)))
	}
	if env.Error != 0 {
		return nil, &apiError{Code: env.Error, Message: env.Message, Status: res.StatusCode}
	}
	return env.Data, nil
}

// button is an oa.query.hide button: tapping it sends payload back as a
// user_send_text event without showing it in the chat.
type button struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Payload string `json:"payload"`
}

// csMessage is a customer-service message:
//
//	{"recipient": {"user_id": "…"}, "message": {"text": "…",
//	 "attachment": {"type": "template", "payload": {"template_type": "button", "buttons": […]}}}}
type csMessage struct {
	Recipient struct {
		UserID string `json:"user_id"`
	} `json:"recipient"`
	Message struct {
		Text       string      `json:"text,omitempty"`
		Attachment *attachment `json:"attachment,omitempty"`
	} `json:"message"`
}

type attachment struct {
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

// templateMessage is a ZNS message to a phone number.
type templateMessage struct {
	Phone        string            `json:"phone"`
	TemplateID   string            `json:"template_id"`
	TemplateData map[string]string `json:"template_data"`
	TrackingID   string            `json:"tracking_id"`
}

// tokenReply is the OAuth answer; expires_in is a string of seconds.
type tokenReply struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    string `json:"expires_in"`
	Error        int    `json:"error"`
	ErrorName    string `json:"error_name"`
	ErrorDesc    string `json:"error_description"`
	Message      string `json:"message"`
}

// refreshTokens trades the single-use refresh token for new tokens.
func refreshTokens(ctx context.Context, ch *core.Channel) (tokenReply, time.Duration, error) {
	form := url.Values{"refresh_token": {ch.Secrets["refresh_token"]}, "app_id": {ch.Setting("app_id")}, "grant_type": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base(ch, "oauth_base_url", defaultOAuth)+"/v4/oa/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenReply{}, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", ch.Secrets["app_secret"])
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return tokenReply{}, 0, err
	}
	defer res.Body.Close()
	var tr tokenReply
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	if err := json.Unmarshal(raw, &tr); err != nil || res.StatusCode/100 != 2 {
		return tr, 0, fmt.Errorf("refresh token: HTTP %d: %s", res.StatusCode, strings.TrimSpace(string(raw)))
	}
	if tr.AccessToken == "" || tr.RefreshToken == "" {
		return tr, 0, fmt.Errorf("refresh token refused: %d %s %s%s", tr.Error, tr.ErrorName, tr.ErrorDesc, tr.Message)
	}
	secs, err := strconv.Atoi(strings.TrimSpace(tr.ExpiresIn))
	if err != nil || secs <= 0 {
		secs = 25 * 3600 // Zalo's usual lifetime, if expires_in is unreadable
	}
	return tr, time.Duration(secs) * time.Second, nil
}

// profile is the part of /v3.0/oa/user/detail the gateway uses: a follower
// who shared their phone with the OA before carries it here.
type profile struct {
	UserID      flexString `json:"user_id"`
	DisplayName string     `json:"display_name"`
	SharedInfo  struct {
		Phone flexString `json:"phone"`
	} `json:"shared_info"`
}

// userProfile fetches a follower's profile.
func userProfile(ctx context.Context, ch *core.Channel, token, user string) (profile, error) {
	q := url.Values{"data": {`{"user_id":"` + user + `"}`}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base(ch, "api_base_url", defaultAPI)+"/v3.0/oa/user/detail?"+q.Encode(), nil)
	if err != nil {
		return profile{}, err
	}
	req.Header.Set("access_token", token)
	data, err := do(req)
	if err != nil {
		return profile{}, err
	}
	var p profile
	return p, json.Unmarshal(data, &p)
}
