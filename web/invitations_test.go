package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/locale"
)

// The invitations page lists the newest invitations and finds them by a
// part of the dossier code, in Vietnamese and English, with dates as each
// language writes them; another agency's dossiers never show, a bad
// query is the page's error naming the field, and a dossier with a case
// links to it.
func TestConsoleInvitationList(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	g.Invite("000.00.12.H49-261205-0042", "000.00.12.H49", nil)
	g.Invite("000.00.12.H49-261205-0043", "000.00.12.H49", nil)
	g.Invite("000.00.13.H49-261205-0042", "000.00.13.H49", nil)
	tok := gwtest.Token(g.Invite("000.00.12.H49-261130-0042", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=1&D=2&E=1&comment="+url.QueryEscape("chậm trễ")); res.StatusCode != 303 {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	g.Drain()
	inv := g.MustInvitation("000.00.12.H49-261205-0042")
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	justice := g.PostForm("/console/login", url.Values{"key": {g.Key(t, "agency", "000.00.12.H49")}}, nil).Cookies()[0]

	status, page := g.Page("/console/invitations?q=h49-2612", admin)
	for _, want := range []string{`id="list"`, "000.00.12.H49-261205-0042", "000.00.13.H49-261205-0042", "Danh sách phiếu", "Chờ trả lời",
		locale.DateTime("vi", inv.CreatedAt.In(core.Vietnam)), `href="/console/invitations?dossier_code=000.00.12.H49-261205-0043"`} {
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("vi: %d, no %q", status, want)
		}
	}
	if strings.Contains(page, "000.00.12.H49-261130-0042") {
		t.Error("261130 found by 2612")
	}
	status, page = g.Page("/console/invitations?q=0042&lang=en", justice)
	for _, want := range []string{"Invitations", "000.00.12.H49-261205-0042", "000.00.12.H49-261130-0042", `href="/console/cases/`, "Open the case",
		locale.DateTime("en", inv.CreatedAt.In(core.Vietnam))} {
		if status != 200 || !strings.Contains(page, want) {
			t.Errorf("en: %d, no %q", status, want)
		}
	}
	if strings.Contains(page, "000.00.13.H49") {
		t.Error("another agency's dossier on the justice department's page")
	}
	status, page = g.Page("/console/invitations?q="+url.QueryEscape(".*"), admin)
	if status != 400 || !strings.Contains(page, "q:") {
		t.Errorf("bad query: %d", status)
	}
	if status, page = g.Page("/console/invitations?status=completed", admin); status != 200 || !strings.Contains(page, "000.00.12.H49-261130-0042") || strings.Contains(page, "261205-0043") {
		t.Errorf("completed: %d", status)
	}
}

// An invitation whose text the contact limit held back says why on its
// page, in the page's language, not in the API's English.
func TestConsoleInvitationSaysWhyNoText(t *testing.T) {
	g := gwtest.New(t, "", gwtest.ReachDefaults)
	if res, out := g.API("PUT", "/api/v1/channels/sms-main", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": "http://127.0.0.1:9/send", "default": true}, "secrets": map[string]any{"secret": "a-generic-secret-0123"}}); res.StatusCode != 200 {
		t.Fatalf("channel: %d %v", res.StatusCode, out)
	}
	g.Invite("000.00.12.H49-261206-0001", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	g.Invite("000.00.12.H49-261206-0002", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, vi := g.Page("/console/invitations?dossier_code=000.00.12.H49-261206-0002", admin)
	if !strings.Contains(vi, "Không gửi") || !strings.Contains(vi, "số này đã được mời khảo sát") || strings.Contains(vi, "a survey invitation went") {
		t.Errorf("the skipped send, in Vietnamese:\n%s", vi)
	}
	_, en := g.Page("/console/invitations?dossier_code=000.00.12.H49-261206-0002&lang=en", admin)
	if !strings.Contains(en, "this phone was invited within GATEWAY_CONTACT_EVERY") {
		t.Errorf("the skipped send, in English:\n%s", en)
	}
}
