package survey

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Conversation is the state of one chat survey (SMS, Zalo), kept between
// messages by the caller. Answers holds one entry per question: -1 while
// unanswered.
type Conversation struct {
	Invitation string `json:"i,omitempty"`
	Survey     ID     `json:"s,omitempty"`
	Locale     string `json:"l,omitempty"`
	Answers    []int  `json:"a,omitempty"`
	Comment    string `json:"c,omitempty"`
	// Misses counts unreadable replies in a row: the first gets a hint,
	// the next ones a question asked alone, up to maxMisses.
	Misses int  `json:"m,omitempty"`
	Done   bool `json:"d,omitempty"`
	// OneByOne asks one question at a time (chat with answer buttons)
	// instead of every score in one reply (SMS).
	OneByOne bool `json:"o,omitempty"`
	// Pending is a reading asked back ("Ông/bà chấm A5 B4…? Trả lời C"),
	// stored only once the citizen confirms it.
	Pending *Pending `json:"p,omitempty"`
	// Confirms counts the readings asked back, at most maxConfirms.
	Confirms int `json:"k,omitempty"`
	// HelpDay is the day (YYYY-MM-DD, Vietnam time) a number with no open
	// survey last got the help answer: one a day, whatever it sends.
	HelpDay string `json:"h,omitempty"`
}

// Pending is an unsure reading waiting for the citizen's yes.
type Pending struct {
	At      int    `json:"a"`
	Scores  []int  `json:"s"`
	Comment string `json:"c,omitempty"`
	// Lone is one score said alone (Reply.Lone): the next reply may
	// confirm it for every question or go on with the second.
	Lone bool `json:"n,omitempty"`
}

// maxConfirms bounds the readings asked back in one conversation, so an
// unsure writer costs at most that many extra messages.
const maxConfirms = 2

// maxMisses bounds the unreadable replies in a row that are answered:
// no citizen writes that many, an auto-responder answering the gateway
// would write on for ever.
const maxMisses = 10

// Expect is what the conversation waits for, for the reader: criterion
// letters when each question has its own, and how many scores make a
// whole reply (all of them, those left, or one when asked one by one).
func (def *Survey) Expect(c *Conversation) Expect {
	e := Expect{Confirming: c.Pending != nil}
	n := len(def.Questions)
	var room [32]byte // it is read on every reply: its parts are allocated once, at their size
	letters := room[:0]
	for _, q := range def.Questions {
		if len(q.Criterion) != 1 || bytes.IndexByte(letters, q.Criterion[0]) >= 0 {
			letters = nil
			break
		}
		letters = append(letters, q.Criterion[0])
	}
	if n > 1 && letters != nil {
		e.Letters = string(letters)
		e.Names = make([]string, 0, n)
		for _, q := range def.Questions {
			e.Names = append(e.Names, def.criterionName(q.Criterion))
		}
	}
	e.Counts = append(make([]int, 0, 3), n)
	left := 0
	for _, a := range c.Answers {
		if a < 0 {
			left++
		}
	}
	e.Left = left
	if left > 0 && left < n {
		e.Counts = append(e.Counts, left)
	}
	if c.OneByOne && n > 1 && left != 1 {
		e.Counts = append(e.Counts, 1)
	}
	return e
}

// criterionName is a criterion's short name folded as the reader folds
// words ("Kết quả" → "ket qua").
func (def *Survey) criterionName(code string) string {
	for _, c := range def.Criteria {
		if c.Code == code {
			return foldName(c.Short.VI)
		}
	}
	return ""
}

// folded keeps foldName's answers: a name is folded on every reply read
// (a fifth of a reading's allocations), and definitions hold few names.
var folded sync.Map

// foldName folds a name as the reader folds words.
func foldName(name string) string {
	if v, ok := folded.Load(name); ok {
		return v.(string)
	}
	var words []string
	for _, t := range tokenize(Normalize(name)) {
		words = append(words, t.w)
	}
	v := strings.Join(words, " ")
	folded.Store(name, v)
	return v
}

// Read reads a reply in the light of what c waits for.
func (def *Survey) Read(c *Conversation, text string) Reply { return Read(text, def.Expect(c)) }

// Opening is the first prompt of a conversation.
func (def *Survey) Opening(c *Conversation) Text {
	if c.OneByOne {
		return def.Ask(0)
	}
	return def.AskAll()
}

// Asking reports whether the conversation waits for a score.
func (c *Conversation) Asking() bool { return c.Invitation != "" && !c.Done && c.next() >= 0 }

// NewConversation starts a conversation on def for an invitation.
func NewConversation(def *Survey, invitation, locale string) *Conversation {
	c := &Conversation{Invitation: invitation, Survey: def.ID, Locale: locale, Answers: make([]int, len(def.Questions))}
	for i := range c.Answers {
		c.Answers[i] = -1
	}
	return c
}

// Outcome is what one reply leads to.
type Outcome struct {
	Say      []string // texts to send back, already in the reply's language
	Complete bool     // every question is answered: save the response
	OptOut   bool     // the citizen asked to hear no more
	Asked    bool     // an unsure reading was asked back
	Unread   bool     // the reply was not understood (or not where it fits)
	// Alone says a question is asked alone after replies that could not
	// be read: the channel may offer its other way to answer (the link).
	Alone bool
}

// Answered returns the answers as a map, for saving.
func (c *Conversation) Answered(def *Survey) Answers {
	a := Answers{}
	for i, q := range def.Questions {
		if i < len(c.Answers) && c.Answers[i] >= 0 {
			a[q.ID] = c.Answers[i]
		}
	}
	return a
}

func (c *Conversation) next() int {
	for i, v := range c.Answers {
		if v < 0 {
			return i
		}
	}
	return -1
}

// Step applies one reply (read by def.Read). Texts come out through
// render, which picks the wording a channel can send (SMS without
// diacritics, Zalo with).
func (def *Survey) Step(c *Conversation, r Reply, render func(Text) string) Outcome {
	say := func(t Text) Outcome { return Outcome{Say: []string{render(t)}} }
	if p := c.Pending; p != nil && r.Kind != Help { // asking for help keeps the question open
		c.Pending = nil
		if r.Kind == Confirm {
			return def.takeScores(c, Reply{Kind: Scores, At: p.At, Scores: p.Scores, Comment: p.Comment}, render)
		}
		switch {
		case p.Lone && r.Kind == Scores:
			r = def.goOn(c, p, r)
		case r.Kind == Scores && r.At < 0 && p.At == c.next() && p.At+len(p.Scores)+len(r.Scores) == len(def.Questions) && def.unansweredFrom(c, p.At):
			// "3 vì chỗ ngồi ít, 4" asked back, then "5 5 4": the rest,
			// exactly. The reading asked back is not confirmed by that:
			// the whole is asked back.
			r = Reply{Kind: Scores, At: p.At, Scores: append(slices.Clone(p.Scores), r.Scores...), Unsure: true,
				Comment: strings.TrimSpace(p.Comment + " " + r.Comment)}
		}
	}
	switch r.Kind {
	case OptOut:
		c.Done = true
		return Outcome{Say: []string{render(MsgOptedOut)}, OptOut: true}
	case Help:
		c.Misses = 0
		return say(def.HelpText())
	case Restart:
		one := c.OneByOne
		*c = *NewConversation(def, c.Invitation, c.Locale)
		c.OneByOne = one
		return say(def.Opening(c))
	case Scores:
		if len(r.Choice) == 2 && def.fits(c, r) {
			// "5 - hài lòng": which of the two is asked, of that question
			// alone; the next score answers it.
			at, _ := def.place(c, r)
			c.OneByOne, c.Misses = true, 0
			if r.Comment != "" {
				c.Comment = strings.TrimSpace(c.Comment + " " + r.Comment)
			}
			return Outcome{Say: []string{render(def.AskChoice(at, r.Choice))}, Asked: true}
		}
		if !r.Unsure {
			return def.takeScores(c, r, render)
		}
		if def.fits(c, r) {
			if c.Confirms >= maxConfirms {
				return def.askAlone(c, render) // asked back enough: one question at a time
			}
			c.Confirms++
			c.Misses = 0
			at, _ := def.place(c, r)
			c.Pending = &Pending{At: at, Scores: r.Scores, Comment: r.Comment, Lone: r.Lone}
			return Outcome{Say: []string{render(def.ConfirmText(c, r))}, Asked: true}
		}
	}
	return def.miss(c, render)
}

// unansweredFrom reports whether every question from at on is unanswered.
func (def *Survey) unansweredFrom(c *Conversation, at int) bool {
	for _, a := range c.Answers[at:] {
		if a >= 0 {
			return false
		}
	}
	return true
}

// goOn reads a reply after a lone score was asked back: one more score
// alone (or a few, but not all) means the citizen answers one question
// at a time, the lone score the first and these the next ones.
func (def *Survey) goOn(c *Conversation, p *Pending, r Reply) Reply {
	n, scores := len(def.Questions), r.Scores
	switch {
	case r.Lone:
		scores = r.Scores[:1]
	case r.Rest && len(scores) == n:
		scores = scores[:n-1] // "còn lại 4": the questions after the first
	}
	if c.next() != 0 || !(r.At < 0 && 1+len(scores) <= n || r.At == 1) {
		return r // every score again, or named elsewhere: as it says
	}
	c.OneByOne = true
	out := Reply{Kind: Scores, At: 0, Scores: append([]int{p.Scores[0]}, scores...), Unsure: r.Unsure && !r.Lone,
		Comment: strings.TrimSpace(p.Comment + " " + r.Comment)}
	if len(r.Choice) == 2 {
		c.Answers[0] = p.Scores[0] // the first is sure; the second is asked
		out = Reply{Kind: Scores, At: 1, Scores: scores, Unsure: true, Choice: r.Choice, Comment: out.Comment}
	}
	return out
}

// miss answers a reply that could not be read: a hint the first time,
// then the next question asked alone, with its name and the scale (a
// conversation never goes silent while its survey is open), up to
// maxMisses in a row.
func (def *Survey) miss(c *Conversation, render func(Text) string) Outcome {
	c.Misses++
	switch {
	case c.Misses > maxMisses:
		return Outcome{Unread: true}
	case c.Misses > 1 || c.OneByOne:
		return def.askAlone(c, render)
	}
	return Outcome{Say: []string{render(def.HintText())}, Unread: true}
}

// askAlone asks the next question alone after a reply that was not
// stored, and from then on one question at a time.
func (def *Survey) askAlone(c *Conversation, render func(Text) string) Outcome {
	c.OneByOne = true
	i := max(c.next(), 0)
	return Outcome{Say: []string{render(def.AskAgain(i))}, Unread: true, Alone: true}
}

// place says where r's scores go in c: from question at, or not at all.
func (def *Survey) place(c *Conversation, r Reply) (int, bool) {
	n := len(def.Questions)
	switch {
	case r.At >= 0:
		return r.At, r.At+len(r.Scores) <= n
	case len(r.Scores) == n:
		return 0, true
	case c.next() >= 0 && c.next()+len(r.Scores) <= n:
		return c.next(), true
	}
	return 0, false
}

func (def *Survey) fits(c *Conversation, r Reply) bool {
	_, ok := def.place(c, r)
	return ok && len(r.Scores) > 0
}

func (def *Survey) takeScores(c *Conversation, r Reply, render func(Text) string) Outcome {
	at, ok := def.place(c, r)
	if !ok || len(r.Scores) == 0 {
		return def.miss(c, render)
	}
	copy(c.Answers[at:], r.Scores)
	c.Misses = 0
	if len(r.Scores) == 1 && len(c.Answers) > 1 {
		c.OneByOne = true // answering one at a time: read the next reply so
	}
	if r.Comment != "" {
		c.Comment = strings.TrimSpace(c.Comment + " " + r.Comment)
	}
	if i := c.next(); i >= 0 {
		return Outcome{Say: []string{render(def.Ask(i))}}
	}
	c.Done = true
	return Outcome{Say: []string{render(MsgThanks)}, Complete: true}
}

// ConfirmText asks back an unsure reading: "Ông/bà chấm A5 B4 C5 D4 E5?
// Trả lời C để xác nhận, hoặc gửi lại điểm." A lone score is asked as
// the second question, with C for the same score everywhere.
func (def *Survey) ConfirmText(c *Conversation, r Reply) Text {
	if r.Lone {
		s, next := strconv.Itoa(r.Scores[0]), def.Questions[1]
		name := def.criterion(next.Criterion)
		pos := "2/" + count(len(def.Questions))
		all := count(len(def.Questions))
		return Text{
			VI:  "Câu " + pos + " (" + name.Short.VI + "): nhắn 1 số 1-5. Nếu cả " + all + " tiêu chí đều mức " + s + ", trả lời C.",
			SMS: "Cau " + pos + " (" + name.Short.Plain() + "): nhan 1 so 1-5. Neu ca " + all + " tieu chi deu muc " + s + ", tra loi C.",
			EN:  "Question " + pos + " (" + name.Short.EN + "): reply 1-5. If all " + all + " criteria are " + s + ", reply C."}
	}
	at, _ := def.place(c, r)
	letters := def.Expect(c).Letters
	parts := make([]string, len(r.Scores))
	for i, s := range r.Scores {
		parts[i] = strconv.Itoa(s)
		if letters != "" {
			parts[i] = letters[at+i:at+i+1] + parts[i]
		}
	}
	got := strings.Join(parts, " ")
	return Text{
		VI:  "Ông/bà chấm " + got + "? Trả lời C để xác nhận, hoặc gửi lại điểm.",
		SMS: "Ong/ba cham " + got + "? Tra loi C de xac nhan, hoac gui lai diem.",
		EN:  "You scored " + got + "? Reply C to confirm, or send your scores again."}
}

// Fixed messages of chat channels. The SMS form is written, not derived,
// where the derived one would not fit one part.
var (
	MsgThanks = Text{
		VI: "Cảm ơn ông/bà đã đánh giá! Ý kiến của ông/bà giúp cơ quan phục vụ tốt hơn.",
		EN: "Thank you for your answers! They help the agency serve you better."}
	MsgOptedOut = Text{
		VI: "Đã ghi nhận. Ông/bà sẽ không nhận thêm tin nhắn khảo sát.",
		EN: "Done. You will get no more survey messages."}
	MsgNoSurvey = Text{
		VI: "Không có phiếu khảo sát nào đang mở cho số này. Nhắn DG <mã hồ sơ> để đánh giá.",
		EN: "No open survey for this number. Text DG <dossier code> to rate a dossier."}
	MsgHelpNoSurvey = Text{
		VI: "Khảo sát hài lòng: khi được mời, trả lời điểm 1-5. Nhắn DG <mã hồ sơ> để đánh giá một hồ sơ, HUY để không nhận tin.",
		EN: "Satisfaction survey: when invited, reply with scores 1-5. Text DG <dossier code> to rate a dossier, STOP for no more texts."}
	MsgAlready = Text{
		VI: "Phiếu khảo sát này đã được trả lời. Cảm ơn ông/bà!",
		EN: "This survey was already answered. Thank you!"}
	MsgWelcome = Text{
		VI: "Cảm ơn ông/bà đã quan tâm. Để đánh giá hồ sơ, nhắn DG <mã hồ sơ> hoặc chia sẻ số điện thoại đã dùng khi nộp hồ sơ.",
		EN: "Thank you for following. To rate a dossier, send DG <dossier code> or share the phone number you gave with it."}
	MsgWelcomeSurvey = Text{
		VI: "Cảm ơn ông/bà. Mời ông/bà đánh giá hồ sơ vừa giải quyết.",
		EN: "Thank you. Please rate how your dossier was handled."}
	MsgClosed = Text{
		VI: "Phiếu khảo sát này đã đóng, không nhận thêm trả lời.",
		EN: "This survey is closed and takes no more answers."}
	MsgDossierLimit = Text{
		VI: "Số này đã nhắn quá nhiều mã hồ sơ hôm nay. Vui lòng thử lại vào ngày mai.",
		EN: "This number sent too many dossier codes today. Please try again tomorrow."}
	MsgWhichDossier = Text{
		VI: "Ông/bà có nhiều phiếu khảo sát đang mở. Nhắn DG <mã hồ sơ> để chọn hồ sơ cần đánh giá.",
		EN: "You have several open surveys. Text DG <dossier code> to choose the dossier to rate."}
	MsgNotYours = Text{
		VI: "Không tìm thấy phiếu khảo sát đang mở cho mã hồ sơ này và số điện thoại này.",
		EN: "No open survey for this dossier code and this phone number."}
)

// titles lists the criteria short titles: "Tiep can, Thu tuc, …".
func (def *Survey) titles(plain bool) string {
	var parts []string
	for _, c := range def.Criteria {
		if def.NumQuestionsOf(c.Code) > 0 {
			if plain {
				parts = append(parts, c.Short.Plain())
			} else {
				parts = append(parts, c.Short.VI)
			}
		}
	}
	return strings.Join(parts, ", ")
}

func (def *Survey) englishTitles() string {
	var parts []string
	for _, c := range def.Criteria {
		parts = append(parts, c.Short.EN)
	}
	return strings.Join(parts, ", ")
}

func count(n int) string { return strconv.Itoa(n) }

// example is "5 4 5 4 5" for five questions.
func example(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "54"[i%2 : i%2+1]
	}
	return strings.Join(parts, " ")
}

// AskAll asks for every score in one reply.
func (def *Survey) AskAll() Text {
	n := len(def.Questions)
	if n == 1 {
		return Text{
			VI: "Nhắn 1 số từ 1 (rất không hài lòng) đến 5 (rất hài lòng).",
			EN: "Reply with one number from 1 (very dissatisfied) to 5 (very satisfied)."}
	}
	return Text{
		VI:  "Nhắn " + count(n) + " số 1-5 cho: " + def.titles(false) + ". VD: " + example(n),
		SMS: "Nhan " + count(n) + " so 1-5 cho: " + def.titles(true) + ". VD: " + example(n),
		EN:  "Reply with " + count(n) + " numbers 1-5 for: " + def.englishTitles() + ". E.g. " + example(n)}
}

// Ask asks question i alone.
func (def *Survey) Ask(i int) Text {
	q, n := def.Questions[i], count(len(def.Questions))
	pos := count(i+1) + "/" + n
	return Text{
		VI:  "Câu " + pos + ": " + q.Text.VI + "? Nhắn 1 số 1-5 (5=rất hài lòng, 0=không ý kiến)",
		SMS: "Cau " + pos + ": " + q.Text.Plain() + "? Nhan 1 so 1-5 (5=rat hai long, 0=khong y kien)",
		EN:  "Question " + pos + ": " + q.Text.EN + "? Reply 1-5 (5=very satisfied, 0=no opinion)"}
}

// AskChoice asks question i again when its digit and its words
// disagreed ("5 - hài lòng"): "Câu 2/5 (Thủ tục): ông/bà chấm 5 hay 4?".
func (def *Survey) AskChoice(i int, choice []int) Text {
	q := def.Questions[i]
	name, pos := def.criterion(q.Criterion), count(i+1)+"/"+count(len(def.Questions))
	a, b := strconv.Itoa(choice[0]), strconv.Itoa(choice[1])
	return Text{
		VI:  "Câu " + pos + " (" + name.Short.VI + "): ông/bà chấm " + a + " hay " + b + "? Nhắn 1 số 1-5 (5=rất hài lòng, 0=không ý kiến)",
		SMS: "Cau " + pos + " (" + name.Short.Plain() + "): ong/ba cham " + a + " hay " + b + "? Nhan 1 so 1-5 (5=rat hai long, 0=khong y kien)",
		EN:  "Question " + pos + " (" + name.Short.EN + "): " + a + " or " + b + "? Reply 1-5 (5=very satisfied, 0=no opinion)"}
}

// AskAgain asks question i alone after a reply that could not be stored.
func (def *Survey) AskAgain(i int) Text {
	ask := def.Ask(i)
	return Text{VI: "Chưa đọc được. " + ask.VI, SMS: "Chua doc duoc. " + ask.Plain(), EN: "Sorry, we could not read that. " + ask.EN}
}

// criterion is the criterion of code, or one named by the code alone.
func (def *Survey) criterion(code string) Criterion {
	for _, c := range def.Criteria {
		if c.Code == code {
			return c
		}
	}
	return Criterion{Code: code, Short: Text{VI: code, EN: code}}
}

// HintText answers a reply that could not be read.
func (def *Survey) HintText() Text {
	n := len(def.Questions)
	return Text{
		VI:  "Chưa đọc được trả lời. Nhắn số 1-5 (5=rất hài lòng), VD: " + example(n) + ". HD: hướng dẫn, HUY: ngừng nhắn tin.",
		SMS: "Chua doc duoc tra loi. Nhan so 1-5 (5=rat hai long), VD: " + example(n) + ". HD: huong dan, HUY: ngung nhan tin.",
		EN:  "Sorry, we could not read that. Reply with numbers 1-5 (5=very satisfied), e.g. " + example(n) + ". HELP for help, STOP to stop."}
}

// HelpText explains the scale and the keywords.
func (def *Survey) HelpText() Text {
	n := count(len(def.Questions))
	return Text{
		VI:  "Nhắn " + n + " số 1-5 lần lượt cho: " + def.titles(false) + ". 1=rất không hài lòng, 5=rất hài lòng, 0=không ý kiến. LAI: làm lại. HUY: ngừng.",
		SMS: "Nhan " + n + " so 1-5 cho: " + def.titles(true) + ". 1=rat khong hai long, 5=rat hai long, 0=khong y kien. LAI: lam lai. HUY: ngung",
		EN:  "Reply " + n + " numbers 1-5 for: " + def.englishTitles() + ". 1=very dissatisfied, 5=very satisfied, 0=no opinion. LAI restarts, STOP stops."}
}
