package web

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"

	"github.com/gofiber/fiber/v2"
)

// eachPart calls fn with each part of a multipart/form-data body until fn
// returns false, reading the parts from the body in memory as they come:
// nothing is copied whole or spilled to disk, as fasthttp's MultipartForm
// would a large file. Another body has no parts.
func eachPart(c *fiber.Ctx, fn func(*multipart.Part) bool) {
	_, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || params["boundary"] == "" {
		return
	}
	mr := multipart.NewReader(bytes.NewReader(c.Body()), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil || !fn(p) {
			return
		}
	}
}

// partValue is the first value of the form field name in a multipart
// body, at most max bytes of it; "" when there is none.
func partValue(c *fiber.Ctx, name string, max int64) string {
	value := ""
	eachPart(c, func(p *multipart.Part) bool {
		if p.FormName() != name || p.FileName() != "" {
			return true
		}
		b, _ := io.ReadAll(io.LimitReader(p, max))
		value = string(b)
		return false
	})
	return value
}
