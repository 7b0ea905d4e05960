package twilio_test

import (
	"bytes"
	"html"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// wav is a WAV file of n bytes: a RIFF header, then silence.
func wav(n int) []byte {
	b := make([]byte, n)
	copy(b, "RIFF")
	copy(b[8:], "WAVEfmt ")
	return b
}

func (x *tw) upload(channel, name, typ string, body []byte) (int, string) {
	x.t.Helper()
	req := httptest.NewRequest("PUT", "/api/v1/channels/"+channel+"/prompts/"+name, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	req.Header.Set("Content-Type", typ)
	res := x.g.Do(req)
	return res.StatusCode, gwtest.Body(res)
}

var playRe = regexp.MustCompile(`<Play>([^<]+)</Play>`)

func TestPromptRecordingsArePlayed(t *testing.T) {
	x := setup(t, nil)
	greeting := wav(100 << 10) // past the API's usual 64 KB body limit
	for _, tc := range []struct {
		channel, name, typ string
		body               []byte
		status             int
		want               string
	}{
		{"tv", "greeting", "audio/wav", []byte("not a wav file at all"), 400, `"field":"body"`},
		{"tv", "greeting", "audio/mpeg", greeting, 400, `"field":"body"`},
		{"tv", "greeting", "text/plain", greeting, 400, `"field":"Content-Type"`},
		{"tv", "welcome", "audio/wav", greeting, 400, `"field":"name"`},
		{"gen", "greeting", "audio/wav", greeting, 400, `"field":"id"`},
		{"nope", "greeting", "audio/wav", greeting, 404, "not_found"},
		{"tv", "greeting", "audio/wav", greeting, 200, `"bytes":102400`},
		{"tv", "question_b", "audio/mpeg", append([]byte("ID3"), make([]byte, 500)...), 200, `"type":"audio/mpeg"`},
	} {
		if code, body := x.upload(tc.channel, tc.name, tc.typ, tc.body); code != tc.status || !strings.Contains(body, tc.want) {
			t.Fatalf("%s/%s %s: %d %s; want %d %s", tc.channel, tc.name, tc.typ, code, body, tc.status, tc.want)
		}
	}
	x.send("D-TV-PROMPT")
	answer, _, _ := x.placed(1)
	_, body := x.post(answer, callForm("CA1"), token)
	plays := playRe.FindAllStringSubmatch(body, -1)
	if len(plays) != 1 || !strings.Contains(body, "Câu 1 trên 5") {
		t.Fatalf("the greeting recorded, the rest spoken: %s", body)
	}
	u := html.UnescapeString(plays[0][1])
	res := x.g.Do(httptest.NewRequest("GET", strings.TrimPrefix(u, base), nil))
	if got := gwtest.Body(res); res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" || got != string(greeting) {
		t.Fatalf("recording: %d %s, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(got))
	}
	for _, bad := range []string{strings.Replace(u, "greeting", "question_b", 1), strings.Replace(u, "sig=", "sig=0", 1), strings.Replace(u, "exp=", "exp=1", 1)} {
		if res := x.g.Do(httptest.NewRequest("GET", strings.TrimPrefix(bad, base), nil)); res.StatusCode != 401 {
			t.Fatalf("%s: %d", bad, res.StatusCode)
		}
	}
	_, body = x.post(next(body), callForm("CA1", "Digits", "5"), token)
	if plays := playRe.FindAllStringSubmatch(body, -1); len(plays) != 1 || !strings.Contains(plays[0][1], "question_b") {
		t.Fatalf("question B recorded: %s", body)
	}
	// the channel saved again keeps its recordings
	_, out := x.g.API("GET", "/api/v1/channels/tv", nil)
	out["secrets"] = map[string]any{}
	if res, got := x.g.API("PUT", "/api/v1/channels/tv", map[string]any{"type": "voice.twilio", "settings": out["settings"]}); res.StatusCode != 200 {
		t.Fatalf("%v", got)
	}
	x.g.Core.Channels = nil // read the channel again
	_, body = x.post(answer, callForm("CA2"), token)
	if !strings.Contains(body, "<Play>") {
		t.Fatalf("recordings lost: %s", body)
	}
}
