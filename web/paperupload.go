package web

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// uploadCounts say how many pages of an upload came to each status, in
// the totals' order.
var uploadCounts = []struct{ Status, Text string }{
	{store.ScanRecorded, "%d đã ghi nhận"}, {store.ScanReview, "%d cần xem lại"},
	{store.ScanDuplicate, "%d trùng"}, {store.ScanUnreadable, "%d không đọc được"},
}

// uploadPath is the upload page, whose POSTs may carry scans.
const uploadPath = "/console/paper/upload"

// uploader finds who posts to uploadPath from the session cookie, before
// the body is read, as the session middleware will after.
func (cs *console) uploader(ctx context.Context, h *fasthttp.RequestHeader) (*core.Principal, error) {
	s, err := cs.sessions.Get(ctx, string(h.Cookie(sessionCookie)))
	if err != nil {
		return nil, err
	}
	return cs.api.Core.Recheck(ctx, s, cs.adminKey)
}

// uploadRow is one page of an upload as the results list it.
type uploadRow struct {
	File, Page, Status, StatusCode, Reason, Dossier, Link string
}

// paperUpload is the upload page: GET /console/paper/upload shows its
// form; a POST of it (multipart, field file, repeatable) reads the scans
// through the API's ReadUpload, as POST /api/v1/forms/scans does, and
// lists what became of each page, linking the pages to review. Its body
// may pass the common limit: Mount registers the route with
// server.API.AllowUpload.
func (cs *console) paperUpload(c *fiber.Ctx) error {
	v := cs.view(c, "Tải phiếu đã quét")
	lang := v.Lang
	data := map[string]any{"Tab": "upload", "MaxMB": cs.scanMax >> 20, "MaxPages": server.MaxScanPages}
	v.Data = data
	if c.Method() != fiber.MethodPost {
		return cs.render(c, 200, "paperupload", v)
	}
	if !chosen(c) {
		v.Error = translate(lang, "Hãy chọn ít nhất một ảnh hoặc tệp PDF.")
		return cs.show(c, "paperupload", v)
	}
	pages, err := cs.api.ReadUpload(c.UserContext(), server.Principal(c), c.Get(fiber.HeaderContentType), c.Body())
	var ce *core.Error
	switch {
	case err == nil:
	case errors.As(err, &ce) && ce.Code == core.Invalid && ce.Field == "file": // a body that was not the form's, cut short after the pages listed
		v.Error = translate(lang, "Không đọc được nội dung gửi lên: hãy chọn lại tệp rồi tải lên lại.")
	default:
		return err // the pages before were filed: recorded or in the review queue
	}
	rows, totals, filed := make([]uploadRow, len(pages)), map[string]int{}, false
	for i := range pages {
		rows[i] = cs.uploadRow(c, &pages[i])
		totals[pages[i].Status]++
		filed = filed || pages[i].ID != ""
	}
	if len(pages) > 0 && !filed && v.Error == "" {
		v.Error = translate(lang, "Không có trang nào được đọc: chỉ nhận ảnh JPEG, PNG, TIFF hoặc tệp PDF của máy quét.")
	}
	var parts []string
	for _, n := range uploadCounts {
		if totals[n.Status] > 0 {
			parts = append(parts, translate(lang, n.Text, totals[n.Status]))
		}
	}
	data["Rows"], data["Total"] = rows, translate(lang, "%d trang: %s", len(pages), strings.Join(parts, ", "))
	return cs.show(c, "paperupload", v)
}

// uploadRow shows what became of page p: a page to review links its
// review (and says it needs one, where its own page says it waits); a
// duplicate names the channel its dossier was answered on.
func (cs *console) uploadRow(c *fiber.Ctx, p *server.ScannedPage) uploadRow {
	lang := langOf(c)
	r := uploadRow{File: p.File, Page: "—", StatusCode: p.Status, Reason: scanReason(lang, p.Reason), Dossier: p.DossierCode,
		Status: translate(lang, labelOf(scanStatusLabels, p.Status))}
	if p.Page > 0 {
		r.Page = fmt.Sprint(p.Page)
	}
	switch p.Status {
	case store.ScanReview:
		r.Status, r.Link = translate(lang, "Cần xem lại"), scanLink(p.ID, nil)
	case store.ScanDuplicate:
		if inv, err := cs.api.Core.Invitation(c.UserContext(), p.InvitationID); err == nil {
			r.Status = translate(lang, "Trùng — đã trả lời qua %s", channelLabel(lang, inv.CompletedVia))
		}
	}
	return r
}

// chosen says whether a multipart POST carries a file the operator
// chose: a browser sends an empty part with no file name when none was.
func chosen(c *fiber.Ctx) bool {
	found := false
	eachPart(c, func(p *multipart.Part) bool {
		found = p.FormName() == "file" && p.FileName() != ""
		return !found
	})
	return found
}

// scanReasons put the reader's and the gateway's reasons for a page
// (ScannedPage.Reason, in English) in the console's words: a pattern's
// groups fill its text's verbs. A reader's reason for review lists its
// problems parted by "; ", each put in words alone.
var scanReasons = []struct {
	re   *regexp.Regexp
	text string
}{
	// the mark reader (package paper)
	{regexp.MustCompile(`^no form found: the page is blank$`), "không thấy phiếu: trang để trắng"},
	{regexp.MustCompile(`^no form found: the four black corner squares are not all on the page$`), "không thấy phiếu: bốn ô vuông đen ở góc phiếu không nằm trọn trong ảnh"},
	{regexp.MustCompile(`^the form's four black corner squares are not all on the page \(its QR reads .*\): photograph the whole page$`), "bốn ô vuông đen ở góc phiếu không nằm trọn trong ảnh: hãy chụp cả trang"},
	{regexp.MustCompile(`^no form found: the four black corner squares are not all clear on the page$`), "không thấy phiếu: bốn ô vuông đen ở góc phiếu không rõ trong ảnh"},
	{regexp.MustCompile(`^the QR cannot be read$`), "không đọc được mã QR của phiếu"},
	{regexp.MustCompile(`^the QR names a form this reader has no layout for \((.+) version (\d+)\)$`), "mã QR ghi một mẫu phiếu máy đọc không biết (%s, phiên bản %s)"},
	{regexp.MustCompile(`^only (\d+) of (\d+) boxes are where the corner squares put them`), "chỉ %s trên %s ô nằm đúng chỗ so với các góc phiếu: trang có bị gấp hoặc cong không?"},
	{regexp.MustCompile(`^blank form: no box is marked$`), "phiếu trắng: không ô nào được đánh dấu"},
	{regexp.MustCompile(`^question (\S+) has only a faint mark$`), "câu %s chỉ có dấu mờ"},
	{regexp.MustCompile(`^question (\S+) has a mark and a faint one$`), "câu %s có một dấu rõ và một dấu mờ"},
	{regexp.MustCompile(`^question (\S+) has a box filled in and another marked: a correction$`), "câu %s có ô tô kín và ô khác được đánh dấu: đã sửa"},
	{regexp.MustCompile(`^question (\S+) has (\d+) marks$`), "câu %s có %s ô được đánh dấu"},
	{regexp.MustCompile(`^(\d+) more$`), "và %s câu khác"},
	// filing (core.FilePaper)
	{regexp.MustCompile(`^no form found on the page$`), "không thấy phiếu trên trang"},
	{regexp.MustCompile(`^a handwritten comment to type$`), "có ý kiến viết tay cần gõ lại"},
	{regexp.MustCompile(`^a suggestion-box slip to type$`), "phiếu góp ý từ hòm thư cần gõ lại"},
	{regexp.MustCompile(`^the form's code names no invitation of this gateway`), "mã trên phiếu không thuộc lời mời nào của hệ thống: phiếu có phải do hệ thống khác in không?"},
	{regexp.MustCompile(`^the slip's code names no office of this gateway`), "mã trên phiếu góp ý không thuộc cơ quan nào của hệ thống"},
	{regexp.MustCompile(`^the (?:form|slip) belongs to an (?:agency|office) outside this key's agency`), "ngoài phạm vi cơ quan của bạn"},
	{regexp.MustCompile(`^the form's survey "(.*)" is not known to this gateway$`), "hệ thống không có mẫu khảo sát %s của phiếu"},
	{regexp.MustCompile(`^this dossier's form was already recorded from paper`), "phiếu của hồ sơ đã được ghi nhận từ lần quét trước: lần này không được tính"},
	{regexp.MustCompile(`^this dossier was already answered`), "phiếu được giữ lại, không tính vào chỉ số"},
	// the upload (server.ReadScans and paper.Pages: "file: format[ page n]: why")
	{regexp.MustCompile(`^not read: an upload takes at most (\d+) pages`), "chưa đọc: mỗi lần tải tối đa %s trang; hãy tải riêng tệp này"},
	{regexp.MustCompile(`: the upload is empty: `), "tệp rỗng"},
	{regexp.MustCompile(`: HEIC photos cannot be read: `), "không đọc được ảnh HEIC: hãy chụp ảnh dạng JPEG (trên iPhone: Cài đặt > Camera > Định dạng > Tương thích nhất) hoặc quét thành PDF"},
	{regexp.MustCompile(`: (?:this is .+, not a scan we can read|BigTIFF files cannot be read): `), "không phải ảnh chụp hay bản quét đọc được: hãy tải ảnh JPEG, PNG, TIFF hoặc tệp PDF của máy quét"},
	{regexp.MustCompile(`: the file has more than (\d+) pages`), "tệp có hơn %s trang: hãy chia nhỏ tệp hoặc tải riêng tệp này"},
	{regexp.MustCompile(`: the PDF is password-protected or encrypted`), "tệp PDF có mật khẩu hoặc được mã hoá: hãy quét lại, không đặt mật khẩu"},
	{regexp.MustCompile(`: this page has no scanned image`), "trang PDF không có ảnh quét: hãy in phiếu, điền rồi quét"},
	{regexp.MustCompile(`: the page is (\d+)×(\d+) pixels; scan at 300 dpi or less$`), "ảnh quá lớn (%s×%s điểm ảnh): hãy quét ở 300 dpi trở xuống"},
	{regexp.MustCompile(`: [^:]*(?:damaged|no pages|no pixels)`), "tệp bị hỏng: hãy quét lại, hoặc chụp ảnh JPEG hay PNG"},
	{regexp.MustCompile(`: [^:]*(?:compression|colour space|, which cannot be read)`), "máy quét lưu ảnh theo kiểu không đọc được: hãy đặt máy quét lưu ảnh JPEG, xám hoặc màu"},
}

// scanReason puts reason in lang: whole, or each of its parts parted by
// "; " (a reader's problems). A reason with a part no pattern knows is
// shown as it is, not half translated.
func scanReason(lang, reason string) string {
	if s, ok := reasonIn(lang, reason); ok || reason == "" {
		return s
	}
	parts := strings.Split(reason, "; ")
	for i, part := range parts {
		s, ok := reasonIn(lang, part)
		if !ok {
			return reason
		}
		parts[i] = s
	}
	return strings.Join(parts, "; ")
}

// reasonIn is reason in lang by the first pattern that matches it.
func reasonIn(lang, reason string) (string, bool) {
	for _, r := range scanReasons {
		if m := r.re.FindStringSubmatch(reason); m != nil {
			args := make([]any, len(m)-1)
			for i, g := range m[1:] {
				args[i] = g
			}
			return translate(lang, r.text, args...), true
		}
	}
	return "", false
}
