package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// scanFile is one file of an upload.
type scanFile struct {
	name string
	data []byte
}

// uploadBody is the upload form's multipart body as a browser sends it:
// the CSRF token first (left out when empty), then the files; no file
// chosen is one empty part with no file name.
func uploadBody(csrf string, files ...scanFile) (*bytes.Buffer, string) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf != "" {
		_ = w.WriteField("csrf", csrf)
	}
	if len(files) == 0 {
		files = []scanFile{{}}
	}
	for _, f := range files {
		part, _ := w.CreateFormFile("file", f.name)
		part.Write(f.data)
	}
	w.Close()
	return &body, w.FormDataContentType()
}

// upload posts files from the console's upload form.
func upload(g *gwtest.Gateway, path, csrf string, cookie *http.Cookie, files ...scanFile) (*http.Response, string) {
	g.T.Helper()
	body, ctype := uploadBody(csrf, files...)
	req := httptest.NewRequest("POST", path, body)
	req.Header.Set("Content-Type", ctype)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res := g.Do(req)
	return res, gwtest.Body(res)
}

// refusedUnread sends only the headers of a POST of size bytes to path
// and reads the answer: a refusal made before a byte of the body is read
// (sending the body would race the server's close after its 413).
func refusedUnread(t *testing.T, g *gwtest.Gateway, path string, size int, cookie *http.Cookie) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n", path, size)
	if cookie != nil {
		h += "Cookie: " + cookie.Name + "=" + cookie.Value + "\r\n"
	}
	fmt.Fprint(conn, h+"\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res.StatusCode
}

// noise is a photo of nothing: gray noise as a JPEG of about size bytes.
func noise(size int) []byte {
	side := 400
	for {
		img := image.NewGray(image.Rect(0, 0, side, side))
		r := rand.New(rand.NewPCG(uint64(side), 2))
		for i := range img.Pix {
			img.Pix[i] = uint8(r.IntN(256))
		}
		var b bytes.Buffer
		_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
		if b.Len() >= size {
			return b.Bytes()
		}
		side = side * 3 / 2
	}
}

// blankPNG is a white page with no form on it.
func blankPNG() []byte {
	img := image.NewGray(image.Rect(0, 0, 1240, 1754))
	for i := range img.Pix {
		img.Pix[i] = 245
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// A desk uploads photos of marked forms from the console: the results
// list each page with what became of it in Vietnamese (recorded, to
// review with its link, a duplicate with the channel that answered
// first, unreadable and why), totals on top; the recorded form lands as
// the dossier's response. Errors show the form again.
func TestConsolePaperUpload(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	g.Listen() // fasthttp refuses large bodies on a connection, not to app.Test
	const unit = "000.01.12.H49"
	for _, d := range []string{"UP-1", "UP-2", "UP-3"} {
		g.Invite(d, unit, map[string]any{"survey": "sipas-5"})
	}
	clear := map[string][]int{"A": {5}, "B": {4}, "C": {2}, "D": {5}, "E": {0}}
	files := []scanFile{
		{"mot.jpg", g.Photo(t, "UP-1", "sipas-5", clear, 21)},
		{"hai.jpg", g.Photo(t, "UP-2", "sipas-5", map[string][]int{"A": {4}, "B": {4}, "C": {2, 3}, "D": {4}, "E": {4}}, 22)},
		{"ba.jpg", g.Photo(t, "UP-3", "sipas-5", clear, 23)},
		{"trang.png", blankPNG()},
		{"meo.gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
	}
	// UP-3 is answered on the web before its paper form comes back.
	if res := g.AnswerAsCitizen(gwtest.Token(map[string]any{"survey_url": g.Core.SurveyURL(g.MustInvitation("UP-3"))}), "A=5&B=5&C=5&D=5&E=5"); res.StatusCode != 303 {
		t.Fatalf("web answer: %d", res.StatusCode)
	}
	desk, csrf := signIn(t, g, g.Key(t, "agency", "000.00.12.H49"))

	// The form, linked from the paper pages' tabs.
	status, page := g.Page("/console/paper/upload", desk)
	if status != 200 || !strings.Contains(page, `enctype="multipart/form-data"`) ||
		!strings.Contains(page, `<input type="file" id="file" name="file" multiple required accept="image/jpeg,image/png,image/tiff,application/pdf" capture`) ||
		!strings.Contains(page, `<a href="/console/paper/upload" aria-current="page">Tải phiếu đã quét</a>`) {
		t.Fatalf("upload page: %d\n%s", status, page)
	}
	vietnamese(t, "the upload page", page, "Tải phiếu đã quét", "tối đa 25 MB và 50 trang mỗi lần", "Tải lên")
	_, page = g.Page("/console/paper/upload?lang=en", desk)
	inEnglish(t, "the upload page", page, []string{"Upload scanned forms", "at most 25 MB and 50 pages at a time"}, "Tải lên", "tối đa")
	if _, page = g.Page("/console/paper", desk); !strings.Contains(page, `<a href="/console/paper/upload">Tải phiếu đã quét</a>`) {
		t.Fatalf("the queue does not link the upload page:\n%s", page)
	}

	res, page := upload(g, "/console/paper/upload", csrf, desk, files...)
	if res.StatusCode != 200 {
		t.Fatalf("upload: %d\n%s", res.StatusCode, page)
	}
	vietnamese(t, "the results", page,
		"5 trang: 1 đã ghi nhận, 1 cần xem lại, 1 trùng, 2 không đọc được",
		"mot.jpg 1 Đã ghi nhận UP-1",
		"hai.jpg 1 Cần xem lại UP-2 câu C", // two marks, or a correction: as the pen fell
		"ba.jpg 1 Trùng — đã trả lời qua trang web UP-3 phiếu được giữ lại, không tính vào chỉ số",
		"trang.png 1 Không đọc được không thấy phiếu: trang để trắng",
		"meo.gif — Không đọc được không phải ảnh chụp hay bản quét đọc được")
	review := regexp.MustCompile(`<tr data-status="review">.*<a href="/console/paper/scans/([0-9a-f]+)">Cần xem lại</a>`).FindStringSubmatch(page)
	if review == nil {
		t.Fatalf("no link to review the unsure page:\n%s", page)
	}
	if status, page := g.Page("/console/paper/scans/"+review[1], desk); status != 200 || !strings.Contains(page, "Phiếu của hồ sơ UP-2") {
		t.Fatalf("the linked page: %d", status)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("UP-1").ID)
	if err != nil || r.Channel != core.ChannelPaper || r.Provenance.VerifiedBy != store.VerifiedPaper || len(r.Answers) != 5 {
		t.Fatalf("UP-1's response: %+v %v", r, err)
	}

	// The same form again is a duplicate of the paper answer; in English.
	res, page = upload(g, "/console/paper/upload?lang=en", csrf, desk, files[0])
	inEnglish(t, "the results", page, []string{"Pages: 1 — 1 already answered", "mot.jpg 1 Duplicate — answered on a paper form UP-1 the dossier's form was recorded from an earlier scan"}, "Trùng")

	// Errors show the form again.
	res, page = upload(g, "/console/paper/upload", csrf, desk)
	if res.StatusCode != 400 || !strings.Contains(page, `id="upload"`) {
		t.Fatalf("no file: %d\n%s", res.StatusCode, page)
	}
	vietnamese(t, "no file", page, "Hãy chọn ít nhất một ảnh hoặc tệp PDF.")
	res, page = upload(g, "/console/paper/upload", csrf, desk, files[4])
	if res.StatusCode != 400 || !strings.Contains(page, `id="upload"`) {
		t.Fatalf("a GIF: %d\n%s", res.StatusCode, page)
	}
	vietnamese(t, "a GIF", page, "Không có trang nào được đọc: chỉ nhận ảnh JPEG, PNG, TIFF hoặc tệp PDF của máy quét.", "meo.gif — Không đọc được")
	req := httptest.NewRequest("POST", "/console/paper/upload", strings.NewReader("csrf="+csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(desk)
	if res := g.Do(req); res.StatusCode != 400 {
		t.Fatalf("not multipart: %d", res.StatusCode)
	}

	// The CSRF token is read from the multipart body, and checked.
	for _, token := range []string{"", "not-the-token"} {
		if res, _ := upload(g, "/console/paper/upload", token, desk, files[3]); res.StatusCode != 403 {
			t.Fatalf("CSRF %q: %d", token, res.StatusCode)
		}
	}

	// A viewer may not upload; nobody signed in is sent to sign in.
	viewer, viewerCSRF := signIn(t, g, g.Key(t, "viewer", ""))
	if status, _ := g.Page("/console/paper/upload", viewer); status != 403 {
		t.Fatalf("a viewer's page: %d", status)
	}
	if res, _ := upload(g, "/console/paper/upload", viewerCSRF, viewer, files[4]); res.StatusCode != 403 {
		t.Fatalf("a viewer's upload: %d", res.StatusCode)
	}
	if status, _ := g.Page("/console/paper/upload", nil); status != 303 {
		t.Fatalf("unsigned page: %d", status)
	}
	if res, _ := upload(g, "/console/paper/upload", csrf, nil, files[4]); res.StatusCode != 303 || res.Header.Get("Location") != "/console/login" {
		t.Fatalf("unsigned upload: %d", res.StatusCode)
	}
}

// Only a live session that may upload gets past 64 KB on the upload
// page, decided from the cookie before the body is read: nobody signed
// in, a viewer and an ended session are refused at the common limit; a
// desk's 2 MB photo goes through.
func TestConsoleUploadLimits(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	g.Listen()
	desk, csrf := signIn(t, g, g.Key(t, "agency", "000.00.12.H49"))
	admin, adminCSRF := signIn(t, g, gwtest.AdminKey)
	viewer, _ := signIn(t, g, g.Key(t, "viewer", ""))
	gone := &http.Cookie{Name: "gw_console", Value: "no-such-session"}
	for name, cookie := range map[string]*http.Cookie{"nobody": nil, "a viewer": viewer, "an ended session": gone} {
		if status := refusedUnread(t, g, "/console/paper/upload", 200<<10, cookie); status != 413 {
			t.Errorf("%s: %d", name, status)
		}
	}
	// A desk's session raises the limit of the upload page only.
	if status := refusedUnread(t, g, "/console/paper/print", 200<<10, desk); status != 413 {
		t.Errorf("a desk on another page: %d", status)
	}
	big := scanFile{"to.jpg", noise(2 << 20)}
	if len(big.data) < 2<<20 {
		t.Fatalf("the photo has %d bytes", len(big.data))
	}
	for name, s := range map[string]struct {
		cookie *http.Cookie
		csrf   string
	}{"a desk": {desk, csrf}, "an admin": {admin, adminCSRF}} {
		res, page := upload(g, "/console/paper/upload", s.csrf, s.cookie, big)
		if res.StatusCode != 200 || !strings.Contains(shown(page), "to.jpg 1 Không đọc được") {
			t.Errorf("%s's 2 MB photo: %d\n%s", name, res.StatusCode, shown(page))
		}
	}
}
