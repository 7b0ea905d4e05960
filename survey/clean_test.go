package survey

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// What anyone types loses what could make it show something else or hide
// something, and keeps its Vietnamese, composed, and its emoji whole.
func TestCleanText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Đánh giá: Rất hài lòng với thái độ của cán bộ ạ", "Đánh giá: Rất hài lòng với thái độ của cán bộ ạ"},
		{"Nguye\u0302\u0303n Thi\u0323 Hoa\u0300", "Nguyễn Thị Hoà"}, // decomposed, as some phones send it
		{"Cán bộ\u202e tốt", "Cán bộ tốt"},                           // right-to-left override
		{"\u2066Quầy số 3\u2069", "Quầy số 3"},                       // isolates
		{"\u202aa\u202bb\u202cc\u202dd\u2067e\u2068f", "abcdef"},     // embeddings, pop, first-strong
		{"x\u200ey\u200fz\u061c", "xyz"},                             // direction marks
		{"a\u200bb\u200cc\u2060d\ufeffe\u00adf\u180eg", "abcdefg"},   // zero-width, soft hyphen
		{"tag\U000E0041\U000E007F", "tag"},                           // tag characters (hidden text)
		{"\u3164\u115f tên", "tên"},                                  // Hangul fillers look blank
		{"a\x00b\x7f", "ab"},
		{"Cán bộ\x1b[31m tốt", "Cán bộ[31m tốt"},
		{"dòng 1\r\ndòng 2\tcột\u0085", "dòng 1\ndòng 2 cột"},
		{"dòng 1\u2028dòng 2", "dòng 1\ndòng 2"},
		{"\u00a0 Cán bộ\u00a0tốt\u3000", "Cán bộ tốt"},
		{"a\xffb", "a\uFFFDb"},
		{"cả nhà 👨\u200d👩\u200d👧 hài lòng", "cả nhà 👨\u200d👩\u200d👧 hài lòng"}, // ZWJ inside emoji stays
		{"❤\ufe0f\u200d🔥 👍🏽 🏃\u200d➡\ufe0f", "❤\ufe0f\u200d🔥 👍🏽 🏃\u200d➡\ufe0f"},
		{"a\u200db 1\u200d😀 😀\u200d", "ab 1😀 😀"}, // elsewhere it goes
		{"😀\u200d\u200b😀", "😀😀"},
		{"Hotline của Sở: 0235 3812 345", "Hotline của Sở: 0235 3812 345"}, // an operator's number stays
	} {
		if got := CleanText(c.in); got != c.want {
			t.Errorf("CleanText(%+q) = %+q, want %+q", c.in, got, c.want)
		}
	}
}

// Phone numbers a citizen writes are redacted in every form people use;
// the other numbers of real comments stay.
func TestCleanCitizenTextRedactsPhones(t *testing.T) {
	const m = PhoneMark
	for _, c := range []struct{ in, want string }{
		{"Gọi lại cho tôi 0912345678 nhé", "Gọi lại cho tôi " + m + " nhé"},
		{"sdt 0912 345 678, cảm ơn", "sdt " + m + ", cảm ơn"},
		{"+84 912.345.678", m},
		{"Số của tôi là ０９１２３４５６７８", "Số của tôi là " + m},
		{"ĐT: ０９１２ ３４５ ６７８ (gọi giờ hành chính)", "ĐT: " + m + " (gọi giờ hành chính)"},
		{"０９１２－３４５－６７８、cảm ơn", m + "、cảm ơn"},
		{"gọi (091) 234 5670 không ai nghe", "gọi " + m + " không ai nghe"},
		{"gọi （０９１）２３４ ５６７０", "gọi " + m},
		{"liên hệ (+84) 912-345-678", "liên hệ " + m},
		{"+84 (0) 912 345 678 hoặc 0084 987 654 321", m + " hoặc " + m},
		{"Zalo 091.234.5678 hoặc 0987-654-321", "Zalo " + m + " hoặc " + m},
		{"số cũ 0168 123 4567 vẫn dùng", "số cũ " + m + " vẫn dùng"}, // retired 11-digit mobile
		{"84 168 123 4567", m},
		{"nhà 024 3825 1234", "nhà " + m}, // fixed line
		{"sđt0912345678", "sđt" + m},
		{"số (0912 345 678).", "số (" + m + ")."},
		{"0912 345 678 2 lần rồi", m + " 2 lần rồi"},
		{"𝟎𝟗𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖", m},
		{"0912\u200b345\u00ad678", m}, // hidden between the digits

		{"hồ sơ 000.00.12.H49-201105-0042 chậm", "hồ sơ 000.00.12.H49-201105-0042 chậm"},
		{"chờ 2 tiếng, phí 50.000 đồng", "chờ 2 tiếng, phí 50.000 đồng"},
		{"Lệ phí 10 nghìn mà thu 1.250.000 đồng", "Lệ phí 10 nghìn mà thu 1.250.000 đồng"},
		{"mã OTP 123456 không về, mã 012345 cũng vậy", "mã OTP 123456 không về, mã 012345 cũng vậy"},
		{"hẹn ngày 12/05/2024 mà 20/05/2024 mới trả", "hẹn ngày 12/05/2024 mà 20/05/2024 mới trả"},
		{"từ 05.12.2024 - 10.12.2024, chờ 05.12.2024 30 phút", "từ 05.12.2024 - 10.12.2024, chờ 05.12.2024 30 phút"},
		{"nộp 2024-05-12 lúc 08:30", "nộp 2024-05-12 lúc 08:30"},
		{"CCCD 001203012345 đã nộp", "CCCD 001203012345 đã nộp"},
		{"gọi tổng đài 1900 1234 hoặc 1022", "gọi tổng đài 1900 1234 hoặc 1022"},
		{"năm 2024 có 84 người chờ, số thứ tự 0912", "năm 2024 có 84 người chờ, số thứ tự 0912"},
		{"5 4 5 4 5 0 3 4 5 5 3 4 5 5 3", "5 4 5 4 5 0 3 4 5 5 3 4 5 5 3"}, // scores
		{"0,5 triệu; 9123456789; 09123456789012", "0,5 triệu; 9123456789; 09123456789012"},
	} {
		if got := CleanCitizenText(c.in); got != c.want {
			t.Errorf("CleanCitizenText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A comment is cleaned and redacted, bounded, and refused when it is not
// UTF-8.
func TestCleanCommentRedactsAndBounds(t *testing.T) {
	got, err := CleanComment("  Cán bộ\u202e hẹn gọi ０９８７ ６５４ ３２１  ")
	if err != nil || got != "Cán bộ hẹn gọi "+PhoneMark {
		t.Fatalf("CleanComment = %q, %v", got, err)
	}
	if _, err := CleanComment(strings.Repeat("ạ", MaxComment) + "\u200b"); err != nil {
		t.Fatalf("a comment at the bound with a stripped character: %v", err)
	}
	atBound, err := CleanComment(strings.Repeat("ạ", MaxComment-10) + "0912345678")
	if err != nil || !strings.HasSuffix(atBound, PhoneMark) {
		t.Fatalf("a comment at the bound with a number: %v", err)
	}
	if again, err := CleanComment(atBound); err != nil || again != atBound {
		t.Fatalf("a comment cleaned once does not pass again: %v", err)
	}
	if _, err := CleanComment(strings.Repeat("ạ", MaxComment) + "0912345678"); err == nil {
		t.Fatal("a comment over the bound accepted")
	}
	if _, err := CleanComment("a\xffb"); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}

// FuzzCleanText holds both entry points to what every later reader of a
// text relies on: valid NFC UTF-8, no control, bidi or zero-width
// character outside an emoji, the same text when cleaned again, and no
// phone number left in a citizen's text.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{
		"Cán bộ\u202e tốt", "\u2066Quầy\u2069", "a\u200bb", "👨\u200d👩\u200d👧", "😀\u200d\u200b😀", "😀\u200b\u200d😀",
		"０９１２ ３４５ ６７８", "(091) 234 5670", "+84 (0) 912 345 678", "0168 123 4567", "𝟎𝟗𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖",
		"05.12.2024 - 10.12.2024", "000.00.12.H49-201105-0042", "\r\n\t\x00\xff", "Nguye\u0302\u0303n",
		"0912345678 0912345678", "((0912) 345 678))", "+＋84 912 345 678",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		clean, citizen := CleanText(s), CleanCitizenText(s)
		for _, out := range []string{clean, citizen} {
			if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) || out != strings.TrimSpace(out) {
				t.Fatalf("%+q → %+q: not trimmed NFC UTF-8", s, out)
			}
			if needsStrip(out) && hidden(out) {
				t.Fatalf("%+q → %+q keeps a hidden character", s, out)
			}
		}
		if again := CleanText(clean); again != clean {
			t.Fatalf("CleanText is not stable: %+q → %+q → %+q", s, clean, again)
		}
		if again := CleanCitizenText(citizen); again != citizen {
			t.Fatalf("CleanCitizenText is not stable: %+q → %+q → %+q", s, citizen, again)
		}
		for _, g := range digitGroups(citizen) {
			if isPhoneNumber(g.digits) {
				t.Fatalf("%+q → %+q keeps the number %s", s, citizen, g.digits)
			}
		}
	})
}

// hidden says whether s holds a rune CleanText removes, or a joiner
// outside an emoji.
func hidden(s string) bool {
	prev := rune(0)
	for i, r := range s {
		next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
		if (dropped(r) && r != '\n') || (r == zwj && !(pictograph(prev) && pictograph(next))) {
			return true
		}
		prev = r
	}
	return false
}
