package server_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// A case sends the citizen at most two answers in 24 hours: answer,
// reopen, answer again, reopen, and the third answer is a 429 naming text
// and saying when the next may go (with Retry-After); nothing of the case
// changes; a day later it goes. (Before, answer and reopen made a
// citizen's phone ring without end: 8 SMS in 13 s.)
func TestCaseAnswersPerDayAreLimited(t *testing.T) {
	f := newAnswerFixture(t)
	f.do("answer", map[string]any{"text": "Sở đã xử lý hồ sơ."})
	f.do("reopen", nil)
	f.do("answer", map[string]any{"text": "Sở đã đổi cán bộ tiếp nhận."})
	f.do("reopen", nil)
	res, out := f.g.API("POST", "/api/v1/cases/"+f.id+"/answer", map[string]any{"text": "Sở xin lỗi thêm lần nữa."})
	e, _ := out["error"].(map[string]any)
	wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != 429 || e["code"] != "rate_limited" || e["field"] != "text" || !strings.Contains(e["message"].(string), "answer again after ") ||
		wait < 23*3600 || wait > 24*3600 {
		t.Fatalf("a third answer within a day: %d %v, Retry-After %q", res.StatusCode, out, res.Header.Get("Retry-After"))
	}
	if c := f.get(); c["status"] != "reopened" || c["answer"] != "Sở đã đổi cán bộ tiếp nhận." {
		t.Fatalf("the refused answer changed the case: %v", c)
	}
	f.g.Core.Clock = func() time.Time { return time.Now().Add(24*time.Hour + time.Minute) }
	defer func() { f.g.Core.Clock = nil }()
	if c := f.do("answer", map[string]any{"text": "Sở xin lỗi thêm lần nữa."}); c["answer_send"] != "queued" {
		t.Fatalf("an answer a day later: %v", c)
	}
}

// Answers racing each other (four operators answering and reopening at
// once) still send at most two: the limit is checked and spent in the
// case's one versioned write, under its lock.
func TestCaseAnswerLimitHoldsUnderRaces(t *testing.T) {
	f := newAnswerFixture(t)
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				res, _ := f.g.API("POST", "/api/v1/cases/"+f.id+"/answer", map[string]any{"text": "Trả lời " + strconv.Itoa(w) + "." + strconv.Itoa(i)})
				if res.StatusCode == 200 {
					mu.Lock()
					passed++
					mu.Unlock()
				}
				f.g.API("POST", "/api/v1/cases/"+f.id+"/reopen", nil)
			}
		}()
	}
	wg.Wait()
	c, err := f.g.Mongo.Cases.Get(t.Context(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	answered := 0
	for _, ev := range c.History {
		if ev.Action == "answer" {
			answered++
		}
	}
	if passed > 2 || answered != passed || c.AnswerNo != passed {
		t.Fatalf("%d answers taken, %d in the history, answer number %d; want at most 2, alike", passed, answered, c.AnswerNo)
	}
	for ; passed < 2; passed++ { // the races may have left one unspent
		f.g.API("POST", "/api/v1/cases/"+f.id+"/reopen", nil)
		f.do("answer", map[string]any{"text": "Trả lời thêm."})
	}
	f.g.API("POST", "/api/v1/cases/"+f.id+"/reopen", nil)
	if res, out := f.g.API("POST", "/api/v1/cases/"+f.id+"/answer", map[string]any{"text": "Một lần nữa."}); res.StatusCode != 429 {
		t.Fatalf("a third answer after the races: %d %v", res.StatusCode, out)
	}
}

// An answer takes at most three SMS parts as the citizen gets it, greeting
// and rating line included: 990 emoji (32 parts before) are refused with
// the count, a 400 naming text, and nothing changes; a long Vietnamese
// answer passes, because the SMS channel sends it without diacritics
// (GSM-7, 153 characters a part), which is what is counted.
func TestCaseAnswerPartsAreLimited(t *testing.T) {
	f := newAnswerFixture(t)
	res, out := f.g.API("POST", "/api/v1/cases/"+f.id+"/answer", map[string]any{"text": strings.Repeat("😀", 990)})
	e, _ := out["error"].(map[string]any)
	if res.StatusCode != 400 || e["field"] != "text" || !strings.Contains(e["message"].(string), "would go out as 32 SMS parts (UCS-2") ||
		!strings.Contains(e["message"].(string), "at most 3") {
		t.Fatalf("990 emoji: %d %v", res.StatusCode, out)
	}
	if c := f.get(); c["status"] != "open" || c["answer"] != nil {
		t.Fatalf("the refused answer changed the case: %v", c)
	}
	long := strings.Repeat("Sở đã kiểm tra và nhắc nhở cán bộ tiếp nhận hồ sơ. ", 5) // 255 characters, 6 parts with diacritics
	if c := f.do("answer", map[string]any{"text": strings.TrimSpace(long)}); c["answer_send"] != "queued" {
		t.Fatalf("a long Vietnamese answer: %v", c)
	}
	f.drainUntilSent()
	for _, r := range f.fake.Requests() {
		if strings.Contains(r.Body, "Tra loi cua") && !strings.Contains(r.Body, "So da kiem tra va nhac nho can bo") {
			t.Fatalf("the answer did not go without diacritics: %s", r.Body)
		}
	}
}
