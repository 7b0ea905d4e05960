package survey

import (
	"testing"
)

var replyCases = []struct{ in, want string }{
	// one score
	{"5", "S:5"}, {"4", "S:4"}, {"3", "S:3"}, {"2", "S:2"}, {"1", "S:1"}, {"0", "S:0"},
	{" 5 ", "S:5"}, {"5.", "S:5"}, {"5!", "S:5"}, {"(5)", "S:5"}, {"5d", "S:5"}, {"5 diem", "S:5"},
	{"５", "S:5"}, {"6", "?"}, {"9", "?"}, {"10", "?"}, {"-1", "S:1"},
	// all scores in one message
	{"5 4 5 4 5", "S:5,4,5,4,5"}, {"54545", "S:5,4,5,4,5"}, {"5,4,5,4,5", "S:5,4,5,4,5"},
	{"5-4-5-4-5", "S:5,4,5,4,5"}, {"5.4.5.4.5", "S:5,4,5,4,5"}, {"5;4;5;4;5", "S:5,4,5,4,5"},
	{"5/4/5/4/5", "S:5,4,5,4,5"}, {"5 , 4 , 5 , 4 , 5", "S:5,4,5,4,5"}, {"5  4   5 4  5", "S:5,4,5,4,5"},
	{"5\n4\n5\n4\n5", "S:5,4,5,4,5"}, {"5\t4\t5\t4\t5", "S:5,4,5,4,5"}, {"55555", "S:5,5,5,5,5"},
	{"11111", "S:1,1,1,1,1"}, {"00000", "S:0,0,0,0,0"}, {"54305", "S:5,4,3,0,5"}, {"5 4 3 0 5", "S:5,4,3,0,5"},
	{"545", "S:5,4,5"}, {"5 4", "S:5,4"}, {"5,4", "S:5,4"}, {"5 4 5 4 5 5", "S:5,4,5,4,5,5"},
	{"54 545", "~S:5,4,5,4,5"}, {"5 4 5 4 6", "?"}, {"56545", "?"}, {"5_4_5_4_5", "S:5,4,5,4,5"},
	{"5+4+5+4+5", "S:5,4,5,4,5"}, {"[5,4,5,4,5]", "S:5,4,5,4,5"},
	// scores then a comment
	{"5 4 5 4 5 can bo nhiet tinh", "S:5,4,5,4,5|can bo nhiet tinh"},
	{"5 4 5 4 5 Cán bộ nhiệt tình", "S:5,4,5,4,5|Cán bộ nhiệt tình"},
	{"54545 cho ngoi hoi it", "S:5,4,5,4,5|cho ngoi hoi it"},
	{"5,4,5,4,5. Thu tuc nhanh", "S:5,4,5,4,5|Thu tuc nhanh"},
	{"5 4 5 4 5 - phong cho nong", "S:5,4,5,4,5|phong cho nong"},
	{"5 tot lam", "S:5|tot lam"}, {"4: ok", "S:4|ok"}, {"3 cho hoi lau", "S:3|cho hoi lau"},
	{"1 thai do khong tot", "S:1|thai do khong tot"},
	{"rat hai long, nhan vien de thuong", "S:5|nhan vien de thuong"},
	{"hai long. Cam on", "S:4|Cam on"}, {"5 4 5 4 5 ?", "S:5,4,5,4,5|?"},
	{"5 4 5 4 5 Phòng chờ hơi nóng, cần thêm quạt.", "S:5,4,5,4,5|Phòng chờ hơi nóng, cần thêm quạt."},
	// words with and without diacritics, any case
	{"rất hài lòng", "S:5"}, {"Rất hài lòng", "S:5"}, {"RẤT HÀI LÒNG", "S:5"}, {"rat hai long", "S:5"},
	{"Rat Hai Long", "S:5"}, {"RAT HAI LONG", "S:5"}, {"hài lòng", "S:4"}, {"hai long", "S:4"},
	{"Hai long", "S:4"}, {"HAI LONG", "S:4"}, {"bình thường", "S:3"}, {"binh thuong", "S:3"},
	{"Binh Thuong", "S:3"}, {"không hài lòng", "S:2"}, {"khong hai long", "S:2"}, {"KHONG HAI LONG", "S:2"},
	{"ko hai long", "S:2"}, {"k hai long", "S:2"}, {"kh hai long", "S:2"}, {"chưa hài lòng", "S:2"},
	{"rất không hài lòng", "S:1"}, {"rat khong hai long", "S:1"}, {"rat ko hai long", "S:1"},
	{"hoàn toàn không hài lòng", "S:1"}, {"tạm được", "S:3"}, {"tam duoc", "S:3"},
	{"không ý kiến", "S:0"}, {"khong y kien", "S:0"}, {"không có ý kiến", "S:0"}, {"ko y kien", "S:0"},
	{"không biết", "S:0"},
	// decomposed Unicode (NFD) from some phones
	{"ra\u0302\u0301t ha\u0300i lo\u0300ng", "S:5"}, {"bi\u0300nh thu\u031bo\u031b\u0300ng", "S:3"},
	// typos and spacing
	{"rat hai lon", "S:5"}, {"rat hai longg", "S:5"}, {"hai  long", "S:4"}, {" rat   hai long ", "S:5"},
	{"binh thuongg", "S:3"}, {"binh thuog", "S:3"}, {"khong hai lon", "S:2"}, {"rat hai long!!!", "S:5"},
	{"hailong", "S:4"}, {"rathailong", "S:5"},
	// abbreviations
	{"HL", "S:4"}, {"hl", "S:4"}, {"RHL", "S:5"}, {"rhl", "S:5"}, {"KHL", "S:2"}, {"khl", "S:2"},
	{"RKHL", "S:1"}, {"BT", "S:3"}, {"bt", "S:3"}, {"KYK", "S:0"},
	{"RHL HL RHL BT HL", "S:5,4,5,3,4"}, {"rhl, hl, rhl, bt, hl", "S:5,4,5,3,4"},
	// several words in one reply
	{"rat hai long, hai long, rat hai long, binh thuong, hai long", "S:5,4,5,3,4"},
	{"hai long hai long hai long hai long hai long", "S:4,4,4,4,4"},
	{"rat hai long rat hai long rat hai long rat hai long rat hai long", "S:5,5,5,5,5"},
	{"5 hai long 5 binh thuong 5", "S:5,4,5,3,5"},
	{"khong hai long, rat khong hai long", "S:2,1"},
	// English
	{"very satisfied", "S:5"}, {"Satisfied", "S:4"}, {"neutral", "S:3"}, {"dissatisfied", "S:2"},
	{"very dissatisfied", "S:1"},
	// keywords
	{"HUY", "OPT"}, {"huy", "OPT"}, {"Huỷ", "OPT"}, {"Hủy", "OPT"}, {"HỦY", "OPT"}, {"tu choi", "OPT"},
	{"Từ chối", "OPT"}, {"TU CHOI", "OPT"}, {"STOP", "OPT"}, {"stop", "OPT"}, {"Stop.", "OPT"},
	{"DUNG", "OPT"}, {"dừng", "OPT"}, {"huy dang ky", "OPT"},
	{"HD", "HELP"}, {"hd", "HELP"}, {"HELP", "HELP"}, {"help", "HELP"}, {"?", "HELP"}, {"??", "HELP"},
	{"huong dan", "HELP"}, {"Hướng dẫn", "HELP"}, {"tro giup", "HELP"},
	{"LAI", "LAI"}, {"lai", "LAI"}, {"Lại", "LAI"}, {"bat dau lai", "LAI"}, {"làm lại", "LAI"},
	// start by dossier code
	{"DG 000.00.12.H49-201105-0042", "DG:000.00.12.H49-201105-0042"},
	{"dg 000.00.12.H49-201105-0042", "DG:000.00.12.H49-201105-0042"},
	{"DG: H49-201105-0042", "DG:H49-201105-0042"}, {"ĐG 000.00.12.H49-201105-0042", "DG:000.00.12.H49-201105-0042"},
	{"  DG   ABC/123  ", "DG:ABC/123"}, {"DG", "?"}, {"DG a b", "?"},
	// unreadable
	{"", "?"}, {"   ", "?"}, {"ok", "C"}, {"cam on", "?"}, {"Cảm ơn", "?"}, {"ai day?", "?"},
	{"toi khong hieu", "?"}, {"gui lai link", "?"}, {"xin chao", "?"}, {"abc", "?"}, {"hello", "?"},
	{"so may?", "?"}, {"👍", "?"}, {"😡", "?"}, {"tot", "?"}, {"tệ", "?"}, {"http://x.y", "?"},
	{"0912345678", "?"}, {"777", "?"}, {"huy bo di", "?"}, {"stop it", "?"},
}

func FuzzParseReply(f *testing.F) {
	for _, tc := range replyCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := ParseReply(s)
		for _, v := range r.Scores {
			if v < 0 || v > 5 {
				t.Fatalf("%q gave score %d", s, v)
			}
		}
		if (r.Kind == Scores) != (len(r.Scores) > 0) {
			t.Fatalf("%q: kind %v with %d scores", s, r.Kind, len(r.Scores))
		}
	})
}

func FuzzCanonicalPhone(f *testing.F) {
	for _, s := range []string{"0912345678", "+84 912 345 678", "01662345678", "84", "+", "0(9)1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := CanonicalPhone(s)
		if err != nil {
			return
		}
		if len(p) != 11 || p[:2] != "84" {
			t.Fatalf("%q → %q", s, p)
		}
		if again, err := CanonicalPhone(p); err != nil || again != p {
			t.Fatalf("canonical form %q does not parse to itself: %q %v", p, again, err)
		}
	})
}
