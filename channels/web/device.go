package web

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// DeviceCookie is the survey page's first-party cookie that tells one
// browser from another: a random value (128 bits) the gateway keeps only
// as a keyed hash, for the response's provenance and the device_many
// signal (one browser answering many dossiers). It is never read for
// anything else.
const DeviceCookie = "gw_device"

// deviceAge is how long a browser keeps it: 400 days, the most browsers
// allow.
const deviceAge = 400 * 24 * 60 * 60

var deviceRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// device is the browser's device cookie as the request carried it (""
// when it carried none, or not one of ours); a browser without one is
// given one for its next request. A value first set on the answer's own
// request says nothing of the browser, so it is not used.
func (h *handler) device(c *fiber.Ctx) string {
	if v := c.Cookies(DeviceCookie); deviceRe.MatchString(v) {
		return v
	}
	if c.Locals(DeviceCookie) == nil {
		var b [16]byte
		_, _ = rand.Read(b[:])
		c.Cookie(&fiber.Cookie{Name: DeviceCookie, Value: hex.EncodeToString(b[:]), Path: "/", MaxAge: deviceAge,
			Secure: strings.HasPrefix(h.core.BaseURL, "https://"), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
		c.Locals(DeviceCookie, true)
	}
	return ""
}
