package server

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

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
