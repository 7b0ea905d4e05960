package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

type API struct {
	Core    *core.Service
	log     *slog.Logger
	RankMin int   // responses a unit needs to be ranked
	Bands   Bands // the dashboard's index bands
	// PlanThreshold is the share satisfied (percent) below which a unit
	// without an active or draft plan is listed (GATEWAY_PLAN_THRESHOLD).
	PlanThreshold float64
	Zone          *time.Location // where the console and exports show times
	// Prices are đồng per unit sent by channel family (GATEWAY_PRICES;
	// empty: the reach has no cost figures).
	Prices  map[string]int64
	uploads []upload // routes whose bodies may pass BodyLimit (AllowUpload)
	// promptUploader finds who sends a voice prompt's recording, which may
	// pass BodyLimit (see uploadLimit).
	promptUploader Uploader
}

// Bands are the satisfaction index (percent) from which the dashboard
// marks a unit met (Good) and needs improvement (Fair); below Fair, low.
type Bands struct{ Good, Fair float64 }

// InvitationView is an invitation as the API shows it (API.md).
type InvitationView struct {
	ID            string       `json:"id"`
	DossierCode   string       `json:"dossier_code"`
	AgencyCode    string       `json:"agency_code"`
	ProcedureCode string       `json:"procedure_code,omitempty"`
	FieldCode     string       `json:"field_code,omitempty"`
	HasPhone      bool         `json:"has_phone"`
	Status        store.Status `json:"status"`
	Survey        string       `json:"survey"`
	Locale        string       `json:"locale"`
	SurveyURL     string       `json:"survey_url"`
	QRPNGURL      string       `json:"qr_png_url"`
	ExpiresAt     time.Time    `json:"expires_at"`
	CreatedAt     time.Time    `json:"created_at"`
	StartedAt     *time.Time   `json:"started_at,omitempty"`
	CompletedVia  string       `json:"completed_via,omitempty"`
	CompletedAt   *time.Time   `json:"completed_at,omitempty"`
	// Sends says how sending went on each channel, by channel id.
	Sends map[string]store.SendStatus `json:"sends,omitempty"`
}

func (a *API) View(inv *store.Invitation) InvitationView {
	return InvitationView{
		ID: inv.ID, DossierCode: inv.DossierCode, AgencyCode: inv.AgencyCode,
		ProcedureCode: inv.ProcedureCode, FieldCode: inv.FieldCode, HasPhone: len(inv.PhoneSealed) > 0,
		Status: inv.StatusAt(time.Now()), Survey: inv.Survey, Locale: inv.Locale,
		SurveyURL: a.Core.SurveyURL(inv), QRPNGURL: a.Core.BaseURL + "/api/v1/invitations/" + inv.ID + "/qr.png",
		ExpiresAt: inv.ExpiresAt, CreatedAt: inv.CreatedAt, StartedAt: inv.StartedAt,
		CompletedVia: inv.CompletedVia, CompletedAt: inv.CompletedAt, Sends: inv.Sends,
	}
}

// decodeJSON reads a JSON body strictly, naming the field a type error is in.
func decodeJSON(c *fiber.Ctx, v any) error {
	if !strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		return core.Errorf(core.Invalid, "", "send Content-Type: application/json")
	}
	dec := json.NewDecoder(strings.NewReader(string(c.Body())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return core.Errorf(core.Invalid, te.Field, "must be a JSON %s", te.Type.Kind())
		}
		return core.Errorf(core.Invalid, "", "body is not valid JSON for this endpoint: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

func (a *API) createInvitation(c *fiber.Ctx) error {
	var n core.NewInvitation
	if err := decodeJSON(c, &n); err != nil {
		return err
	}
	if err := a.Scope(c.UserContext(), Principal(c), strings.TrimSpace(n.AgencyCode)); err != nil && n.AgencyCode != "" {
		return err
	}
	n.From = channels.ClientIP(c)
	inv, created, err := a.Core.CreateInvitation(c.UserContext(), n)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
		c.Location("/api/v1/invitations/" + inv.ID)
	}
	return c.Status(status).JSON(a.View(inv))
}

// Scoped passes on a loaded invitation only if the principal may see it.
func (a *API) Scoped(c *fiber.Ctx) func(*store.Invitation, error) (*store.Invitation, error) {
	return func(inv *store.Invitation, err error) (*store.Invitation, error) {
		if err != nil {
			return nil, err
		}
		return inv, a.Core.HeldScope(c.UserContext(), Principal(c), inv.AgencyCode, "", "this invitation")
	}
}

func (a *API) invitation(c *fiber.Ctx) error {
	inv, err := a.Scoped(c)(a.Core.Invitation(c.UserContext(), c.Params("id")))
	if err != nil {
		return err
	}
	return c.JSON(a.View(inv))
}

// findInvitation is GET /api/v1/invitations: with dossier_code, that
// dossier's invitation (the lookup); otherwise a page of the list.
func (a *API) findInvitation(c *fiber.Ctx) error {
	var unknown string
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if !slices.Contains(invitationParams, string(k)) && unknown == "" {
			unknown = string(k)
		}
	})
	if unknown != "" { // dossier_code[$ne]=… is no lookup, and no list either
		return core.Errorf(core.Invalid, unknown, "not a parameter here; use dossier_code, or %s", strings.Join(invitationParams[1:], ", "))
	}
	if !c.Context().QueryArgs().Has("dossier_code") {
		return a.listInvitations(c)
	}
	code := c.Query("dossier_code")
	if code == "" {
		return core.Errorf(core.Invalid, "dossier_code", "required: GET /api/v1/invitations?dossier_code=…")
	}
	inv, err := a.Scoped(c)(a.Core.InvitationByDossier(c.UserContext(), code))
	if err != nil {
		return err
	}
	return c.JSON(a.View(inv))
}

// invitationParams are the query parameters of GET /api/v1/invitations.
var invitationParams = []string{"dossier_code", "q", "agency", "status", "channel", "from", "to", "cursor", "limit"}

// InvitationRow is an invitation as the list shows it.
type InvitationRow struct {
	InvitationView
	CaseID string `json:"case_id,omitempty" doc:"the follow-up case of the dossier, if it has one"`
}

// InvitationList is a page of invitations.
type InvitationList struct {
	Invitations []InvitationRow `json:"invitations"`
	NextCursor  string          `json:"next_cursor,omitempty" doc:"pass as cursor= for the next page; absent on the last page (a page may be short when filters match few: follow it)"`
	More        bool            `json:"more" doc:"q matched more invitations than the first 50 shown: type more of the code"`
	Complete    bool            `json:"complete" doc:"false while the index is rebuilt after Redis lost its data: some invitations may be missing"`
}

// ListInvitations answers a query of invitations as the list shows them.
func (a *API) ListInvitations(c *fiber.Ctx, q core.InvitationQuery) (InvitationList, error) {
	page, err := a.Core.Invitations(c.UserContext(), Principal(c), q)
	if err != nil {
		return InvitationList{}, err
	}
	out := InvitationList{Invitations: make([]InvitationRow, len(page.Invitations)), NextCursor: page.Next, More: page.More, Complete: page.Complete}
	for i, inv := range page.Invitations {
		out.Invitations[i] = InvitationRow{InvitationView: a.View(inv), CaseID: page.Cases[inv.ID]}
	}
	return out, nil
}

// InvitationQueryOf reads the list's query parameters.
func InvitationQueryOf(c *fiber.Ctx) core.InvitationQuery {
	limit := 0 // the default
	if c.Context().QueryArgs().Has("limit") {
		limit = c.QueryInt("limit", -1) // not a number: refused as out of range
		if limit == 0 {
			limit = -1
		}
	}
	return core.InvitationQuery{Agency: c.Query("agency"), Status: c.Query("status"), Channel: c.Query("channel"),
		FromMonth: c.Query("from"), ToMonth: c.Query("to"), Q: strings.TrimSpace(c.Query("q")), Cursor: c.Query("cursor"), Limit: limit}
}

// listInvitations is GET /api/v1/invitations?agency=&status=&channel=&from=&to=&q=&cursor=&limit=.
func (a *API) listInvitations(c *fiber.Ctx) error {
	q := InvitationQueryOf(c)
	if c.Context().QueryArgs().Has("q") && q.Q == "" {
		return core.Errorf(core.Invalid, "q", "empty: type a part of the dossier code (e.g. 0042), or leave q out to list")
	}
	out, err := a.ListInvitations(c, q)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *API) qrPNG(c *fiber.Ctx) error {
	size, err := strconv.Atoi(c.Query("size", strconv.Itoa(qr.DefaultSize)))
	if err != nil || size < qr.MinSize || size > qr.MaxSize {
		return core.Errorf(core.Invalid, "size", "use %d to %d pixels", qr.MinSize, qr.MaxSize)
	}
	inv, err := a.Scoped(c)(a.Core.Invitation(c.UserContext(), c.Params("id")))
	if err != nil {
		return err
	}
	code, err := qr.Encode(a.Core.SurveyURL(inv))
	if err != nil {
		return err
	}
	png, err := code.PNG(size)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "private, max-age=86400")
	c.Set("X-QR-Version", fmt.Sprint(code.Version()))
	c.Type("png")
	return c.Send(png)
}

type surveyList struct {
	Surveys []*survey.Survey `json:"surveys"`
}

func (a *API) surveys(c *fiber.Ctx) error {
	return c.JSON(surveyList{Surveys: a.Core.Surveys.All()})
}

func (a *API) survey(c *fiber.Ctx) error {
	s, ok := a.Core.Surveys.Survey(survey.ID(c.Params("id")))
	if !ok {
		return core.Errorf(core.NotFound, "", "unknown survey %q; known: %s", c.Params("id"), a.Core.Surveys.IDs())
	}
	return c.JSON(s)
}

// ReportQuery reads the filters and the survey they are about. For the
// cross-form view (survey=all) the filter names no survey and def is the
// full SIPAS form, whose criteria and weights the view uses.
func (a *API) ReportQuery(c *fiber.Ctx) (store.Filter, *survey.Survey, error) {
	q, err := a.parseReportQuery(c)
	if err != nil {
		return q, nil, err
	}
	q.Standing = true // flagged and confirmed answers: see Computer
	if q.Survey == report.AllForms {
		def, _ := a.Core.Surveys.Survey(survey.SIPAS)
		q.Survey = ""
		return q, def, nil
	}
	def, ok := a.Core.Surveys.Survey(survey.ID(q.Survey))
	if !ok {
		return q, nil, core.Errorf(core.Invalid, "survey", "unknown survey %q; use %s or one of %s", q.Survey, report.AllForms, a.Core.Surveys.IDs())
	}
	return q, def, nil
}

// Computer returns how to compute q's figures from cells: one form's
// official formula, or the cross-form view.
func (a *API) Computer(q store.Filter, def *survey.Survey) func(store.Cells) report.Report {
	if q.Survey == "" {
		forms := report.Forms(a.Core.Surveys, def)
		return report.WithIntegrity(func(cs store.Cells) report.Report { return report.ComputeAll(def, forms, cs) })
	}
	return report.WithIntegrity(func(cs store.Cells) report.Report { return report.Compute(def, cs) })
}

// SurveyName is the survey a report or export is about, as the client
// named it.
func SurveyName(q store.Filter) string {
	if q.Survey == "" {
		return report.AllForms
	}
	return q.Survey
}

// parseReportQuery reads the filters; agency covers its whole subtree, and
// an agency-bound key sees only its own subtree. Reports, exports,
// comments and the console's pages all read their period here, so the
// month limit (core.CheckPeriod) holds for each of them.
func (a *API) parseReportQuery(c *fiber.Ctx) (store.Filter, error) {
	q := store.Filter{Survey: c.Query("survey", string(survey.SIPAS)), Channel: c.Query("channel")}
	p := Principal(c)
	ag := c.Query("agency", p.Agency)
	if ag != "" {
		if !core.ValidAgencyCode(ag) {
			return q, core.Errorf(core.Invalid, "agency", "%q is not an agency code (digits, capital letters and dots)", ag)
		}
		if err := a.Scope(c.UserContext(), p, ag); err != nil {
			return q, core.Errorf(core.Denied, "agency", "agency %s is outside this key's agency %s", ag, p.Agency)
		}
		var err error
		if q.Agencies, err = a.Core.Subtree(c.UserContext(), ag); err != nil {
			return q, err
		}
	}
	var err error
	if q.FromMonth, err = month(c.Query("from"), "from"); err != nil {
		return q, err
	}
	if q.ToMonth, err = month(c.Query("to"), "to"); err != nil {
		return q, err
	}
	q.Procedure, q.Field = c.Query("procedure"), c.Query("field")
	if (q.Procedure != "" || q.Field != "") && q.Channel != "" {
		return q, core.Errorf(core.Invalid, "channel", "a report by procedure or field covers every channel; leave channel out or drop the procedure/field filter")
	}
	if q.Procedure != "" && q.Field != "" {
		return q, core.Errorf(core.Invalid, "field", "filter by procedure or by field, not both")
	}
	if q.FromMonth != "" && q.ToMonth != "" && q.FromMonth > q.ToMonth {
		return q, core.Errorf(core.Invalid, "from", "from %s is after to %s", q.FromMonth, q.ToMonth)
	}
	return q, a.Core.CheckPeriod(q.FromMonth, q.ToMonth)
}

// month reads YYYY-MM-DD or YYYY-MM into the roll-up month YYYY-MM: reports
// count whole months (Vietnam time), so a date stands for its month.
func month(v, field string) (string, error) {
	if v == "" {
		return "", nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Format("2006-01"), nil
		}
	}
	return "", core.Errorf(core.Invalid, field, "%q is not a date; write 2026-01-31 or 2026-01", v)
}
