package server

import (
	"bytes"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
)

// identityBodies refuses, with 415, any request whose Content-Encoding
// names a coding other than identity, before a handler or a signature
// check can read the body. fiber's Body and BodyParser decode gzip,
// deflate and brotli, as many layers as the header lists, and fasthttp's
// multipart reader gzip, all without a bound, while BodyLimit counts the
// bytes on the wire: 627 bytes of "gzip, gzip" grew the gateway by a
// gigabyte. No client of ours compresses what it sends; a route that one
// day must take compressed bodies is let through here and decodes them
// itself, capped at its own limit.
//
// Every Content-Encoding line counts, in any case and spacing: fiber
// decodes the list on the last line, fasthttp the value of the first.
// Transfer-Encoding needs no check: fasthttp reads any value but identity
// as chunked and applies no other coding.
func identityBodies(c *fiber.Ctx) error {
	var refused string
	c.Request().Header.VisitAll(func(key, value []byte) {
		if refused != "" || !bytes.EqualFold(key, contentEncoding) {
			return
		}
		for coding := range strings.SplitSeq(string(value), ",") {
			if coding = strings.TrimSpace(coding); coding != "" && !strings.EqualFold(coding, "identity") {
				refused = coding
				return
			}
		}
	})
	if refused != "" {
		return core.Errorf(core.UnsupportedEncoding, fiber.HeaderContentEncoding,
			"Content-Encoding %.40q is not accepted: send the body uncompressed", refused)
	}
	return c.Next()
}

var contentEncoding = []byte(fiber.HeaderContentEncoding)

// encodingPage answers a survey form sent compressed (no browser does
// that on its own).
const encodingPage = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Không đọc được · Unreadable</title><link rel="stylesheet" href="/static/app.css"></head>` +
	`<body><main><h1>Không đọc được nội dung gửi</h1><p>Trình duyệt đã nén nội dung gửi đi. Vui lòng gửi lại bằng trình duyệt khác.</p><p lang="en">Your browser compressed what it sent, which the gateway does not read. Please send it again from another browser.</p></main></body></html>`
