package core_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/core"
)

// A feedback form is cleaned (phone numbers in the text redacted, the
// phone made canonical, the dossier code trimmed) and each bad field is
// named, in the form's order.
func TestCheckFeedback(t *testing.T) {
	cases := []struct {
		in                 core.FeedbackInput
		text, phone, probs string
	}{
		{core.FeedbackInput{Type: "suggestion", Text: " Nên có ghế chờ "}, "Nên có ghế chờ", "", ""},
		{core.FeedbackInput{Type: "complaint", Text: "Gọi 0912.345.678 nhé", Phone: "+84 912 345 678"}, "Gọi [số điện thoại] nhé", "84912345678", ""},
		{core.FeedbackInput{Type: "recommendation", Text: "x", Dossier: " 000.00.12.H49-201105-0042 "}, "x", "", ""},
		{core.FeedbackInput{Text: "x"}, "x", "", "type: required"},
		{core.FeedbackInput{Type: "praise", Text: "x"}, "x", "", "type: required"},
		{core.FeedbackInput{Type: "suggestion", Text: "\u200b \u202e"}, "", "", "text: required"},
		{core.FeedbackInput{Type: "suggestion", Text: strings.Repeat("ờ", core.MaxFeedback)}, strings.Repeat("ờ", core.MaxFeedback), "", ""},
		{core.FeedbackInput{Type: "suggestion", Text: strings.Repeat("ờ", core.MaxFeedback+1)}, "", "", "text: too_long"},
		{core.FeedbackInput{Type: "suggestion", Text: strings.Repeat("a", 1<<20)}, "", "", "text: too_long"},
		{core.FeedbackInput{Type: "suggestion", Text: "x", Phone: "12345"}, "x", "", "phone: invalid"},
		{core.FeedbackInput{Type: "suggestion", Text: "x", Dossier: "H49 <b>"}, "x", "", "dossier_code: invalid"},
		{core.FeedbackInput{Phone: "1", Dossier: strings.Repeat("A", 65)}, "", "", "type: required; text: required; phone: invalid; dossier_code: invalid"},
	}
	for i, tc := range cases {
		out, phone, probs := core.CheckFeedback(tc.in)
		got := ""
		if len(probs) > 0 {
			got = probs.Error()
		}
		if got != tc.probs || phone != tc.phone || (tc.text != "" && out.Text != tc.text) {
			t.Errorf("%d: %q %q %q, want %q %q %q", i, got, phone, out.Text, tc.probs, tc.phone, tc.text)
		}
		if tc.probs == "" && out.Dossier != strings.TrimSpace(tc.in.Dossier) {
			t.Errorf("%d: dossier %q", i, out.Dossier)
		}
	}
	_, _, probs := core.CheckFeedback(core.FeedbackInput{Type: "suggestion", Text: strings.Repeat("ờ", 2345)})
	if len(probs) != 1 || probs[0].Length != 2345 || fmt.Sprint(probs[0].Field) != "text" {
		t.Fatalf("too long: %+v", probs)
	}
}
