package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// bom makes spreadsheets read CSV as UTF-8, so Vietnamese stays intact.
const bom = "\ufeff"

// responsesExport streams normalised responses as CSV (one column per
// question of the chosen survey) or JSON lines. No phone numbers: the
// respondent is a keyed hash, and the citizen's texts (comment,
// citizen_text) are cleaned again on the way out, so responses kept
// before a cleaning rule existed leave as clean as new ones. The
// cross-form view (survey=all) exports every form's responses in one
// file: a column per criterion (the response's share of valid answers at
// 4 or 5 there, in percent, empty when it gave none) then each form's own
// questions, named form:question.
func (a *API) responsesExport(c *fiber.Ctx) error {
	q, def, err := a.ReportQuery(c)
	if err != nil {
		return err
	}
	// The stream writer runs after the handler returns: copy what fiber
	// lends from its reused buffers.
	f := store.ExportFilter{Survey: strings.Clone(q.Survey), Channel: strings.Clone(q.Channel)}
	type column struct{ form, question string }
	var criteria []string
	var columns []column
	if q.Survey == "" {
		for _, cr := range def.Criteria {
			criteria = append(criteria, cr.Code)
		}
		for _, s := range a.Core.Surveys.All() {
			if report.Forms(a.Core.Surveys, def)[string(s.ID)] {
				f.Surveys = append(f.Surveys, string(s.ID))
				for _, qu := range s.Questions {
					columns = append(columns, column{string(s.ID), string(qu.ID)})
				}
			}
		}
	} else {
		for _, qu := range def.Questions {
			columns = append(columns, column{"", string(qu.ID)})
		}
	}
	for _, ag := range q.Agencies {
		f.Agencies = append(f.Agencies, strings.Clone(ag))
	}
	if f.From, err = day(c.Query("from"), "from", false); err != nil {
		return err
	}
	if f.To, err = day(c.Query("to"), "to", true); err != nil {
		return err
	}
	format := c.Query("format", "csv")
	if format != "csv" && format != "jsonl" {
		return core.Errorf(core.Invalid, "format", "%q: use csv or jsonl", format)
	}
	name := fmt.Sprintf("responses-%s-%s.%s", SurveyName(q), time.Now().In(core.Vietnam).Format("20060102"), format)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	// The stream is written after the handler returns, whose context ends
	// then: the writer watches the client itself (streamWatch), so an
	// export nobody downloads any more stops reading MongoDB.
	base, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), time.Hour)
	// A failure half-way must not look like a complete file: the
	// connection's sending side is shut before the last chunk, so the
	// download breaks.
	conn := c.Context().Conn()
	watch := streamWatch(c)
	broken := func(ctx context.Context, w *bufio.Writer, err error) {
		if err == nil {
			return
		}
		if errors.Is(context.Cause(ctx), errClientLeft) {
			a.log.Info("export stopped: the client left")
			return
		}
		a.log.Error("export cut short; the client's download is broken on purpose", "err", err)
		_ = w.Flush()
		// Half-close: the last chunk can no longer be written, so the
		// client sees a broken transfer; closing the socket outright would
		// make fasthttp panic on its next deadline.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}
	if format == "jsonl" {
		c.Set(fiber.HeaderContentType, "application/x-ndjson; charset=utf-8")
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			defer cancel()
			ctx, stop := watch(base)
			defer stop()
			enc := json.NewEncoder(w)
			broken(ctx, w, a.Core.Mongo.Responses.EachMatching(ctx, f, func(r *store.Response) error { return enc.Encode(exportRow(r, a.Zone, a.Core.Topics)) }))
			_ = w.Flush()
		})
		return nil
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		ctx, stop := watch(base)
		defer stop()
		_, _ = w.WriteString(bom)
		cw := safeCSV{csv.NewWriter(w)}
		head := []string{"response_id", "invitation_id", "survey", "survey_version", "dossier_code", "agency_code", "procedure_code", "field_code", "channel", "locale", "respondent", "submitted_at"}
		for _, cr := range criteria {
			head = append(head, "criterion_"+cr)
		}
		for _, col := range columns {
			if col.form != "" {
				head = append(head, col.form+":"+col.question)
			} else {
				head = append(head, col.question)
			}
		}
		_ = cw.Write(append(append(head, "comment", "entered_by", "citizen_text", "topics"), integrityColumns...))
		err := a.Core.Mongo.Responses.EachMatching(ctx, f, func(r *store.Response) error {
			row := []string{r.ID, r.InvitationID, r.Survey, strconv.Itoa(r.SurveyVersion), r.DossierCode, r.AgencyCode, r.ProcedureCode, r.FieldCode, r.Channel, r.Locale, r.Respondent, r.SubmittedAt.In(a.Zone).Format(time.RFC3339)}
			scores := map[string]int{}
			for _, an := range r.Answers {
				scores[an.Question] = an.Score
			}
			for _, cr := range criteria {
				row = append(row, criterionShare(r, cr))
			}
			for _, col := range columns {
				switch v, ok := scores[col.question]; {
				case col.form != "" && col.form != r.Survey:
					row = append(row, "")
				case ok || col.form == "":
					row = append(row, strconv.Itoa(v))
				default:
					row = append(row, "")
				}
			}
			var topics []string
			for _, t := range report.TopicsOf(r, a.Core.Topics) {
				topics = append(topics, t.ID+":"+string(t.Polarity))
			}
			row = append(row, survey.CleanCitizenText(r.Comment), r.EnteredBy, survey.CleanCitizenText(r.CitizenText), strings.Join(topics, ";"))
			if err := cw.Write(append(row, integrityCells(r)...)); err != nil {
				return err
			}
			cw.Flush()
			return cw.Error()
		})
		cw.Flush()
		broken(ctx, w, err)
	})
	return nil
}

// criterionShare is r's share of valid answers at 4 or 5 in criterion
// code, in percent with two decimals; empty when it gave none there.
func criterionShare(r *store.Response, code string) string {
	var valid, satisfied int
	for _, a := range r.Answers {
		if a.Criterion == code && a.Score >= 1 && a.Score <= 5 {
			valid++
			if a.Score >= 4 {
				satisfied++
			}
		}
	}
	if valid == 0 {
		return ""
	}
	return strconv.FormatFloat(100*float64(satisfied)/float64(valid), 'f', 2, 64)
}

// exportLine is a response as a JSON line.
type exportLine struct {
	ID            string         `json:"id"`
	InvitationID  string         `json:"invitation_id"`
	Survey        string         `json:"survey"`
	SurveyVersion int            `json:"survey_version"`
	DossierCode   string         `json:"dossier_code"`
	AgencyCode    string         `json:"agency_code"`
	ProcedureCode string         `json:"procedure_code,omitempty"`
	FieldCode     string         `json:"field_code,omitempty"`
	Channel       string         `json:"channel"`
	Locale        string         `json:"locale"`
	Respondent    string         `json:"respondent,omitempty"`
	Answers       []store.Answer `json:"answers"`
	Comment       string         `json:"comment,omitempty"`
	StartedAt     time.Time      `json:"started_at"`
	SubmittedAt   time.Time      `json:"submitted_at"`
	EnteredBy     string         `json:"entered_by,omitempty"`
	CitizenText   string         `json:"citizen_text,omitempty"`
	Topics        []survey.Topic `json:"topics" doc:"what the comment speaks of (empty without a comment)"`
	// Provenance, Flags and Status: how the answer came, the integrity
	// signals it raised and, once flagged, its review.
	Provenance *store.Provenance `json:"provenance,omitempty" doc:"how the answer came (absent on answers saved before it was kept)"`
	Flags      []string          `json:"flags" doc:"integrity signals raised (empty when none): office_network, creator_address, device_many, phone_many, staff_phone, unverified_phone, speeder, kiosk_fast"`
	Status     string            `json:"status,omitempty" doc:"review of a flagged answer: pending, confirmed (out of the index) or cleared; absent when not flagged"`
}

// exportRow is r as a JSON line, its times in zone (with the offset).
// The citizen's texts are cleaned again (see responsesExport).
func exportRow(r *store.Response, zone *time.Location, lex *survey.Lexicon) exportLine {
	st := store.StandingOf(r)
	return exportLine{r.ID, r.InvitationID, r.Survey, r.SurveyVersion, r.DossierCode, r.AgencyCode, r.ProcedureCode, r.FieldCode,
		r.Channel, r.Locale, r.Respondent, r.Answers, survey.CleanCitizenText(r.Comment), r.StartedAt.In(zone), r.SubmittedAt.In(zone), r.EnteredBy, survey.CleanCitizenText(r.CitizenText),
		nonNil(report.TopicsOf(r, lex)), r.Provenance, nonNil(st.Flags), st.Status}
}

// integrityColumns end every CSV row: the answer's provenance flattened,
// its flags (joined by ;) and its review status.
var integrityColumns = []string{"provenance.verified_by", "provenance.seconds_to_first_view", "provenance.seconds_to_complete",
	"provenance.seconds_answering", "provenance.address_hash", "provenance.device_hash", "flags", "status"}

// integrityCells are r's integrityColumns (empty where unknown).
func integrityCells(r *store.Response) []string {
	st := store.StandingOf(r)
	cells := make([]string, len(integrityColumns))
	cells[6], cells[7] = strings.Join(st.Flags, ";"), st.Status
	if p := r.Provenance; p != nil {
		num := func(v *float64) string {
			if v == nil {
				return ""
			}
			return strconv.FormatFloat(*v, 'f', -1, 64)
		}
		cells[0], cells[1], cells[2], cells[3], cells[4], cells[5] = p.VerifiedBy, num(p.SecondsToFirstView), num(&p.SecondsToComplete),
			num(p.SecondsAnswering), p.Address, p.Device
	}
	return cells
}

// day reads YYYY-MM-DD (or YYYY-MM) as the start of that day in Vietnam
// time; end=true gives the start of the next day (or month), for an
// exclusive bound.
func day(v, field string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, core.Vietnam); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01", v, core.Vietnam); err == nil {
		if end {
			t = t.AddDate(0, 1, 0)
		}
		return t, nil
	}
	return time.Time{}, core.Errorf(core.Invalid, field, "%q is not a date; write 2026-01-31 or 2026-01", v)
}

// reportCSV writes the report as rows a spreadsheet opens cleanly: the
// overall figure, criteria, indicators, then one row per group (by is the
// grouping, empty for none) with its overall figure and each criterion's
// rate.
func reportCSV(c *fiber.Ctx, r report.Report, by string, groups []report.Group, cases *CaseFigures) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="report-`+r.Survey+`.csv"`)
	w := safeCSV{csv.NewWriter(c)}
	_, _ = c.WriteString(bom)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	// rate is a figure's rate, its interval and its valid answers.
	rate := func(x report.Figure) []string {
		return []string{f(x.SatisfactionRate), f(x.Interval.Low), f(x.Interval.High), f(x.MeanScore), strconv.FormatInt(x.Answers, 10)}
	}
	_ = w.Write([]string{"level", "code", "criterion", "satisfaction_rate", "interval_low", "interval_high", "mean_score", "answers", "n0", "n1", "n2", "n3", "n4", "n5", "responses"})
	dist := func(d map[string]int64) []string {
		out := make([]string, 6)
		for i := range out {
			out[i] = strconv.FormatInt(d[strconv.Itoa(i)], 10)
		}
		return out
	}
	empty := make([]string, 6)
	row := func(level, code, crit string, x report.Figure, dist []string, responses string) {
		_ = w.Write(append(append(append([]string{level, code, crit}, rate(x)...), dist...), responses))
	}
	row("overall", "", "", r.Overall, empty, strconv.FormatInt(r.Responses, 10))
	_ = w.Write([]string{"read_by_operators", "", "", "", "", "", "", "", "", "", "", "", "", "", strconv.FormatInt(r.ReadByOperators, 10)})
	for _, cr := range r.Criteria {
		row("criterion", cr.Code, cr.Code, cr.Figure, dist(cr.Distribution), "")
	}
	for _, in := range r.Indicators {
		row("indicator", in.ID, in.Criterion, in.Figure, dist(in.Distribution), "")
	}
	// Topic rows: the comments that spoke of a topic with a polarity, in
	// the responses column ("topic,waiting,complaint,…,12").
	topics := func(level, code string, ts []report.TopicCount) {
		for _, t := range ts {
			for _, p := range []struct {
				name string
				n    int64
			}{{"complaint", t.Complaint}, {"praise", t.Praise}, {"neutral", t.Neutral}} {
				if p.n > 0 {
					_ = w.Write([]string{level, code, t.Topic + ":" + p.name, "", "", "", "", "", "", "", "", "", "", "", strconv.FormatInt(p.n, 10)})
				}
			}
		}
	}
	topics("topic", "", r.Topics)
	// Case rows: counts in the responses column, the mean rating in the
	// mean_score column.
	caseRows := func(code string, cf CaseFigures) {
		n := func(v int64) string { return strconv.FormatInt(v, 10) }
		blank := []string{"", "", "", "", "", "", "", "", "", "", ""}
		for _, row := range [][2]string{{"cases_opened", n(cf.Opened)}, {"cases_feedback", n(cf.Feedback)}, {"cases_answered", n(cf.Answered)}, {"cases_answered_in_time", n(cf.AnsweredInTime)}, {"cases_ratings", n(cf.Ratings)}} {
			_ = w.Write(append(append([]string{row[0], code, ""}, blank...), row[1]))
		}
		_ = w.Write([]string{"cases_rating_mean", code, "", "", "", "", f(cf.RatingMean), "", "", "", "", "", "", "", ""})
	}
	if cases != nil {
		caseRows("", *cases)
		for _, ag := range cases.ByAgency {
			caseRows(ag.Agency, ag)
		}
	}
	for _, g := range groups {
		row(by, g.Group, "", g.Overall, empty, strconv.FormatInt(g.Responses, 10))
		for _, cr := range g.Criteria {
			row(by, g.Group, cr.Code, cr.Figure, dist(cr.Distribution), "")
		}
		topics(by+"_topic", g.Group, g.Topics)
	}
	w.Flush()
	return w.Error()
}

// safeCSV writes CSV whose cells a spreadsheet cannot take for formulas: a
// cell that begins with =, +, -, @, a tab or a carriage return (a comment
// "=cmd|'/C calc'!A0") gets a leading apostrophe, which spreadsheets show
// as text. Every CSV the gateway writes goes through it.
type safeCSV struct{ *csv.Writer }

func (w safeCSV) Write(record []string) error {
	out := make([]string, len(record))
	for i, c := range record {
		out[i] = neutralise(c)
	}
	return w.Writer.Write(out)
}

func neutralise(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}
