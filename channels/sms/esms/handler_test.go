package esms_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/esms"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

const privateKey = "esms-private-key"

func read(t *testing.T, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func setup(t *testing.T, reply string, extra map[string]any) (*gwtest.Gateway, *smstest.Fake) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, reply)
	settings := map[string]any{"cpid": "CP0042", "brandname": "UBND-TINH", "api_base_url": fake.URL, "default": true}
	for k, v := range extra {
		settings[k] = v
	}
	smstest.Configure(t, g, "es", map[string]any{"type": "sms.esms", "settings": settings,
		"secrets": map[string]any{"private_key": privateKey, "api_key": "AK", "secret_key": "SK"}})
	return g, fake
}

// mo signs a recorded MO query the way eSMS does (or with key, or not at
// all), received now.
func mo(t *testing.T, file, key, fields string, upper bool) func() *http.Request {
	return moAt(t, file, key, fields, upper, time.Now(), nil)
}

// vietnam is eSMS's clock: receiverTime is written in UTC+7.
var vietnam = time.FixedZone("ICT", 7*3600)

// moAt signs a recorded MO query received at at, with the fields in set
// replaced first.
func moAt(t *testing.T, file, key, fields string, upper bool, at time.Time, set map[string]string) func() *http.Request {
	return func() *http.Request {
		q, _ := url.ParseQuery(read(t, file))
		q.Set("receiverTime", at.In(vietnam).Format("20060102150405"))
		for k, v := range set {
			q.Set(k, v)
		}
		if key != "" {
			s := esms.Sign(q, key, fields)
			if upper {
				s = strings.ToUpper(s)
			}
			q.Set("sign", s)
		}
		return httptest.NewRequest("GET", "/webhooks/sms/es?"+q.Encode(), nil)
	}
}

func TestWebhookCases(t *testing.T) {
	g, _ := setup(t, "{}", nil)
	g.Invite("D-ES", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	smstest.Run(t, g, []smstest.Case{
		{Name: "no sign", Req: mo(t, "mo_scores.query", "", "", false), Status: 401, Body: `"field":"sign"`},
		{Name: "wrong key", Req: mo(t, "mo_scores.query", "other", esms.DefaultSignFields, false), Status: 401, Body: "unauthenticated"},
		{Name: "other field order", Req: mo(t, "mo_scores.query", privateKey, "smsid,cpid,content,receiverTime,private_key", false), Status: 401, Body: "unauthenticated"},
		{Name: "other partner", Req: mo(t, "mo_other_cpid.query", privateKey, esms.DefaultSignFields, false), Status: 401, Body: "cpid"},
		{Name: "no smsid", Req: mo(t, "mo_no_smsid.query", privateKey, esms.DefaultSignFields, false), Status: 400, Body: "smsid"},
	})
	if n := smstest.Responses(t, g); n != 0 {
		t.Fatalf("%d responses from refused webhooks", n)
	}
	smstest.Run(t, g, []smstest.Case{
		{Name: "scores, upper-case sign", Req: mo(t, "mo_scores.query", privateKey, esms.DefaultSignFields, true), Status: 200,
			Body: "<ClientResponse><Message>Cam on ong/ba da danh gia! Y kien cua ong/ba giup co quan phuc vu tot hon.</Message><Smsid>771234567</Smsid><Receiver>84912345678</Receiver></ClientResponse>"},
		{Name: "delivered again: the same thanks", Req: mo(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false), Status: 200,
			Body: "<ClientResponse><Message>Cam on ong/ba da danh gia! Y kien cua ong/ba giup co quan phuc vu tot hon.</Message><Smsid>771234567</Smsid><Receiver>84912345678</Receiver></ClientResponse>"},
	})
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("D-ES").ID)
	if err != nil || r.Comment != "thu tuc nhanh" || r.Channel != "sms" {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestConfigurableSignOrder(t *testing.T) {
	order := "smsid,cpid,content,receiverTime,private_key"
	g, _ := setup(t, "{}", map[string]any{"sign_fields": order})
	smstest.Run(t, g, []smstest.Case{
		{Name: "default order refused", Req: mo(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false), Status: 401, Body: "sign"},
		{Name: "configured order", Req: mo(t, "mo_scores.query", privateKey, order, false), Status: 200, Body: "<ClientResponse>"},
	})
	res, out := g.API("PUT", "/api/v1/channels/es2", map[string]any{"type": "sms.esms",
		"settings": map[string]any{"cpid": "X", "sign_fields": "cpid,password"},
		"secrets":  map[string]any{"private_key": privateKey, "api_key": "a", "secret_key": "s"}})
	if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != "settings.sign_fields" {
		t.Fatalf("bad sign_fields: %d %v", res.StatusCode, out)
	}
}

func TestSend(t *testing.T) {
	g, fake := setup(t, read(t, "send_ok.json"), nil)
	inv := g.Invite("D-ES-SEND", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/MainService.svc/json/SendMultipleMessage_V4_post_json/" {
		t.Fatalf("%+v", reqs)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	if body["ApiKey"] != "AK" || body["SecretKey"] != "SK" || body["Phone"] != "84912345678" || body["Brandname"] != "UBND-TINH" ||
		body["SmsType"] != "2" || body["IsUnicode"] != "0" || len(body["RequestId"]) == 0 || !strings.Contains(body["Content"], "Nhan 5 so") {
		t.Fatalf("send body %v", body)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["es"].(map[string]any); s["status"] != "sent" {
		t.Fatalf("%v", s)
	}
	fake.SetReply(200, read(t, "send_error.json"))
	inv = g.Invite("D-ES-BAD", "000.00.12.H49", map[string]any{"phone": "0987654321", "send": []string{"sms"}})
	_ = g.Sender.Drain(t.Context())
	_, got = g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["es"].(map[string]any); s["status"] != "failed" || !strings.Contains(s["error"].(string), "Authorize Failed (code 101)") {
		t.Fatalf("%v", s)
	}
}

func FuzzSign(f *testing.F) {
	f.Add("sender=84912345678&content=5&smsid=1&cpid=C&receiverTime=20261125080000", "cpid,smsid,content,receiverTime,private_key")
	f.Add("%zz=&&=", "bogus")
	f.Fuzz(func(t *testing.T, query, fields string) {
		q, _ := url.ParseQuery(query)
		if s := esms.Sign(q, "k", fields); len(s) != 32 {
			t.Fatalf("sign %q", s)
		}
		m, err := esms.Parse(q)
		if err == nil && (m.ID == "" || m.From == "") {
			t.Fatalf("accepted %q without smsid or sender", query)
		}
	})
}

// A captured signed MO sent again with another sender (the default sign
// does not cover it) completes nothing and is not answered: its smsid is
// the channel's, whoever sends it. A stale or future receiverTime is
// refused before that.
func TestReplayWithAnotherSender(t *testing.T) {
	g, fake := setup(t, "{}", nil)
	g.Invite("D-ES-A", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	victim := g.Invite("D-ES-B", "000.00.12.H49", map[string]any{"phone": "0987654321"})
	now := time.Now()
	other := map[string]string{"sender": "84987654321"}
	smstest.Run(t, g, []smstest.Case{
		{Name: "stale", Req: moAt(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false, now.Add(-11*time.Minute), nil), Status: 400, Body: `"field":"receiverTime"`},
		{Name: "ahead of the clock", Req: moAt(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false, now.Add(5*time.Minute), nil), Status: 400, Body: `"field":"receiverTime"`},
		{Name: "not a time", Req: moAt(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false, now, map[string]string{"receiverTime": "2026-11-25"}), Status: 400, Body: `"field":"receiverTime"`},
		{Name: "skew allowed", Req: moAt(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false, now.Add(time.Minute), nil), Status: 200, Body: "<Message>Cam on"},
		{Name: "replayed from another sender", Req: moAt(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false, now.Add(time.Minute), other), Status: 200,
			Body: "<ClientResponse><Message></Message><Smsid>771234567</Smsid><Receiver></Receiver></ClientResponse>"},
	})
	g.Drain()
	if n := smstest.Responses(t, g); n != 1 {
		t.Fatalf("%d responses from one MO", n)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+victim["id"].(string), nil)
	if got["status"] != "pending" {
		t.Fatalf("the replay answered another citizen's invitation: %v", got["status"])
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d SMS sent", n)
	}
}

// max_age is a duration from 1m to 24h; a longer one lets an older MO in.
func TestMaxAgeSetting(t *testing.T) {
	g, _ := setup(t, "{}", map[string]any{"max_age": "2h"})
	g.Invite("D-ES-AGE", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	smstest.Run(t, g, []smstest.Case{
		{Name: "an hour old", Req: moAt(t, "mo_scores.query", privateKey, esms.DefaultSignFields, false, time.Now().Add(-time.Hour), nil), Status: 200, Body: "<Message>Cam on"},
	})
	for _, v := range []any{"10", "30s", "48h", 600} {
		res, out := g.API("PUT", "/api/v1/channels/es", map[string]any{"type": "sms.esms", "settings": map[string]any{"cpid": "CP0042", "max_age": v}})
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != "settings.max_age" {
			t.Errorf("max_age %v: %d %v", v, res.StatusCode, out)
		}
	}
}

// The channel's GET warns while sign_fields leave out the sender.
func TestWarningWhenTheSignLeavesOutTheSender(t *testing.T) {
	g, _ := setup(t, "{}", nil)
	_, ch := g.API("GET", "/api/v1/channels/es", nil)
	w := fmt.Sprint(ch["warnings"])
	if !strings.Contains(w, "do not include sender") || !strings.Contains(w, esms.RecommendedSignFields) || strings.Contains(w, "include receiverTime") {
		t.Fatalf("warnings with the default sign: %v", ch["warnings"])
	}
	smstest.Configure(t, g, "es", map[string]any{"type": "sms.esms", "settings": map[string]any{"cpid": "CP0042", "sign_fields": esms.RecommendedSignFields}})
	if _, ch := g.API("GET", "/api/v1/channels/es", nil); ch["warnings"] != nil {
		t.Fatalf("warnings with the sender signed: %v", ch["warnings"])
	}
	smstest.Run(t, g, []smstest.Case{
		{Name: "signed with the sender", Req: mo(t, "mo_scores.query", privateKey, esms.RecommendedSignFields, false), Status: 200, Body: "<ClientResponse>"},
		{Name: "sender changed after signing", Req: func() *http.Request {
			r := mo(t, "mo_scores.query", privateKey, esms.RecommendedSignFields, false)()
			q := r.URL.Query()
			q.Set("sender", "84987654321")
			return httptest.NewRequest("GET", "/webhooks/sms/es?"+q.Encode(), nil)
		}, Status: 401, Body: `"field":"sign"`},
	})
}
