package server

import (
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
)

// requireKey lets through requests that carry the admin key as a bearer
// token. Keys are compared in constant time.
func requireKey(adminKey string) fiber.Handler {
	want := []byte(adminKey)
	return func(c *fiber.Ctx) error {
		auth := c.Get(fiber.HeaderAuthorization)
		token, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || token == "" {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="sipas-gateway"`)
			return core.Errorf(core.Unauthenticated, "", "send Authorization: Bearer <api key>")
		}
		if subtle.ConstantTimeCompare([]byte(token), want) != 1 {
			return core.Errorf(core.Unauthenticated, "", "the API key is not valid")
		}
		return c.Next()
	}
}
