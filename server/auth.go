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

// ScansPath is the one route whose body may be larger than BodyLimit:
// stacks of scanned forms.
const ScansPath = "/api/v1/forms/scans"

var scansPath = []byte(ScansPath)

// uploadLimit lets a request to ScansPath carry up to max bytes when its
// key may upload (an admin or an agency key), decided from the headers
// before a byte of the body is read: anyone else's large body is refused
// at BodyLimit, as on every route, and never held in memory.
func uploadLimit(c *core.Service, adminKey string, max int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		path, _, _ := bytes.Cut(h.RequestURI(), []byte("?")) // no allocation: every request passes here
		if !h.IsPost() || !bytes.EqualFold(bytes.TrimSuffix(path, []byte("/")), scansPath) {
			return fasthttp.RequestConfig{}
		}
		token, ok := strings.CutPrefix(string(h.Peek(fiber.HeaderAuthorization)), "Bearer ")
		if !ok {
			return fasthttp.RequestConfig{}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		p, err := c.Authenticate(ctx, strings.TrimSpace(token), adminKey)
		if err != nil || p.Role != core.RoleAdmin && p.Role != core.RoleAgency {
			return fasthttp.RequestConfig{}
		}
		// a slow phone link may take minutes for 25 MB
		return fasthttp.RequestConfig{MaxRequestBodySize: max, ReadTimeout: 5 * time.Minute}
	}
}
