package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// submit takes one step's answers or a whole survey in one POST. Answers are
// merged into the saved progress; a POST that leaves every question answered
// on the last step (or with no step at all) completes the survey.
func (h *handler) submit(c *fiber.Ctx, ss *core.Session, p *page, saved map[string]string) error {
	token, all := ss.Invitation.Token, steps(ss.Survey)
	posted, ferr := collect(ss.Survey, c)
	for k, v := range posted {
		saved[k] = v
	}
	step := 0
	if v := c.FormValue("step"); v != "" { // none: no parse, whose error allocates
		step, _ = strconv.Atoi(v)
	}
	if step < 1 || step > len(all) {
		step = 0 // a whole-survey POST
	}
	if ferr != nil {
		p.Error = ferr.Error()
		return h.send(c, fiber.StatusUnprocessableEntity, "step", stepPage(p, ss, max(step, 1), saved, nil))
	}
	// A POST that completes the survey saves its answers as the response;
	// only one that does not (see complete) keeps them as progress.
	completing := c.FormValue("nav") != "back" && (step == 0 || step == len(all))
	if !completing {
		if err := h.core.SaveProgress(c.UserContext(), ss, posted, false); err != nil {
			return err
		}
	}
	if c.FormValue("nav") == "back" && step > 1 {
		return c.Redirect(stepURL(token, step-1, p.Lang), fiber.StatusSeeOther)
	}
	if step > 0 && step < len(all) {
		if missing := missingIn(ss.Survey, all[step-1].Code, saved); len(missing) > 0 {
			return h.send(c, fiber.StatusUnprocessableEntity, "step", stepPage(p, ss, step, saved, missing))
		}
		return c.Redirect(stepURL(token, step+1, p.Lang), fiber.StatusSeeOther)
	}
	return h.complete(c, p, ss, saved, posted)
}

// complete saves the answers as the survey's response. When they are not
// all there, or cannot be saved now, the posted ones are kept as progress,
// so the citizen finds them again.
func (h *handler) complete(c *fiber.Ctx, p *page, ss *core.Session, saved, posted map[string]string) error {
	keep := func() error { return h.core.SaveProgress(c.UserContext(), ss, posted, true) }
	answers := survey.Answers{}
	if err := ss.Survey.Collect(answers, func(k string) string { return saved[k] }); err != nil {
		_ = keep()
		return err // progress holds only checked values; this is not the citizen's fault
	}
	if missing := ss.Survey.Missing(answers); len(missing) > 0 {
		if err := keep(); err != nil {
			return err
		}
		marks := map[survey.QuestionID]bool{}
		for _, q := range missing {
			marks[q] = true
		}
		first, _ := ss.Survey.Question(missing[0])
		return h.send(c, fiber.StatusUnprocessableEntity, "step", stepPage(p, ss, stepOf(ss.Survey, first.Criterion), saved, marks))
	}
	_, err := h.core.Complete(c.UserContext(), ss, core.Completion{
		Answers: answers, Comment: saved[survey.CommentField], Channel: "web", Locale: p.Lang,
		VerifiedBy: store.VerifiedToken, Address: channels.ClientIP(c), Device: h.device(c),
	})
	if err != nil && !errors.Is(err, core.ErrAlreadyCompleted) {
		_ = keep()
		return err
	}
	return c.Redirect("/s/"+ss.Invitation.Token+"/done?lang="+p.Lang, fiber.StatusSeeOther)
}

// collect reads the posted answers and comment, checked, as progress fields.
func collect(def *survey.Survey, c *fiber.Ctx) (map[string]string, error) {
	answers := survey.Answers{}
	err := def.Collect(answers, func(k string) string { return c.FormValue(k) })
	out := map[string]string{}
	for q, v := range answers {
		out[string(q)] = strconv.Itoa(v)
	}
	if raw := c.FormValue(survey.CommentField); raw != "" {
		comment, cerr := survey.CleanComment(raw)
		if cerr != nil {
			return out, cerr
		}
		out[survey.CommentField] = comment
	}
	return out, err
}

func missingIn(def *survey.Survey, criterion string, saved map[string]string) map[survey.QuestionID]bool {
	out := map[survey.QuestionID]bool{}
	for _, q := range def.QuestionsOf(criterion) {
		if saved[string(q.ID)] == "" {
			out[q.ID] = true
		}
	}
	return out
}

func stepOf(def *survey.Survey, criterion string) int {
	for i, cr := range steps(def) {
		if cr.Code == criterion {
			return i + 1
		}
	}
	return 1
}

func stepURL(token string, step int, lang string) string {
	return "/s/" + token + "?step=" + strconv.Itoa(step) + "&lang=" + lang
}
