package kiosk

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/sipasvn/gateway/core"
)

// The tablet's bodies are read here, apart from the handlers, so the
// fuzz targets (body_test.go) run what a request runs without a store.
// Only JSON is read: the tablet sends nothing else, and fiber's
// BodyParser would also take forms and XML on the unauthenticated
// pairing route.

// pairing is the body of POST /kiosk/api/pair: {"code": "1234 5678"}.
type pairing struct {
	Code string `json:"code"`
}

func readPairing(ctype string, body []byte) (pairing, error) {
	var in pairing
	if err := readJSON(ctype, body, &in); err != nil {
		return in, core.Errorf(core.Invalid, "code", "send {\"code\": \"12345678\"}")
	}
	return in, nil
}

func readPresentation(ctype string, body []byte) (Presentation, error) {
	var in Presentation
	if err := readJSON(ctype, body, &in); err != nil {
		return in, core.Errorf(core.Invalid, "dossier_code", "send {\"dossier_code\": \"…\", \"officer_pin\": \"…\"}")
	}
	return in, nil
}

// readAnswer reads and checks an answer (core.KioskAnswer.Check): its
// comment comes back cleaned.
func readAnswer(ctype string, body []byte) (core.KioskAnswer, error) {
	var in core.KioskAnswer
	if err := readJSON(ctype, body, &in); err != nil {
		return in, core.Errorf(core.Invalid, "answers", "send JSON: {\"idempotency_key\", \"invitation_id\", \"seq\", \"survey\", \"answers\": {\"A\": 5, …}, \"comment\"}")
	}
	return in, in.Check()
}

var errNotJSON = errors.New("the body is not sent as JSON")

func readJSON(ctype string, body []byte, v any) error {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ctype)), "application/json") {
		return errNotJSON
	}
	return json.Unmarshal(body, v)
}
