package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
)

// bom makes spreadsheets read CSV as UTF-8, so Vietnamese stays intact.
const bom = "\ufeff"

// responsesExport streams normalised responses as CSV (one column per
// question of the chosen survey) or JSON lines. No phone numbers: the
// respondent is a keyed hash.
func (a *api) responsesExport(c *fiber.Ctx) error {
	q, def, err := a.reportQuery(c)
	if err != nil {
		return err
	}
	// The stream writer runs after the handler returns: copy what fiber
	// lends from its reused buffers.
	f := store.ExportFilter{Survey: strings.Clone(q.Survey), Channel: strings.Clone(q.Channel)}
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
	name := fmt.Sprintf("responses-%s-%s.%s", q.Survey, time.Now().In(core.Vietnam).Format("20060102"), format)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), time.Hour)
	// A failure half-way must not look like a complete file: the
	// connection's sending side is shut before the last chunk, so the
	// download breaks.
	conn := c.Context().Conn()
	broken := func(w *bufio.Writer, err error) {
		if err == nil {
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
			enc := json.NewEncoder(w)
			broken(w, a.core.Mongo.Responses.EachMatching(ctx, f, func(r *store.Response) error { return enc.Encode(exportRow(r)) }))
			_ = w.Flush()
		})
		return nil
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		_, _ = w.WriteString(bom)
		cw := safeCSV{csv.NewWriter(w)}
		head := []string{"response_id", "invitation_id", "survey", "survey_version", "dossier_code", "agency_code", "procedure_code", "field_code", "channel", "locale", "respondent", "submitted_at"}
		for _, q := range def.Questions {
			head = append(head, string(q.ID))
		}
		_ = cw.Write(append(head, "comment", "entered_by", "citizen_text"))
		err := a.core.Mongo.Responses.EachMatching(ctx, f, func(r *store.Response) error {
			row := []string{r.ID, r.InvitationID, r.Survey, strconv.Itoa(r.SurveyVersion), r.DossierCode, r.AgencyCode, r.ProcedureCode, r.FieldCode, r.Channel, r.Locale, r.Respondent, r.SubmittedAt.UTC().Format(time.RFC3339)}
			scores := map[string]int{}
			for _, an := range r.Answers {
				scores[an.Question] = an.Score
			}
			for _, q := range def.Questions {
				row = append(row, strconv.Itoa(scores[string(q.ID)]))
			}
			if err := cw.Write(append(row, r.Comment, r.EnteredBy, r.CitizenText)); err != nil {
				return err
			}
			cw.Flush()
			return cw.Error()
		})
		cw.Flush()
		broken(w, err)
	})
	return nil
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
}

func exportRow(r *store.Response) exportLine {
	return exportLine{r.ID, r.InvitationID, r.Survey, r.SurveyVersion, r.DossierCode, r.AgencyCode, r.ProcedureCode, r.FieldCode,
		r.Channel, r.Locale, r.Respondent, r.Answers, r.Comment, r.StartedAt, r.SubmittedAt, r.EnteredBy, r.CitizenText}
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

// reportCSV writes the report as rows a spreadsheet opens cleanly.
func reportCSV(c *fiber.Ctx, r report.Report) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="report-`+r.Survey+`.csv"`)
	w := safeCSV{csv.NewWriter(c)}
	_, _ = c.WriteString(bom)
	_ = w.Write([]string{"level", "code", "criterion", "satisfaction_rate", "mean_score", "answers", "n0", "n1", "n2", "n3", "n4", "n5"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	dist := func(d map[string]int64) []string {
		out := make([]string, 6)
		for i := range out {
			out[i] = strconv.FormatInt(d[strconv.Itoa(i)], 10)
		}
		return out
	}
	_ = w.Write([]string{"overall", "", "", f(r.Overall.SatisfactionRate), f(r.Overall.MeanScore), strconv.FormatInt(r.Responses, 10), "", "", "", "", "", ""})
	_ = w.Write([]string{"read_by_operators", "", "", "", "", strconv.FormatInt(r.ReadByOperators, 10), "", "", "", "", "", ""})
	for _, cr := range r.Criteria {
		_ = w.Write(append([]string{"criterion", cr.Code, cr.Code, f(cr.SatisfactionRate), f(cr.MeanScore), strconv.FormatInt(cr.Answers, 10)}, dist(cr.Distribution)...))
	}
	for _, in := range r.Indicators {
		_ = w.Write(append([]string{"indicator", in.ID, in.Criterion, f(in.SatisfactionRate), f(in.MeanScore), strconv.FormatInt(in.Answers, 10)}, dist(in.Distribution)...))
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
