package web

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// scaleLabels name the 5-level scale (0: no opinion).
var scaleLabels = []string{"Không ý kiến", "Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"}

// scoreGroup is one criterion of a response with its indicators' scores.
type scoreGroup struct {
	Code, Title string
	Low         bool // the case opened on it
	Items       []scoreItem
}

type scoreItem struct {
	ID, Text, Label string
	Score           int
}

// caseScores are the citizen's scores by criterion and indicator, named
// as the survey names them in lang; nil when the response is not there
// (a feedback case, or one not yet written).
func caseScores(ctx context.Context, c *core.Service, cas *store.Case, lang string) ([]scoreGroup, error) {
	if cas.Feedback() {
		return nil, nil
	}
	r, err := c.Mongo.Responses.Response(ctx, cas.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	def, ok := c.Surveys.Survey(survey.ID(r.Survey))
	if !ok {
		return nil, nil
	}
	var out []scoreGroup
	for _, cr := range def.Criteria {
		g := scoreGroup{Code: cr.Code, Title: cr.Title.In(lang), Low: slices.Contains(cas.Low, cr.Code)}
		for _, a := range r.Answers {
			if a.Criterion != cr.Code || a.Score < 0 || a.Score >= len(scaleLabels) {
				continue
			}
			it := scoreItem{ID: a.Question, Text: a.Question, Score: a.Score, Label: translate(lang, scaleLabels[a.Score])}
			if q, ok := def.Question(survey.QuestionID(a.Question)); ok {
				it.Text = q.Text.In(lang)
			}
			g.Items = append(g.Items, it)
		}
		if len(g.Items) > 0 {
			out = append(out, g)
		}
	}
	return out, nil
}

// assignees are the people a case may be given to: the names of its
// agency's keys and console users (there are no other operator
// accounts), and whoever has it now. Both collections are a
// province's handful of documents, read whole.
func assignees(ctx context.Context, c *core.Service, agency, current string) ([]string, error) {
	keys, err := c.Mongo.Keys.All(ctx)
	if err != nil {
		return nil, err
	}
	users, err := c.Mongo.Users.All(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{}
	add := func(name string) {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, k := range keys {
		if k.Agency == agency && k.Revoked == nil && k.Role != core.RoleViewer {
			add(k.Name)
		}
	}
	for _, u := range users {
		if u.Agency == agency && !u.Disabled && u.Role != core.RoleViewer {
			add(u.Username)
		}
	}
	slices.Sort(out)
	add(current)
	return out, nil
}

// historyLine is one event of a case's history in words.
type historyLine struct{ At, By, Text string }

// caseActions say what an event did (its detail fills the verb).
var caseActions = map[string]string{
	core.CaseAssign: "Giao cho %s", core.CaseNote: "Thêm ghi chú nội bộ", core.CaseStart: "Chuyển sang đang xử lý",
	core.CaseAnswer: "Trả lời công dân", core.CaseClose: "Đóng vụ việc", core.CaseReopen: "Mở lại vụ việc",
	"answer_queued": "Trả lời chờ gửi", "answer_sent": "Đã gửi trả lời", "answer_delivered": "Trả lời đã đến máy công dân",
	"answer_failed": "Gửi trả lời lỗi", "answer_retrying": "Gửi trả lời lỗi, đang thử lại", "answer_skipped": "Không gửi trả lời",
	"answer_not_sent": "Không gửi được trả lời", "rated": "Công dân chấm câu trả lời %s/5", "reminder": "Nhắc sắp đến hạn xử lý",
	"escalated": "Báo cơ quan cấp trên: %s", "phone_confirmed": "Công dân xác nhận số %s",
}

// openedWhy say why a case opened, from its "opened" event's detail.
var openedWhy = map[string]string{
	"low_score": "Mở do điểm thấp", "complaint": "Mở do ý kiến phàn nàn", "topic": "Mở do ý kiến về chủ đề cần theo dõi",
	"feedback": "Mở từ hòm thư góp ý", "": "Mở vụ việc",
}

// actors name who did what when it was not a person.
var actors = map[string]string{"gateway": "Hệ thống", "citizen": "Công dân"}

// history is a case's history in words in lang: who, what, and the
// detail a person typed or a name, never a code.
func history(cas *store.Case, lang string, zone *time.Location, agencyName func(string) string) []historyLine {
	out := make([]historyLine, 0, len(cas.History))
	for _, e := range cas.History {
		l := historyLine{At: locale.DateTime(lang, e.At.In(zone)), By: e.By, Text: e.Action}
		if a, ok := actors[e.By]; ok {
			l.By = translate(lang, a)
		}
		switch tmpl, ok := caseActions[e.Action]; {
		case e.Action == "opened":
			why, _, _ := strings.Cut(e.Detail, " ")
			if _, ok := openedWhy[why]; !ok {
				why = ""
			}
			l.Text = translate(lang, openedWhy[why])
		case e.Action == "escalated":
			l.Text = translate(lang, tmpl, agencyName(e.Detail))
		case ok && strings.Contains(tmpl, "%s"):
			l.Text = translate(lang, tmpl, e.Detail)
		case ok:
			l.Text = translate(lang, tmpl)
		}
		switch {
		case e.Action == core.CaseAnswer:
			l.Text += ": “" + e.Detail + "”"
		case strings.HasPrefix(e.Detail, "due moved to "):
			l.Text += "; " + translate(lang, "hạn xử lý mới %s", reDate(lang, zone, strings.TrimPrefix(e.Detail, "due moved to ")))
		case strings.HasPrefix(e.Detail, "due kept "):
			l.Text += "; " + translate(lang, "giữ hạn xử lý %s", reDate(lang, zone, strings.TrimPrefix(e.Detail, "due kept ")))
		case lang == "en" && e.Action == "answer_not_sent" || lang == "en" && strings.HasPrefix(e.Action, "answer_") && e.Detail != "":
			l.Text += ": " + e.Detail // the gateway's reason, which is English
		}
		out = append(out, l)
	}
	return out
}

// reDate writes a time the core wrote as "2006-01-02 15:04" (Vietnam
// time) as lang writes it.
func reDate(lang string, zone *time.Location, s string) string {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, core.Vietnam)
	if err != nil {
		return s
	}
	return locale.DateTime(lang, t.In(zone))
}

// answerRoute is where the case's answer goes, for its page.
type answerRoute struct{ Channel, Phone, Why string }

func (cs *console) answerRoute(c *fiber.Ctx, cas *store.Case) (answerRoute, error) {
	ch, phone, why, err := cs.api.Core.AnswerRoute(c.UserContext(), cas)
	if err != nil {
		return answerRoute{}, err
	}
	r := answerRoute{Channel: ch, Phone: phone}
	if chn, err := cs.api.Core.Channel(c.UserContext(), ch); err == nil {
		r.Channel = translate(langOf(c), cmp.Or(channelTypeNames[chn.Type], chn.Type))
	}
	if lang := langOf(c); why != "" && lang == "en" {
		r.Why = why // the core's reason, which is English
	} else if why != "" {
		r.Why = translate(lang, "Trả lời sẽ không gửi được cho công dân: không có số điện thoại đã xác nhận hoặc không có kênh SMS đang bật.")
	}
	return r, nil
}
