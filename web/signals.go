package web

import (
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
)

// signalLabel names a signal for the console, with one line on what
// raises it (in Vietnamese: translated when shown).
type signalLabel struct{ Name, Why string }

// signalLabels name the answers' signals (store.Flags) and the group
// signals (report.Signal*). The thresholds quoted are the defaults the
// README's "Integrity of the index" lists.
var signalLabels = map[string]signalLabel{
	store.FlagOfficeNetwork:   {"Mạng nội bộ cơ quan", "Gửi từ mạng nội bộ của cơ quan (dải địa chỉ cơ quan đã đăng ký)"},
	store.FlagCreatorAddress:  {"Cùng địa chỉ tạo phiếu", "Gửi từ chính địa chỉ đã tạo phiếu qua API, trong vòng một ngày"},
	store.FlagDeviceMany:      {"Một trình duyệt, nhiều hồ sơ", "Cùng một trình duyệt trả lời từ 3 hồ sơ trở lên trong một ngày"},
	store.FlagPhoneMany:       {"Một số điện thoại, nhiều hồ sơ", "Cùng một số điện thoại trả lời từ 3 hồ sơ trở lên trong 30 ngày, không phải hồ sơ gửi đến số đó"},
	store.FlagStaffPhone:      {"Số điện thoại cán bộ", "Số trả lời nằm trong danh sách số điện thoại cán bộ của cơ quan"},
	store.FlagUnverifiedPhone: {"Số điện thoại chưa xác thực", "Trả lời bằng “DG <mã hồ sơ>” từ số điện thoại mà phiếu không biết"},
	store.FlagSpeeder:         {"Trả lời quá nhanh", "Hoàn thành quá nhanh: dưới 2 giây mỗi câu (mặc định), hoặc nhanh hơn hẳn các phiếu khác"},
	store.FlagKioskFast:       {"Máy tại quầy quá nhanh", "Trả lời trên máy tính bảng tại quầy trong vòng 10 giây sau khi hiện hồ sơ (mặc định)"},
	report.SignalAllTop:       {"Toàn điểm cao nhất, không ý kiến", "Tỉ lệ phiếu chấm mức cao nhất ở mọi câu mà không ghi ý kiến cao hơn hẳn cơ quan của quầy"},
	report.SignalQuick:        {"Trả lời ngay sau khi tạo phiếu", "Tỉ lệ phiếu trên web hoàn thành trong 10 phút sau khi tạo phiếu cao hơn hẳn toàn tỉnh"},
}

// signalName is a signal's name in lang (its code if unknown).
func signalName(lang, code string) string {
	if l, ok := signalLabels[code]; ok {
		return translate(lang, l.Name)
	}
	return code
}

// legendRow is a signal as the pages' legend explains it.
type legendRow struct{ Code, Name, Why string }

// legend explains every answer signal, then the group signals.
func legend(lang string) (answers, groups []legendRow) {
	row := func(code string) legendRow {
		l := signalLabels[code]
		return legendRow{code, translate(lang, l.Name), translate(lang, l.Why)}
	}
	for _, f := range store.Flags {
		answers = append(answers, row(f))
	}
	return answers, []legendRow{row(report.SignalQuick), row(report.SignalAllTop)}
}
