package survey

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// CommentField is the form field and answer key of the free-text comment.
const CommentField = "comment"

// MaxComment bounds the comment, in characters.
const MaxComment = 2000

// NoOpinion is the stored score for "no opinion / not applicable"; it is left
// out of every denominator.
const NoOpinion = 0

// Level is one point of the 5-level scale with its labels.
type Level struct {
	Score int
	Label Text
}

// Scale is the 5-level answer scale, best last, plus no opinion (0).
var Scale = []Level{
	{1, Text{VI: "Rất không hài lòng", EN: "Very dissatisfied", SMS: "Rat khong hai long"}},
	{2, Text{VI: "Không hài lòng", EN: "Dissatisfied", SMS: "Khong hai long"}},
	{3, Text{VI: "Bình thường", EN: "Neutral", SMS: "Binh thuong"}},
	{4, Text{VI: "Hài lòng", EN: "Satisfied", SMS: "Hai long"}},
	{5, Text{VI: "Rất hài lòng", EN: "Very satisfied", SMS: "Rat hai long"}},
	{NoOpinion, Text{VI: "Không có ý kiến", EN: "No opinion", SMS: "Khong y kien"}},
}

// Answers maps question ids to scores 0–5.
type Answers map[QuestionID]int

// ParseScore reads one form value: "0" … "5".
func ParseScore(v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > 5 {
		return 0, fmt.Errorf("%q is not a score; use 1–5, or 0 for no opinion", v)
	}
	return n, nil
}

// FieldError names the question whose value was bad.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Collect reads the survey's questions from a lookup (such as a form) into a,
// leaving questions the lookup does not carry untouched. Fields that are not
// questions are ignored.
func (s *Survey) Collect(a Answers, get func(string) string) error {
	for _, q := range s.Questions {
		v := get(string(q.ID))
		if v == "" {
			continue
		}
		n, err := ParseScore(v)
		if err != nil {
			return &FieldError{Field: string(q.ID), Err: err}
		}
		a[q.ID] = n
	}
	return nil
}

// Missing lists the questions that a has no score for, in survey order.
func (s *Survey) Missing(a Answers) []QuestionID {
	var out []QuestionID
	for _, q := range s.Questions {
		if _, ok := a[q.ID]; !ok {
			out = append(out, q.ID)
		}
	}
	return out
}

// CleanComment is a citizen's comment as it is kept: CleanCitizenText
// of it, refused when it is not UTF-8 or longer than MaxComment
// characters. A redacted number counts as one character, so redacting
// never makes a comment too long, and a comment cleaned once (a survey
// page shows it again) passes again.
func CleanComment(c string) (string, error) {
	if !utf8.ValidString(c) {
		return "", &FieldError{Field: CommentField, Err: fmt.Errorf("not valid UTF-8 text")}
	}
	c = CleanCitizenText(c)
	if utf8.RuneCountInString(c)-strings.Count(c, PhoneMark)*(utf8.RuneCountInString(PhoneMark)-1) > MaxComment {
		return "", &FieldError{Field: CommentField, Err: fmt.Errorf("longer than %d characters; shorten it", MaxComment)}
	}
	return c, nil
}
