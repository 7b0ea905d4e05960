package web

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sipasvn/gateway/survey"
	"github.com/valyala/fasthttp"
)

// commentsCSVPage is the panel's export: the same filters, as CSV.
func (cs *console) commentsCSVPage(c *fiber.Ctx) error {
	c.Request().URI().QueryArgs().Set("format", "csv")
	return cs.api.Comments(c)
}

// commentsPage is the console's comments panel.
func (cs *console) commentsPage(c *fiber.Ctx) error {
	a := cs.api
	q, list, err := a.ListComments(c)
	if err != nil {
		return err
	}
	agencies, name, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	type row struct {
		At, Agency, Channel, Score, Text string
		Topics                           []string
	}
	rows := make([]row, len(list))
	for i, cm := range list {
		score := "–"
		if cm.Score > 0 {
			score = strconv.FormatFloat(cm.Score, 'f', 1, 64)
		}
		rows[i] = row{At: cm.At.In(a.Zone).Format("2006-01-02 15:04"), Agency: name(cm.Agency), Channel: cm.Channel, Score: score, Text: cm.Text}
		for _, t := range cm.Topics {
			rows[i].Topics = append(rows[i].Topics, a.TopicName(t.ID)+": "+polarityLabels[t.Polarity])
		}
	}
	v := cs.view(c, "Ý kiến · Comments")
	data := map[string]any{"Rows": rows, "Q": q, "Agencies": agencies, "Channels": []string{"web", "sms", "zalo"}, "Topics": a.TopicChoices(),
		"Bands": []struct{ Code, VI, EN string }{{"low", "Thấp (dưới 3)", "Low (under 3)"}, {"mid", "Trung bình (3)", "Middle (3)"}, {"high", "Cao (4–5)", "High (4–5)"}}}
	var args fasthttp.Args
	c.Request().URI().QueryArgs().CopyTo(&args)
	args.Del("before")
	data["Export"] = "/console/comments.csv?" + string(args.QueryString())
	if len(list) == q.Limit() {
		args.Set("before", list[len(list)-1].At.Format(time.RFC3339Nano))
		data["Older"] = "/console/comments?" + string(args.QueryString())
	}
	v.Data = data
	return cs.render(c, 200, "comments", v)
}

// polarityLabels name the polarities in both languages.
var polarityLabels = map[survey.Polarity]string{
	survey.Complaint: "phàn nàn · complaint", survey.Praise: "khen · praise", survey.Neutral: "nêu · mention",
}
