package web

import (
	"bytes"
	"cmp"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// console is the operators' web console under /console: server-rendered,
// no script, charts drawn as SVG on the server.
type console struct {
	api      *server.API
	sessions *store.Sessions
	adminKey string
	secure   bool
	scanMax  int // bytes one upload of scanned forms may carry
	pages    map[string]*template.Template
	log      *slog.Logger
}

const sessionCookie = "gw_console"

func newConsole(a *server.API, sessions *store.Sessions, adminKey string, log *slog.Logger) *console {
	c := &console{api: a, sessions: sessions, adminKey: adminKey, secure: strings.HasPrefix(a.Core.BaseURL, "https://"), pages: map[string]*template.Template{}, log: log}
	for _, lang := range languages {
		funcs := template.FuncMap{
			"mul":    func(a, b int) int { return a * b },
			"add":    func(a, b int) int { return a + b },
			"height": func(b []bar) int { return len(b)*26 + 8 },
			"t":      func(key string, args ...any) string { return translate(lang, key, args...) },
			"label":  func(v any) string { return translate(lang, statusLabel(v)) },
			"chan":   func(ch any) string { return channelWords(lang, fmt.Sprint(ch)) },
			"role":   func(r any) string { return translate(lang, cmp.Or(roleNames[fmt.Sprint(r)], fmt.Sprint(r))) },
			// Numbers as the page's language writes them (internal/locale).
			"pct":   func(f float64) string { return locale.Percent(lang, f, 2) },
			"int":   func(n int64) string { return locale.Int(lang, n) },
			"fixed": func(f float64) string { return locale.Fixed(lang, f, 2) },
			// at shows a time in the console's zone (GATEWAY_TIMEZONE).
			"at": func(t time.Time, layout string) string { return t.In(a.Zone).Format(layout) },
			// when and day write a time and a date as lang writes them (internal/locale).
			"when": func(t time.Time) string { return locale.DateTime(lang, t.In(a.Zone)) },
			"day":  func(t time.Time) string { return locale.Date(lang, t.In(a.Zone)) },
			// date writes a day kept as YYYY-MM-DD (a plan's) as lang does.
			"date": func(day string) string { return dayOf(lang, day) },
		}
		for _, name := range []string{"login", "dashboard", "agencies", "channels", "keys", "invitations", "qrsheet", "unread", "comments", "cases", "case", "desks", "integrity", "flagged", "drivers", "plans", "plan"} {
			c.pages[lang+"/"+name] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "console/layout.html", "console/"+name+".html"))
		}
		for _, name := range []string{"paperprint", "paperupload", "paperqueue", "paperscan"} { // with the paper pages' tabs
			c.pages[lang+"/"+name] = template.Must(template.New("").Funcs(funcs).ParseFS(files, "console/layout.html", "console/papernav.html", "console/"+name+".html"))
		}
	}
	return c
}

func (cs *console) mount(app *fiber.App) {
	css, _ := files.ReadFile("console/console.css")
	app.Get("/console/console.css", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		c.Type("css", "utf-8")
		return c.Send(css)
	})
	app.Use("/console", language)
	app.Get("/console/login", func(c *fiber.Ctx) error { return cs.render(c, 200, "login", cs.view(c, "Đăng nhập")) })
	app.Post("/console/login", cs.login)
	g := app.Group("/console", cs.session)
	g.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/console/dashboard", fiber.StatusSeeOther) })
	g.Post("/logout", cs.logout)
	g.Get("/dashboard", cs.dashboard)
	g.Get("/invitations", server.Allow(core.RoleAdmin, core.RoleAgency), cs.invitations)
	g.Get("/qr-sheet", server.Allow(core.RoleAdmin, core.RoleAgency), cs.qrSheet)
	g.Post("/invitations", server.Allow(core.RoleAdmin, core.RoleAgency), cs.createInvitation)
	g.Get("/comments", cs.commentsPage)
	g.Get("/drivers", cs.driversPage)
	g.Get("/cases", cs.casesPage)
	g.Get("/cases/:id", cs.casePage)
	g.Post("/cases/:id/:action", server.Allow(core.RoleAdmin, core.RoleAgency), cs.caseAction)
	g.Get("/plans", cs.plansPage)
	g.Get("/plans/new", server.Allow(core.RoleAdmin, core.RoleAgency), cs.planPage)
	g.Get("/plans/:agency/:id", cs.planPage)
	g.Post("/plans", server.Allow(core.RoleAdmin, core.RoleAgency), cs.savePlan)
	g.Get("/comments.csv", cs.commentsCSVPage)
	g.Get("/report.pdf", cs.reportFile("pdf"))
	g.Get("/report.xlsx", cs.reportFile("xlsx"))
	g.Get("/desks", server.Allow(core.RoleAdmin, core.RoleAgency), cs.desksPage)
	g.Post("/desks", server.Allow(core.RoleAdmin, core.RoleAgency), cs.putDesk)
	g.Post("/desks/:id/devices/:device/revoke", server.Allow(core.RoleAdmin, core.RoleAgency), cs.revokeDevice)
	g.Get("/integrity", cs.integrityPage)
	g.Get("/flagged", server.Allow(core.RoleAdmin, core.RoleAgency), cs.flaggedPage)
	g.Post("/flagged/:id/:action", server.Allow(core.RoleAdmin, core.RoleAgency), cs.review)
	g.Get("/unread", server.Allow(core.RoleAdmin, core.RoleAgency), cs.unread)
	g.Post("/unread/:id/resolve", server.Allow(core.RoleAdmin, core.RoleAgency), cs.resolveUnread)
	g.Post("/unread/:id/dismiss", server.Allow(core.RoleAdmin, core.RoleAgency), cs.dismissUnread)
	g.Get("/conversations/:invitation", server.Allow(core.RoleAdmin, core.RoleAgency), cs.conversation)
	desk := server.Allow(core.RoleAdmin, core.RoleAgency)
	g.Get("/paper", desk, cs.paperQueue)
	g.Get("/paper/print", desk, cs.printForms)
	g.Post("/paper/print", desk, cs.printForms)
	g.Get("/paper/upload", desk, cs.paperUpload)
	g.Post("/paper/upload", desk, cs.paperUpload)
	cs.api.AllowUpload(uploadPath, cs.uploader) // its body may pass 64 KB
	g.Get("/paper/scans/:id", desk, cs.paperScan)
	g.Get("/paper/scans/:id/page.jpg", desk, cs.api.ScanImage(false))
	g.Get("/paper/scans/:id/comment.jpg", desk, cs.api.ScanImage(true))
	g.Post("/paper/scans/:id/:action", desk, cs.resolvePaper)
	admin := server.Allow(core.RoleAdmin)
	g.Get("/agencies", admin, cs.agenciesPage)
	g.Post("/agencies", admin, cs.putAgency)
	g.Post("/agencies/import", admin, cs.importAgencies)
	g.Post("/agencies/:code/delete", admin, cs.deleteAgency)
	g.Get("/channels", admin, cs.channels)
	g.Post("/channels", admin, cs.putChannel)
	g.Post("/channels/test", admin, cs.testChannel)
	g.Get("/keys", admin, cs.keys)
	g.Post("/keys", admin, cs.createKey)
	g.Post("/keys/:id/revoke", admin, cs.revokeKey)
	g.Post("/users", admin, cs.createUser)
}

// view is what every console page gets.
type view struct {
	Lang, Other, Switch                            string // the page's language, the other one and the link to it
	Title, User, Role, Agency, CSRF, Error, Notice string
	Admin, CanInvite                               bool
	Data                                           any
}

// view starts a page titled title (its Vietnamese, translated here).
func (cs *console) view(c *fiber.Ctx, title string, args ...any) *view {
	lang := langOf(c)
	v := &view{Lang: lang, Other: other(lang), Switch: switchLink(c), Title: translate(lang, title, args...)}
	if s, ok := c.Locals("session").(*store.Session); ok {
		v.User, v.Role, v.Agency, v.CSRF = s.Name, string(s.Role), s.Agency, s.CSRF
		v.Admin, v.CanInvite = s.Role == core.RoleAdmin, s.Role != core.RoleViewer
		if s.Agency != "" { // named, not coded, beside the user
			if ag, err := cs.api.Core.Mongo.Agencies.Agency(c.UserContext(), s.Agency); err == nil && ag.Name != "" {
				v.Agency = ag.Name
			}
		}
	}
	return v
}

// render executes a page; page data goes in the view's Data and is
// flattened for the template through a map.
func (cs *console) render(c *fiber.Ctx, status int, name string, v *view) error {
	if f := c.Cookies(flashCookie); f != "" { // what the action before this page did
		if n, err := url.QueryUnescape(f); err == nil && v.Notice == "" {
			v.Notice = n
		}
		c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/console", MaxAge: -1, HTTPOnly: true, Secure: cs.secure, SameSite: "Strict"})
	}
	data := map[string]any{"Lang": v.Lang, "Other": v.Other, "Switch": v.Switch, "Title": v.Title, "User": v.User, "Role": v.Role, "Agency": v.Agency, "CSRF": v.CSRF,
		"Error": v.Error, "Notice": v.Notice, "Admin": v.Admin, "CanInvite": v.CanInvite, "Menu": cs.menu(c, v)}
	if m, ok := v.Data.(map[string]any); ok {
		for k, x := range m {
			data[k] = x
		}
	}
	var b bytes.Buffer
	if err := cs.pages[v.Lang+"/"+name].ExecuteTemplate(&b, "layout", data); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

// flashCookie carries what an action did to the page it redirects to,
// shown there once. Only the server sets it, so no link can put words
// in the console's mouth.
const flashCookie = "gw_flash"

// flash redirects to path, which then says what was done: key is the
// Vietnamese text, translated here, filled with args.
func (cs *console) flash(c *fiber.Ctx, path, key string, args ...any) error {
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: url.QueryEscape(translate(langOf(c), key, args...)), Path: "/console", MaxAge: 60,
		HTTPOnly: true, Secure: cs.secure, SameSite: "Strict"})
	return c.Redirect(path, fiber.StatusSeeOther)
}

func (cs *console) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	// No session yet, so no CSRF token: refuse sign-ins posted from other
	// sites. The Origin, when sent, must be exactly the console's own.
	if o := c.Get("Origin"); (o != "" && o != originOf(cs.api.Core.BaseURL)) || c.Get("Sec-Fetch-Site") == "cross-site" {
		return core.Errorf(core.Denied, "origin", "sign in from the console's own page")
	}
	p, err := cs.api.Core.SignIn(ctx, channels.ClientIP(c), strings.TrimSpace(c.FormValue("key")), cs.adminKey,
		strings.TrimSpace(c.FormValue("username")), c.FormValue("password"))
	if err != nil {
		v := cs.view(c, "Đăng nhập")
		status := fiber.StatusUnauthorized
		var ce *core.Error
		switch {
		case errors.As(err, &ce) && ce.Code == core.RateLimited:
			status = fiber.StatusTooManyRequests
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(ce.RetryAfter.Seconds()+0.999)))
			v.Error = translate(v.Lang, "Đăng nhập sai quá nhiều lần; thử lại sau %s", ce.RetryAfter.Round(time.Second))
		case core.CodeOf(err) == core.Unauthenticated:
			v.Error = translate(v.Lang, "Khoá hoặc mật khẩu không đúng")
		default:
			return err
		}
		return cs.render(c, status, "login", v)
	}
	sess := &store.Session{KeyID: p.KeyID, Name: p.Name, Role: p.Role, Agency: p.Agency}
	if p.KeyID == "" {
		sess.Admin = core.AdminFingerprint(cs.adminKey)
	}
	id, err := cs.sessions.Create(ctx, sess)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: id, Path: "/console", HTTPOnly: true, Secure: cs.secure, SameSite: "Strict", Expires: time.Now().Add(cs.sessions.TTL)})
	return c.Redirect("/console/dashboard", fiber.StatusSeeOther)
}

// csrfOf is the CSRF token a POST carries in its form body (urlencoded
// or multipart) or the X-CSRF-Token header, never in the URL (which lands
// in logs and Referer headers).
func csrfOf(c *fiber.Ctx) string {
	if h := c.Get("X-CSRF-Token"); h != "" {
		return h
	}
	if v := c.Request().PostArgs().Peek("csrf"); len(v) > 0 {
		return string(v)
	}
	return partValue(c, "csrf", 64)
}

// originOf is the scheme://host[:port] of a URL, as browsers send it in
// the Origin header.
func originOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// session requires a live session, and a matching CSRF token on POSTs.
func (cs *console) session(c *fiber.Ctx) error {
	s, err := cs.sessions.Get(c.UserContext(), c.Cookies(sessionCookie))
	if errors.Is(err, store.ErrNotFound) {
		return c.Redirect("/console/login", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodPost && subtle.ConstantTimeCompare([]byte(csrfOf(c)), []byte(s.CSRF)) != 1 {
		return core.Errorf(core.Denied, "csrf", "the form is stale or was not sent by the console; reload the page")
	}
	p, err := cs.api.Core.Recheck(c.UserContext(), s, cs.adminKey)
	if core.CodeOf(err) == core.Unauthenticated {
		_ = cs.sessions.Delete(c.UserContext(), c.Cookies(sessionCookie))
		return c.Redirect("/console/login", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	s.Role, s.Agency = p.Role, p.Agency // what the key or user is now
	p.Via = "console"
	c.Locals("session", s)
	c.Locals("principal", p)
	return c.Next()
}

func (cs *console) logout(c *fiber.Ctx) error {
	_ = cs.sessions.Delete(c.UserContext(), c.Cookies(sessionCookie))
	c.ClearCookie(sessionCookie)
	return c.Redirect("/console/login", fiber.StatusSeeOther)
}

// statusLabels name invitation statuses, send states and message kinds
// (in Vietnamese: the template's label translates them).
var statusLabels = map[string]string{
	string(store.StatusPending): "Chờ trả lời", string(store.StatusInProgress): "Đang trả lời",
	string(store.StatusCompleted): "Đã hoàn thành", string(store.StatusExpired): "Hết hạn",
	string(store.StatusOptedOut): "Từ chối nhận tin",
	string(store.SendQueued):     "Chờ gửi", string(store.SendSent): "Đã gửi", string(store.SendDelivered): "Đã đến máy",
	string(store.SendFailed): "Gửi lỗi", string(store.SendSkipped): "Không gửi",
	string(store.SendRetrying): "Đang thử lại", string(store.SendFallback): "Chuyển sang SMS",
	"invite": "Lời mời", "reply": "Tin trả lời", store.Received: "Công dân gửi", "answer": "Trả lời phản ánh",
	store.SendKindReminder: "Tin nhắc lại",
	// Why a send was skipped or waits (SendStatus.Reason, "reason:" before it).
	"reason:" + store.ReasonContactLimit: "số này đã được mời khảo sát trong khoảng GATEWAY_CONTACT_EVERY; công dân vẫn trả lời được qua mã QR hoặc kiosk",
	"reason:" + store.ReasonDailyLimit:   "chờ ngày mai: số này đã nhận đủ tin trong ngày",
	"reason:" + store.ReasonSendHours:    "chờ đến giờ gửi tin",
	"reason:" + store.ReasonOptedOut:     "công dân đã từ chối nhận tin",
	"reason:" + store.ReasonClosed:       "phiếu đã trả lời, hết hạn hoặc đã đóng",
}

// statusLabel names a status for the console (the code itself if unknown).
func statusLabel(v any) string {
	s := fmt.Sprint(v)
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return s
}

// bar is one bar of a server-drawn chart: Label (cut to fit) beside the
// bar, Full in the chart's table view.
type bar struct {
	Label, Full string
	Width       int // px, 0–300 for 0–100 %
	Text        string
}

// chart is a named bar chart; the page draws it and offers it as a table.
type chart struct {
	Name string
	Bars []bar
}

// labelMax is how many characters of a label fit beside a bar.
const labelMax = 34

func shorten(s string) string {
	if r := []rune(s); len(r) > labelMax {
		return string(r[:labelMax-1]) + "…"
	}
	return s
}

// rateBar is a rate's bar; n is the responses behind it (the dashboard's
// n is always responses, see dashboard.html's definition).
func rateBar(lang, label string, f report.Figure, n int64) bar {
	return bar{Label: shorten(label), Full: label, Width: int(f.SatisfactionRate * 3),
		Text: locale.Percent(lang, f.SatisfactionRate, 2) + " · " + translate(lang, "điểm TB %s", locale.Fixed(lang, f.MeanScore, 2)) + " · n = " + locale.Int(lang, n)}
}

// ranking is a "lowest" list: the n units with the lowest index among
// those with at least the minimum of responses, and how many had fewer.
type ranking struct {
	Chart  chart
	TooFew int
	Min    int
}

// lowest ranks gs under name: units with fewer than min responses are
// left out of the list (their rates swing too far on a few answers) and
// counted; label names a group.
func lowest(lang, name string, gs []report.Group, n, min int, label func(string) string) ranking {
	r := ranking{Chart: chart{Name: name}, Min: min}
	var ranked []report.Group
	for _, g := range gs {
		if g.Responses >= int64(min) {
			ranked = append(ranked, g)
		} else {
			r.TooFew++
		}
	}
	sort.SliceStable(ranked, func(i, j int) bool { return ranked[i].Overall.SatisfactionRate < ranked[j].Overall.SatisfactionRate })
	for i := 0; i < len(ranked) && i < n; i++ {
		r.Chart.Bars = append(r.Chart.Bars, rateBar(lang, label(ranked[i].Group), ranked[i].Overall, ranked[i].Responses))
	}
	return r
}

// respondents counts, by criterion, the responses with a valid answer
// there (the criterion cells weigh each response once), in the main
// family of one form's cells: a criterion's n, as the headline's n counts
// responses too.
func respondents(cells store.Cells, form string) map[string]int64 {
	out := map[string]int64{}
	for k, n := range cells {
		if k.Dim == "" && k.Survey == form && strings.HasPrefix(k.Question, store.CriterionCell) {
			out[k.Criterion] += n.Responses
		}
	}
	return out
}

func (cs *console) dashboard(c *fiber.Ctx) error {
	a, ctx, lang := cs.api, c.UserContext(), langOf(c)
	if c.Query("survey") == "" { // the headline is the index as SIPAS computes it, the API's default
		c.Request().URI().QueryArgs().Set("survey", string(survey.SIPAS))
	}
	q, def, err := a.ReportQuery(c)
	if err != nil {
		return err
	}
	f := filtersOf(c, server.SurveyName(q))
	cells, funnel, err := a.ReadCells(ctx, q)
	if err != nil {
		return err
	}
	if f.Desk != "" {
		cells, funnel = onlyDesk(cells, f.Desk), nil
	}
	compute := a.Computer(q, def)
	rep := compute(cells)
	pq := q
	pq.ProcedureFamily, pq.Channel, pq.FoldAgencies, pq.FoldMonths = true, "", true, true
	pcells, err := a.Core.Mongo.Rollups.Query(ctx, pq)
	if err != nil {
		return err
	}
	months, _ := report.Groups(ctx, compute, cells, "month")
	mix, _ := report.Groups(ctx, compute, cells, "channel")
	procs, _ := report.Groups(ctx, compute, pcells, "procedure")
	if err := ctx.Err(); err != nil {
		return err // the client left: the groups above stopped half-way
	}
	inv, err := a.InvitationRates(ctx, q, funnel)
	if err != nil {
		return err
	}
	reach, err := a.Reach(ctx, q, funnel)
	if err != nil {
		return err
	}
	var prev *server.Comparison
	if f.Desk == "" { // the roll-ups of an earlier period are not read by desk
		if prev, err = a.Compare(ctx, q, compute, rep); err != nil {
			return err
		}
	}
	cases, err := a.CaseFigures(ctx, q, funnel, false)
	if err != nil {
		return err
	}
	due := onTimeOf(lang, cases)
	t := func(key string, args ...any) string { return translate(lang, key, args...) }
	crit := chart{Name: t("Tỉ lệ hài lòng theo tiêu chí")}
	byCrit := respondents(cells, q.Survey)
	for _, cr := range rep.Criteria {
		n := byCrit[cr.Code]
		if q.Survey == "" {
			n = cr.Answers // the cross-form view counts responses already
		}
		crit.Bars = append(crit.Bars, rateBar(lang, cr.Code+" "+criterionTitle(def, cr.Code, lang), cr.Figure, n))
	}
	ind := chart{Name: t("Tỉ lệ hài lòng theo chỉ số thành phần")}
	for _, in := range rep.Indicators {
		text := in.ID
		if q, ok := def.Question(survey.QuestionID(in.ID)); ok {
			text += " " + q.Text.In(lang)
		}
		ind.Bars = append(ind.Bars, rateBar(lang, text, in.Figure, in.Answers))
	}
	topics, topicRows := cs.topicPanel(c, rep, months)
	agencies, agencyName, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	units, err := cs.unitsTable(c, f, q, compute, cells, agencies, agencyName)
	if err != nil {
		return err
	}
	desks, officers, err := cs.kioskNames(c)
	if err != nil {
		return err
	}
	mixBars := chart{Name: t("Phiếu trả lời theo kênh")}
	for _, g := range mix {
		name := channelName(lang, g.Group, desks, officers)
		mixBars.Bars = append(mixBars.Bars, bar{Label: shorten(name), Full: name, Width: int(300 * float64(g.Responses) / float64(max(rep.Responses, 1))), Text: locale.Int(lang, g.Responses)})
	}
	surveys, titles := []string{}, map[string]string{}
	for _, s := range a.Core.Surveys.All() {
		surveys = append(surveys, string(s.ID))
		titles[string(s.ID)] = s.Title.In(lang)
	}
	surveys = append(surveys, report.AllForms)
	v := cs.view(c, "Tổng quan")
	data := map[string]any{"R": rep, "Inv": inv, "Reach": reachTableOf(lang, reach), "Criteria": crit, "Indicators": ind, "Trend": trendOf(lang, months), "Mix": mixBars, "Topics": topics, "TopicRows": topicRows,
		"Cases": cases, "OnTime": due, "Units": units, "Presets": presets(lang, cs.now(), f), "Trail": trail(lang, f, agencyName, desks[f.Desk]),
		"LowProcedures": lowest(lang, t("Thủ tục có chỉ số thấp nhất"), procs, 5, a.RankMin, func(code string) string { return code }), "Agencies": agencies, "Surveys": surveys, "SurveyTitles": titles,
		"Channels": []string{"web", "sms", "zalo"}, "Files": reportFiles(c, q),
		"Integrity": "/console/integrity?" + url.Values{"agency": {c.Query("agency")}, "from": {c.Query("from")}, "to": {c.Query("to")}}.Encode(),
		"Q":         map[string]string{"Agency": c.Query("agency"), "Desk": f.Desk, "From": c.Query("from"), "To": c.Query("to"), "Channel": q.Channel, "Survey": f.Survey, "Sort": f.Sort},
		"Headline":  headline(lang, rep, q, prev)}
	v.Data = data
	return cs.render(c, 200, "dashboard", v)
}

// headlineFigures are the index as the dashboard's top shows it, every
// number written the page's way.
type headlineFigures struct {
	Index, Interval, Mean, Responses, Change, Against, NoChange string
	Beyond, CrossForm                                           bool
}

func headline(lang string, rep report.Report, q store.Filter, prev *server.Comparison) headlineFigures {
	h := headlineFigures{Index: locale.Percent(lang, rep.Overall.SatisfactionRate, 2), Interval: interval(lang, rep.Overall.Interval),
		Mean: locale.Fixed(lang, rep.Overall.MeanScore, 2), Responses: locale.Int(lang, rep.Responses), CrossForm: q.Survey == ""}
	switch {
	case prev != nil && prev.Responses > 0:
		h.Change = locale.Signed(lang, prev.Overall.Change, 2)
		h.Against = locale.Months(lang, prev.Period.From, prev.Period.To)
		h.Beyond = prev.Overall.Beyond
	case prev != nil:
		h.NoChange = translate(lang, "Kỳ trước (%s) không có phiếu trả lời: chưa có gì để so sánh", locale.Months(lang, prev.Period.From, prev.Period.To))
	default:
		h.NoChange = translate(lang, "Chọn từ tháng và đến tháng để so sánh với kỳ trước")
	}
	return h
}

// topicRow is one topic of the comments panel's table.
type topicRow struct {
	Name, Link, Trend               string
	Complaint, Praise, Neutral, Sum int64
}

// topicPanel charts the comments' topics by complaints and tables them,
// each linked to its comments: its complaints when it has some, else all
// of its comments (a topic only praised has no complaint to open).
func (cs *console) topicPanel(c *fiber.Ctx, rep report.Report, months []report.Group) (chart, []topicRow) {
	lang := langOf(c)
	topics := chart{Name: translate(lang, "Chủ đề ý kiến: số ý kiến phàn nàn")}
	var rows []topicRow
	most := int64(1)
	for _, tp := range rep.Topics {
		most = max(most, tp.Complaint)
	}
	for _, tp := range rep.Topics {
		name := topicName(cs.api, lang, tp.Topic)
		topics.Bars = append(topics.Bars, bar{Label: shorten(name), Full: name, Width: int(300 * tp.Complaint / most),
			Text: translate(lang, "%s phàn nàn · %s khen · %s nêu", locale.Int(lang, tp.Complaint), locale.Int(lang, tp.Praise), locale.Int(lang, tp.Neutral))})
		var trend []string
		for _, m := range months[max(0, len(months)-6):] {
			n := int64(0)
			for _, mt := range m.Topics {
				if mt.Topic == tp.Topic {
					n = mt.Complaint
				}
			}
			trend = append(trend, locale.Month(lang, m.Group)+": "+locale.Int(lang, n))
		}
		topic := tp.Topic
		if tp.Complaint > 0 {
			topic += ":complaint"
		}
		args := url.Values{"topic": {topic}, "agency": {c.Query("agency")}, "from": {c.Query("from")}, "to": {c.Query("to")}}
		rows = append(rows, topicRow{Name: name, Link: "/console/comments?" + args.Encode(), Trend: strings.Join(trend, " · "),
			Complaint: tp.Complaint, Praise: tp.Praise, Neutral: tp.Neutral, Sum: tp.Comments})
	}
	return topics, rows
}

func criterionTitle(def *survey.Survey, code, lang string) string {
	for _, c := range def.Criteria {
		if c.Code == code {
			return c.Short.In(lang)
		}
	}
	return ""
}

func (cs *console) invitations(c *fiber.Ctx) error {
	v := cs.withFormError(cs.view(c, "Phiếu khảo sát"), c)
	agencies, err := cs.api.VisibleAgencies(c)
	if err != nil {
		return err
	}
	chans, err := cs.api.Core.Mongo.Channels.All(c.UserContext())
	if err != nil {
		return err
	}
	var senders []string
	for _, ch := range chans {
		if ch.Enabled {
			senders = append(senders, ch.ID)
		}
	}
	sipas, _ := cs.api.Core.Surveys.Survey(survey.SIPAS)
	data := map[string]any{"Dossier": c.Query("dossier_code"), "Agencies": agencies, "Senders": senders, "Surveys": cs.api.Core.Surveys.All(),
		"InIndex": report.Forms(cs.api.Core.Surveys, sipas),
		"Form": map[string]string{"dossier_code": c.FormValue("dossier_code"), "agency_code": c.FormValue("agency_code"), "procedure_code": c.FormValue("procedure_code"),
			"survey": cmp.Or(c.FormValue("survey"), string(core.DefaultSurvey))}}
	v.Data = data
	if err := cs.invitationList(c, v, data); err != nil {
		return err
	}
	if code := c.Query("dossier_code"); code != "" {
		inv, err := cs.api.Scoped(c)(cs.api.Core.InvitationByDossier(c.UserContext(), code))
		if core.CodeOf(err) == core.NotFound {
			v.Error = translate(v.Lang, "Không tìm thấy: %s", code)
			return cs.render(c, 404, "invitations", v)
		}
		if err != nil {
			return err
		}
		data["Inv"] = cs.api.View(inv)
		data["SurveyTitle"] = inv.Survey
		if def, ok := cs.api.Core.Surveys.Survey(survey.ID(inv.Survey)); ok {
			data["SurveyTitle"] = def.Title.In(v.Lang)
		}
		data["AgencyName"] = inv.AgencyName
		if data["Conversation"], err = cs.api.Conversation(c.UserContext(), inv); err != nil {
			return err
		}
	}
	return cs.show(c, "invitations", v)
}

// invitationList puts the page of invitations the query asks for (the
// newest, without one) in data; a query the list refuses is the page's
// error, naming the field.
func (cs *console) invitationList(c *fiber.Ctx, v *view, data map[string]any) error {
	q := server.InvitationQueryOf(c)
	data["Query"] = q
	data["Statuses"] = []store.Status{store.StatusPending, store.StatusInProgress, store.StatusCompleted, store.StatusExpired, store.StatusOptedOut}
	list, err := cs.api.ListInvitations(c, q)
	var ce *core.Error
	if errors.As(err, &ce) && ce.Code == core.Invalid {
		v.Error = ce.Error()
		return nil
	}
	if err != nil {
		return err
	}
	data["List"] = list
	if list.NextCursor != "" {
		next := url.Values{"q": {q.Q}, "status": {q.Status}, "channel": {q.Channel}, "from": {q.FromMonth}, "to": {q.ToMonth}, "cursor": {list.NextCursor}}
		if v.Lang == "en" {
			next.Set("lang", "en")
		}
		data["Next"] = "/console/invitations?" + next.Encode()
	}
	return nil
}

type qrCell struct {
	Dossier, Agency, Link string
	Image                 template.URL
}

// qrMiss is a code the sheet could not print, and why.
type qrMiss struct{ Code, Why string }

// qrLayouts are the A4 sheets: codes per page.
var qrLayouts = []int{1, 4, 12}

// qrSheetMax bounds the codes of one sheet.
const qrSheetMax = 200

// qrSheet prints the QR codes of a batch of dossiers on A4 pages of 1, 4
// or 12 (per=), each with its agency, "scan to rate" and the link, and
// lists the codes it could not print.
func (cs *console) qrSheet(c *fiber.Ctx) error {
	per, _ := strconv.Atoi(c.Query("per", "12"))
	if !slices.Contains(qrLayouts, per) {
		per = 12
	}
	lang := langOf(c)
	var cells []qrCell
	var misses []qrMiss
	for _, code := range strings.Fields(c.Query("codes")) {
		if len(cells) == qrSheetMax {
			misses = append(misses, qrMiss{code, translate(lang, "quá %d mã một trang in", qrSheetMax)})
			continue
		}
		inv, err := cs.api.Scoped(c)(cs.api.Core.InvitationByDossier(c.UserContext(), code))
		switch {
		case err == nil:
		case core.CodeOf(err) == core.NotFound:
			misses = append(misses, qrMiss{code, translate(lang, "không có phiếu cho mã hồ sơ này")})
			continue
		case core.CodeOf(err) == core.Denied:
			misses = append(misses, qrMiss{code, translate(lang, "ngoài phạm vi cơ quan của bạn")})
			continue
		default:
			return err
		}
		link := cs.api.Core.SurveyURL(inv)
		q, err := qr.Encode(link)
		if err != nil {
			return err
		}
		png, err := q.PNG(qr.DefaultSize)
		if err != nil {
			return err
		}
		agency := inv.AgencyName
		if agency == "" {
			agency = inv.AgencyCode
		}
		cells = append(cells, qrCell{Dossier: inv.DossierCode, Agency: agency, Link: link, Image: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
	}
	v := cs.view(c, "Mã QR")
	v.Data = map[string]any{"Codes": cells, "Misses": misses, "Per": per, "Layouts": qrLayouts, "Query": c.Query("codes")}
	return cs.render(c, 200, "qrsheet", v)
}

// createInvitation makes one dossier's invitation from the desk's form and
// opens its QR code, one to a page, ready to print.
func (cs *console) createInvitation(c *fiber.Ctx) error {
	n := core.NewInvitation{DossierCode: c.FormValue("dossier_code"), AgencyCode: strings.TrimSpace(c.FormValue("agency_code")),
		ProcedureCode: strings.TrimSpace(c.FormValue("procedure_code")), Phone: strings.TrimSpace(c.FormValue("phone")), Survey: c.FormValue("survey"),
		From: channels.ClientIP(c)}
	if ch := c.FormValue("send"); ch != "" {
		n.Send = []string{ch}
	}
	if err := cs.api.Scope(c.UserContext(), server.Principal(c), n.AgencyCode); err != nil && n.AgencyCode != "" {
		return cs.redo(c, cs.invitations, err)
	}
	inv, _, err := cs.api.Core.CreateInvitation(c.UserContext(), n)
	if err != nil {
		return cs.redo(c, cs.invitations, err)
	}
	return c.Redirect("/console/qr-sheet?per=1&codes="+url.QueryEscape(inv.DossierCode), fiber.StatusSeeOther)
}

// show renders a form page: 400 when it carries a form's error.
func (cs *console) show(c *fiber.Ctx, name string, v *view) error {
	status := 200
	if v.Error != "" {
		status = 400
	}
	return cs.render(c, status, name, v)
}

// redo shows a page again with an error from a failed form.
func (cs *console) redo(c *fiber.Ctx, page func(*fiber.Ctx) error, err error) error {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return err
	}
	c.Locals("form_error", formError(langOf(c), ce))
	return page(c)
}

func (cs *console) withFormError(v *view, c *fiber.Ctx) *view {
	if e, ok := c.Locals("form_error").(string); ok {
		v.Error = e
	}
	if n, ok := c.Locals("notice").(string); ok {
		v.Notice = n
	}
	return v
}

func (cs *console) putAgency(c *fiber.Ctx) error {
	sendHours, callHours := c.FormValue("send_hours"), c.FormValue("call_hours")
	in := core.AgencyInput{Name: c.FormValue("name"), NameEN: c.FormValue("name_en"), ShortName: c.FormValue("short_name"),
		Parent: c.FormValue("parent"), Level: c.FormValue("level"), SendHours: &sendHours, CallHours: &callHours}
	code := strings.TrimSpace(c.FormValue("code"))
	if _, err := cs.api.Core.PutAgency(c.UserContext(), server.Principal(c), code, in); err != nil {
		return cs.redo(c, cs.agenciesPage, err)
	}
	return cs.flash(c, "/console/agencies", "Đã lưu cơ quan %s.", in.Name)
}

func (cs *console) agenciesPage(c *fiber.Ctx) error {
	all, err := cs.api.AgencyViews(c)
	if err != nil {
		return err
	}
	var registered, unregistered []server.AgencyEntry
	for _, ag := range all {
		if ag.Registered {
			registered = append(registered, ag)
		} else {
			unregistered = append(unregistered, ag)
		}
	}
	v := cs.withFormError(cs.view(c, "nav|Cơ quan"), c)
	var levels []struct{ Code, Name string }
	for _, l := range core.Levels {
		levels = append(levels, struct{ Code, Name string }{l, translate(v.Lang, levelNames[l])})
	}
	// The form: an agency's own (?edit=), or what was typed when a save failed.
	form := map[string]string{}
	for _, ag := range registered {
		if ag.Code == c.Query("edit") {
			form = map[string]string{"code": ag.Code, "name": ag.Name, "name_en": ag.NameEN, "short_name": ag.ShortName, "parent": ag.Parent, "level": ag.Level,
				"send_hours": ag.SendHours, "call_hours": ag.CallHours}
		}
	}
	if c.Method() == fiber.MethodPost && c.Path() == "/console/agencies" {
		for _, k := range []string{"code", "name", "name_en", "short_name", "parent", "level", "send_hours", "call_hours"} {
			form[k] = c.FormValue(k)
		}
	}
	v.Data = map[string]any{"Agencies": agencyTree(registered, v.Lang), "Unregistered": unregistered, "Levels": levels, "Form": form, "Editing": c.Query("edit") != "" && form["code"] != ""}
	return cs.show(c, "agencies", v)
}

func (cs *console) importAgencies(c *fiber.Ctx) error {
	n, err := cs.api.Core.ImportAgencies(c.UserContext(), server.Principal(c), strings.NewReader(c.FormValue("csv")))
	if err != nil {
		return cs.redo(c, cs.agenciesPage, err)
	}
	return cs.flash(c, "/console/agencies", "Đã nhập %d cơ quan.", n)
}

// channels lists the channels, offers a test text through each, and the
// form of one type's settings and secrets: ?type= to add one, ?edit= to
// change one (its form filled in, secrets left empty to keep them).
func (cs *console) channels(c *fiber.Ctx) error {
	all, err := cs.api.Core.Mongo.Channels.All(c.UserContext())
	if err != nil {
		return err
	}
	views := make([]server.ChannelView, len(all))
	typeNames := map[string]string{}
	for i := range all {
		views[i] = cs.api.ChannelView(&all[i])
		typeNames[all[i].ID] = cmp.Or(channelTypeNames[all[i].Type], all[i].Type)
	}
	v := cs.withFormError(cs.view(c, "nav|Kênh"), c)
	data := map[string]any{"Channels": views, "TypeNames": typeNames, "Types": channelTypes(), "Phone": c.FormValue("phone"), "Tested": c.FormValue("channel"),
		"TestsPerMinute": core.ChannelTestsPerMinute}
	typ, id, enabled := c.Query("type"), c.Query("edit"), true
	var editing *server.ChannelView
	for i := range views {
		if views[i].ID == id {
			editing, typ, enabled = &views[i], views[i].Type, views[i].Enabled
		}
	}
	if c.Method() == fiber.MethodPost && c.FormValue("type") != "" { // a failed save: its form again, as typed
		typ, id, enabled = c.FormValue("type"), c.FormValue("id"), c.FormValue("enabled") == "true"
	}
	if kind, ok := server.ProviderKind(typ); ok {
		data["Form"] = map[string]any{"Type": typ, "TypeName": cmp.Or(channelTypeNames[typ], typ), "ID": id, "Enabled": enabled,
			"Editing": editing != nil, "Fields": channelFields(c, kind, editing)}
	}
	v.Data = data
	return cs.show(c, "channels", v)
}

func (cs *console) putChannel(c *fiber.Ctx) error {
	kind, ok := server.ProviderKind(c.FormValue("type"))
	if !ok {
		return cs.redo(c, cs.channels, core.Errorf(core.Invalid, "type", "unknown channel type %q", c.FormValue("type")))
	}
	id := strings.TrimSpace(c.FormValue("id"))
	if _, err := cs.api.Core.PutChannel(c.UserContext(), server.Principal(c), kind, id, channelInput(c, kind)); err != nil {
		return cs.redo(c, cs.channels, err)
	}
	return cs.flash(c, "/console/channels", "Đã lưu kênh %s.", id)
}

func (cs *console) keys(c *fiber.Ctx) error {
	ks, err := cs.api.Core.Mongo.Keys.All(c.UserContext())
	if err != nil {
		return err
	}
	users, err := cs.api.Core.Mongo.Users.All(c.UserContext())
	if err != nil {
		return err
	}
	v := cs.withFormError(cs.view(c, "Khoá & người dùng"), c)
	data := map[string]any{"Keys": ks, "Users": users}
	if k, ok := c.Locals("new_key").(string); ok {
		data["NewKey"] = k
	}
	v.Data = data
	return cs.show(c, "keys", v)
}

func (cs *console) createKey(c *fiber.Ctx) error {
	_, value, err := cs.api.Core.CreateKey(c.UserContext(), server.Principal(c), core.KeyInput{Name: c.FormValue("name"), Role: core.Role(c.FormValue("role")), Agency: strings.TrimSpace(c.FormValue("agency"))})
	if err != nil {
		return cs.redo(c, cs.keys, err)
	}
	c.Locals("new_key", value) // shown on this answer only
	return cs.keys(c)
}

func (cs *console) revokeKey(c *fiber.Ctx) error {
	if err := cs.api.Core.RevokeKey(c.UserContext(), server.Principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.Redirect("/console/keys", fiber.StatusSeeOther)
}

func (cs *console) createUser(c *fiber.Ctx) error {
	_, err := cs.api.Core.PutUser(c.UserContext(), server.Principal(c), core.UserInput{Username: strings.TrimSpace(c.FormValue("username")), Password: c.FormValue("password"),
		Role: core.Role(c.FormValue("role")), Agency: strings.TrimSpace(c.FormValue("agency"))})
	if err != nil {
		return cs.redo(c, cs.keys, err)
	}
	return c.Redirect("/console/keys", fiber.StatusSeeOther)
}

func (cs *console) deleteAgency(c *fiber.Ctx) error {
	code := strings.Clone(c.Params("code"))
	if err := cs.api.Core.DeleteAgency(c.UserContext(), server.Principal(c), code); err != nil {
		return cs.redo(c, cs.agenciesPage, err)
	}
	return cs.flash(c, "/console/agencies", "Đã xoá cơ quan %s.", code)
}
