package web

import (
	"image"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/server"
)

// formatReason is the reason a page's entry gives for an upload paper
// cannot decode.
func formatReason(t *testing.T, data []byte) string {
	t.Helper()
	err := paper.Pages(data, "x.bin", paper.Limits{}, func(paper.Page) error { return nil })
	if err == nil {
		t.Fatalf("%q decoded", data)
	}
	return err.Error()
}

// The reasons the reader, filing and the upload give for a page are put
// in Vietnamese, each of a reader's problems alone; a reason no pattern
// knows is shown whole as it came, and every pattern is met by a real
// reason, where one is cheap to make, or by its text copied.
func TestScanReasons(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 600, 800))
	for i := range blank.Pix {
		blank.Pix[i] = 240
	}
	read, err := paper.Read(blank)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := (&server.API{}).ReadScans(t.Context(), nil, "x.jpg", nil, 0)
	cases := []struct{ reason, want string }{
		{read.Reason, "không thấy phiếu: trang để trắng"},
		{full[0].Reason, "chưa đọc: mỗi lần tải tối đa 50 trang; hãy tải riêng tệp này"},
		{formatReason(t, nil), "tệp rỗng"},
		{formatReason(t, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")), "không phải ảnh chụp hay bản quét đọc được: hãy tải ảnh JPEG, PNG, TIFF hoặc tệp PDF của máy quét"},
		{formatReason(t, []byte("II+\x00\x08\x00\x00\x00")), "không phải ảnh chụp hay bản quét đọc được: hãy tải ảnh JPEG, PNG, TIFF hoặc tệp PDF của máy quét"},
		{formatReason(t, []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")), "không đọc được ảnh HEIC: hãy chụp ảnh dạng JPEG (trên iPhone: Cài đặt > Camera > Định dạng > Tương thích nhất) hoặc quét thành PDF"},
		{formatReason(t, []byte("II*\x00")), "tệp bị hỏng: hãy quét lại, hoặc chụp ảnh JPEG hay PNG"},
		{"no form found: the four black corner squares are not all on the page", "không thấy phiếu: bốn ô vuông đen ở góc phiếu không nằm trọn trong ảnh"},
		{"the form's four black corner squares are not all on the page (its QR reads 0a1b): photograph the whole page", "bốn ô vuông đen ở góc phiếu không nằm trọn trong ảnh: hãy chụp cả trang"},
		{"no form found: the four black corner squares are not all clear on the page", "không thấy phiếu: bốn ô vuông đen ở góc phiếu không rõ trong ảnh"},
		{"the QR cannot be read", "không đọc được mã QR của phiếu"},
		{"the QR names a form this reader has no layout for (sipas-7 version 2)", "mã QR ghi một mẫu phiếu máy đọc không biết (sipas-7, phiên bản 2)"},
		{"only 40 of 110 boxes are where the corner squares put them (is the page folded or curled?)", "chỉ 40 trên 110 ô nằm đúng chỗ so với các góc phiếu: trang có bị gấp hoặc cong không?"},
		{"blank form: no box is marked", "phiếu trắng: không ô nào được đánh dấu"},
		{"question A has only a faint mark; question B2 has a mark and a faint one; question C has a box filled in and another marked: a correction; question D has 3 marks; 2 more",
			"câu A chỉ có dấu mờ; câu B2 có một dấu rõ và một dấu mờ; câu C có ô tô kín và ô khác được đánh dấu: đã sửa; câu D có 3 ô được đánh dấu; và 2 câu khác"},
		{"no form found on the page", "không thấy phiếu trên trang"},
		{"a handwritten comment to type", "có ý kiến viết tay cần gõ lại"},
		{"a suggestion-box slip to type", "phiếu góp ý từ hòm thư cần gõ lại"},
		{"the form's code names no invitation of this gateway: was it printed by another one?", "mã trên phiếu không thuộc lời mời nào của hệ thống: phiếu có phải do hệ thống khác in không?"},
		{"the slip's code names no office of this gateway: was it printed by another one?", "mã trên phiếu góp ý không thuộc cơ quan nào của hệ thống"},
		{"the form belongs to an agency outside this key's agency 000.00.12.H49", "ngoài phạm vi cơ quan của bạn"},
		{"the slip belongs to an office outside this key's agency 000.00.12.H49", "ngoài phạm vi cơ quan của bạn"},
		{`the form's survey "sipas-9" is not known to this gateway`, "hệ thống không có mẫu khảo sát sipas-9 của phiếu"},
		{"this dossier's form was already recorded from paper: a second scan is not counted", "phiếu của hồ sơ đã được ghi nhận từ lần quét trước: lần này không được tính"},
		{"this dossier was already answered (web): the form is kept, not counted", "phiếu được giữ lại, không tính vào chỉ số"},
		{"x.tif: TIFF: the file has more than 12 pages: upload at most 12 pages per file", "tệp có hơn 12 trang: hãy chia nhỏ tệp hoặc tải riêng tệp này"},
		{"x.pdf: PDF: the PDF is password-protected or encrypted: scan again without a password, or save a copy without protection", "tệp PDF có mật khẩu hoặc được mã hoá: hãy quét lại, không đặt mật khẩu"},
		{"x.pdf: PDF page 1: this page has no scanned image: print the form, fill it in and scan it; a PDF made from the form itself has no marks to read", "trang PDF không có ảnh quét: hãy in phiếu, điền rồi quét"},
		{"x.png: PNG page 1: the page is 9000×12000 pixels; scan at 300 dpi or less", "ảnh quá lớn (9000×12000 điểm ảnh): hãy quét ở 300 dpi trở xuống"},
		{"x.pdf: PDF page 2: JBIG2 compression (common on black-and-white scanners) cannot be read: set the scanner to grayscale or colour JPEG", "máy quét lưu ảnh theo kiểu không đọc được: hãy đặt máy quét lưu ảnh JPEG, xám hoặc màu"},
		// unknown: whole, as it came, never half translated
		{"question A has only a faint mark; the moon is in the way", "question A has only a faint mark; the moon is in the way"},
		{"", ""},
	}
	met := map[*regexp.Regexp]bool{}
	for _, c := range cases {
		if got := scanReason("vi", c.reason); got != c.want {
			t.Errorf("%q\n got %q\nwant %q", c.reason, got, c.want)
		}
		for _, r := range scanReasons {
			for _, part := range append(strings.Split(c.reason, "; "), c.reason) {
				met[r.re] = met[r.re] || r.re.MatchString(part)
			}
		}
	}
	for _, r := range scanReasons {
		if !met[r.re] {
			t.Errorf("no case meets %s", r.re)
		}
	}
	if got := scanReason("en", "question B2 has 2 marks; 1 more"); got != "question B2 has 2 boxes marked; and 1 more" {
		t.Errorf("in English: %q", got)
	}
}
