package web

import (
	"html/template"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// reportFile is the dashboard's "print" and "Excel" links: the API's
// report file (server.ReportFile) with the session's principal, in the
// console's language; with no survey named, every form, as the dashboard
// opens.
func (cs *console) reportFile(format string) fiber.Handler {
	file := cs.api.ReportFile(format)
	return func(c *fiber.Ctx) error {
		args := c.Request().URI().QueryArgs()
		if len(args.Peek("survey")) == 0 {
			args.Set("survey", report.AllForms)
		}
		args.Set("lang", langOf(c))
		return file(c)
	}
}

// reportFiles are the dashboard's report-file links, PDF and XLSX, with
// the dashboard's filters as it reads them.
func reportFiles(c *fiber.Ctx, q store.Filter) map[string]template.URL {
	v := url.Values{"survey": {server.SurveyName(q)}}
	for _, name := range []string{"agency", "from", "to", "channel"} {
		if s := c.Query(name); s != "" {
			v.Set(name, s)
		}
	}
	return map[string]template.URL{"PDF": template.URL("/console/report.pdf?" + v.Encode()), "XLSX": template.URL("/console/report.xlsx?" + v.Encode())}
}
