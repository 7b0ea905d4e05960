package survey

import "strings"

// gsm7Basic is GSM 03.38's basic character set; gsm7Ext are the extension
// characters that take two septets.
const (
	gsm7Basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext   = "^{}\\[~]|€\f"
)

// gsm7Septets gives an ASCII character's septets in GSM-7: 1 in the basic
// set, 2 in the extension, 0 outside. Characters beyond ASCII are looked
// up in the strings; nearly every reply is ASCII or leaves GSM-7 at its
// first Vietnamese letter, where the count stops.
var gsm7Septets = func() (t [128]uint8) {
	for _, r := range gsm7Basic {
		if r < 128 {
			t[r] = 1
		}
	}
	for _, r := range gsm7Ext {
		if r < 128 {
			t[r] = 2
		}
	}
	return t
}()

// SMSParts says how a text is encoded ("GSM-7" or "UCS-2") and how many SMS
// parts it costs: 160 GSM-7 septets in one part, 153 per part when split;
// one character outside GSM-7 makes it UCS-2, 70 in one part, 67 per part.
func SMSParts(text string) (encoding string, parts int) {
	septets := 0
	for _, r := range text {
		n := uint8(0)
		switch {
		case r < 128:
			n = gsm7Septets[r]
		case strings.ContainsRune(gsm7Basic, r):
			n = 1
		case strings.ContainsRune(gsm7Ext, r):
			n = 2
		}
		if n == 0 {
			return "UCS-2", split(utf16Units(text), 70, 67)
		}
		septets += int(n)
	}
	return "GSM-7", split(septets, 160, 153)
}

// utf16Units is text's length in UTF-16 code units: a character beyond
// the Basic Multilingual Plane is a surrogate pair.
func utf16Units(text string) int {
	units := 0
	for _, r := range text {
		units++
		if r > 0xFFFF {
			units++
		}
	}
	return units
}

func split(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}
