package web

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// unreadRow is a reply not understood as the console shows it.
type unreadRow struct {
	ID, At, Agency, Family, Phone, Text, Answered string
	Invitation                                    string // its conversation's link
	Case                                          string // its invitation's follow-up case, if any
	Own                                           bool   // the viewer's own agency is rated: a parent reads it
	Resolution                                    *store.Resolution
	Scores, Comment, Note, By, When, TestCase     string
	Questions                                     []questionField
}

type questionField struct{ ID, Label string }

// unreadStatuses are the list's tabs (labels in Vietnamese, translated when shown).
var unreadStatuses = []struct{ Code, Label string }{
	{store.UnreadOpen, "Chờ đọc"}, {store.UnreadResolved, "Đã ghi điểm"}, {store.UnreadDismissed, "Đã bỏ qua"},
}

// unread is the "not understood" list: GET /console/unread?status=open.
func (cs *console) unread(c *fiber.Ctx) error {
	p, lang := server.Principal(c), langOf(c)
	status := c.Query("status", store.UnreadOpen)
	us, err := cs.api.Core.UnreadReplies(c.UserContext(), p, status, time.Time{}, 100)
	if err != nil {
		return err
	}
	_, agencyName, err := cs.api.AgencyNamer(c)
	if err != nil {
		return err
	}
	cases, err := cs.replyCases(c, us)
	if err != nil {
		return err
	}
	rows := make([]unreadRow, len(us))
	for i := range us {
		u := &us[i]
		r := unreadRow{ID: u.ID, At: locale.DateTime(lang, u.At.In(cs.api.Zone)), Agency: agencyName(u.Agency), Family: translate(lang, cmp.Or(channelLabels[u.Family], u.Family)), Invitation: u.Invitation, Case: cases[u.Invitation],
			Phone: u.Phone, Text: u.Text, Own: p.Agency != "" && p.Agency == u.Agency, Resolution: u.Resolution, TestCase: cs.api.Core.TestCase(u)}
		if len(u.Answered) > 0 {
			r.Answered = strings.Trim(strings.ReplaceAll(fmt.Sprint(u.Answered), "-1", "–"), "[]")
		}
		if res := u.Resolution; res != nil {
			r.Comment, r.Note, r.By, r.When = res.Comment, res.Note, res.EnteredBy, locale.DateTime(lang, res.At.In(cs.api.Zone))
			def := cs.api.Core.ChatSurvey(u.Survey)
			var parts []string
			for _, q := range def.Questions {
				if v, ok := res.Scores[string(q.ID)]; ok {
					parts = append(parts, string(q.ID)+strconv.Itoa(v))
				}
			}
			r.Scores = strings.Join(parts, " ")
		}
		for _, q := range cs.api.Core.ChatSurvey(u.Survey).Questions {
			r.Questions = append(r.Questions, questionField{ID: string(q.ID), Label: string(q.ID) + " · " + q.Text.In(lang)})
		}
		rows[i] = r
	}
	v := cs.withFormError(cs.view(c, "Tin chưa đọc được"), c)
	v.Data = map[string]any{"Replies": rows, "Status": status, "Statuses": unreadStatuses}
	return cs.show(c, "unread", v)
}

// replyCases maps the replies' invitations that have a follow-up case to
// the case's id: the invitations by _id, then the case index.
func (cs *console) replyCases(c *fiber.Ctx, us []store.UnreadReply) (map[string]string, error) {
	var ids []string
	for _, u := range us {
		if u.Invitation != "" && !slices.Contains(ids, u.Invitation) {
			ids = append(ids, u.Invitation)
		}
	}
	return cs.api.Core.InvitationCases(c.UserContext(), ids)
}

func (cs *console) resolveUnread(c *fiber.Ctx) error {
	id := c.Params("id")
	u, err := cs.api.Core.UnreadReply(c.UserContext(), server.Principal(c), id)
	if err != nil {
		return cs.redo(c, cs.unread, err)
	}
	in := core.UnreadInput{Scores: map[string]int{}, Comment: c.FormValue("comment")}
	for _, q := range cs.api.Core.ChatSurvey(u.Survey).Questions {
		v := strings.TrimSpace(c.FormValue("q_" + string(q.ID)))
		if v == "" {
			continue // the core names the missing question
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return cs.redo(c, cs.unread, core.Errorf(core.Invalid, "scores."+string(q.ID), "%q is not a score; choose 0–5", v))
		}
		in.Scores[string(q.ID)] = n
	}
	if _, _, err := cs.api.Core.ResolveUnread(c.UserContext(), server.Principal(c), id, in); err != nil {
		return cs.redo(c, cs.unread, err)
	}
	return cs.flash(c, "/console/unread", "Đã ghi điểm công dân muốn chấm.")
}

// conversation opens an invitation's page, with its conversation, from
// its id: GET /console/conversations/:invitation (the not-understood
// list's link), within the operator's agencies.
func (cs *console) conversation(c *fiber.Ctx) error {
	inv, err := cs.api.Scoped(c)(cs.api.Core.Invitation(c.UserContext(), c.Params("invitation")))
	if err != nil {
		return err
	}
	return c.Redirect("/console/invitations?dossier_code="+url.QueryEscape(inv.DossierCode)+"#conversation", fiber.StatusSeeOther)
}

func (cs *console) dismissUnread(c *fiber.Ctx) error {
	if _, err := cs.api.Core.DismissUnread(c.UserContext(), server.Principal(c), c.Params("id"), core.UnreadInput{Note: c.FormValue("note")}); err != nil {
		return cs.redo(c, cs.unread, err)
	}
	return cs.flash(c, "/console/unread", "Đã bỏ qua tin.")
}
