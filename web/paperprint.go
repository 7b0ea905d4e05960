package web

import (
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// printMiss is a line of the print list that cannot have a form, and why.
type printMiss struct {
	Line      int
	Code, Why string
}

// surveyChoice is a form the print page offers.
type surveyChoice struct{ ID, Title string }

// channelLabels name, in Vietnamese, the channels a dossier may have been
// answered on (Invitation.CompletedVia).
var channelLabels = map[string]string{
	"web": "trang web", "sms": "tin nhắn SMS", "zalo": "Zalo", "kiosk": "máy tính bảng tại quầy", core.ChannelPaper: "phiếu giấy",
	"voice": "cuộc gọi",
}

// printForms is the print page: GET /console/paper/print shows its form;
// a POST of it, or a GET with codes= (the invitation page's link), answers
// one PDF of the listed dossiers' forms, a form per page, through core's
// PaperForm. When a line cannot have a form (unknown, answered, expired,
// outside the operator's agencies) nothing is printed: the page comes
// back naming each such line, the typed list kept, so a desk never hands
// out a form that will not count.
func (cs *console) printForms(c *fiber.Ctx) error {
	text, surveyID := c.FormValue("codes"), c.FormValue("survey")
	v := cs.view(c, "In phiếu")
	lang := v.Lang
	data := map[string]any{"Codes": text, "Survey": surveyID, "Surveys": cs.paperSurveys(lang), "Max": core.MaxForms}
	v.Data = data
	if strings.TrimSpace(text) == "" {
		if c.Method() == fiber.MethodPost {
			v.Error = translate(lang, "Hãy nhập ít nhất một mã hồ sơ.")
		}
		return cs.show(c, "paperprint", v)
	}
	if surveyID != "" && !slices.Contains(paper.Surveys(), surveyID) {
		v.Error = translate(lang, "Mẫu phiếu này không có bản in giấy.")
		return cs.show(c, "paperprint", v)
	}
	forms, misses, err := cs.paperForms(c, text, surveyID)
	if err != nil {
		return err
	}
	if len(misses) > 0 || len(forms) > core.MaxForms {
		v.Error = translate(lang, "Chưa in phiếu nào: hãy sửa hoặc bỏ các dòng dưới đây rồi in lại.")
		if len(forms) > core.MaxForms {
			v.Error = translate(lang, "Tối đa %d phiếu một lần: hãy chia danh sách.", core.MaxForms)
		}
		data["Misses"] = misses
		return cs.show(c, "paperprint", v)
	}
	return server.SendForms(c, forms, "phieu-khao-sat.pdf")
}

// paperForms reads the print list (a dossier code a line; commas or
// spaces also part codes) into forms, and the lines that cannot have
// one. It stops reading forms past core.MaxForms.
func (cs *console) paperForms(c *fiber.Ctx, text, surveyID string) ([]paper.Form, []printMiss, error) {
	ctx, p, lang := c.UserContext(), server.Principal(c), langOf(c)
	var forms []paper.Form
	var misses []printMiss
	seen := map[string]int{} // invitation id → its line
	split := func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' }
	for i, line := range strings.Split(text, "\n") {
		for _, code := range strings.FieldsFunc(line, split) {
			if len(forms) > core.MaxForms {
				return forms, misses, nil
			}
			inv, err := cs.api.Core.InvitationByDossier(ctx, code)
			if err == nil {
				if at, ok := seen[inv.ID]; ok {
					misses = append(misses, printMiss{i + 1, code, translate(lang, "trùng với dòng %d", at)})
					continue
				}
				seen[inv.ID] = i + 1
				var f paper.Form
				if f, err = cs.api.Core.PaperForm(ctx, p, inv, surveyID, ""); err == nil {
					forms = append(forms, f)
					continue
				}
			}
			why, ok := printRefusal(lang, inv, err)
			if !ok {
				return nil, nil, err
			}
			misses = append(misses, printMiss{i + 1, code, why})
		}
	}
	return forms, misses, nil
}

// printRefusal says in lang why a dossier (inv, nil when not found)
// cannot have a form; false for an error that is no refusal.
func printRefusal(lang string, inv *store.Invitation, err error) (string, bool) {
	var ce *core.Error
	if !errors.As(err, &ce) {
		if errors.Is(err, store.ErrNotFound) {
			return translate(lang, "không có phiếu cho mã hồ sơ này"), true
		}
		return "", false
	}
	switch {
	case ce.Code == core.NotFound:
		return translate(lang, "không có phiếu cho mã hồ sơ này"), true
	case ce.Code == core.Denied:
		return translate(lang, "ngoài phạm vi cơ quan của bạn"), true
	case ce.Code == core.Conflict && inv != nil:
		return translate(lang, "hồ sơ đã được trả lời qua %s: không cần phiếu", channelLabel(lang, inv.CompletedVia)), true
	case ce.Code == core.Gone && inv != nil && inv.Status == store.StatusOptedOut:
		return translate(lang, "công dân đã từ chối nhận khảo sát"), true
	case ce.Code == core.Gone && inv != nil:
		return translate(lang, "lời mời đã hết hạn ngày %s", inv.ExpiresAt.In(core.Vietnam).Format("02/01/2006")), true
	case ce.Code == core.Invalid && ce.Field == "survey" && inv != nil:
		return translate(lang, "mẫu khảo sát của hồ sơ chưa có phiếu giấy"), true
	}
	return "", false
}

// channelWords names how an answer came, in lang: a family in words
// ("tin nhắn SMS"), a kiosk's as a kiosk; a configured channel's id, which
// the province chose itself ("sms-chinh"), as it is.
func channelWords(lang, ch string) string {
	if l, ok := channelLabels[ch]; ok {
		return translate(lang, l)
	}
	if f := core.Family(ch); f == store.KioskFamily {
		return translate(lang, channelLabels[f])
	}
	return ch
}

// channelLabel names a channel in lang.
func channelLabel(lang, ch string) string {
	if l, ok := channelLabels[ch]; ok {
		return translate(lang, l)
	}
	return translate(lang, "kênh khác")
}

// paperSurveys are the forms the print page offers: each dossier's own
// survey first, then every survey that has a paper form.
func (cs *console) paperSurveys(lang string) []surveyChoice {
	out := []surveyChoice{{"", translate(lang, "Mẫu của từng hồ sơ")}}
	for _, id := range paper.Surveys() {
		title := id
		if def, ok := cs.api.Core.Surveys.Survey(survey.ID(id)); ok {
			title = def.Title.In(lang)
		}
		out = append(out, surveyChoice{id, title})
	}
	return out
}
