package server

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// CommentQuery is what a comments request asks for.
type CommentQuery struct {
	filter store.CommentFilter
	limit  int
	format string
	// Echoed to the console's form.
	Agency, From, To, Channel, Band, Q, Topic string
}

// Limit is the most comments one page answers; a page this full has older ones.
func (q CommentQuery) Limit() int { return q.limit }

// Score bands of a comment's response (its mean over valid answers).
var bands = map[string]func(float64) bool{
	"low":  func(s float64) bool { return s > 0 && s < 3 },
	"mid":  func(s float64) bool { return s >= 3 && s < 4 },
	"high": func(s float64) bool { return s >= 4 },
}

// fold is text as the comment search compares it: no diacritics, lower
// case, single spaces ("Chờ  LÂU" → "cho lau").
func fold(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(survey.Unaccent(survey.Normalize(s)))), " ")
}

// parseComments reads GET /api/v1/comments' parameters: the agency
// subtree (within the key's), the months (default: the last twelve),
// channel (a name or a family: sms, zalo, web), score band, a search that
// ignores diacritics and case, and a before cursor.
func (a *API) parseComments(c *fiber.Ctx) (CommentQuery, error) {
	q := CommentQuery{Agency: c.Query("agency"), From: c.Query("from"), To: c.Query("to"), Channel: c.Query("channel"), Band: c.Query("band"), Q: c.Query("q"), Topic: c.Query("topic")}
	rq, err := a.parseReportQuery(c)
	if err != nil {
		return q, err
	}
	f := store.CommentFilter{Agencies: rq.Agencies, FromMonth: rq.FromMonth, ToMonth: rq.ToMonth}
	if f.ToMonth == "" {
		f.ToMonth = store.MonthOf(time.Now())
	}
	if f.FromMonth == "" { // the last twelve months, or fewer if the limit is lower
		t, _ := time.Parse("2006-01", f.ToMonth)
		f.FromMonth = t.AddDate(0, -(min(12, a.Core.MonthLimit()) - 1), 0).Format("2006-01")
	}
	if v := c.Query("before"); v != "" {
		if f.Before, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return q, core.Errorf(core.Invalid, "before", "%q is not a time; pass next_before from the last page, e.g. 2026-11-28T09:15:00+07:00", v)
		}
	}
	band := bands[q.Band]
	if q.Band != "" && band == nil {
		return q, core.Errorf(core.Invalid, "band", "%q: use low (mean score under 3), mid (3 to under 4) or high (4 and over)", q.Band)
	}
	topic, polarity, _ := strings.Cut(q.Topic, ":")
	if q.Topic != "" && (!a.knownTopic(topic) || (polarity != "" && polarity != string(survey.Complaint) && polarity != string(survey.Praise) && polarity != string(survey.Neutral))) {
		return q, core.Errorf(core.Invalid, "topic", "%q: use a topic id (%s), optionally with :complaint, :praise or :neutral", q.Topic, strings.Join(a.TopicIDs(), ", "))
	}
	q.format = c.Query("format", "json")
	if q.format != "json" && q.format != "csv" {
		return q, core.Errorf(core.Invalid, "format", "%q: use json or csv", q.format)
	}
	q.limit = 50
	if q.format == "csv" {
		q.limit = 100_000
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100_000 {
			return q, core.Errorf(core.Invalid, "limit", "%q: use a number from 1 to 100000", v)
		}
		q.limit = n
	}
	search, channel := fold(q.Q), rq.Channel
	f.Keep = func(cm *store.Comment) bool {
		if channel != "" && cm.Channel != channel && !strings.HasPrefix(cm.Channel, channel+".") {
			return false
		}
		if band != nil && !band(cm.Score) {
			return false
		}
		if topic != "" && !slices.ContainsFunc(cm.Topics, func(t survey.Topic) bool {
			return t.ID == topic && (polarity == "" || string(t.Polarity) == polarity)
		}) {
			return false
		}
		return search == "" || strings.Contains(fold(cm.Text), search)
	}
	q.filter = f
	return q, nil
}

// ListComments reads the comments a request asks for.
func (a *API) ListComments(c *fiber.Ctx) (CommentQuery, []store.Comment, error) {
	q, err := a.parseComments(c)
	if err != nil {
		return q, nil, err
	}
	list, err := a.Core.Mongo.Comments.Newest(c.UserContext(), q.filter, q.limit)
	return q, list, err
}

type commentList struct {
	Comments   []store.Comment `json:"comments"`
	NextBefore string          `json:"next_before,omitempty" doc:"pass as before= for the next page; absent on the last page"`
}

// Comments answers GET /api/v1/comments: citizens' comments newest first,
// from the comment pages (never a scan of responses), phone numbers
// redacted; format=csv for a spreadsheet.
func (a *API) Comments(c *fiber.Ctx) error {
	q, list, err := a.ListComments(c)
	if err != nil {
		return err
	}
	for i := range list {
		list[i].At = list[i].At.In(a.Zone)
		list[i].Topics = nonNil(list[i].Topics)
	}
	if q.format == "csv" {
		return a.commentsCSV(c, list)
	}
	out := commentList{Comments: nonNil(list)}
	if len(list) == q.limit {
		out.NextBefore = list[len(list)-1].At.Format(time.RFC3339Nano)
	}
	return c.JSON(out)
}

func (a *API) commentsCSV(c *fiber.Ctx, list []store.Comment) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="comments-%s.csv"`, time.Now().In(a.Zone).Format("20060102")))
	b := bufio.NewWriter(c)
	_, _ = b.WriteString(bom)
	w := safeCSV{csv.NewWriter(b)}
	ids := a.TopicIDs()
	head := []string{"response_id", "submitted_at", "agency_code", "procedure_code", "survey", "channel", "mean_score", "text"}
	for _, id := range ids {
		head = append(head, "topic_"+id)
	}
	_ = w.Write(head)
	for _, cm := range list {
		row := []string{cm.ResponseID, cm.At.Format(time.RFC3339), cm.Agency, cm.Procedure, cm.Survey, cm.Channel,
			strconv.FormatFloat(cm.Score, 'f', 2, 64), cm.Text}
		for _, id := range ids {
			row = append(row, polarityOf(cm.Topics, id))
		}
		_ = w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return b.Flush()
}

// polarityOf is how topics speak of topic id ("" when they do not).
func polarityOf(topics []survey.Topic, id string) string {
	for _, t := range topics {
		if t.ID == id {
			return string(t.Polarity)
		}
	}
	return ""
}

// TopicIDs are the lexicon's topics, in its order.
func (a *API) TopicIDs() []string {
	var ids []string
	if a.Core.Topics != nil {
		for _, d := range a.Core.Topics.Topics {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func (a *API) knownTopic(id string) bool { return slices.Contains(a.TopicIDs(), id) }
