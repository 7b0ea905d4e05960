package generic_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels/sms"
	"github.com/sipasvn/gateway/channels/sms/generic"
)

// The synchronous answer is what json.Marshal writes, byte for byte, with
// its content type: providers parse it as they always did.
func TestRespondIsEncodingJSONs(t *testing.T) {
	for _, replies := range [][]sms.Reply{nil, {}, {{To: "+84912345678", Text: "Cam on ong/ba."}},
		{{To: "0912", Text: "Câu 2/5 <1-5> & \"tiếp\"\n\\ \u2028 \xff 😀"}, {To: "", Text: ""}}} {
		app := fiber.New()
		app.Post("/", func(c *fiber.Ctx) error { return generic.Adapter{}.Respond(c, nil, nil, replies) })
		res, err := app.Test(httptest.NewRequest("POST", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		want := replies
		if want == nil {
			want = []sms.Reply{}
		}
		b, _ := json.Marshal(map[string]any{"replies": want})
		if string(got) != string(b) || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("Respond(%q) = %d %s %s; want %s", replies, res.StatusCode, res.Header.Get("Content-Type"), got, b)
		}
	}
}
