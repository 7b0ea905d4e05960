package survey

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// TestIndependentReplies reads 346 replies written, as citizens write them,
// by someone who had not seen the reader's own table. No reply may be
// stored wrong without being asked back, nor taken for a command it is
// not; the other outcomes (asked back, not read, read in part) are
// counted and logged, and must stay within what docs/sms.md states.
//
// Independent probe of Read with realistic citizen replies.
// want: "5 4 5 4 5" scores; "@2 4 5" scores starting at question index 2;
// "none" not scores (any non-Scores kind, or Unsure); "optout" "help"
// "restart"; "?" genuinely unreadable by a human (anything but a silent
// Scores reading is fine).
// amb: a human could hesitate; asking back (Unsure) or not reading is fine.
// cm: substring expected in Comment ("-" = comment must be empty).
type pcase struct {
	q    int
	in   string
	want string
	amb  bool
	cm   string
	nfd  bool
}

func c5(in, want string) pcase      { return pcase{q: 5, in: in, want: want} }
func a5(in, want string) pcase      { return pcase{q: 5, in: in, want: want, amb: true} }
func m5(in, want, cm string) pcase  { return pcase{q: 5, in: in, want: want, cm: cm} }
func c1(in, want string) pcase      { return pcase{q: 1, in: in, want: want} }
func a1(in, want string) pcase      { return pcase{q: 1, in: in, want: want, amb: true} }
func m1(in, want, cm string) pcase  { return pcase{q: 1, in: in, want: want, cm: cm} }
func n5(in, want string) pcase      { return pcase{q: 5, in: in, want: want, nfd: true} }
func nm5(in, want, cm string) pcase { return pcase{q: 5, in: in, want: want, cm: cm, nfd: true} }

var probeCases = []pcase{
	// --- plain digits
	c5("5 4 5 4 5", "5 4 5 4 5"),
	c5("5,4,5,4,5", "5 4 5 4 5"),
	c5("5-4-5-4-5", "5 4 5 4 5"),
	c5("54545", "5 4 5 4 5"),
	c5("5.4.5.4.5", "5 4 5 4 5"),
	c5("5 5 5 5 5", "5 5 5 5 5"),
	c5("4 4 4 4 4", "4 4 4 4 4"),
	c5("3 4 3 4 3", "3 4 3 4 3"),
	c5("5;5;4;4;5", "5 5 4 4 5"),
	c5("5/5/5/4/5", "5 5 5 4 5"),
	c5("5  4  5   4 5", "5 4 5 4 5"),
	c5("5 4 5 4 5.", "5 4 5 4 5"),
	c5(" 5 4 5 4 5\n", "5 4 5 4 5"),
	c5("5\n4\n5\n4\n5", "5 4 5 4 5"),
	c5("１ ２ ３ ４ ５", "1 2 3 4 5"),
	c5("５５５５５", "5 5 5 5 5"),
	c5("5, 4, 5, 4, 0", "5 4 5 4 0"),
	c5("0 0 0 0 0", "0 0 0 0 0"),
	c5("1 1 1 1 1", "1 1 1 1 1"),
	c5("2 2 3 2 1", "2 2 3 2 1"),
	c5("5,5,5,5,5,", "5 5 5 5 5"),
	c5("5,,5,5,5,5", "5 5 5 5 5"),
	c5("5 - 5 - 4 - 5 - 5", "5 5 4 5 5"),
	c5("5 5 5 5 0", "5 5 5 5 0"),
	// --- lead-ins, particles, thanks
	m5("5 4 5 4 5 ạ", "5 4 5 4 5", "-"),
	m5("Dạ 5 4 5 4 5", "5 4 5 4 5", "-"),
	m5("Dạ em xin đánh giá 5 4 5 4 5 ạ", "5 4 5 4 5", "-"),
	m5("Da em xin danh gia: 5 5 5 5 5", "5 5 5 5 5", "-"),
	c5("Trả lời: 5 4 5 5 5", "5 4 5 5 5"),
	c5("Tra loi 4 4 5 5 4", "4 4 5 5 4"),
	c5("Ý kiến: 5 5 5 5 4", "5 5 5 5 4"),
	c5("Vâng 5 5 5 5 5", "5 5 5 5 5"),
	c5("5 5 5 5 5 nhé", "5 5 5 5 5"),
	c5("5 5 4 5 5 nha", "5 5 4 5 5"),
	c5("Đánh giá: 5 5 5 5 5. Cảm ơn", "5 5 5 5 5"),
	c5("5 5 5 5 5 cam on", "5 5 5 5 5"),
	m5("5 5 5 5 5 cảm ơn cán bộ nhiều ạ", "5 5 5 5 5", "cán bộ"),
	c5("Xin cảm ơn. 5 5 5 5 5", "5 5 5 5 5"),
	c5("5 4 5 4 5 👍", "5 4 5 4 5"),
	c5("👍 5 5 5 5 5", "5 5 5 5 5"),
	c5("5 5 5 5 5 😊😊", "5 5 5 5 5"),
	c5("DG 5 5 5 5 5", "5 5 5 5 5"),
	c5("DG: 5 4 5 4 5", "5 4 5 4 5"),
	c5("Danh gia 5 4 5 4 5", "5 4 5 4 5"),
	c5("Danh gia ho so: 5 5 5 5 5", "5 5 5 5 5"),
	c5("đg 5 5 5 5 5", "5 5 5 5 5"),
	c5("Đc, 5 5 5 5 5", "5 5 5 5 5"),
	c5("5 5 5 5 5 ạh", "5 5 5 5 5"),
	c5("5 5 5 5 5 cảm ơm", "5 5 5 5 5"),
	c5("5 5 5 5 5 tks", "5 5 5 5 5"),
	c5("5 5 5 5 5 thanks ad", "5 5 5 5 5"),
	c5("DA 5 4 5 4 5 A", "5 4 5 4 5"),
	c5("Dạ 5 5 5 5 5 ạ", "5 5 5 5 5"),
	c5("a 5 5 5 5 5", "5 5 5 5 5"),
	a5("e 5 4 5 4 5", "5 4 5 4 5"),
	c5("E xin đánh giá 5 5 5 5 5", "5 5 5 5 5"),
	c5("Dạ e đánh giá 5 4 5 4 5 ạ", "5 4 5 4 5"),
	c5("e dg 5 5 5 5 5 a", "5 5 5 5 5"),
	c5("Mình đánh giá 5 5 4 5 5 nhé", "5 5 4 5 5"),
	c5("t đánh giá 3 3 3 3 3", "3 3 3 3 3"),
	c5("ok 5 5 5 5 5", "5 5 5 5 5"),
	c5("oke 5 4 5 4 5", "5 4 5 4 5"),
	c5("Chọn 5 5 5 5 5", "5 5 5 5 5"),
	c5("Em chọn 5 4 5 4 5 ạ", "5 4 5 4 5"),
	c5("dap an 5 5 5 5 5", "5 5 5 5 5"),
	c5("Tôi đánh giá như sau: 5 4 4 5 5", "5 4 4 5 5"),
	c5("Kính gửi UBND, tôi xin đánh giá 4 4 4 5 4", "4 4 4 5 4"),
	c5("Gửi: 5 5 5 5 5", "5 5 5 5 5"),
	// --- criterion letters
	c5("A5 B4 C5 D4 E5", "5 4 5 4 5"),
	c5("a5 b4 c5 d4 e5", "5 4 5 4 5"),
	c5("A5B4C5D4E5", "5 4 5 4 5"),
	c5("a-5, b-4, c-5, d-4, e-5", "5 4 5 4 5"),
	c5("A:5 B:4 C:5 D:4 E:5", "5 4 5 4 5"),
	c5("A.5 B.4 C.5 D.4 E.5", "5 4 5 4 5"),
	c5("A=5,B=5,C=4,D=5,E=5", "5 5 4 5 5"),
	c5("A 5 B 4 C 5 D 4 E 5", "5 4 5 4 5"),
	c5("A)5 B)4 C)5 D)5 E)5", "5 4 5 5 5"),
	c5("A5\nB4\nC5\nD4\nE5", "5 4 5 4 5"),
	c5("C4 D5", "@2 4 5"),
	c5("B5 A4 C5 D5 E4", "4 5 5 5 4"),
	c5("A: hài lòng, B: rất hài lòng, C: hài lòng, D: bình thường, E: hài lòng", "4 5 4 3 4"),
	c5("a hl b rhl c hl d hl e hl", "4 5 4 4 4"),
	m5("A5 B5 C5 D5 E5 cán bộ rất nhiệt tình", "5 5 5 5 5", "nhiệt tình"),
	c5("5A 4B 5C 4D 5E", "5 4 5 4 5"),
	c5("A5,B5,C5,D5,E không ý kiến", "5 5 5 5 0"),
	c5("E5", "@4 5"),
	c5("a5 b5 c4", "@0 5 5 4"),
	c5("A - 5, B - 5, C - 5, D - 5, E - 5", "5 5 5 5 5"),
	c5("A5 B5 C5 D5 E5 ạ", "5 5 5 5 5"),
	c5("A. Rất hài lòng B. Rất hài lòng C. Hài lòng D. Hài lòng E. Rất hài lòng", "5 5 4 4 5"),
	// --- criterion names
	c5("Tiếp cận 5, thủ tục 4, cán bộ 5, kết quả 4, góp ý 5", "5 4 5 4 5"),
	c5("tiep can 5 thu tuc 4 can bo 5 ket qua 4 gop y 5", "5 4 5 4 5"),
	c5("Tiếp cận: 5; Thủ tục: 5; Cán bộ: 5; Kết quả: 5; Góp ý: 4", "5 5 5 5 4"),
	c5("tiếp cận hài lòng, thủ tục bình thường, cán bộ rất hài lòng, kết quả hài lòng, góp ý không ý kiến", "4 3 5 4 0"),
	c5("Can bo 3", "@2 3"),
	a5("thủ tục 2 vì phải bổ sung giấy tờ 2 lần", "@1 2"),
	c5("Ket qua 4", "@3 4"),
	c5("Tiếp cận 5 điểm, thủ tục 4 điểm, cán bộ 5 điểm, kết quả 5 điểm, góp ý 5 điểm", "5 4 5 5 5"),
	c5("Cán bộ 5, kết quả 5", "@2 5 5"),
	// --- words before scores / number words
	c5("số 5 số 4 số 5 số 4 số 5", "5 4 5 4 5"),
	c5("muc 5 muc 4 muc 5 muc 4 muc 5", "5 4 5 4 5"),
	c5("Mức 5, mức 5, mức 4, mức 5, mức 5", "5 5 4 5 5"),
	c5("so 5, 4, 5, 4, 5", "5 4 5 4 5"),
	c5("5 điểm 4 điểm 5 điểm 4 điểm 5 điểm", "5 4 5 4 5"),
	c5("Năm năm năm năm năm", "5 5 5 5 5"),
	a5("nam bon nam bon nam", "5 4 5 4 5"),
	c5("bốn bốn bốn bốn bốn", "4 4 4 4 4"),
	// --- numbered items
	c5("1.5 2.4 3.5 4.4 5.5", "5 4 5 4 5"),
	a5("1-5, 2-4, 3-5, 4-4, 5-5", "5 4 5 4 5"),
	c5("1)5 2)4 3)5 4)4 5)5", "5 4 5 4 5"),
	c5("Câu 1: 5, câu 2: 4, câu 3: 5, câu 4: 4, câu 5: 5", "5 4 5 4 5"),
	c5("cau 1 5 cau 2 5 cau 3 4 cau 4 5 cau 5 5", "5 5 4 5 5"),
	// --- level words
	a5("rất hài lòng", "5 5 5 5 5"),
	a5("Hài lòng", "4 4 4 4 4"),
	c5("rat hai long rat hai long hai long rat hai long rat hai long", "5 5 4 5 5"),
	c5("rất hài lòng, rất hài lòng, hài lòng, hài lòng, rất hài lòng", "5 5 4 4 5"),
	c5("hl hl hl hl hl", "4 4 4 4 4"),
	c5("rhl rhl rhl rhl rhl", "5 5 5 5 5"),
	c5("rhl, rhl, hl, rhl, rhl", "5 5 4 5 5"),
	c5("hai lonh hai long hai long hai long hai long", "4 4 4 4 4"),
	c5("hài lòng, hài lòng, bình thường, không hài lòng, không ý kiến", "4 4 3 2 0"),
	c5("Rất hài lòng, hài lòng, hài lòng, rất hài lòng, không ý kiến", "5 4 4 5 0"),
	c5("bt bt hl hl hl", "3 3 4 4 4"),
	c5("khl khl bt bt bt", "2 2 3 3 3"),
	// --- "all" forms
	c5("Tất cả 5", "5 5 5 5 5"),
	c5("tat ca 5 diem", "5 5 5 5 5"),
	c5("Tất cả đều hài lòng", "4 4 4 4 4"),
	c5("đều hài lòng", "4 4 4 4 4"),
	c5("Đều rất hài lòng ạ", "5 5 5 5 5"),
	c5("tat ca deu rat hai long", "5 5 5 5 5"),
	c5("deu 5", "5 5 5 5 5"),
	c5("Cả 5 câu đều 5", "5 5 5 5 5"),
	c5("5 câu đều 5 điểm", "5 5 5 5 5"),
	a5("Tất cả 4 trừ cán bộ 5", "4 4 5 4 4"),
	c5("Hài lòng hết", "4 4 4 4 4"),
	c5("haì lòng hết ạ", "4 4 4 4 4"),
	a5("Rất hài lòng với tất cả", "5 5 5 5 5"),
	c5("5 het", "5 5 5 5 5"),
	c5("dc 5 het", "5 5 5 5 5"),
	c5("tat ca 5 het", "5 5 5 5 5"),
	c5("all 5", "5 5 5 5 5"),
	a5("full 5", "5 5 5 5 5"),
	c5("5 hết nha", "5 5 5 5 5"),
	m5("Tất cả đều 5, cán bộ rất nhiệt tình", "5 5 5 5 5", "nhiệt tình"),
	a5("tất cả 5 riêng thủ tục 3", "5 3 5 5 5"),
	a5("Tiếp cận thì 5, thủ tục 4, còn lại 5", "5 4 5 5 5"),
	c5("Tất cả đều rất hài lòng", "5 5 5 5 5"),
	c5("Tất cả không ý kiến", "0 0 0 0 0"),
	// --- single level word for whole survey (ambiguous)
	a5("Bình thường", "3 3 3 3 3"),
	a5("Không hài lòng", "2 2 2 2 2"),
	a5("khong hai long", "2 2 2 2 2"),
	a5("ko hl", "2 2 2 2 2"),
	a5("k hài lòng", "2 2 2 2 2"),
	a5("Rất không hài lòng", "1 1 1 1 1"),
	a5("Không ý kiến", "0 0 0 0 0"),
	a5("k có ý kiến", "0 0 0 0 0"),
	a5("RAT HAI LONG", "5 5 5 5 5"),
	a5("rat hia long", "5 5 5 5 5"),
	a5("Rât hài long", "5 5 5 5 5"),
	a5("5 sao", "5 5 5 5 5"),
	a5("5 sao ạ", "5 5 5 5 5"),
	a5("⭐⭐⭐⭐⭐", "5 5 5 5 5"),
	a5("10 điểm", "5 5 5 5 5"),
	a5("10 diem", "5 5 5 5 5"),
	a5("10/10", "5 5 5 5 5"),
	a5("Cho 10 điểm cán bộ", "?"),
	a5("100 điểm", "5 5 5 5 5"),
	a5("Tuyệt vời", "5 5 5 5 5"),
	a5("Tốt", "?"),
	a5("ko co gop y", "?"),
	// --- words and digits together
	c5("5 5 5 5 5 rất hài lòng", "5 5 5 5 5"),
	c5("Rất hài lòng 5 5 5 5 5", "5 5 5 5 5"),
	c5("hài lòng 4 4 4 4 4", "4 4 4 4 4"),
	m5("5 5 5 5 5 hài lòng", "5 5 5 5 5", ""),
	m5("4 4 4 4 4 không có gì phàn nàn", "4 4 4 4 4", "phàn nàn"),
	m5("5 5 5 5 5 không có ý kiến gì thêm", "5 5 5 5 5", ""),
	c5("5 4 5 4 5 ko co y kien gi", "5 4 5 4 5"),
	c5("5 5 5 5 5. Không có góp ý", "5 5 5 5 5"),
	m5("5 4 5 4 5 Không hài lòng về chỗ để xe", "5 4 5 4 5", "chỗ để xe"),
	c5("4 4 4 4 4 tôi hài lòng", "4 4 4 4 4"),
	c5("5 4 5 4 5 ko co gi", "5 4 5 4 5"),
	c5("5 5 5 5 ko y kien", "5 5 5 5 0"),
	c5("5 4 5 4 và 5", "5 4 5 4 5"),
	c5("5 4 5 4 và góp ý 5", "5 4 5 4 5"),
	// --- comments with numbers / criterion words
	m5("5 5 5 5 5 cán bộ nhiệt tình, chỉ phải đi lại 2 lần", "5 5 5 5 5", "2 lần"),
	m5("Chờ 30 phút hơi lâu. 4 4 3 5 4", "4 4 3 5 4", "30 phút"),
	m5("4 4 3 5 4. Chờ 30 phút hơi lâu", "4 4 3 5 4", "30 phút"),
	m5("4 3 4 4 4 phải đi lại 3 lần mới xong", "4 3 4 4 4", "3 lần"),
	m5("Phải đi 2 lần mới được, 3 3 3 4 3", "3 3 3 4 3", "2 lần"),
	m5("5 5 5 5 5 hồ sơ trả trước hẹn 1 ngày", "5 5 5 5 5", "1 ngày"),
	m5("5 4 5 5 5 làm trong 15 phút là xong, rất nhanh", "5 4 5 5 5", "15 phút"),
	m5("3 3 2 3 3 hẹn 5 ngày mà 10 ngày mới có", "3 3 2 3 3", "10 ngày"),
	c5("Hồ sơ nộp ngày 12/3, 5 5 5 5 5", "5 5 5 5 5"),
	m5("5 5 5 5 5 - cảm ơn bộ phận một cửa UBND phường 7", "5 5 5 5 5", "phường 7"),
	m5("5 5 5 5 5 cám ơn chị Lan quầy số 3", "5 5 5 5 5", "quầy số 3"),
	m5("Cán bộ hướng dẫn tận tình. 5 5 5 5 5", "5 5 5 5 5", "tận tình"),
	m5("Cán bộ không nhiệt tình 3 3 2 3 3", "3 3 2 3 3", "nhiệt tình"),
	m5("2 2 2 2 2 cán bộ không hướng dẫn, thái độ không tốt", "2 2 2 2 2", "thái độ"),
	c5("1 1 1 1 1 quá chậm", "1 1 1 1 1"),
	c5("5 5 5 5 5 nhưng mà chờ hơi lâu", "5 5 5 5 5"),
	m5("5 5 5 5 5 rất hài lòng với thái độ phục vụ", "5 5 5 5 5", "thái độ"),
	m5("4 4 4 4 4 hài lòng nhưng thủ tục còn rườm rà", "4 4 4 4 4", "rườm rà"),
	m5("5 5 5 4 5 góp ý: nên có chỗ để xe", "5 5 5 4 5", "chỗ để xe"),
	m5("Góp ý: nên bố trí thêm ghế ngồi. 5 5 5 5 5", "5 5 5 5 5", "ghế ngồi"),
	m5("5 5 5 5 5 góp ý nên giảm thời gian chờ", "5 5 5 5 5", "thời gian chờ"),
	m5("5 4 5 4 5 cho hỏi bao giờ có kết quả?", "5 4 5 4 5", "bao giờ"),
	c5("Năm nay làm hồ sơ nhanh hơn năm ngoái. 5 5 5 5 5", "5 5 5 5 5"),
	c5("5 5 5 5 5 và 10 điểm cho cán bộ", "5 5 5 5 5"),
	m5("4 5 4 5 4 cán bộ A rất nhiệt tình", "4 5 4 5 4", "nhiệt tình"),
	m5("5 5 5 5 5 em cảm ơn anh chị ạ", "5 5 5 5 5", "cảm ơn"),
	m5("Kết quả trả đúng hẹn, 5 5 5 5 5", "5 5 5 5 5", "đúng hẹn"),
	m5("5 5 5 5 5\nCán bộ vui vẻ", "5 5 5 5 5", "vui vẻ"),
	m5("3 3 3 3 3 phải nộp 3 bản sao", "3 3 3 3 3", "3 bản sao"),
	m5("4 4 5 4 4, lần sau nên có số thứ tự", "4 4 5 4 4", "số thứ tự"),
	// --- joined / malformed digits
	a5("5 4 5 45", "5 4 5 4 5"),
	a5("54 545", "5 4 5 4 5"),
	a5("5 5 5 55", "5 5 5 5 5"),
	c5("5 4 5 4 5 5 4 5 4 5", "?"),
	// --- wrong counts
	a5("5 4 5 4", "5 4 5 4"),
	a5("5 5 5 5 cán bộ tốt", "5 5 5 5"),
	a5("5554", "5 5 5 4"),
	a5("5 4 5 4 5 5", "?"),
	a5("5 5 5 5 5 5", "5 5 5 5 5"),
	a5("1 5 4 5 4 5", "?"),
	a5("4 5 3", "4 5 3"),
	// --- NFD
	nm5("Dạ em đánh giá 5 4 5 4 5 ạ", "5 4 5 4 5", "-"),
	n5("rất hài lòng, rất hài lòng, hài lòng, hài lòng, rất hài lòng", "5 5 4 4 5"),
	nm5("5 5 5 5 5 cán bộ nhiệt tình", "5 5 5 5 5", "nhiệt tình"),
	n5("Tiếp cận 5, thủ tục 4, cán bộ 5, kết quả 4, góp ý 5", "5 4 5 4 5"),
	n5("Tất cả đều hài lòng", "4 4 4 4 4"),
	// --- opt-out
	c5("Huy", "optout"),
	c5("HUY", "optout"),
	c5("Hủy", "optout"),
	c5("Dung", "optout"),
	c5("STOP", "optout"),
	c5("Tu choi", "optout"),
	c5("Không nhận tin nữa", "optout"),
	c5("Đừng nhắn tin nữa", "optout"),
	c5("Khong muon danh gia", "optout"),
	c5("Hủy đăng ký", "optout"),
	c5("ko nhan tin nua", "optout"),
	c5("Tôi không muốn tham gia khảo sát", "optout"),
	c5("Đừng gửi tin nhắn này nữa", "optout"),
	c5("Dừng lại", "optout"),
	// --- help / restart
	c5("HD", "help"),
	c5("?", "help"),
	c5("Huong dan", "help"),
	c5("Nhắn như thế nào?", "help"),
	c5("Làm lại", "restart"),
	c5("Đánh giá lại", "restart"),
	c5("lam lai tu dau", "restart"),
	c5("Sai rồi, làm lại", "restart"),
	// --- not scores
	c5("Cho hỏi hồ sơ của tôi đâu?", "none"),
	c5("cho hoi ho so cua toi bao gio co ket qua", "none"),
	c5("Ai đấy?", "none"),
	c5("Số nào là tốt nhất?", "none"),
	c5("Tôi chưa nhận được kết quả hồ sơ", "none"),
	c5("Hồ sơ số 000.00.12.H56-230512-0001 đã xong chưa", "none"),
	c5("Gọi lại cho tôi số 0912345678", "none"),
	c5("Tôi chưa làm hồ sơ nào", "none"),
	c5("Nhầm số", "none"),
	c5("Cảm ơn", "none"),
	c5("ok", "none"),
	c5("Đã nhận", "none"),
	c5("Tôi nộp hồ sơ 2 lần rồi mà chưa có", "none"),
	c5("Sao phải chờ 15 ngày?", "none"),
	c5("Cán bộ không có ở phòng, chờ 2 tiếng", "none"),
	c5("Ai cho số của tôi vậy", "none"),
	c5("Không", "none"),

	// ===== one-question context
	c1("5", "5"),
	c1("Dạ 5 ạ", "5"),
	c1("5 sao", "5"),
	a1("10 điểm", "5"),
	c1("rất hài lòng", "5"),
	c1("Hài lòng", "4"),
	c1("hl", "4"),
	c1("rhl", "5"),
	c1("ko hl", "2"),
	c1("không hài lòng", "2"),
	c1("Rất không hài lòng", "1"),
	c1("bình thường", "3"),
	c1("bt", "3"),
	c1("Không ý kiến", "0"),
	m1("5 cán bộ nhiệt tình", "5", "nhiệt tình"),
	m1("4 chờ 30 phút", "4", "30 phút"),
	m1("Chờ 30 phút, 3", "3", "30 phút"),
	m1("Phải đi lại 2 lần. Không hài lòng", "2", "2 lần"),
	c1("５", "5"),
	c1("Rất hài lòng, cảm ơn", "5"),
	m1("Hài lòng ạ, cán bộ nhiệt tình", "4", "nhiệt tình"),
	c1("Em chọn 5 ạ", "5"),
	c1("số 5", "5"),
	c1("Muc 4", "4"),
	c1("5 điểm", "5"),
	m1("Không hài lòng vì phải chờ 2 tiếng", "2", "2 tiếng"),
	c1("Rất hài lòng, không có ý kiến gì thêm", "5"),
	c1("không có gì để phàn nàn, 5", "5"),
	c1("Huy", "optout"),
	c1("cho hỏi hồ sơ của tôi đâu?", "none"),
	a1("5 4", "?"),
	c1("1", "1"),
	c1("0", "0"),
	c1("hai long", "4"),
	c1("RAT HAI LONG", "5"),
	c1("rat hai long 5", "5"),
	c1("5 rất hài lòng", "5"),
	m1("4 hài lòng nhưng còn chờ lâu", "4", "chờ lâu"),
	a1("Tốt", "?"),
	m1("1 lần nộp là xong, 5", "5", "1 lần"),
	a1("⭐⭐⭐⭐⭐", "5"),
	c1("5/5", "5"),
	c1("Hài lòng 👍", "4"),
	a1("tuyệt vời", "5"),
	c1("Không", "none"),
	m1("Ko hài lòng, cán bộ hách dịch", "2", "hách dịch"),
	c1("Dạ em rất hài lòng ạ", "5"),
	c1("rat hai long a", "5"),
	c1("Mức 5", "5"),
	c1("Năm", "5"),
	c1("5 nhé", "5"),
	c1("Tôi hài lòng", "4"),
	c1("tạm được", "3"),
	a1("khá hài lòng", "4"),
	c1("Hài lòng lắm", "5"),
	// --- extra collision probes (added after a first run)
	c1("Kết quả hài lòng", "4"),
	c1("Quá hài lòng", "5"),
	m1("Tôi chờ 2 tiếng, không hài lòng", "2", "2 tiếng"),
	m1("Đi 3 lần mới xong. 2", "2", "3 lần"),
	c1("Hồ sơ phải đi lại 2 lần", "none"),
	c1("Đánh giá 5 sao", "5"),
	a1("Cho 10 điểm", "5"),
	a1("100 điểm", "5"),
	c5("Kết quả: 5 4 5 4 5", "5 4 5 4 5"),
	c5("Kết quả hài lòng", "@3 4"),
	c5("Cán bộ rất hài lòng", "@2 5"),
	c5("Chờ 2 tiếng 5 5 5 5 5", "5 5 5 5 5"),
	c5("5 mục đều 5", "5 5 5 5 5"),
	c5("mức 4 mức 4 mức 4 mức 4 mức 4", "4 4 4 4 4"),
	c5("Hẹn 3 ngày, 5 5 5 5 5", "5 5 5 5 5"),
	m1("Chờ 3 tiếng nhưng vẫn hài lòng", "4", "3 tiếng"),
	m1("Đi lại 3 lần, rất không hài lòng", "1", "3 lần"),
	m1("Mất 2 ngày, rất hài lòng", "5", "2 ngày"),
	m5("2 lần đi lại mới xong, 4 4 4 4 4", "4 4 4 4 4", "2 lần"),
	c5("Góp ý 3", "@4 3"),
	m5("Kết quả: hài lòng, cán bộ nhiệt tình", "@3 4", "nhiệt tình"),
	c1("Thủ tục hài lòng", "4"),
}

func kindName(k ReplyKind) string {
	return [...]string{"Unreadable", "Scores", "OptOut", "Help", "Restart", "StartDossier", "Confirm"}[k]
}

func fmtReply(r Reply) string {
	s := kindName(r.Kind)
	if r.Kind == Scores {
		s += fmt.Sprintf(" %v at=%d", r.Scores, r.At)
		if r.Unsure {
			s += " UNSURE"
		}
		if r.Comment != "" {
			s += fmt.Sprintf(" cm=%q", r.Comment)
		}
	}
	return s
}

func TestIndependentReplies(t *testing.T) {
	buckets := map[string][]string{}
	order := []string{"OK", "OK-amb-asked", "OK-amb-notread", "ASKED(cost)", "NOTREAD(miss)", "PARTIAL", "WRONG-KIND", "WRONG-asked", "WRONG-SILENT", "COMMENT"}
	for _, c := range probeCases {
		in := c.in
		if c.nfd {
			in = norm.NFD.String(in)
		}
		e := Expect{Letters: "ABCDE", Names: []string{"tiep can", "thu tuc", "can bo", "ket qua", "gop y"}, Counts: []int{5}, Left: 5}
		if c.q == 1 {
			e = Expect{Counts: []int{1}, Left: 1}
		}
		r := Read(in, e)
		line := fmt.Sprintf("q%d %q want=%s got=%s", c.q, c.in, c.want, fmtReply(r))
		var b string
		switch c.want {
		case "none", "?":
			switch {
			case r.Kind == Scores && !r.Unsure:
				b = "WRONG-SILENT"
			case r.Kind == Scores:
				if c.want == "?" {
					b = "OK"
				} else {
					b = "ASKED(cost)"
				}
			case r.Kind == OptOut || r.Kind == Restart || r.Kind == StartDossier:
				b = "WRONG-KIND"
			default:
				b = "OK"
			}
		case "optout", "help", "restart":
			k := map[string]ReplyKind{"optout": OptOut, "help": Help, "restart": Restart}[c.want]
			switch {
			case r.Kind == k:
				b = "OK"
			case r.Kind == Scores && !r.Unsure:
				b = "WRONG-SILENT"
			case r.Kind == Unreadable || (c.want == "help" && r.Kind == Scores):
				b = "NOTREAD(miss)"
			default:
				b = "WRONG-KIND"
			}
		default:
			w := c.want
			at := -1
			if strings.HasPrefix(w, "@") {
				f := strings.SplitN(w[1:], " ", 2)
				at, _ = strconv.Atoi(f[0])
				w = f[1]
			}
			var ws []int
			for _, f := range strings.Fields(w) {
				n, _ := strconv.Atoi(f)
				ws = append(ws, n)
			}
			same := r.Kind == Scores && fmt.Sprint(r.Scores) == fmt.Sprint(ws)
			if same {
				if at >= 0 {
					same = r.At == at
				} else {
					same = r.At == -1 || r.At == 0
				}
			}
			prefix := r.Kind == Scores && r.At == -1 && at < 0 && len(r.Scores) > 0 && len(r.Scores) < len(ws) &&
				fmt.Sprint(r.Scores) == fmt.Sprint(ws[:len(r.Scores)])
			switch {
			case prefix:
				b = "PARTIAL"
			case same && !r.Unsure:
				b = "OK"
			case same && c.amb:
				b = "OK-amb-asked"
			case same:
				b = "ASKED(cost)"
			case r.Kind == Scores && !r.Unsure:
				b = "WRONG-SILENT"
			case r.Kind == Scores:
				b = "WRONG-asked"
			case r.Kind == Unreadable && c.amb:
				b = "OK-amb-notread"
			case r.Kind == Unreadable || r.Kind == Help:
				b = "NOTREAD(miss)"
			default:
				b = "WRONG-KIND"
			}
			if same && c.cm != "" {
				got := strings.ToLower(norm.NFC.String(r.Comment))
				if (c.cm == "-" && got != "") || (c.cm != "-" && !strings.Contains(got, strings.ToLower(c.cm))) {
					buckets["COMMENT"] = append(buckets["COMMENT"], line+fmt.Sprintf(" wantcm=%q", c.cm))
				}
			}
		}
		buckets[b] = append(buckets[b], line)
	}
	var sum []string
	for _, b := range order {
		sum = append(sum, fmt.Sprintf("%s %d", b, len(buckets[b])))
	}
	t.Logf("%d replies: %s", len(probeCases), strings.Join(sum, ", "))
	for _, b := range order[1:] {
		ls := buckets[b]
		sort.Strings(ls)
		for _, l := range ls {
			if strings.HasPrefix(b, "WRONG") || b == "COMMENT" {
				t.Errorf("%s: %s", b, l)
			} else {
				t.Logf("%s: %s", b, l)
			}
		}
	}
	if miss := len(buckets["NOTREAD(miss)"]) + len(buckets["PARTIAL"]) + len(buckets["ASKED(cost)"]); miss > 20 {
		t.Errorf("%d replies a person reads at once were asked back, read in part or not read; docs/sms.md says at most 20", miss)
	}
}
