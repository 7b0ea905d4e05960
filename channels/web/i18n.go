package web

// words holds the page's fixed texts; survey texts come from the definition.
var words = map[string]map[string]string{
	"vi": {
		"brand":        "Khảo sát mức độ hài lòng",
		"step":         "Bước",
		"of":           "trên",
		"next":         "Tiếp tục",
		"back":         "Quay lại",
		"send":         "Gửi đánh giá",
		"required":     "chưa trả lời",
		"fix":          "Vui lòng trả lời các câu được đánh dấu bên dưới.",
		"comment_hint": "Không bắt buộc, tối đa 2.000 ký tự.",
		"privacy":      "Câu trả lời chỉ dùng để đo mức độ hài lòng; không công khai thông tin cá nhân.",
		"saved":        "Câu trả lời được lưu lại sau mỗi bước; ông/bà có thể quay lại sau.",
		"notfound_t":   "Không tìm thấy phiếu khảo sát",
		"notfound":     "Đường dẫn không đúng hoặc đã bị thay đổi. Vui lòng quét lại mã QR trên phiếu kết quả.",
		"gone_t":       "Phiếu khảo sát đã đóng",
		"gone":         "Phiếu khảo sát này không còn nhận câu trả lời.",
		"done_t":       "Cảm ơn ông/bà!",
		"done":         "Câu trả lời của ông/bà đã được ghi nhận. Ý kiến của ông/bà giúp cơ quan phục vụ tốt hơn.",
		"already_t":    "Phiếu đã được trả lời",
		"already":      "Cảm ơn ông/bà, phiếu khảo sát cho hồ sơ này đã được trả lời trước đó.",
		"retry_t":      "Vui lòng thử lại sau ít phút",
		"retry":        "Hệ thống đang bận. Câu trả lời của ông/bà chưa bị mất; vui lòng thử lại sau một phút.",
		"dossier":      "Hồ sơ",
		"rating":       "Đánh giá việc giải quyết hồ sơ tại",
		"slow":         "Có quá nhiều yêu cầu từ thiết bị này. Vui lòng thử lại sau một phút.",
		"answer_t":     "Phản hồi của cơ quan",
		"rate_q":       "Ông/bà hài lòng với câu trả lời này? (1 = rất không hài lòng, 5 = rất hài lòng)",
		"rated":        "Cảm ơn ông/bà đã đánh giá câu trả lời.",
	},
	"en": {
		"brand":        "Satisfaction survey",
		"step":         "Step",
		"of":           "of",
		"next":         "Continue",
		"back":         "Back",
		"send":         "Send my answers",
		"required":     "not answered",
		"fix":          "Please answer the questions marked below.",
		"comment_hint": "Optional, up to 2,000 characters.",
		"privacy":      "Your answers are used only to measure satisfaction; no personal details are published.",
		"saved":        "Your answers are kept after each step; you can come back later.",
		"notfound_t":   "Survey not found",
		"notfound":     "This link is wrong or was changed. Please scan the QR code on your result slip again.",
		"gone_t":       "This survey is closed",
		"gone":         "This survey no longer takes answers.",
		"done_t":       "Thank you!",
		"done":         "Your answers were recorded. They help the agency serve you better.",
		"already_t":    "Already answered",
		"already":      "Thank you, the survey for this dossier was already answered.",
		"retry_t":      "Please try again in a minute",
		"retry":        "The service is busy. Nothing you answered is lost; please try again in a minute.",
		"dossier":      "Dossier",
		"rating":       "How your dossier was handled at",
		"slow":         "Too many requests from this device. Please try again in a minute.",
		"answer_t":     "The agency's answer",
		"rate_q":       "Are you satisfied with this answer? (1 = very dissatisfied, 5 = very satisfied)",
		"rated":        "Thank you for rating the answer.",
	},
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "vi"
}
