package survey

import "strings"

// gsm7Basic is GSM 03.38's basic character set; gsm7Ext are the extension
// characters that take two septets.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext   = "^{}\\[~]|€\f"
)

// SMSParts says how a text is encoded ("GSM-7" or "UCS-2") and how many SMS
// parts it costs: 160 GSM-7 septets in one part, 153 per part when split;
// one character outside GSM-7 makes it UCS-2, 70 in one part, 67 per part.
func SMSParts(text string) (encoding string, parts int) {
	septets, gsm := 0, true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsm7Basic, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		return "GSM-7", split(septets, 160, 153)
	}
	units := 0
	for _, r := range text {
		units++
		if r > 0xFFFF {
			units++ // a surrogate pair
		}
	}
	return "UCS-2", split(units, 70, 67)
}

func split(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
