package web

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// languages the console speaks; the first is the default.
var languages = []string{"vi", "en"}

// translate is the console's one translation function: key is the text in
// Vietnamese, which a Vietnamese page shows as it is; an English page shows
// its entry in en. Where one Vietnamese text has two English ones, the key
// names its context before a bar ("nav|Cơ quan"). args fill the text's verbs.
func translate(lang, key string, args ...any) string {
	s, ok := "", false
	if lang == "en" {
		s, ok = en[key]
	}
	if !ok {
		s = key[strings.IndexByte(key, '|')+1:]
	}
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// langOf is the language of a console request: set by language.
func langOf(c *fiber.Ctx) string {
	if l, ok := c.Locals("lang").(string); ok {
		return l
	}
	return languages[0]
}

func other(lang string) string {
	if lang == "en" {
		return "vi"
	}
	return "en"
}

// langCookie keeps an operator's choice of language.
const langCookie = "gw_lang"

// language picks a console request's language: ?lang= (kept in a cookie),
// else the cookie, else Vietnamese.
func language(c *fiber.Ctx) error {
	lang := c.Cookies(langCookie)
	if q := c.Query("lang"); q == "vi" || q == "en" {
		lang = q
		c.Cookie(&fiber.Cookie{Name: langCookie, Value: q, Path: "/console", MaxAge: 365 * 24 * 3600, SameSite: "Lax"})
	}
	if lang != "en" {
		lang = "vi"
	}
	c.Locals("lang", lang)
	return c.Next()
}

// switchLink is this page in the other language ("" after a POST, whose
// page cannot be fetched again).
func switchLink(c *fiber.Ctx) string {
	if c.Method() != fiber.MethodGet {
		return ""
	}
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Set("lang", other(langOf(c)))
	return c.Path() + "?" + q.Encode()
}

// en is the console in English, keyed by the Vietnamese text.
var en = map[string]string{
	"%+.2f điểm so với %s–%s":                             "%+.2f points against %s–%s",
	"%d phàn nàn · %d khen · %d nêu":                      "%d complaints · %d praise · %d mentions",
	"%d đơn vị dưới %d phiếu, chưa xếp hạng":              "%d with fewer than %d responses: too few answers to rank",
	"(trong khoảng tin cậy)":                              "(within the intervals)",
	"(vượt khoảng tin cậy)":                               "(beyond the intervals)",
	"Bí mật đã đặt":                                       "Secrets set",
	"Bí mật, mỗi dòng key=value (để trống để giữ nguyên)": "Secrets, one key=value a line (empty keeps the stored ones)",
	"Bật":                      "Enabled",
	"Bỏ qua":                   "Dismiss",
	"Cao (4–5)":                "High (4–5)",
	"Chuyển sang SMS":          "Sent by SMS instead",
	"Chưa có dữ liệu":          "No data yet",
	"Chưa có tin nhắn nào":     "No messages yet",
	"Chưa có ý kiến nào khớp.": "No comments match.",
	"Chỉ số hài lòng":          "Satisfaction index",
	"Chỉ số thành phần":        "Indicators",
	"Chờ gửi":                  "Queued",
	"Chờ trả lời":              "Pending",
	"Chờ đọc":                  "Open",
	"Chủ đề":                   "Topics",
	"Chủ đề cần theo dõi":      "Watched topic",
	"Chủ đề ý kiến":            "Comment topics",
	"Chủ đề ý kiến: số ý kiến phàn nàn": "Comment topics: complaints",
	"col|Lời mời":                 "Invitations",
	"col|Phàn nàn":                "Complaints",
	"Cài đặt":                     "Settings",
	"Cài đặt, mỗi dòng key=value": "Settings, one key=value a line",
	"Các khoá API":                "API keys",
	"Các lời mời dưới đây mang mã cơ quan chưa có trong danh sách. Hãy đặt tên và cấp trên để báo cáo tính vào đúng cây cơ quan.": "Invitations name these agency codes, which nobody registered: name them and place them in the tree below.",
	"Công dân chấm câu trả lời":   "Citizens' rating of answers",
	"Công dân gửi":                "From the citizen",
	"Công dân đánh giá":           "Citizen's rating",
	"Cũ hơn":                      "Older",
	"Cơ quan":                     "Agency",
	"Cơ quan có chỉ số thấp nhất": "Lowest agencies",
	"Cơ quan cấp trên hoặc cấp tỉnh sẽ đọc tin này.": "A parent agency or the province reads this one.",
	"Cơ quan thấp nhất":      "Lowest agencies",
	"Cấp":                    "Level",
	"Cấp trên":               "Parent",
	"Dòng cho bảng kiểm thử": "Line for the reader's test table",
	"Dùng lần cuối":          "Last used",
	"Dùng lệnh In của trình duyệt, khổ A4": "Use the browser's Print, A4",
	"Ghi chú":             "Notes",
	"Ghi chú (không gửi)": "Note (not sent)",
	"Ghi chú nội bộ":      "Internal note",
	"Ghi điểm":            "Enter scores",
	"Giao":                "Assign",
	"Giao xử lý":          "Assign",
	"Gửi":                 "Sends",
	"Gửi lỗi":             "Failed",
	"Gửi qua":             "Send through",
	"Gửi trả lời":         "Send the answer",
	"Hoàn thành":          "Completed",
	"Hạn":                 "Due",
	"Hạn xử lý":           "Due",
	"Hết hạn":             "Expired",
	"Hồ sơ":               "Dossier",
	"Hồ sơ %s":            "Case %s",
	"Hồ sơ cần theo dõi":  "Cases opened",
	"Hội thoại":           "Conversation",
	"In mã QR":            "Print QR codes",
	"Khen":                "Praise",
	"khen":                "praise",
	"Khoá":                "Key",
	"Khoá & người dùng":   "Keys & users",
	"Khoá API":            "API key",
	"Khoá hoặc mật khẩu không đúng":     "Wrong key or password",
	"Khoá mới (chỉ hiện một lần)":       "New key, shown once",
	"Không có hồ sơ theo dõi nào khớp.": "No cases match.",
	"không có phiếu cho mã hồ sơ này":   "no invitation for this dossier code",
	"Không có tin nào.":                 "Nothing here.",
	"không có điểm":                     "holds no scores",
	"Không gửi":                         "Skipped",
	"Không gửi, chỉ in":                 "Print only",
	"Không tìm thấy: %s":                "Not found: %s",
	"không ý kiến":                      "no opinion",
	"Khảo sát":                          "Survey",
	"Kênh":                              "Channel",
	"Loại":                              "Type",
	"Lý do":                             "Reason",
	"Lưu":                               "Save",
	"Lịch sử":                           "History",
	"Lọc":                               "Filter",
	"Lọc hồ sơ theo dõi":                "Filter cases",
	"Lọc ý kiến":                        "Filter comments",
	"Lời mời":                           "Invitation",
	"Mã":                                "Code",
	"Mã chưa đăng ký":                   "Codes not registered",
	"Mã hồ sơ":                          "Dossier code",
	"Mã hồ sơ, mỗi dòng một mã":         "Dossier codes, one a line",
	"mã không in được":                  "codes could not be printed",
	"Mã kênh":                           "Channel id",
	"Mã QR":                             "QR codes",
	"mã sẽ được in":                     "codes to print",
	"Mã thủ tục (nếu có)":               "Procedure code, optional",
	"Mẫu khảo sát":                      "Survey",
	"Mật khẩu":                          "Password",
	"Mật khẩu (≥ 10 ký tự)":             "Password (10+ characters)",
	"Mới":                               "Open",
	"Mở lúc":                            "Opened",
	"Mở lại":                            "Reopen",
	"Mục":                               "Item",
	"Mức điểm":                          "Score",
	"nav|Cơ quan":                       "Agencies",
	"nav|Kênh":                          "Channels",
	"nav|Ý kiến":                        "Comments",
	"ngoài phạm vi cơ quan của bạn":     "outside your agencies",
	"Ngày làm việc đến trả lời (trung vị)": "Median working days to answer",
	"Người dùng":              "Users",
	"Người xử lý":             "Assignee",
	"Nhập":                    "Import",
	"Nhập CSV":                "Import CSV",
	"Nêu":                     "Mentions",
	"nêu":                     "mention",
	"Nội dung":                "Text, at most 1,000 characters",
	"Phiếu khảo sát":          "Invitations",
	"Phiếu trả lời":           "Responses",
	"Phiếu trả lời theo kênh": "Responses by channel",
	"Phàn nàn":                "Complaint",
	"phàn nàn":                "complaint",
	"Phàn nàn theo tháng":     "Complaints by month",
	"phần tin SMS đã gửi":     "SMS parts sent",
	"quá %d mã một trang in":  "over %d codes a sheet",
	"quá hạn":                 "overdue",
	"Quá hạn":                 "Overdue only",
	"Quá hạn trước, rồi theo hạn xử lý": "Overdue first, then by due date",
	"sắp đến hạn":                       "due soon",
	"Số liệu":                           "Figures",
	"Số mã mỗi trang":                   "Per page",
	"Số mã mỗi trang A4":                "Codes per A4 page",
	"Số điện thoại (nếu gửi tin)":       "Phone, to send it",
	"Theo dõi":                          "Follow-up",
	"Theo dõi, phản hồi":                "Follow-up cases",
	"Theo kênh":                         "Channel mix",
	"Thu hồi":                           "Revoke",
	"Thêm hoặc sửa":                     "Add or edit",
	"Thêm hoặc sửa kênh":                "Add or edit a channel",
	"Thấp (dưới 3)":                     "Low (under 3)",
	"Thời gian":                         "Time",
	"Thủ tục có chỉ số thấp nhất":       "Lowest procedures",
	"Thủ tục thấp nhất":                 "Lowest procedures",
	"Tin chưa đọc được":                 "Not understood",
	"Tin nhắn SMS và Zalo mà hệ thống chưa đọc được điểm. Đọc tin của công dân rồi ghi điểm họ muốn chấm; điểm được lưu cùng tin gốc và tên người ghi. Cơ quan được đánh giá không tự ghi điểm cho mình: cơ quan cấp trên hoặc cấp tỉnh ghi.": "SMS and Zalo replies the gateway could not read. Read the citizen's message and enter the scores they meant; they are stored with the original message and your name. The agency being rated cannot enter its own: a parent agency or the province does.",
	"Tin trả lời":        "Reply",
	"Tiêu chí":           "Criteria",
	"Tiêu chí điểm thấp": "Low criterion",
	"Tiếp nhận, xử lý phản ánh (tiêu chí E)": "Follow-up of unhappy answers (criterion E)",
	"Tiền tố":                    "Prefix",
	"Tra cứu":                    "Look up",
	"Tra cứu theo mã hồ sơ":      "Look up by dossier code",
	"Trung bình (3)":             "Middle (3)",
	"Trạng thái":                 "Status",
	"Trả lời":                    "Answer",
	"Trả lời công dân":           "Answer the citizen (sent by SMS)",
	"Trả lời phản ánh":           "Case answer",
	"Trả lời đúng hạn":           "Answered in time",
	"Tài khoản":                  "Account",
	"Tên":                        "Name",
	"Tên ngắn (tối đa 20 ký tự)": "Short name (at most 20 characters)",
	"Tên tiếng Anh":              "Name (English)",
	"Tên tiếng Việt":             "Name (Vietnamese)",
	"Tên đăng nhập":              "Username",
	"Tìm":                        "Search (with or without diacritics)",
	"Tạo":                        "Create",
	"Tạo khoá":                   "Create a key",
	"Tạo lúc":                    "Created",
	"Tạo người dùng":             "Create a user",
	"Tạo phiếu và in mã QR":      "Make an invitation and print its QR code",
	"Tạo trang in":               "Make the sheet",
	"Tạo và in":                  "Make and print",
	"Tải CSV":                    "Download CSV",
	"Tất cả":                     "All",
	"Tất cả các mẫu":             "All forms",
	"Tỉ lệ hài lòng theo chỉ số thành phần": "Satisfaction by indicator",
	"Tỉ lệ hài lòng theo tiêu chí":          "Satisfaction by criterion",
	"Tỉ lệ phản hồi":                        "Response rate",
	"Tổng quan":                             "Dashboard",
	"Từ":                                    "From",
	"Từ chối nhận tin":                      "Opted out",
	"Từ tháng":                              "From",
	"Vai trò":                               "Role",
	"Xem":                                   "Show",
	"Xem dạng bảng":                         "Show as a table",
	"Xem hồ sơ theo dõi":                    "See the cases",
	"Xoá":                                   "Delete",
	"Xu hướng theo tháng":                   "Monthly trend",
	"Ý kiến":                                "Comment",
	"Ý kiến của công dân (nếu có)":          "The citizen's comment, if any",
	"Ý kiến mới nhất trước":                 "Newest first; phone numbers are never shown",
	"Ý kiến theo chủ đề, phàn nàn theo tháng": "Comments by topic; complaints by month",
	"Đang thử lại":        "Retrying",
	"Đang trả lời":        "In progress",
	"Đang xử lý":          "In progress",
	"Điểm TB":             "Mean score",
	"Điểm thấp":           "Low score",
	"Điểm trung bình":     "Mean score",
	"Điểm đã ghi":         "Scores entered",
	"Đã bỏ qua":           "Dismissed",
	"Đã ghi điểm":         "Resolved",
	"Đã gửi":              "Sent",
	"Đã hoàn thành":       "Completed",
	"Đã mở lại":           "Reopened",
	"đã thu hồi":          "revoked",
	"Đã trả lời":          "Answered",
	"Đã trả lời trước đó": "Answered before",
	"Đã đóng":             "Closed",
	"Đã đến máy":          "Delivered",
	"Đóng":                "Close",
	"Đăng nhập":           "Sign in",
	"Đăng nhập sai quá nhiều lần; thử lại sau %s": "Too many failed sign-ins; try again in %s",
	"Đăng xuất": "Sign out",
	"Đường dẫn": "Link",
	"Đến":       "To",
	"Đến tháng": "To",
	"đã huỷ":    "revoked",
	"Tên quầy":  "Desk name",
	"Mở /kiosk trên máy tính bảng của quầy và nhập mã này trong 15 phút. Mã chỉ dùng được một lần.": "Open /kiosk on the desk's tablet and enter this code within 15 minutes. It works once.",
	"Cán bộ (nếu có)":        "Officer, optional",
	"Quầy":                   "Desks",
	"đầy đủ":                 "full",
	"Lưu và tạo mã ghép nối": "Save and make a pairing code",
	"Mã ghép nối cho %s":     "Pairing code for %s",
	"Mã quầy":                "Desk id",
	"Cán bộ":                 "Officer",
	"rút gọn":                "short",
	"Chưa có quầy nào.":      "No desks yet.",
	"Máy tính bảng ở quầy cho công dân đánh giá hồ sơ vừa nhận. Phần mềm một cửa gọi POST /api/v1/desks/{id}/present khi trả hồ sơ, hoặc cán bộ nhập mã hồ sơ trên máy.": "A tablet at the desk lets the citizen rate the dossier just handed back. The one-stop desk software calls POST /api/v1/desks/{id}/present when it returns a dossier, or the officer types the dossier code on the tablet.",
	"Quầy, máy đã ghép nối và kết quả 12 tháng (xếp hạng khi có ít nhất %d phiếu)":                                                                                       "Desks, paired tablets and the last twelve months (ranked from %d responses)",
	"Máy tính bảng":        "Tablets",
	"Huỷ ghép nối":         "Unpair",
	"Mẫu":                  "Form",
	"Quầy và máy đánh giá": "Desks and kiosks",
	"Thêm hoặc sửa quầy (cho mã ghép nối mới)": "Add or edit a desk (gives a new pairing code)",
	"chưa đủ phiếu để xếp hạng":                "too few answers to rank",
	"Quầy có chỉ số thấp nhất":                 "Lowest desks",
	"Cán bộ có chỉ số thấp nhất":               "Lowest officers",
	"Quầy và cán bộ (máy đánh giá tại quầy)":   "Desks and officers (kiosk answers)",
	"có mã PIN cán bộ":                         "officer PIN set",
	"Mã PIN cán bộ, 6–8 chữ số (để cán bộ hiện hồ sơ từ máy; để trống: giữ nguyên)":                                     "Officer PIN, 6–8 digits (lets the officer show dossiers from the tablet; empty keeps it)",
	"Mỗi trả lời tối đa %d phần tin SMS, kể cả lời chào và câu mời đánh giá; mỗi hồ sơ tối đa %d trả lời trong 24 giờ.": "An answer takes at most %d SMS parts, greeting and rating line included; a case sends at most %d answers in 24 hours.",
	"Còn %d lần.": "%d left.",
	"Đã gửi đủ; trả lời tiếp sau %s.":                           "None left; answer again after %s.",
	"Công dân sẽ nhận":                                          "The citizen will receive",
	"%d phần tin SMS (%s, %d ký tự)":                            "%d SMS parts (%s, %d characters)",
	"%d phần tin SMS (%s, %d ký tự): quá %d phần, hãy rút ngắn": "%d SMS parts (%s, %d characters): over %d, shorten it",
	"Gửi trong khung chat, không tính phần tin SMS":             "Sent in the chat: no SMS parts",
	"Sẽ không gửi được":                                         "Will not be sent",
	"Xem trước số phần tin SMS":                                 "Preview the SMS parts",
	// The integrity panel and the review queue.
	"Bạn không xem xét được phiếu này: cơ quan được đánh giá không tự xem xét phiếu của mình, cơ quan cấp trên hoặc cấp tỉnh xem xét.": "You cannot review this answer: the agency being rated never reviews its own; a parent agency or the province does.",
	"Bỏ cờ":                     "Cleared",
	"Bỏ cờ: phiếu của công dân": "Clear: the citizen's answer",
	"Chờ xem xét":               "Pending review",
	"Cán bộ nhập từ tin nhắn":   "Entered by an operator from the citizen's message",
	"Cùng một số điện thoại trả lời từ 3 hồ sơ trở lên trong 30 ngày, không phải hồ sơ gửi đến số đó": "One phone answered 3 or more dossiers in 30 days that were not sent to it",
	"Cùng một trình duyệt trả lời từ 3 hồ sơ trở lên trong một ngày":                                  "One browser answered 3 or more dossiers in a day",
	"Cùng địa chỉ tạo phiếu":            "Creator's address",
	"Dấu hiệu":                          "Signals",
	"Ghi chú quá dài: tối đa %d ký tự.": "The note is too long: at most %d characters.",
	"Gắn cờ thêm":                       "Flag added",
	"Gửi từ chính địa chỉ đã tạo phiếu qua API, trong vòng một ngày":                                 "Sent from the address that created the invitation through the API, within a day",
	"Gửi từ mạng nội bộ của cơ quan (dải địa chỉ cơ quan đã đăng ký)":                                "Sent from an agency's own network (the staff networks it registered)",
	"Hoàn thành quá nhanh: dưới 2 giây mỗi câu (mặc định), hoặc nhanh hơn hẳn các phiếu khác":        "Completed too fast: under 2 seconds a question (the default), or far faster than the other answers",
	"Hãy ghi lý do (đã kiểm tra những gì) trước khi xác nhận hoặc bỏ cờ: việc xem xét được lưu vết.": "Say why (what was checked) before confirming or clearing: every review is audited.",
	"Không có phiếu gắn cờ nào khớp.":                                                                "No flagged answers match.",
	"Không tìm thấy phiếu trả lời này.":                                                              "This answer was not found.",
	"Lý do (bắt buộc, được lưu vết)":                                                                 "Why (required, audited)",
	"Lọc phiếu gắn cờ":                    "Filter flagged answers",
	"Máy tính bảng tại quầy":              "The desk's tablet",
	"Máy tại quầy quá nhanh":              "Kiosk too fast",
	"Mã QR hoặc đường dẫn":                "QR code or survey link",
	"Mã hồ sơ, từ số điện thoại lạ":       "Dossier code, from an unknown phone",
	"Mạng nội bộ cơ quan":                 "Office network",
	"Một số điện thoại, nhiều hồ sơ":      "One phone, many dossiers",
	"Một trình duyệt, nhiều hồ sơ":        "One browser, many dossiers",
	"Mới hơn":                             "Newer",
	"Nguồn gốc":                           "Provenance",
	"Phiếu %d–%d trên %d, mới nhất trước": "Answers %d–%d of %d, newest first",
	"Phiếu của chính cơ quan bạn: cơ quan cấp trên hoặc cấp tỉnh xem xét, để chỉ số khách quan.": "Your own agency's answer: a parent agency or the province reviews it, so the index stays objective.",
	"Phiếu giấy":   "Paper",
	"Phiếu gắn cờ": "Flagged answers",
	"Phiếu trả lời có dấu hiệu không phải do công dân điền. Phiếu vẫn được tính vào chỉ số cho đến khi cơ quan cấp trên của đơn vị được đánh giá, hoặc cấp tỉnh, xác nhận (phiếu ra khỏi chỉ số, vẫn có trong dữ liệu xuất) hoặc bỏ cờ (phiếu của công dân). Mỗi lần xem xét cần ghi lý do và được lưu vết.": "Answers with a sign that someone other than the citizen gave them. They count in the index until a parent of the rated agency, or the province, confirms them (they leave the index and stay in exports) or clears them (the citizen's). Every review needs a reason and is audited.",
	"Phiếu vừa thay đổi hoặc không còn cờ để xem xét; tải lại trang rồi thử lại.": "The answer just changed or has no flag left to review; reload the page and try again.",
	"Số trả lời nằm trong danh sách số điện thoại cán bộ của cơ quan":             "The answering phone is on the agency's staff list",
	"Số điện thoại chưa xác thực":                                                 "Unverified phone",
	"Số điện thoại cán bộ":                                                        "Staff phone",
	"Số điện thoại của phiếu":                                                     "The invitation's phone",
	"Toàn điểm cao nhất, không ý kiến":                                            "All top, no comment",
	"Trang": "Pages",
	"Trả lời bằng “DG <mã hồ sơ>” từ số điện thoại mà phiếu không biết":                        "Answered with “DG <dossier code>” from a phone the invitation never knew",
	"Trả lời ngay sau khi tạo phiếu":                                                           "Quick after creation",
	"Trả lời quá nhanh":                                                                        "Speeder",
	"Trả lời trên máy tính bảng tại quầy trong vòng 10 giây sau khi hiện hồ sơ (mặc định)":     "Answered on the desk's tablet within 10 seconds of the presentation (the default)",
	"Tỉ lệ phiếu chấm mức cao nhất ở mọi câu mà không ghi ý kiến cao hơn hẳn cơ quan của quầy": "A desk's or officer's share of answers all at the top without a comment, far above its agency's",
	"Tỉ lệ phiếu trên web hoàn thành trong 10 phút sau khi tạo phiếu cao hơn hẳn toàn tỉnh":    "A unit's share of web answers completed within 10 minutes of the invitation's creation, far above the province's",
	"Xác nhận": "Confirmed",
	"Xác nhận: không phải công dân trả lời (loại khỏi chỉ số)": "Confirm: not the citizen's answer (leaves the index)",
	"không ghi (phiếu lưu trước khi có nguồn gốc)":             "not recorded (saved before provenance was kept)",
	"mở sau %s giây":                          "opened after %s s",
	"xong sau %s giây, trả lời trong %s giây": "completed after %s s, answering for %s s",
	"Điểm từng câu":                           "Scores",
	"Đã bỏ cờ":                                "Cleared",
	"Đã xác nhận":                             "Confirmed",
}
