package server

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"

	"github.com/sipasvn/gateway/channels/kiosk"
	"github.com/sipasvn/gateway/channels/sms"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Answer bodies that are not JSON, by media type.
type (
	pngBody struct{}
	pdfBody struct{}
	// uploadBody is a multipart request of files (the scan upload).
	uploadBody struct{}
	jpegBody   struct{}
	csvBody    struct{}
	xlsxBody   struct{} // an Excel workbook
	htmlBody   struct{}
	textBody   struct{}
	cssBody    struct{}
	jsBody     struct{}
	xmlBody    struct{}
	// audioBody is a recording, audio/mpeg (MP3) or audio/wav.
	audioBody struct{}
	jsonLine  struct{ row exportLine } // application/x-ndjson: one row a line
)

// alt lists the bodies one answer may have (format= picks).
type alt []any

// either lists JSON bodies one answer may have (the query picks): a
// oneOf schema.
type either []any

// request is a JSON request body: a Go type and its required fields.
type request struct {
	v        any
	required []string
}

// operation describes one route for the OpenAPI document. Path parameters
// come from the path itself; answers are the Go values the handler
// encodes (nil: no content), errors the statuses of its error answers.
type operation struct {
	id, method, path, summary, tag string
	query                          []string // query parameter names (see queryDoc)
	body                           any      // request, csvBody, or a form (htmlBody); nil: none
	public                         bool     // no key needed
	answers                        map[int]any
	errors                         []int
}

// unavailable is the answer of any API call while a data store is down.
const unavailable = 503

var (
	webhookSMS = alt{struct {
		Replies []sms.Reply `json:"replies"`
	}{}, xmlBody{}}
	// webhookVoice is TwiML or a Stringee SCCO list of actions.
	webhookVoice = alt{xmlBody{}, []map[string]any{}}
	inv          = InvitationView{}
	apiErrors    = []int{400, 401, 403, 404, unavailable}
	readErrors   = []int{401, 403, 404, unavailable}
	caseErrors   = []int{400, 401, 403, 404, 409, unavailable}
	// answerErrors adds the case's limit on answers (core.AnswersPerDay).
	answerErrors = []int{400, 401, 403, 404, 409, 429, unavailable}
)

var operations = []operation{
	{"getHealth", "get", "/healthz", "Liveness", "service", nil, nil, true, map[int]any{200: health{}}, []int{431}},
	{"getReadiness", "get", "/readyz", "Readiness: Redis and MongoDB answer; warnings for channels that need an operator", "service", []string{"accept"}, nil, true, map[int]any{200: readiness{}, 503: readiness{}}, []int{431}},
	{"getMetrics", "get", "/metrics", "Prometheus metrics", "service", nil, nil, true, map[int]any{200: textBody{}}, []int{401}},
	{"getOpenAPI", "get", "/api/v1/openapi.json", "This document", "service", nil, nil, true, map[int]any{200: map[string]any{}}, []int{431}},
	{"createInvitation", "post", "/api/v1/invitations", "Create a dossier's invitation (idempotent per dossier code: 200 with the existing one)", "invitations", nil,
		request{core.NewInvitation{}, []string{"dossier_code", "agency_code"}}, false, map[int]any{200: inv, 201: inv}, []int{400, 401, 403, 409, 413, 429, unavailable}},
	{"findInvitation", "get", "/api/v1/invitations", "With dossier_code: that dossier's invitation. Otherwise a page of invitations newest first (an agency key: its subtree's), from the dossier index (never a query over the invitations); q= finds the codes with a group starting with it (0042, H13-2612, the code's start), at most 50", "invitations",
		[]string{"dossier_code", "q", "agency", "status", "channel", "from", "to", "cursor", "limit"}, nil, false, map[int]any{200: either{inv, InvitationList{}}}, apiErrors},
	{"getInvitation", "get", "/api/v1/invitations/{id}", "An invitation", "invitations", nil, nil, false, map[int]any{200: inv}, readErrors},
	{"getInvitationQR", "get", "/api/v1/invitations/{id}/qr.png", "The invitation's QR code (PNG); X-QR-Version tells the symbol version", "invitations", []string{"size"}, nil, false, map[int]any{200: pngBody{}}, apiErrors},
	{"getInvitationForm", "get", "/api/v1/invitations/{id}/form.pdf", "The invitation's printed form: one A4 page, five boxes and no opinion per question, the dossier code and a QR the scan reader finds it by", "paper forms", []string{"survey"}, nil, false,
		map[int]any{200: pdfBody{}}, []int{400, 401, 403, 404, 409, 410, unavailable}},
	{"printForms", "post", "/api/v1/forms", "Many invitations' forms as one PDF, a form per page (a desk's day); one dossier that cannot have a form refuses the request, naming it", "paper forms", nil,
		request{FormsRequest{}, nil}, false, map[int]any{200: pdfBody{}}, []int{400, 401, 403, 404, 409, 410, unavailable}},
	{"getFormLayout", "get", "/api/v1/forms/layout", "A form's geometry in millimetres, origin top left: page, corner marks, QR, and every answer box (value 0 = no opinion)", "paper forms", []string{"survey", "version"}, nil, false,
		map[int]any{200: paper.Layout{}}, []int{400, 401, 404}},
	{"uploadScans", "post", "/api/v1/forms/scans", "Read scanned paper forms (and suggestion-box slips): each page recorded, sent to review, kept as a duplicate, or unreadable with why; at most GATEWAY_SCAN_MAX_BYTES and 50 pages", "paper forms", nil,
		uploadBody{}, false, map[int]any{200: scanResult{}}, []int{400, 401, 403, 413, unavailable}},
	{"listScanReview", "get", "/api/v1/forms/review", "Scanned pages waiting for an operator (an unsure mark, a comment to type), oldest first", "paper forms", []string{"agency", "limit", "offset"}, nil, false,
		map[int]any{200: core.ScanPage{}}, []int{400, 401, 403, unavailable}},
	{"getScanImage", "get", "/api/v1/forms/review/{id}/page.jpg", "A scanned page as kept: gray JPEG, straightened to the form's layout when it was read", "paper forms", nil, nil, false, map[int]any{200: jpegBody{}}, readErrors},
	{"getScanComment", "get", "/api/v1/forms/review/{id}/comment.jpg", "A scanned page's handwritten comment, for an operator to type", "paper forms", nil, nil, false, map[int]any{200: jpegBody{}}, readErrors},
	{"resolveScan", "post", "/api/v1/forms/review/{id}/resolve", "Settle a page in review: the answers read by eye (and the comment typed) land as the dossier's response, or discard it with a reason", "paper forms", nil,
		request{core.Resolution{}, nil}, false, map[int]any{200: store.Scan{}}, caseErrors},
	{"getAgencyPoster", "get", "/api/v1/agencies/{code}/poster.pdf", "The office's suggestion-box poster: a QR to its feedback page (A4)", "paper forms", nil, nil, false, map[int]any{200: pdfBody{}}, readErrors},
	{"getAgencySlips", "get", "/api/v1/agencies/{code}/slips.pdf", "Blank suggestion-box slips of the office, a page each, read back by the scan upload like forms", "paper forms", []string{"count"}, nil, false, map[int]any{200: pdfBody{}}, apiErrors},
	{"getInvitationMessages", "get", "/api/v1/invitations/{id}/messages", "The invitation's conversation: texts sent and received, SMS parts sent", "invitations", nil, nil, false, map[int]any{200: Conversation{}}, readErrors},
	{"listSurveys", "get", "/api/v1/surveys", "Survey definitions", "surveys", nil, nil, false, map[int]any{200: surveyList{}}, []int{401}},
	{"getSurvey", "get", "/api/v1/surveys/{id}", "One survey definition", "surveys", nil, nil, false, map[int]any{200: survey.Survey{}}, []int{401, 404}},
	{"getReport", "get", "/api/v1/reports/sipas", "The SIPAS index from roll-ups (format=csv for a spreadsheet, format=xlsx for an Excel workbook of the printed report's tables)", "reports",
		[]string{"agency", "from", "to", "channel", "procedure", "field", "survey", "group_by", "format", "lang"}, nil, false, map[int]any{200: alt{reportView{}, csvBody{}, xlsxBody{}}}, []int{400, 401, 403, unavailable}},
	{"getReportPDF", "get", "/api/v1/reports/sipas.pdf", "The SIPAS report printed (A4, Vietnamese or lang=en): criteria and indicators, every unit ranked or marked too few answers, the change against the previous period", "reports",
		[]string{"agency", "from", "to", "channel", "procedure", "field", "survey", "lang"}, nil, false, map[int]any{200: pdfBody{}}, []int{400, 401, 403, unavailable}},
	{"getDrivers", "get", "/api/v1/reports/sipas/drivers", "Why a unit is low: each question's gap to the rest of the province with its interval, its importance to the unit's respondents (item-rest correlation), complaint topics by month, and the lowest desks, officers, channels and procedures", "reports",
		[]string{"agency", "from", "to", "channel", "procedure", "field", "survey"}, nil, false, map[int]any{200: Drivers{}}, []int{400, 401, 403, unavailable}},
	{"listComments", "get", "/api/v1/comments", "Citizens' comments, newest first, phone numbers redacted (format=csv for a spreadsheet)", "reports",
		[]string{"agency", "from", "to", "channel", "band", "topic", "q", "before", "limit", "format"}, nil, false, map[int]any{200: alt{commentList{}, csvBody{}}}, []int{400, 401, 403, unavailable}},
	{"exportResponses", "get", "/api/v1/responses", "Normalised responses, streamed as CSV or JSON lines", "reports",
		[]string{"agency", "from", "to", "channel", "survey", "format"}, nil, false, map[int]any{200: alt{csvBody{}, jsonLine{}}}, []int{400, 401, 403, unavailable}},
	{"listAgencies", "get", "/api/v1/agencies", "The agency tree, with codes invitations name that nobody registered", "agencies", nil, nil, false, map[int]any{200: agencyList{}}, []int{401, unavailable}},
	{"getAgency", "get", "/api/v1/agencies/{code}", "One agency", "agencies", nil, nil, false, map[int]any{200: AgencyView{}}, readErrors},
	{"putAgency", "put", "/api/v1/agencies/{code}", "Create or replace an agency", "agencies", nil, request{core.AgencyInput{}, []string{"name"}}, false, map[int]any{200: AgencyView{}}, []int{400, 401, 403, unavailable}},
	{"putStaffPhones", "put", "/api/v1/agencies/{code}/staff-phones", "Replace the agency's staff phones: answers from them are flagged staff_phone. Kept only as keyed hashes and never shown; the answer counts them (an admin's key, or the agency's own or a parent's)", "agencies", nil,
		request{core.StaffPhonesInput{}, []string{"phones"}}, false, map[int]any{200: core.StaffPhones{}}, []int{400, 401, 403, 404, unavailable}},
	{"deleteAgency", "delete", "/api/v1/agencies/{code}", "Delete an agency without sub-agencies", "agencies", nil, nil, false, map[int]any{204: nil}, []int{401, 403, 404, 409, unavailable}},
	{"importAgencies", "post", "/api/v1/agencies/import", "Import agencies from CSV with a header naming the columns, in any order: code,name,name_en,short_name,parent,level (short_name, name_en, parent and level optional)", "agencies", nil, csvBody{}, false, map[int]any{200: imported{}}, []int{400, 401, 403, 413, unavailable}},
	{"listChannels", "get", "/api/v1/channels", "Channels (secret names only)", "channels", nil, nil, false, map[int]any{200: channelList{}}, []int{401, 403, unavailable}},
	{"getChannel", "get", "/api/v1/channels/{id}", "One channel", "channels", nil, nil, false, map[int]any{200: ChannelView{}}, readErrors},
	{"putChannel", "put", "/api/v1/channels/{id}", "Create or replace a channel", "channels", nil, request{core.ChannelInput{}, []string{"type"}}, false, map[int]any{200: ChannelView{}}, []int{400, 401, 403, unavailable}},
	{"deleteChannel", "delete", "/api/v1/channels/{id}", "Delete a channel", "channels", nil, nil, false, map[int]any{204: nil}, readErrors},
	{"testChannel", "post", "/api/v1/channels/{id}/test", "Send a short test text to {\"phone\"} through the channel's provider (no invitation; the phone is not kept), or without a phone check the credentials of a provider that can (zalo.oa); the answer is the provider's, its secrets blanked out; 3 tests a minute a channel, each audited", "channels", nil,
		request{struct {
			Phone string `json:"phone,omitempty"`
		}{}, nil}, false, map[int]any{200: channelTest{}, 502: channelTest{}}, []int{400, 401, 403, 404, 429, unavailable}},
	{"putChannelPrompt", "put", "/api/v1/channels/{id}/prompts/{name}", "Upload a voice channel's recording of one prompt (greeting, question_a … question_e, scale, repeat, resume, thanks, closed, no_survey), MP3 or WAV, at most 2 MB: calls play it instead of the provider's voice", "channels", nil,
		audioBody{}, false, map[int]any{200: promptView{}}, []int{400, 401, 403, 404, 413, unavailable}},
	{"createKey", "post", "/api/v1/keys", "Create an API key (its value is shown once)", "keys", nil, request{core.KeyInput{}, []string{"name", "role"}}, false, map[int]any{201: createdKey{}}, []int{400, 401, 403, unavailable}},
	{"listKeys", "get", "/api/v1/keys", "API keys (no values)", "keys", nil, nil, false, map[int]any{200: keyList{}}, []int{401, 403, unavailable}},
	{"revokeKey", "delete", "/api/v1/keys/{id}", "Revoke an API key", "keys", nil, nil, false, map[int]any{204: nil}, readErrors},
	{"createErasure", "post", "/api/v1/erasures", "Erase a citizen's phone number, hashes and conversation texts; answers stay", "keys", nil,
		request{struct {
			Phone string `json:"phone"`
		}{}, []string{"phone"}}, false, map[int]any{200: erasure{}}, []int{400, 401, 403, unavailable}},
	{"listAudit", "get", "/api/v1/audit", "Who changed what and when", "keys", []string{"limit"}, nil, false, map[int]any{200: auditLog{}}, []int{400, 401, 403, unavailable}},
	{"listUnreadReplies", "get", "/api/v1/unread-replies", "Chat and SMS replies the gateway did not understand, newest first (phone masked)", "unread replies", []string{"status", "before", "limit"}, nil, false, map[int]any{200: unreadList{}}, []int{400, 401, 403, unavailable}},
	{"getUnreadReply", "get", "/api/v1/unread-replies/{id}", "One reply not understood, with its test-table line once resolved", "unread replies", nil, nil, false, map[int]any{200: unreadView{}}, readErrors},
	{"resolveUnreadReply", "post", "/api/v1/unread-replies/{id}/resolve", "Enter the scores the citizen meant (not by the rated agency's own keys)", "unread replies", nil,
		request{core.UnreadInput{}, []string{"scores"}}, false, map[int]any{200: unreadDone{}}, []int{400, 401, 403, 404, 409, 410, unavailable}},
	{"dismissUnreadReply", "post", "/api/v1/unread-replies/{id}/dismiss", "Take a reply that holds no scores off the list", "unread replies", nil,
		request{core.UnreadInput{}, nil}, false, map[int]any{200: unreadDone{}}, []int{400, 401, 403, 404, 409, unavailable}},
	{"listFlagged", "get", "/api/v1/flagged", "Answers that raised an integrity signal, newest first, with their review (an agency key: its subtree's)", "integrity",
		[]string{"agency", "flag", "status", "limit", "offset"}, nil, false, map[int]any{200: flaggedList{}}, []int{400, 401, 403, unavailable}},
	{"confirmFlagged", "post", "/api/v1/flagged/{id}/confirm", "Confirm a flagged answer was not the citizen's: it leaves the index, stays in exports (not by the rated agency's own keys)", "integrity", nil,
		request{core.ReviewInput{}, []string{"note"}}, false, map[int]any{200: flaggedView{}}, []int{400, 401, 403, 404, 409, unavailable}},
	{"clearFlagged", "post", "/api/v1/flagged/{id}/clear", "Clear a flagged answer as the citizen's own (not by the rated agency's own keys)", "integrity", nil,
		request{core.ReviewInput{}, []string{"note"}}, false, map[int]any{200: flaggedView{}}, []int{400, 401, 403, 404, 409, unavailable}},
	{"listCases", "get", "/api/v1/cases", "Follow-up cases of unhappy responses and of feedback pages (kind feedback), overdue first: the cases not closed, or with from/to/status=closed those opened in the months (an agency key: its subtree's); q, dossier and assignee search every case from the case index instead", "cases",
		[]string{"agency", "status", "overdue", "criterion", "kind", "from", "to", "limit", "q", "dossier", "assignee"}, nil, false, map[int]any{200: caseList{}}, []int{400, 401, 403, unavailable}},
	{"getCase", "get", "/api/v1/cases/{id}", "One follow-up case, with its notes and history", "cases", nil, nil, false, map[int]any{200: CaseView{}}, readErrors},
	{"assignCase", "post", "/api/v1/cases/{id}/assign", "Give the case to someone", "cases", nil, request{CaseAssignment{}, []string{"assignee"}}, false, map[int]any{200: CaseView{}}, caseErrors},
	{"startCase", "post", "/api/v1/cases/{id}/status", "Mark the case in progress", "cases", nil, request{CaseStatusChange{}, []string{"status"}}, false, map[int]any{200: CaseView{}}, caseErrors},
	{"noteCase", "post", "/api/v1/cases/{id}/notes", "Add an internal note (never sent to the citizen)", "cases", nil, request{CaseMessage{}, []string{"text"}}, false, map[int]any{200: CaseView{}}, caseErrors},
	{"answerCase", "post", "/api/v1/cases/{id}/answer", "Answer the citizen: sent by SMS on the invitation's number (a feedback case: on the phone its citizen confirmed, else shown on its thank-you page only); they rate it with a reply 1–5 (4–5 closes the case, 1–3 reopens it). A case sends at most 2 answers in 24 hours (a third is a 429 saying when, with Retry-After) and an answer at most 3 SMS parts as sent, greeting and rating line included, without diacritics unless the channel sends Unicode (a longer one is a 400 with the count)", "cases", nil,
		request{CaseMessage{}, []string{"text"}}, false, map[int]any{200: CaseView{}}, answerErrors},
	{"closeCase", "post", "/api/v1/cases/{id}/close", "Close the case", "cases", nil, nil, false, map[int]any{200: CaseView{}}, caseErrors},
	{"reopenCase", "post", "/api/v1/cases/{id}/reopen", "Reopen an answered or closed case, with a new due time", "cases", nil, nil, false, map[int]any{200: CaseView{}}, caseErrors},
	{"listPlans", "get", "/api/v1/plans", "Improvement plans of a subtree (default the key's own), newest updated first (sort=effect ranks the page by effect), each with its effect, from the plan index (never a query over the plans)", "plans",
		[]string{"agency", "status", "overdue", "sort", "cursor", "limit"}, nil, false, map[int]any{200: PlanList{}}, []int{400, 401, 403, unavailable}},
	{"listMissingPlans", "get", "/api/v1/plans/missing", "Units of a subtree with enough answers whose SIPAS index (from the roll-ups) is below GATEWAY_PLAN_THRESHOLD or among the province's lowest tenth, and that have no active or draft plan; default the last three full months", "plans",
		[]string{"agency", "from", "to"}, nil, false, map[int]any{200: MissingPlans{}}, []int{400, 401, 403, unavailable}},
	{"getPlan", "get", "/api/v1/agencies/{code}/plans/{id}", "One improvement plan of an agency", "plans", nil, nil, false, map[int]any{200: PlanView{}}, []int{400, 401, 403, 404, unavailable}},
	{"putPlan", "put", "/api/v1/agencies/{code}/plans/{id}", "Create (201) or replace (200) an agency's improvement plan: the agency's own keys and users, those of an agency above it, and admins; a replace sends the version it read (a stale one is a 409 naming version); every change is audited", "plans", nil,
		request{core.PlanInput{}, []string{"title", "causes", "actions"}}, false, map[int]any{200: PlanView{}, 201: PlanView{}}, []int{400, 401, 403, 404, 409, unavailable}},
	{"listDesks", "get", "/api/v1/desks", "Desks with kiosks, and their paired tablets (an agency key: its subtree's)", "desks", nil, nil, false, map[int]any{200: deskList{}}, []int{401, unavailable}},
	{"getDesk", "get", "/api/v1/desks/{id}", "One desk", "desks", nil, nil, false, map[int]any{200: DeskView{}}, readErrors},
	{"putDesk", "put", "/api/v1/desks/{id}", "Register or change a desk; the answer carries a one-time pairing code for a tablet", "desks", nil,
		request{core.DeskInput{}, []string{"agency_code", "name"}}, false, map[int]any{200: DeskView{}}, []int{400, 401, 403, unavailable}},
	{"deleteDesk", "delete", "/api/v1/desks/{id}", "Remove a desk; its tablets stop at once", "desks", nil, nil, false, map[int]any{204: nil}, readErrors},
	{"presentDossier", "post", "/api/v1/desks/{id}/present", "Show a dossier's survey on the desk's kiosk (the invitation is made if missing)", "desks", nil,
		request{PresentInput{}, []string{"dossier_code"}}, false, map[int]any{200: presented{}}, []int{400, 401, 403, 404, 409, 410, 429, unavailable}},
	{"revokeKioskDevice", "post", "/api/v1/desks/{id}/devices/{device}/revoke", "Unpair a tablet: it stops at once", "desks", nil, nil, false, map[int]any{200: DeskView{}}, readErrors},
	{"getSurveyPage", "get", "/s/{token}", "The survey page (HTML)", "survey page", []string{"step", "lang"}, nil, true, map[int]any{200: htmlBody{}, 404: htmlBody{}, 410: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"submitSurveyPage", "post", "/s/{token}", "Submit answers (form-encoded)", "survey page", nil, htmlBody{}, true, map[int]any{200: htmlBody{}, 303: nil, 404: htmlBody{}, 410: htmlBody{}, 413: htmlBody{}, 422: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"getSurveyDone", "get", "/s/{token}/done", "Thank-you page", "survey page", []string{"lang"}, nil, true, map[int]any{200: htmlBody{}, 303: nil, 404: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"rateCaseAnswer", "post", "/s/{token}/rate", "Rate the agency's answer to the citizen's follow-up case from the done page (form r=1..5)", "survey page", nil, htmlBody{}, true,
		map[int]any{200: htmlBody{}, 303: nil, 404: htmlBody{}, 410: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"getFeedbackPage", "get", "/g/{token}", "An agency's feedback page (HTML; its token is in the agency's feedback_url): góp ý, phản ánh or kiến nghị, with an optional phone for the answer and dossier code", "feedback page", []string{"lang"}, nil, true,
		map[int]any{200: htmlBody{}, 404: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"submitFeedback", "post", "/g/{token}", "Send feedback (form: type suggestion|complaint|recommendation, text, phone, dossier_code, nonce, lang): it opens a feedback case and answers 303 to its thank-you page; bad input is the form again (422) naming each field, over a limit 429", "feedback page", nil, htmlBody{}, true,
		map[int]any{303: nil, 404: htmlBody{}, 413: htmlBody{}, 422: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"getFeedbackDone", "get", "/g/{token}/done/{ticket}", "A feedback's thank-you page: its reference number, the phone's confirmation and, once given, the agency's answer", "feedback page", []string{"lang", "sent"}, nil, true,
		map[int]any{200: htmlBody{}, 404: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"confirmFeedbackPhone", "post", "/g/{token}/done/{ticket}", "Confirm the phone with its one-time code (form action=confirm, code) or ask for a new code (action=resend); 303 back to the page, or the page again with why (422, 429)", "feedback page", nil, htmlBody{}, true,
		map[int]any{303: nil, 404: htmlBody{}, 413: htmlBody{}, 422: htmlBody{}, 429: htmlBody{}, 503: htmlBody{}}, nil},
	{"getSurveyStylesheet", "get", "/static/app.css", "The survey page's stylesheet", "survey page", nil, nil, true, map[int]any{200: cssBody{}}, []int{431}},
	{"getKioskPage", "get", "/kiosk", "The desk kiosk (HTML): pairs once, then shows each dossier's survey", "kiosk", nil, nil, true, map[int]any{200: htmlBody{}}, []int{431}},
	{"getKioskScript", "get", "/kiosk/app.js", "The kiosk's script", "kiosk", nil, nil, true, map[int]any{200: jsBody{}}, []int{431}},
	{"getKioskStylesheet", "get", "/kiosk/app.css", "The kiosk's stylesheet", "kiosk", nil, nil, true, map[int]any{200: cssBody{}}, []int{431}},
	{"getKioskServiceWorker", "get", "/kiosk/sw.js", "The kiosk's service worker: keeps the page for a reload while offline", "kiosk", nil, nil, true, map[int]any{200: jsBody{}}, []int{431}},
	{"pairKiosk", "post", "/kiosk/api/pair", "Pair a tablet with the desk whose one-time code it sends; the answer carries its device token, once", "kiosk", nil,
		request{struct {
			Code string `json:"code" doc:"the 8 digits PUT /api/v1/desks/{id} gave"`
		}{}, []string{"code"}}, true, map[int]any{201: kiosk.Paired{}}, []int{400, 401, 404, 429, unavailable}},
	{"getKioskDesk", "get", "/kiosk/api/desk", "The tablet's desk", "kiosk", nil, nil, true, map[int]any{200: kiosk.Desk{}}, []int{401, unavailable}},
	{"nextKioskDossier", "get", "/kiosk/api/next", "Wait (up to wait seconds, at most 25) for a dossier other than the one numbered after: 200 with it and its survey, 204 when none came", "kiosk",
		[]string{"after", "wait"}, nil, true, map[int]any{200: kiosk.Dossier{}, 204: nil}, []int{401, unavailable}},
	{"presentOnKiosk", "post", "/kiosk/api/present", "The officer shows a dossier on the tablet by its code, with the desk's officer PIN (the invitation is made if missing)", "kiosk", nil,
		request{kiosk.Presentation{}, []string{"dossier_code", "officer_pin"}}, true, map[int]any{200: kiosk.Dossier{}}, []int{400, 401, 403, 409, 410, 429, unavailable}},
	{"answerOnKiosk", "post", "/kiosk/api/answer", "A citizen's answers from the tablet, exactly once per dossier and per idempotency key", "kiosk", nil,
		request{core.KioskAnswer{}, []string{"idempotency_key", "invitation_id", "answers"}}, true, map[int]any{200: kiosk.Answered{}}, []int{400, 401, 403, 404, 409, 410, 429, unavailable}},
	{"receiveSMS", "post", "/webhooks/sms/{channel_id}", "Inbound SMS in the channel type's format; the answer carries the replies in that format", "webhooks", nil, nil, true, map[int]any{200: webhookSMS}, []int{400, 401, 404, 413, 429, unavailable}},
	{"receiveSMSByGet", "get", "/webhooks/sms/{channel_id}", "Inbound SMS by GET (eSMS MO)", "webhooks", nil, nil, true, map[int]any{200: webhookSMS}, []int{400, 401, 404, 429, unavailable}},
	{"receiveZaloEvent", "post", "/webhooks/zalo/{channel_id}", "Zalo OA events (queued, acknowledged at once)", "webhooks", nil, nil, true, map[int]any{200: struct {
		OK bool `json:"ok"`
	}{}}, []int{400, 401, 404, 413, unavailable}},
	{"receiveVoiceEvent", "post", "/webhooks/voice/{channel_id}/{event}", "A voice provider's call webhook in its own format, event answer (the call was answered or came in), key (a key pressed, or none in time) or status (the call ended): the answer is the call's next actions (Twilio TwiML, Stringee SCCO), 204 for a status", "webhooks",
		[]string{"inv", "step"}, nil, true, map[int]any{200: webhookVoice, 204: nil}, []int{400, 401, 404, 413, unavailable}},
	{"receiveVoiceEventByGet", "get", "/webhooks/voice/{channel_id}/{event}", "A call's first actions asked for by GET (Stringee's answer_url, signed over the request URI)", "webhooks",
		[]string{"inv", "callId"}, nil, true, map[int]any{200: webhookVoice}, []int{400, 401, 404, unavailable}},
	{"getVoicePrompt", "get", "/voice/prompts/{channel_id}/{name}", "An uploaded prompt's recording, at the signed URL the gateway puts in a call's actions (an hour)", "webhooks",
		[]string{"v", "exp", "sig"}, nil, true, map[int]any{200: audioBody{}}, []int{401, 404, unavailable}},
}

// Case action bodies, as the document describes them (core.CaseInput
// takes any of their fields).
type (
	CaseAssignment struct {
		Assignee string `json:"assignee" doc:"who handles the case"`
	}
	CaseStatusChange struct {
		Status string `json:"status" doc:"in_progress"`
	}
	CaseMessage struct {
		Text string `json:"text" doc:"at most 1,000 characters"`
	}
)

// queryDoc describes the query parameters.
var queryDoc = map[string]string{
	"accept":       "degraded: answer 200 while MongoDB is down but answers are still accepted",
	"dossier_code": "the dossier's code as the desk software knows it",
	"size":         "PNG width in pixels, 128–1024 (default 256)",
	"agency":       "an agency code: that agency and its whole subtree",
	"from":         "first month or day (YYYY-MM or YYYY-MM-DD, Vietnam time)",
	"to":           "last month or day, included",
	"channel":      "a channel id, or a family: web, sms, zalo (invitations: one it was sent through, or the one that answered it)",
	"procedure":    "a procedure code",
	"field":        "a field (lĩnh vực) code",
	"survey":       "a survey id, or all (the default for reports: criterion level across forms)",
	"group_by":     "one of agency, month, channel, procedure, desk or officer (kiosk answers)",
	"format":       "json (default), csv or xlsx (reports: a workbook); for responses csv (default) or jsonl",
	"band":         "low (mean ≤ 2), mid, high (mean ≥ 4)",
	"q":            "words to find, diacritics ignored (cho lau finds chờ lâu); invitations: 3 to 64 characters of the dossier code from the start of one of its groups (0042, H13-2612)",
	"cursor":       "the next_cursor of the previous page",
	"dossier":      "cases: 3 to 64 characters of the dossier code from the start of one of its groups",
	"assignee":     "cases: words of the assignee's name, diacritics ignored",
	"topic":        "a comment topic (waiting, attitude, fees, paperwork, late, guidance, facilities, online, praise, or a province's own), optionally :complaint, :praise or :neutral",
	"before":       "the next_before of the previous page",
	"limit":        "how many to list",
	"status":       "invitations: pending, in_progress, completed, expired or opted_out; unread replies: open (default), resolved or dismissed; cases: open, in_progress, answered, closed or reopened; flagged answers: pending, confirmed or cleared; plans: draft, active, done or dropped",
	"flag":         "a signal: office_network, creator_address, device_many, phone_many, staff_phone, unverified_phone, speeder or kiosk_fast",
	"offset":       "how many matches to skip (the next page: offset + limit)",
	"overdue":      "cases: true: only those still waiting past their due time; plans: true: only active plans with an action past due, false: only the others",
	"sort":         "plans: updated (newest first, the default) or effect (the page ranked by effect, best first)",
	"criterion":    "a criterion code (A–E) scored 1–2 in the case's response",
	"kind":         "response: only the cases of unhappy responses; feedback: only those the feedback pages opened",
	"step":         "the page of a long survey; a call's key webhook: the step the key answers (the gateway puts it in the URL)",
	"inv":          "the invitation a call the gateway placed is about (the gateway puts it in the URLs it gives the provider)",
	"callId":       "Stringee's call id",
	"v":            "the recording's version",
	"exp":          "when the signed URL stops working (Unix seconds)",
	"sig":          "the gateway's signature of the URL",
	"lang":         "vi (default) or en",
	"after":        "the seq of the dossier the kiosk shows (0: none)",
	"wait":         "seconds to wait, 1–25 (default 25)",
	"count":        "how many slips, 1–200 (default 20)",
	"version":      "a form layout version (default: the current one); every version printed stays readable",
	"sent":         "1: a new code was just sent (the page says so)",
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

// enums are the string types with a closed set of values.
var enums = map[reflect.Type]enum{
	reflect.TypeOf(core.Code("")): {"ErrorCode", []string{string(core.Invalid), string(core.Unauthenticated), string(core.Denied), string(core.NotFound), string(core.Conflict), string(core.Gone),
		string(core.TooLarge), string(core.HeadersTooLarge), string(core.UnsupportedEncoding), string(core.RateLimited), string(core.Unavailable), string(core.Internal)}},
	reflect.TypeOf(store.CaseStatus("")): {"CaseStatus", []string{string(store.CaseOpen), string(store.CaseInProgress), string(store.CaseAnswered), string(store.CaseClosed), string(store.CaseReopened)}},
	reflect.TypeOf(store.PlanStatus("")): {"PlanStatus", []string{string(store.PlanDraft), string(store.PlanActive), string(store.PlanDone), string(store.PlanDropped)}},
	reflect.TypeOf(store.Role("")):       {"Role", []string{string(store.RoleAdmin), string(store.RoleAgency), string(store.RoleViewer)}},
	reflect.TypeOf(store.Status("")):     {"InvitationStatus", []string{string(store.StatusPending), string(store.StatusInProgress), string(store.StatusCompleted), string(store.StatusExpired), string(store.StatusOptedOut)}},
	reflect.TypeOf(store.SendState("")): {"SendState", []string{string(store.SendQueued), string(store.SendSent), string(store.SendDelivered), string(store.SendFailed), string(store.SendSkipped),
		string(store.SendRetrying), string(store.SendFallback)}},
}

// media is the content of an answer body v.
func (s *schemas) media(v any) map[string]any {
	switch v := v.(type) {
	case either:
		var one []any
		for _, b := range v {
			one = append(one, s.of(reflect.TypeOf(b)))
		}
		return map[string]any{"application/json": map[string]any{"schema": map[string]any{"oneOf": one}}}
	case alt:
		out := map[string]any{}
		for _, b := range v {
			for k, m := range s.media(b) {
				out[k] = m
			}
		}
		return out
	case pngBody:
		return map[string]any{"image/png": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case pdfBody:
		return map[string]any{"application/pdf": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case jpegBody:
		return map[string]any{"image/jpeg": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case csvBody:
		return map[string]any{"text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}
	case xlsxBody:
		return map[string]any{xlsxType: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
	case htmlBody:
		return map[string]any{"text/html": map[string]any{"schema": map[string]any{"type": "string"}}}
	case textBody:
		return map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
	case cssBody:
		return map[string]any{"text/css": map[string]any{"schema": map[string]any{"type": "string"}}}
	case jsBody:
		return map[string]any{"text/javascript": map[string]any{"schema": map[string]any{"type": "string"}}}
	case xmlBody:
		return map[string]any{"application/xml": map[string]any{"schema": map[string]any{"type": "string"}}}
	case audioBody:
		bin := map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}
		return map[string]any{"audio/mpeg": bin, "audio/wav": bin}
	case jsonLine:
		return map[string]any{"application/x-ndjson": map[string]any{"schema": s.of(reflect.TypeOf(v.row))}}
	}
	return map[string]any{"application/json": map[string]any{"schema": s.of(reflect.TypeOf(v))}}
}

// examples are real answers, by operation and status; the document's
// validation checks them against their schemas.
//
//go:embed openapi-examples.json
var examplesJSON []byte

var examples = func() map[string]map[string]any {
	var ex map[string]map[string]any
	if err := json.Unmarshal(examplesJSON, &ex); err != nil {
		panic(err)
	}
	return ex
}()

// OpenAPI builds the document; base is GATEWAY_BASE_URL, its server.
func OpenAPI(base string) []byte {
	s := newSchemas(enums)
	errorSchema := s.of(reflect.TypeOf(errorAnswer{}))
	paths := map[string]map[string]any{}
	for _, op := range operations {
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(op.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.query {
			p := map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}}
			if q == "size" || q == "limit" {
				p["schema"] = map[string]any{"type": "integer", "format": "int32"}
			}
			if d := queryDoc[q]; d != "" {
				p["description"] = d
			}
			params = append(params, p)
		}
		resp := map[string]any{}
		for code, v := range op.answers {
			r := map[string]any{"description": http.StatusText(code)}
			if v != nil {
				r["content"] = s.media(v)
			}
			resp[strconv.Itoa(code)] = r
		}
		for _, code := range op.errors {
			resp[strconv.Itoa(code)] = map[string]any{"description": http.StatusText(code),
				"content": map[string]any{"application/json": map[string]any{"schema": errorSchema}}}
		}
		if op.method == "post" || op.method == "put" { // a compressed body is refused (identityBodies)
			media := map[string]any{"application/json": map[string]any{"schema": errorSchema}}
			if CitizenPage(op.path) {
				media = s.media(htmlBody{})
			}
			resp["415"] = map[string]any{"description": "Content-Encoding other than identity", "content": media}
		}
		for code, v := range examples[op.id] {
			r, _ := resp[code].(map[string]any)
			if m, ok := r["content"].(map[string]any)["application/json"].(map[string]any); ok {
				m["examples"] = map[string]any{"real": map[string]any{"summary": "an answer of a gateway (long lists cut)", "value": v}}
			} else {
				panic("openapi: an example for " + op.id + " " + code + ", which has no JSON answer")
			}
		}
		o := map[string]any{"operationId": op.id, "summary": op.summary, "tags": []string{op.tag}, "responses": resp}
		if len(params) > 0 {
			o["parameters"] = params
		}
		switch b := op.body.(type) {
		case request:
			schema := s.object(reflect.TypeOf(b.v))
			delete(schema, "required")
			if len(b.required) > 0 {
				schema["required"] = b.required
			}
			name := reflect.TypeOf(b.v).Name()
			if name == "" {
				name = string(op.id[0]-'a'+'A') + op.id[1:] + "Body"
			}
			s.components[name] = schema
			o["requestBody"] = map[string]any{"required": len(b.required) > 0, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + name}}}}
		case csvBody, audioBody:
			o["requestBody"] = map[string]any{"required": true, "content": s.media(b)}
		case uploadBody: // files, field file, repeatable
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{"schema": map[string]any{
				"type": "object", "required": []string{"file"},
				"properties": map[string]any{"file": map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "binary"},
					"description": "JPEG, PNG, TIFF or PDF scans, as many files as wanted"}}}}}}
		case htmlBody: // the survey form
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}}}}
		}
		if op.public {
			o["security"] = []any{}
		}
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][op.method] = o
	}
	var tags []any
	for _, op := range operations {
		if !slices.ContainsFunc(tags, func(t any) bool { return t.(map[string]any)["name"] == op.tag }) {
			tags = append(tags, map[string]any{"name": op.tag, "description": tagDoc[op.tag]})
		}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "SIPAS survey gateway", "version": "1",
			"description": "Invitations (one per dossier), surveys, channels, agencies and the SIPAS satisfaction index. Errors are {\"error\": {\"code\", \"message\", \"field\"}}.",
			"license":     map[string]any{"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}},
		"servers":  []any{map[string]any{"url": base}},
		"tags":     tags,
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "an API key (sk_…) or GATEWAY_ADMIN_KEY"}},
			"schemas":         s.components,
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

var tagDoc = map[string]string{
	"service":        "Health, readiness, metrics and this document",
	"invitations":    "One invitation per dossier: its survey link, QR code and conversation",
	"surveys":        "Survey definitions",
	"reports":        "The SIPAS index, comments and the normalised responses",
	"agencies":       "The agency tree",
	"channels":       "SMS and Zalo channels",
	"keys":           "API keys, erasures and the audit log",
	"unread replies": "Replies the gateway could not read, for operators",
	"cases":          "Follow-up of unhappy responses and of citizens' feedback: the agency answers, the citizen rates the answer",
	"desks":          "Desks and their kiosks: tablets that rate the dossier just handed back",
	"kiosk":          "What a paired tablet calls (Authorization: Bearer <device token>, never an API key)",
	"survey page":    "What a citizen's QR code opens",
	"feedback page":  "What a suggestion box's poster opens: an agency's feedback page (hòm thư góp ý), which opens a feedback case",
	"webhooks":       "Providers' inbound messages",
}
