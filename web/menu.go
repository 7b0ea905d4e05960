package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
)

// menu is the counts the menu shows beside its links, for a page of a
// signed-in operator (nil otherwise: the sign-in page). They come from
// Redis alone; a failure is logged and the page shows no counts, since
// the page matters more than its menu.
func (cs *console) menu(c *fiber.Ctx, v *view) *core.MenuCounts {
	p, ok := c.Locals("principal").(*core.Principal)
	if !ok || v.User == "" {
		return nil
	}
	m, err := cs.api.Core.MenuCounts(c.UserContext(), p)
	if err != nil {
		cs.log.Warn("menu counts failed; the page shows none", "err", err)
		return nil
	}
	return &m
}
