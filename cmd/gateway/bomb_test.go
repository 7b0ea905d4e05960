package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/zalo"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// The bombs of issue 25, sent to the binary as a user runs it (embedded
// default, no race detector), to every route family with credentials and
// without: each is refused with 415 and the gateway's peak resident
// memory (VmHWM) grows by less than 32 MB. Before identityBodies one
// "gzip, gzip" bomb to the kiosk's pairing (1.2 KB on the wire, 256 MB
// decoded) took the peak from 50 MB to 920 MB, and these 44 to 3 GB.
func TestCompressedBodyBombs(t *testing.T) {
	bin, data, addr := binary(t), t.TempDir(), freeAddr(t)
	base := "http://" + addr
	p := start(t, bin, "GATEWAY_DATA_DIR="+data, "GATEWAY_ADDR="+addr, "GATEWAY_BASE_URL="+base, "GATEWAY_LOG_LEVEL=warn",
		"GATEWAY_PAGE_RATE=0", "GATEWAY_PHONE_RATE=0", "GATEWAY_KIOSK_RATE=0")
	p.expect(t, `listening on`)
	key := p.expect(t, `admin key \(new, kept in .*\): ([0-9a-f]{64})$`)[1]
	targets := bombTargets(t, base, key)

	before := peakRSS(t, p.cmd.Process.Pid)
	for _, b := range bombs {
		body := bomb(t, b.file, b.coding, b.size)
		for _, tg := range targets {
			req, _ := http.NewRequest("POST", base+tg.path, bytes.NewReader(body))
			req.Header.Set("Content-Type", tg.ctype)
			req.Header.Set("Content-Encoding", b.coding)
			if tg.header != nil {
				for k, v := range tg.header(body) {
					req.Header.Set(k, v)
				}
			}
			res, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
			if err != nil {
				t.Errorf("%s, %s (%d bytes): %v", tg.name, b.coding, len(body), err)
				continue
			}
			if got := gwtest.Body(res); res.StatusCode != 415 {
				t.Errorf("%s, %s (%d bytes): %d %.100s, want 415", tg.name, b.coding, len(body), res.StatusCode, got)
			}
		}
	}
	after := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("peak resident memory %d MB before %d bombs, %d MB after", before>>20, len(bombs)*len(targets), after>>20)
	if after-before > 32<<20 {
		t.Errorf("the bombs grew the gateway's peak memory by %d MB (%d MB to %d MB)", (after-before)>>20, before>>20, after>>20)
	}
}

// A bombTarget is one route family, with what a caller adds to be let in.
type bombTarget struct {
	name, path, ctype string
	header            func(body []byte) map[string]string
}

// bombTargets sets up a signed SMS channel, a Zalo OA, a paired tablet
// and an invitation, and returns every route family that reads a body.
func bombTargets(t *testing.T, base, key string) []bombTarget {
	const secret = "bomb-channel-secret-0123"
	for id, ch := range map[string]string{
		"gen": `{"type":"sms.generic","settings":{"send_url":"http://127.0.0.1:9/send"},"secrets":{"secret":"` + secret + `"}}`,
		"oa": `{"type":"zalo.oa","settings":{"app_id":"1","oa_id":"2","api_base_url":"http://127.0.0.1:9","oauth_base_url":"http://127.0.0.1:9","zns_base_url":"http://127.0.0.1:9"},` +
			`"secrets":{"oa_secret_key":"` + secret + `","app_secret":"a","access_token":"a","refresh_token":"a"}}`,
	} {
		if status, out := call(t, "PUT", base+"/api/v1/channels/"+id, key, "application/json", ch); status != 200 {
			t.Fatalf("channel %s: %d %v", id, status, out)
		}
	}
	desk := func() string {
		status, out := call(t, "PUT", base+"/api/v1/desks/quay-bomb", key, "application/json", `{"agency_code":"000.00.12.H49","name":"Quầy B"}`)
		if status != 200 {
			t.Fatalf("desk: %d %v", status, out)
		}
		return out["pairing_code"].(string)
	}
	status, paired := call(t, "POST", base+"/kiosk/api/pair", "", "application/json", `{"code":"`+desk()+`"}`)
	if status != 201 {
		t.Fatalf("pair: %d %v", status, paired)
	}
	desk() // a fresh code for the bombs to aim at
	status, inv := call(t, "POST", base+"/api/v1/invitations", key, "application/json", `{"dossier_code":"D-BOMB","agency_code":"000.00.12.H49"}`)
	if status != 201 {
		t.Fatalf("invitation: %d %v", status, inv)
	}
	bearer := func(k string) func([]byte) map[string]string {
		return func([]byte) map[string]string { return map[string]string{"Authorization": "Bearer " + k} }
	}
	// Signed as each provider signs the raw body (Zalo's timestamp is
	// inside the body, unreadable here).
	smsSigned := func(b []byte) map[string]string { return map[string]string{"X-Signature": core.Sign(secret, b)} }
	zaloSigned := func(b []byte) map[string]string {
		return map[string]string{"X-ZEvent-Signature": zalo.Signature("1", b, "", secret)}
	}
	const form = "multipart/form-data; boundary=x" // fasthttp gunzips multipart bodies itself
	return []bombTarget{
		{"operator API, admin key", "/api/v1/invitations", "application/json", bearer(key)},
		{"operator API, no key", "/api/v1/invitations", "application/json", nil},
		{"agency import", "/api/v1/agencies/import", "text/csv", bearer(key)},
		{"survey page", strings.TrimPrefix(inv["survey_url"].(string), base), form, nil},
		{"console sign-in", "/console/login", form, nil},
		{"kiosk pairing", "/kiosk/api/pair", "application/json", nil},
		{"kiosk answer, device token", "/kiosk/api/answer", "application/json", bearer(paired["token"].(string))},
		{"SMS webhook, signed", "/webhooks/sms/gen", "application/json", smsSigned},
		{"SMS webhook, unsigned", "/webhooks/sms/gen", "application/json", nil},
		{"Zalo webhook, signed", "/webhooks/zalo/oa", "application/json", zaloSigned},
		{"Zalo webhook, unsigned", "/webhooks/zalo/oa", "application/json", nil},
	}
}

// bombs are kept in testdata: making them under the race detector takes
// half a minute each (go test ./cmd/gateway/ -run TestCompressedBodyBombs
// -update remakes them, without -race, in seconds).
var bombs = []struct {
	file, coding string
	size         int64
}{
	{"gzip-gzip-256m", "gzip, gzip", 256 << 20},
	{"deflate-deflate-256m", "deflate, deflate", 256 << 20},
	{"br-256m", "br", 256 << 20},
	{"gzip-60m", "gzip", 60 << 20}, // one layer, under BodyLimit: what fasthttp's multipart reader decodes
}

var update = flag.Bool("update", false, "remake testdata/bombs")

func bomb(t *testing.T, file, coding string, size int64) []byte {
	t.Helper()
	path := filepath.Join("testdata", "bombs", file)
	if *update {
		b := gwtest.Bomb(coding, size)
		if len(b) > 64*1024 {
			t.Fatalf("%s: %d bytes, over BodyLimit", file, len(b))
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var vmHWM = regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`)

// peakRSS is the process's peak resident memory in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	m := vmHWM.FindSubmatch(b)
	if err != nil || m == nil {
		t.Fatalf("no VmHWM for %d: %v", pid, err)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}
