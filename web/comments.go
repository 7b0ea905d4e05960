package web

import (
	"github.com/sipasvn/gateway/internal/locale"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/sipasvn/gateway/server"
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
	a, lang := cs.api, langOf(c)
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
			score = locale.Fixed(lang, cm.Score, 1)
		}
		rows[i] = row{At: locale.DateTime(lang, cm.At.In(a.Zone)), Agency: name(cm.Agency), Channel: cm.Channel, Score: score, Text: cm.Text}
		for _, t := range cm.Topics {
			rows[i].Topics = append(rows[i].Topics, topicName(a, lang, t.ID)+": "+translate(lang, polarityLabels[t.Polarity]))
		}
	}
	v := cs.view(c, "nav|Ý kiến")
	data := map[string]any{"Rows": rows, "Q": q, "Agencies": agencies, "Channels": []string{"web", "sms", "zalo"}, "Topics": topicChoices(a, lang),
		"Bands": scoreBands}
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

// polarityLabels name the polarities (in Vietnamese, translated when shown).
var polarityLabels = map[survey.Polarity]string{
	survey.Complaint: "phàn nàn", survey.Praise: "khen", survey.Neutral: "nêu",
}

// scoreBands are the panel's score filter (server.bands has their rules).
var scoreBands = []struct{ Code, Label string }{{"low", "Thấp (dưới 3)"}, {"mid", "Trung bình (3)"}, {"high", "Cao (4–5)"}}

// topicName is a topic's name in lang (its id if unknown).
func topicName(a *server.API, lang, id string) string {
	if a.Core.Topics != nil {
		for _, d := range a.Core.Topics.Topics {
			if d.ID == id {
				return d.Name.In(lang)
			}
		}
	}
	return id
}

// topicChoices are the panel's topic filter options: each topic, then its complaints.
func topicChoices(a *server.API, lang string) []struct{ Value, Label string } {
	var out []struct{ Value, Label string }
	for _, id := range a.TopicIDs() {
		name := topicName(a, lang, id)
		out = append(out, struct{ Value, Label string }{id, name}, struct{ Value, Label string }{id + ":complaint", name + " – " + translate(lang, "phàn nàn")})
	}
	return out
}
