package survey

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func plainRender(t Text) string { return t.Plain() }

func sipas5(t *testing.T) *Survey {
	s, ok := Builtin().Survey(SIPAS5)
	if !ok {
		t.Fatal("sipas-5 missing")
	}
	return s
}

func TestOneReplyCompletes(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	out := def.Step(c, def.Read(c, "5 4 5 4 0 cán bộ tốt"), plainRender)
	if !out.Complete || !c.Done || len(out.Say) != 1 || !strings.HasPrefix(out.Say[0], "Cam on") {
		t.Fatalf("%+v %+v", out, c)
	}
	a := c.Answered(def)
	if a["A"] != 5 || a["E"] != 0 || len(a) != 5 || c.Comment != "cán bộ tốt" {
		t.Fatalf("answers %v comment %q", a, c.Comment)
	}
}

func TestOneScoreAtATime(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	for i, r := range []string{"5", "hai long", "4 3", "rat hai long"} {
		out := def.Step(c, def.Read(c, r), plainRender)
		switch {
		case i == 0 && (!out.Asked || out.Say[0] != "Cau 2/5 (Thu tuc): nhan 1 so 1-5. Neu ca 5 tieu chi deu muc 5, tra loi C."):
			t.Fatalf("a lone score is asked back, offering the second question: %+v", out)
		case i > 0 && i < 3 && (out.Complete || len(out.Say) != 1 || !strings.HasPrefix(out.Say[0], "Cau ")):
			t.Fatalf("reply %d: %+v", i, out)
		case i == 3 && !out.Complete:
			t.Fatalf("last reply did not complete: %+v", out)
		}
	}
	if got := c.Answers; got[0] != 5 || got[1] != 4 || got[2] != 4 || got[3] != 3 || got[4] != 5 {
		t.Fatalf("answers %v", got)
	}
}

// A level in words starts a conversation one question at a time exactly
// as a digit does; "C" after the lone one confirms it for every question.
func TestALoneLevelIsConfirmedOrGoesOn(t *testing.T) {
	def := sipas5(t)
	for _, first := range []string{"5", "rất hài lòng", "RAT HAI LONG", "rhl", "5 - rất hài lòng", "dạ rất hài lòng ạ 👍"} {
		c := NewConversation(def, "inv", "vi")
		if out := def.Step(c, def.Read(c, first), plainRender); !out.Asked || c.Pending == nil || !c.Pending.Lone {
			t.Fatalf("%q: %+v %+v", first, out, c)
		}
		out := def.Step(c, def.Read(c, "C"), plainRender)
		if !out.Complete || fmt.Sprint(c.Answers) != "[5 5 5 5 5]" {
			t.Fatalf("%q then C: %+v %v", first, out, c.Answers)
		}
	}
	c := NewConversation(def, "inv", "vi")
	for _, m := range []string{"rất hài lòng", "hài lòng"} {
		def.Step(c, def.Read(c, m), plainRender)
	}
	if !c.OneByOne || fmt.Sprint(c.Answers) != "[5 4 -1 -1 -1]" || c.Pending != nil {
		t.Fatalf("two levels: %+v", c)
	}
}

// A digit with its own level is one score; with a level that disagrees,
// which of the two is asked, of that question alone, and nothing stored.
func TestADigitWithItsLevelIsOneScore(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	for _, m := range []string{"5 - rất hài lòng", "4 (hài lòng)", "5 rhl", "4 hl"} {
		def.Step(c, def.Read(c, m), plainRender)
	}
	if fmt.Sprint(c.Answers) != "[5 4 5 4 -1]" {
		t.Fatalf("answers %v", c.Answers)
	}
	out := def.Step(c, def.Read(c, "5 - hài lòng"), plainRender)
	if out.Complete || !strings.HasPrefix(out.Say[0], "Cau 5/5 (Gop y): ong/ba cham 5 hay 4?") || c.Answers[4] != -1 {
		t.Fatalf("a clash was not asked: %+v %v", out, c.Answers)
	}
	if out := def.Step(c, def.Read(c, "4"), plainRender); !out.Complete || c.Answers[4] != 4 {
		t.Fatalf("the answer to the clash: %+v %v", out, c.Answers)
	}
}

// While the survey is open every message gets an answer: a hint, then
// the next question alone, with its name and the scale, up to maxMisses
// in a row (an auto-responder must not loop for ever).
func TestUnreadableNeverLeavesTheCitizenUnanswered(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	if out := def.Step(c, def.Read(c, "cam on"), plainRender); len(out.Say) != 1 || !strings.HasPrefix(out.Say[0], "Chua doc duoc tra loi") {
		t.Fatalf("first unreadable: %+v", out)
	}
	for i := 2; i <= maxMisses; i++ {
		out := def.Step(c, def.Read(c, "??? ok"), plainRender)
		if len(out.Say) != 1 || !out.Alone || !strings.HasPrefix(out.Say[0], "Chua doc duoc. Cau 1/5: ") || !strings.Contains(out.Say[0], "5=rat hai long") {
			t.Fatalf("unreadable #%d: %+v", i, out)
		}
	}
	if out := def.Step(c, def.Read(c, "??? ok"), plainRender); len(out.Say) != 0 || !out.Unread {
		t.Fatalf("unreadable #%d answered: %+v", maxMisses+1, out)
	}
	// A readable reply resumes the conversation, one question at a time.
	if out := def.Step(c, def.Read(c, "hài lòng"), plainRender); len(out.Say) != 1 || c.Misses != 0 || c.Answers[0] != 4 {
		t.Fatalf("readable after silence: %+v %v", out, c.Answers)
	}
}

func TestAskNamesTheNextQuestion(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	out := def.Step(c, def.Read(c, "5 5"), plainRender)
	if !strings.HasPrefix(out.Say[0], "Cau 3/5: Thai do, huong dan cua can bo?") {
		t.Fatalf("asked %q", out.Say[0])
	}
}

func TestKeywords(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	def.Step(c, def.Read(c, "5 4"), plainRender)
	if out := def.Step(c, def.Read(c, "LAI"), plainRender); c.Answers[0] != -1 || !strings.HasPrefix(out.Say[0], "Nhan 5 so") {
		t.Fatalf("restart: %+v %v", out, c.Answers)
	}
	if out := def.Step(c, def.Read(c, "HD"), plainRender); !strings.Contains(out.Say[0], "Tiep can, Thu tuc, Can bo, Ket qua, Gop y") {
		t.Fatalf("help: %+v", out)
	}
	// A full set of five overwrites partial answers.
	def.Step(c, def.Read(c, "1"), plainRender)
	if out := def.Step(c, def.Read(c, "5 5 5 5 5"), plainRender); !out.Complete || c.Answers[0] != 5 {
		t.Fatalf("full set over partial: %+v %v", out, c.Answers)
	}
	c = NewConversation(def, "inv", "vi")
	if out := def.Step(c, def.Read(c, "HUY"), plainRender); !out.OptOut || !c.Done {
		t.Fatalf("opt out: %+v", out)
	}
}

// Every chat text of the built-in short surveys fits one GSM-7 SMS.
func TestChatTextsFitOneSMS(t *testing.T) {
	for _, id := range []ID{SIPAS5, Overall} {
		def, _ := Builtin().Survey(id)
		texts := []Text{def.AskAll(), def.HintText(), def.HelpText(), MsgThanks, MsgOptedOut, MsgNoSurvey, MsgHelpNoSurvey, MsgAlready, MsgNotYours, MsgClosed}
		for i := range def.Questions {
			texts = append(texts, def.Ask(i))
		}
		for _, tx := range texts {
			for _, s := range []string{tx.Plain(), tx.EN} {
				if !isGSM7Basic(s) || len(s) > 160 {
					t.Errorf("%s: %d chars, GSM-7 %v: %q", id, len(s), isGSM7Basic(s), s)
				}
			}
		}
	}
}

func TestSMSParts(t *testing.T) {
	cases := []struct {
		text  string
		enc   string
		parts int
	}{
		{"Cam on", "GSM-7", 1},
		{strings.Repeat("a", 160), "GSM-7", 1},
		{strings.Repeat("a", 161), "GSM-7", 2},
		{strings.Repeat("a", 306), "GSM-7", 2},
		{strings.Repeat("a", 307), "GSM-7", 3},
		{strings.Repeat("[", 80), "GSM-7", 1},
		{strings.Repeat("[", 81), "GSM-7", 2},
		{"Cảm ơn", "UCS-2", 1},
		{strings.Repeat("ạ", 70), "UCS-2", 1},
		{strings.Repeat("ạ", 71), "UCS-2", 2},
		{strings.Repeat("ạ", 134), "UCS-2", 2},
		{strings.Repeat("ạ", 135), "UCS-2", 3},
		{"", "GSM-7", 1},
	}
	for _, tc := range cases {
		enc, parts := SMSParts(tc.text)
		if enc != tc.enc || parts != tc.parts {
			t.Errorf("SMSParts(%d chars %q…) = %s %d, want %s %d", len([]rune(tc.text)), string([]rune(tc.text)[:min(6, len([]rune(tc.text)))]), enc, parts, tc.enc, tc.parts)
		}
	}
}

// An unsure reading is asked back once and stored only on the citizen's
// yes; anything else is read as a new reply, and the asking stops after
// maxConfirms.
func TestUnsureReadingIsAskedBack(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	out := def.Step(c, def.Read(c, "54 545"), plainRender)
	if !out.Asked || out.Complete || len(out.Say) != 1 || out.Say[0] != "Ong/ba cham A5 B4 C5 D4 E5? Tra loi C de xac nhan, hoac gui lai diem." {
		t.Fatalf("asked back: %+v", out)
	}
	if a := c.Answered(def); len(a) != 0 {
		t.Fatalf("a guess was stored: %v", a)
	}
	if out := def.Step(c, def.Read(c, "Đúng"), plainRender); !out.Complete || c.Answers[1] != 4 {
		t.Fatalf("confirmed: %+v %v", out, c.Answers)
	}

	// Sent again instead: the new reply counts, the asked one is dropped.
	c = NewConversation(def, "inv", "vi")
	def.Step(c, def.Read(c, "5 4 5 kha 5 4"), plainRender)
	if out := def.Step(c, def.Read(c, "5 4 5 3 4"), plainRender); !out.Complete || c.Answers[3] != 3 || c.Pending != nil {
		t.Fatalf("sent again: %+v %v", out, c.Answers)
	}

	// By letter, part of the survey: "D4 E5" after three answers.
	c = NewConversation(def, "inv", "vi")
	def.Step(c, def.Read(c, "5 5 5"), plainRender)
	if out := def.Step(c, def.Read(c, "D4 E5"), plainRender); !out.Complete || c.Answers[3] != 4 || c.Answers[4] != 5 {
		t.Fatalf("by letter: %+v %v", out, c.Answers)
	}

	// "C" with nothing asked is not an answer; unsure readings past the
	// limit are hints, then silence.
	c = NewConversation(def, "inv", "vi")
	if out := def.Step(c, def.Read(c, "C"), plainRender); !out.Unread || out.Complete {
		t.Fatalf("C with nothing asked: %+v", out)
	}
	for i := 0; i < maxConfirms; i++ {
		if out := def.Step(c, def.Read(c, "54 545"), plainRender); !out.Asked {
			t.Fatalf("unsure #%d not asked back: %+v", i+1, out)
		}
	}
	if out := def.Step(c, def.Read(c, "54 545"), plainRender); out.Asked || !out.Unread {
		t.Fatalf("asked back past the limit: %+v", out)
	}
	if out := def.Step(c, def.Read(c, "5 5 5 5 5"), plainRender); !out.Complete {
		t.Fatalf("a sure reply after the limit: %+v", out)
	}
}

// The question a citizen is asked one at a time takes a score with its
// words ("4 - hài lòng") as one answer.
func TestOneByOneTakesAnEchoedScoreOnce(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	c.OneByOne = true
	out := def.Step(c, def.Read(c, "4 - hài lòng"), plainRender)
	if c.Answers[0] != 4 || c.Answers[1] != -1 || len(out.Say) != 1 || !strings.HasPrefix(out.Say[0], "Cau 2/5") {
		t.Fatalf("%+v %v", out, c.Answers)
	}
}

// Every chat text of a confirmation fits one GSM-7 SMS.
func TestConfirmationFitsOneSMS(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	tx := def.ConfirmText(c, Reply{Kind: Scores, At: -1, Scores: []int{5, 4, 5, 4, 5}})
	for _, s := range []string{tx.Plain(), tx.EN} {
		if !isGSM7Basic(s) || len(s) > 160 {
			t.Errorf("%d chars, GSM-7 %v: %q", len(s), isGSM7Basic(s), s)
		}
	}
}

// The reader learns the criteria's letters and names from the survey, and
// how many scores are left.
func TestExpectComesFromTheSurvey(t *testing.T) {
	def := sipas5(t)
	c := NewConversation(def, "inv", "vi")
	c.Answers[0] = 5
	e := def.Expect(c)
	if e.Letters != "ABCDE" || strings.Join(e.Names, ",") != "tiep can,thu tuc,can bo,ket qua,gop y" || e.Left != 4 || fmt.Sprint(e.Counts) != "[5 4]" {
		t.Fatalf("%+v", e)
	}
	one, _ := Builtin().Survey(Overall)
	if e := one.Expect(NewConversation(one, "inv", "vi")); e.Letters != "" || e.Names != nil || fmt.Sprint(e.Counts) != "[1]" {
		t.Fatalf("one question: %+v", e)
	}
}

// The table SMSParts reads agrees with the character sets, rune by rune,
// on random texts of GSM-7, extension, Vietnamese, emoji and invalid bytes.
func TestSMSPartsAgreesWithTheCharacterSets(t *testing.T) {
	reference := func(text string) (string, int) {
		septets, gsm := 0, true
		for _, r := range text {
			switch {
			case strings.ContainsRune(gsm7Basic, r):
				septets++
			case strings.ContainsRune(gsm7Ext, r):
				septets += 2
			default:
				gsm = false
			}
		}
		if gsm {
			return "GSM-7", split(septets, 160, 153)
		}
		return "UCS-2", split(utf16Units(text), 70, 67)
	}
	gsm, odd := []rune(gsm7Basic+gsm7Ext), []rune("ạờữĐđ😀\t`\x7f\x00\uFFFD")
	rng := rand.New(rand.NewPCG(7, 33))
	gsmTexts := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		mixed := rng.IntN(2) == 0 // else GSM-7 only
		for n := rng.IntN(400); n > 0; n-- {
			switch {
			case mixed && rng.IntN(100) == 0:
				b.WriteByte(0xff) // invalid UTF-8
			case mixed && rng.IntN(50) == 0:
				b.WriteRune(odd[rng.IntN(len(odd))])
			default:
				b.WriteRune(gsm[rng.IntN(len(gsm))])
			}
		}
		text := b.String()
		enc, parts := SMSParts(text)
		wantEnc, wantParts := reference(text)
		if enc != wantEnc || parts != wantParts {
			t.Fatalf("SMSParts(%q) = %s %d, want %s %d", text, enc, parts, wantEnc, wantParts)
		}
		if enc == "GSM-7" {
			gsmTexts++
		}
	}
	if gsmTexts < 5000 {
		t.Fatalf("only %d of the texts were GSM-7: the test reads too few", gsmTexts)
	}
}

// NumQuestionsOf counts what QuestionsOf lists, for every built-in
// survey's criteria and a code that names none.
func TestNumQuestionsOfCountsQuestionsOf(t *testing.T) {
	for _, def := range Builtin().All() {
		for _, c := range def.Criteria {
			if n, want := def.NumQuestionsOf(c.Code), len(def.QuestionsOf(c.Code)); n != want {
				t.Errorf("%s %s: %d questions, want %d", def.ID, c.Code, n, want)
			}
		}
		if n := def.NumQuestionsOf("no-such-criterion"); n != 0 {
			t.Errorf("%s: %d questions for no criterion", def.ID, n)
		}
	}
}
