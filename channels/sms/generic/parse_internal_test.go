package generic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// A body read by hand is read as encoding/json reads it; what the hand
// reader does not take goes to encoding/json.
func FuzzInboundDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	for _, s := range []string{`{"id":"m1","from":"0912345678","to":"8079","text":"5 4 5 4 5"}`,
		`{"id":"m1","from":"0912","text":"r\u1ea5t h\u00e0i l\u00f2ng","received_at":"2026-11-25T08:00:00Z"}`,
		`{"ID":"m1"}`, `{"id":null}`, `{"id":"a","id":"b"}`, `{"id":"a","extra":1}`, `{"id":1}`, `{}`, `{"id":"\xff"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var a, b inbound
		if !a.decode(body) {
			return
		}
		if err := json.Unmarshal([]byte(body), &b); err != nil || a != b {
			t.Fatalf("%s read by hand as %+v; encoding/json %+v %v", body, a, b, err)
		}
	})
}

// A provider's compact body is read by hand.
func TestCompactBodyIsReadByHand(t *testing.T) {
	body := `{"id":"SM1","from":"0912345678","to":"8079","text":"R\u1ea5t h\u00e0i l\u00f2ng \"5\"","received_at":"2026-11-25T08:00:00+07:00"}`
	var in inbound
	if !in.decode(body) || in.Text != `Rất hài lòng "5"` || in.ID != "SM1" {
		t.Fatalf("decode: %+v", in)
	}
}

// What follows the body's JSON object is ignored, as it always was.
func TestTrailingBytesAreIgnored(t *testing.T) {
	for _, body := range []string{"{\"id\":\"m1\",\"from\":\"0912\",\"text\":\"5 4\"}\x00", `{"id":"m1","from":"0912","text":"5 4"}{"id":"m2"}`,
		`{"id":"m1","from":"0912","text":"5 4"},`, "{\"id\":\"m1\",\"from\":\"0912\",\"text\":\"5 4\"}\r\n"} {
		if in, err := parse([]byte(body)); err != nil || in.ID != "m1" || in.Text != "5 4" {
			t.Errorf("%q: %+v %v", body, in, err)
		}
	}
}
