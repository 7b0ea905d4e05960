package server

import (
	"context"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/sipasvn/gateway/core"
)

// A POST to a registered upload route gets the larger limit when its
// Uploader finds an admin or an agency; any other request gets the
// common one, without the Uploader being asked and without allocating.
func TestUploadLimit(t *testing.T) {
	asked := 0
	a := &API{}
	a.AllowUpload("/console/paper/upload", func(_ context.Context, h *fasthttp.RequestHeader) (*core.Principal, error) {
		asked++
		if who := h.Cookie("who"); len(who) > 0 {
			return &core.Principal{Role: core.Role(who)}, nil
		}
		return nil, core.Errorf(core.Unauthenticated, "", "no session")
	})
	limit := uploadLimit(a, 10<<20)
	for _, c := range []struct {
		method, uri, who string
		asked            bool
		max              int
	}{
		{"POST", "/console/paper/upload", "agency", true, 10 << 20},
		{"POST", "/Console/Paper/Upload/?lang=en", "admin", true, 10 << 20},
		{"POST", "/console/paper/upload", "viewer", true, 0},
		{"POST", "/console/paper/upload", "", true, 0},
		{"GET", "/console/paper/upload", "admin", false, 0},
		{"POST", "/console/paper/uploads", "admin", false, 0},
		{"POST", "/console/paper/print", "admin", false, 0},
		{"POST", "/api/v1/forms/scans", "admin", false, 0}, // not registered on this API
	} {
		var h fasthttp.RequestHeader
		h.SetMethod(c.method)
		h.SetRequestURI(c.uri)
		if c.who != "" {
			h.SetCookie("who", c.who)
		}
		asked = 0
		got := limit(&h)
		if got.MaxRequestBodySize != c.max || (asked > 0) != c.asked {
			t.Errorf("%s %s as %q: limit %d, asked %d times; want %d, asked %v", c.method, c.uri, c.who, got.MaxRequestBodySize, asked, c.max, c.asked)
		}
	}

	// Every request passes here: one for another route costs nothing.
	var h fasthttp.RequestHeader
	h.SetMethod("POST")
	h.SetRequestURI("/s/2x9vQpL0cW7mZk4rT8nB1yHf6dJ3sA5e?step=2&lang=vi")
	if n := testing.AllocsPerRun(100, func() { limit(&h) }); n != 0 {
		t.Errorf("%v allocations for a POST to another route", n)
	}
}
