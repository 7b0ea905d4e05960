package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/channels/zalo"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

const (
	encSecret = "generic-channel-secret"
	encAppID  = "360846524940903967"
	encOASKey = "OA-SECRET-KEY-0123"
)

// encodingGateway has a signed SMS channel (gen), a Zalo OA (oa), a desk
// with a paired tablet, and an invitation to answer on the web.
func encodingGateway(t *testing.T) (g *gwtest.Gateway, tablet, surveyToken string) {
	g = gwtest.New(t, "", gwtest.NoRateLimits)
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send"}, "secrets": map[string]any{"secret": encSecret}})
	smstest.Configure(t, g, "oa", map[string]any{"type": "zalo.oa",
		"settings": map[string]any{"app_id": encAppID, "oa_id": "579745863508352884", "api_base_url": fake.URL, "oauth_base_url": fake.URL, "zns_base_url": fake.URL},
		"secrets":  map[string]any{"oa_secret_key": encOASKey, "app_secret": "APP-SECRET", "access_token": "AT1", "refresh_token": "RT1"}})
	_, out := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": pairingCode(t, g)})
	tablet, _ = out["token"].(string)
	if tablet == "" {
		t.Fatalf("pair: %v", out)
	}
	return g, tablet, gwtest.Token(g.Invite("D-ENC-PAGE", "000.00.12.H49", map[string]any{"survey": "overall"}))
}

// pairingCode registers (again) desk quay-enc and returns its new code.
func pairingCode(t *testing.T, g *gwtest.Gateway) string {
	t.Helper()
	res, out := g.API("PUT", "/api/v1/desks/quay-enc", map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy E"})
	code, _ := out["pairing_code"].(string)
	if res.StatusCode != 200 || code == "" {
		t.Fatalf("put desk: %d %v", res.StatusCode, out)
	}
	return code
}

func smsBody(id string) []byte {
	b, _ := json.Marshal(map[string]string{"id": id, "from": "0912345678", "to": "8079", "text": "5 4 5 4 5"})
	return b
}

func zaloBody() []byte {
	return []byte(fmt.Sprintf(`{"app_id":"%s","event_name":"user_send_text","timestamp":"%d","sender":{"id":"246845883529197922"},"recipient":{"id":"579745863508352884"},"message":{"text":"5","msg_id":"m-enc"}}`,
		encAppID, time.Now().UnixMilli()))
}

func multipartForm(fields map[string]string) (body []byte, ctype string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	_ = w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// A family is a route family's request, valid uncompressed.
type family struct {
	name, path, ctype string
	body              []byte
	header            map[string]string
}

// families are the route families that read a body, each with valid
// credentials or none, signed or not: uncompressed, the unfixed gateway
// took every signed or authenticated one.
func families(tablet, surveyToken, pairing string) []family {
	page, pageType := multipartForm(map[string]string{"O": "4"})
	signIn, signInType := multipartForm(map[string]string{"key": gwtest.AdminKey})
	event := zaloBody()
	var ts struct{ Timestamp string } // the Zalo signature covers it
	_ = json.Unmarshal(event, &ts)
	admin := map[string]string{"Authorization": "Bearer " + gwtest.AdminKey}
	invitation := []byte(`{"dossier_code":"D-ENC-1","agency_code":"000.00.12.H49"}`)
	return []family{
		{"operator API, admin key", "/api/v1/invitations", "application/json", invitation, admin},
		{"operator API, no key", "/api/v1/invitations", "application/json", invitation, nil},
		{"agency import", "/api/v1/agencies/import", "text/csv", []byte("code,name\n000.99.12.H49,Sở Thử\n"), admin},
		{"survey page, multipart", "/s/" + surveyToken, pageType, page, nil},
		{"survey page, form", "/s/" + surveyToken, "application/x-www-form-urlencoded", []byte("O=4"), nil},
		{"console sign-in", "/console/login", signInType, signIn, nil},
		{"kiosk pairing", "/kiosk/api/pair", "application/json", []byte(`{"code":"` + pairing + `"}`), nil},
		{"kiosk answer, device token", "/kiosk/api/answer", "application/json",
			[]byte(`{"idempotency_key":"key-enc-00001","invitation_id":"x","answers":{"O":4}}`), map[string]string{"Authorization": "Bearer " + tablet}},
		{"SMS webhook, signed", "/webhooks/sms/gen", "application/json", smsBody("enc-1"), map[string]string{"X-Signature": core.Sign(encSecret, smsBody("enc-1"))}},
		{"SMS webhook, unsigned", "/webhooks/sms/gen", "application/json", smsBody("enc-2"), nil},
		{"Zalo webhook, signed", "/webhooks/zalo/oa", "application/json", event,
			map[string]string{"X-ZEvent-Signature": zalo.Signature(encAppID, event, ts.Timestamp, encOASKey)}},
		{"Zalo webhook, unsigned", "/webhooks/zalo/oa", "application/json", event, nil},
	}
}

// A compressed body is refused with 415 before anything reads it, on
// every route family: fiber decodes gzip, deflate and brotli, any number
// of layers, and fasthttp's multipart reader gzip, past BodyLimit, which
// counts the bytes on the wire (issue 25, finding 1). The unfixed gateway
// paired the tablet, signed the operator in and stored the answer from
// these requests. What the bombs cost in memory is measured on the
// binary (cmd/gateway TestCompressedBodyBombs).
func TestCompressedBodiesAreRefused(t *testing.T) {
	g, tablet, tok := encodingGateway(t)
	code := pairingCode(t, g)
	for _, f := range families(tablet, tok, code) {
		for _, coding := range []string{"gzip", "deflate", "br", "gzip, gzip"} {
			req := httptest.NewRequest("POST", f.path, bytes.NewReader(gwtest.Encode(coding, f.body)))
			req.Header.Set("Content-Type", f.ctype)
			req.Header.Set("Content-Encoding", coding)
			for k, v := range f.header {
				req.Header.Set(k, v)
			}
			checkRefused(t, g.Do(req), f.name+", "+coding, strings.HasPrefix(f.path, "/s/"))
		}
	}
	// Nothing was read: the pairing code is unspent, nothing was stored.
	if res, out := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": code}); res.StatusCode != 201 {
		t.Errorf("the pairing code was spent by a refused request: %d %v", res.StatusCode, out)
	}
	if n, _ := g.Mongo.DB.Collection("invitations").CountDocuments(t.Context(), map[string]any{"dossier_code": "D-ENC-1"}); n != 0 {
		t.Errorf("a refused request made an invitation")
	}
	if n := smstest.Responses(t, g); n != 0 {
		t.Errorf("%d responses stored from refused requests", n)
	}
}

// checkRefused wants 415 with the error body (the survey page: a page).
func checkRefused(t *testing.T, res *http.Response, name string, page bool) {
	t.Helper()
	body := gwtest.Body(res)
	if res.StatusCode != 415 {
		t.Errorf("%s: %d %.200s, want 415", name, res.StatusCode, body)
		return
	}
	if page {
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %s, want a page", name, res.Header.Get("Content-Type"))
		}
		return
	}
	var e struct{ Error struct{ Code, Field string } }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "unsupported_encoding" || e.Error.Field != "Content-Encoding" {
		t.Errorf("%s: %s, want code unsupported_encoding, field Content-Encoding", name, body)
	}
}

// raw sends a request as written, over a connection of its own, and
// returns the status and body.
func raw(t *testing.T, g *gwtest.Gateway, head string, body []byte) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err.Error()
	}
	return res.StatusCode, gwtest.Body(res)
}

// chunked frames b as one chunk.
func chunked(b []byte) []byte {
	return append(fmt.Appendf(nil, "%x\r\n", len(b)), append(b, "\r\n0\r\n\r\n"...)...)
}

// However the coding is written (case, spacing, lists, several lines),
// a body that would be decoded is refused; identity is served. fiber
// decodes the list on the last Content-Encoding line, fasthttp's
// multipart reader the first line's value; Transfer-Encoding codings
// other than chunked are never applied by fasthttp (it reads the body as
// chunked, compressed bytes and all), so they cannot carry a bomb.
func TestContentEncodingCannotBeDisguised(t *testing.T) {
	g, _, _ := encodingGateway(t)
	g.Listen()
	n := 0
	send := func(headers string, coding string, framing func([]byte) []byte) (int, string) {
		n++
		plain := smsBody(fmt.Sprintf("disguised-%d", n))
		body := gwtest.Encode(coding, plain)
		if framing != nil {
			body = framing(body)
		} else {
			headers += fmt.Sprintf("Content-Length: %d\r\n", len(body))
		}
		head := "POST /webhooks/sms/gen HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\nConnection: close\r\n" +
			"X-Signature: " + core.Sign(encSecret, plain) + "\r\n" + headers + "\r\n"
		return raw(t, g, head, body)
	}
	for _, tc := range []struct {
		headers, coding string
		framing         func([]byte) []byte
		want            int
	}{
		{"Content-Encoding: gzip\r\n", "gzip", nil, 415},
		{"content-encoding: gzip\r\n", "gzip", nil, 415},
		{"CONTENT-ENCODING: GZIP\r\n", "gzip", nil, 415},
		{"Content-Encoding:gzip\r\n", "gzip", nil, 415},
		{"Content-Encoding: \tgzip \t\r\n", "gzip", nil, 415},
		{"Content-Encoding: gzip,gzip\r\n", "gzip, gzip", nil, 415},
		{"Content-Encoding: gzip ,\tgzip\r\n", "gzip, gzip", nil, 415},
		{"Content-Encoding: identity, gzip\r\n", "gzip", nil, 415},
		{"Content-Encoding: gzip, identity\r\n", "gzip", nil, 415},
		{"Content-Encoding: identity\r\nContent-Encoding: gzip\r\n", "gzip", nil, 415},
		{"Content-Encoding: gzip\r\nContent-Encoding: identity\r\n", "gzip", nil, 415},
		{"Content-Encoding: deflate\r\n", "deflate", nil, 415},
		{"Content-Encoding: br\r\n", "br", nil, 415},
		{"Content-Encoding: brotli\r\n", "br", nil, 415},
		{"Content-Encoding: x-gzip\r\n", "gzip", nil, 415},
		{"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "gzip", chunked, 415},
		{"Content-Encoding: identity\r\n", "identity", nil, 200},
		{"Content-Encoding: Identity \r\n", "identity", nil, 200},
		{"Content-Encoding:\r\n", "identity", nil, 200},
		{"", "identity", nil, 200},
		{"Transfer-Encoding: chunked\r\n", "identity", chunked, 200},
		// Not decoded: the signature, made on the plain body, fails.
		{"Transfer-Encoding: gzip, chunked\r\n", "gzip", chunked, 401},
		{"Transfer-Encoding: gzip\r\n", "gzip", chunked, 401},
	} {
		status, body := send(tc.headers, tc.coding, tc.framing)
		if status != tc.want {
			t.Errorf("%q: %d %.200s, want %d", tc.headers, status, body, tc.want)
		}
		if tc.want == 415 && !strings.Contains(body, `"code":"unsupported_encoding"`) {
			t.Errorf("%q: %s", tc.headers, body)
		}
	}
}
