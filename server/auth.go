package server

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sipasvn/gateway/core"
)

// authenticate resolves the bearer key to a principal for the handlers.
func authenticate(c *core.Service, adminKey string) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		token, ok := strings.CutPrefix(ctx.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok {
			token = ""
		}
		p, err := c.Authenticate(ctx.UserContext(), strings.TrimSpace(token), adminKey)
		if err != nil {
			ctx.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="sipas-gateway"`)
			return err
		}
		ctx.Locals("principal", p)
		return ctx.Next()
	}
}

func Principal(c *fiber.Ctx) *core.Principal {
	p, _ := c.Locals("principal").(*core.Principal)
	if p == nil {
		return &core.Principal{Role: "none"}
	}
	return p
}

// Allow lets through only the given roles.
func Allow(roles ...core.Role) fiber.Handler {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return func(c *fiber.Ctx) error {
		p := Principal(c)
		for _, r := range roles {
			if p.Role == r {
				return c.Next()
			}
		}
		return core.Errorf(core.Denied, "", "a %s key cannot do this; it needs one of: %s", p.Role, strings.Join(names, ", "))
	}
}

// Scope checks that an agency-bound principal may act on agency.
func (a *API) Scope(ctx context.Context, p *core.Principal, agency string) error {
	return a.Core.AgencyScope(ctx, p, agency)
}

// ScansPath is the API's route whose body may be larger than BodyLimit:
// stacks of scanned forms.
const ScansPath = "/api/v1/forms/scans"

// Uploader finds, from a request's headers alone, who sends it.
type Uploader func(context.Context, *fasthttp.RequestHeader) (*core.Principal, error)

// upload is a route whose POSTs may be larger than BodyLimit.
type upload struct {
	path []byte
	who  Uploader
}

// AllowUpload lets POSTs to path carry up to the scan upload limit
// (GATEWAY_SCAN_MAX_BYTES) when who finds, from the headers, a principal
// who may upload scans (an admin or an agency). A frontend calls it as it
// mounts; the routes are fixed once the app serves.
func (a *API) AllowUpload(path string, who Uploader) {
	a.uploads = append(a.uploads, upload{path: []byte(path), who: who})
}

// bearer finds the principal of a request's API key.
func bearer(c *core.Service, adminKey string) Uploader {
	return func(ctx context.Context, h *fasthttp.RequestHeader) (*core.Principal, error) {
		token, ok := strings.CutPrefix(string(h.Peek(fiber.HeaderAuthorization)), "Bearer ")
		if !ok {
			return nil, core.Errorf(core.Unauthenticated, "", "no bearer key")
		}
		return c.Authenticate(ctx, strings.TrimSpace(token), adminKey)
	}
}

// uploadLimit lets a POST to one of a's upload routes carry up to max
// bytes when its sender may upload, decided from the headers before a
// byte of the body is read: anyone else's large body is refused at
// BodyLimit, as on every route, and never held in memory.
func uploadLimit(a *API, max int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		path, _, _ := bytes.Cut(h.RequestURI(), []byte("?")) // no allocation: every request passes here
		path = bytes.TrimSuffix(path, []byte("/"))
		if h.IsPut() && promptPath(path) && a.promptUploader != nil && (upload{who: a.promptUploader}).allowed(h) {
			return fasthttp.RequestConfig{MaxRequestBodySize: core.PromptMaxBytes, ReadTimeout: time.Minute}
		}
		if !h.IsPost() {
			return fasthttp.RequestConfig{}
		}
		for _, u := range a.uploads {
			if bytes.EqualFold(path, u.path) && u.allowed(h) {
				// a slow phone link may take minutes for 25 MB
				return fasthttp.RequestConfig{MaxRequestBodySize: max, ReadTimeout: 5 * time.Minute}
			}
		}
		return fasthttp.RequestConfig{}
	}
}

// allowed says whether the request's sender may upload scans.
func (u upload) allowed(h *fasthttp.RequestHeader) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := u.who(ctx, h)
	return err == nil && (p.Role == core.RoleAdmin || p.Role == core.RoleAgency)
}

// promptPath says whether path is a voice prompt's upload,
// /api/v1/channels/{id}/prompts/{name}, whose PUT may carry a recording
// of up to core.PromptMaxBytes.
func promptPath(path []byte) bool {
	rest, ok := bytes.CutPrefix(path, []byte("/api/v1/channels/"))
	if !ok {
		return false
	}
	id, name, ok := bytes.Cut(rest, []byte("/prompts/"))
	return ok && len(id) > 0 && len(name) > 0 && bytes.IndexByte(id, '/') < 0 && bytes.IndexByte(name, '/') < 0
}
