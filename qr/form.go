package qr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// FormCode is what the QR of a printed paper form holds: the layout it was
// printed with (survey and layout version) and the invitation it answers.
// It carries the invitation's id, never its survey token, so a photograph
// of a form cannot be used to answer on the web; the check character
// catches an id misread or mistyped by hand.
type FormCode struct {
	Survey     string // survey id, lower case ("sipas", "sipas-5")
	Version    int    // layout version
	Invitation string // invitation id, 24 lower-case hex digits
}

// formPrefix tells our forms' codes from any other QR in a photograph
// (the survey link on the dossier receipt, a poster's).
const formPrefix = "SIPAS-PHIEU"

// ErrBadFormCode means a QR's text is not a form code we print.
var ErrBadFormCode = errors.New("not the code of a printed form")

// String is the QR's text: upper case, digits and ':' only, so the code is
// encoded in the QR's alphanumeric mode and stays small.
func (c FormCode) String() string {
	body := strings.ToUpper(c.Survey) + ":" + strconv.Itoa(c.Version) + ":" + strings.ToUpper(c.Invitation)
	return formPrefix + ":" + body + ":" + string(checkChar(body))
}

// ParseFormCode reads a form code, refusing any text whose check character
// does not match.
func ParseFormCode(s string) (FormCode, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 5 || parts[0] != formPrefix || len(parts[4]) != 1 {
		return FormCode{}, ErrBadFormCode
	}
	body := strings.Join(parts[1:4], ":")
	if checkChar(body) != parts[4][0] {
		return FormCode{}, ErrBadFormCode
	}
	v, err := strconv.Atoi(parts[2])
	if err != nil || v < 1 || v > 999 || parts[1] == "" || len(parts[1]) > 32 || !hexID(parts[3]) {
		return FormCode{}, ErrBadFormCode
	}
	return FormCode{Survey: strings.ToLower(parts[1]), Version: v, Invitation: strings.ToLower(parts[3])}, nil
}

func hexID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'A' && s[i] <= 'F') {
			return false
		}
	}
	return true
}

// The check works over every character a code's body may hold, so a swap
// of a digit with a separator is caught too; its result is written in a
// set whose last character is '.', as ':' separates the fields.
const (
	alnum     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	bodyChars = alnum + "-:"
	checks    = alnum + "-."
)

// checkChar is the Luhn mod 38 check character of s: it catches any single
// changed character and a swap of two adjacent characters (all but one
// pair of values, as with every Luhn code).
func checkChar(s string) byte {
	const n = len(bodyChars)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		p := strings.IndexByte(bodyChars, s[i])
		if p < 0 {
			return 0 // never a check character: the code is refused
		}
		a := factor * p
		factor = 3 - factor
		sum += a/n + a%n
	}
	return checks[(n-sum%n)%n]
}

// Modules encodes content at medium error correction and returns its dark
// modules, row by row, without the quiet zone: for drawing the code as
// vectors (a printed form's code stays sharp at any printer resolution).
func Modules(content string) ([][]bool, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("encode qr: %w", err)
	}
	q.DisableBorder = true
	return q.Bitmap(), nil
}
