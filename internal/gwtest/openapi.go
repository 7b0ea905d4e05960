package gwtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/sipasvn/gateway/server"
)

// The OpenAPI document the gateway serves, and a router over it, built once.
var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func documented() (routers.Router, error) {
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(server.OpenAPI("/"))
		if err != nil {
			specErr = err
			return
		}
		if specErr = doc.Validate(openapi3.NewLoader().Context); specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	return specRouter, specErr
}

// checkAnswer fails the test when an answer of a documented route is not
// what the OpenAPI document says: a status it does not list, a media type
// it does not list, or a JSON body (each line of JSON lines) its schema
// refuses. So a field added to a handler but not to the document fails the
// test that received it. res.Body is read and put back.
func (g *Gateway) checkAnswer(req *http.Request, res *http.Response) {
	g.T.Helper()
	router, err := documented()
	if err != nil {
		g.T.Fatalf("the OpenAPI document: %v", err)
		return
	}
	probe := req.Clone(req.Context())
	probe.URL.Scheme, probe.URL.Host, probe.Host = "", "", ""
	route, params, err := router.FindRoute(probe)
	if err != nil {
		return // not an API route (the console, a 404 for an unknown path)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return // a broken transfer is the test's own business
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	where := req.Method + " " + req.URL.Path
	answer := route.Operation.Responses.Status(res.StatusCode)
	if answer == nil || answer.Value == nil {
		g.T.Errorf("%s answered %d, a status the OpenAPI document does not list for %s", where, res.StatusCode, route.Operation.OperationID)
		return
	}
	if len(body) == 0 {
		return
	}
	mediaType, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	media := answer.Value.Content.Get(mediaType)
	if media == nil {
		g.T.Errorf("%s answered %d with %s, a media type the OpenAPI document does not list", where, res.StatusCode, mediaType)
		return
	}
	var lines [][]byte
	switch {
	case mediaType == "application/json":
		lines = [][]byte{body}
	case mediaType == "application/x-ndjson":
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	default:
		return // CSV, HTML, PNG, text: their type is checked above
	}
	in := &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route}
	for _, line := range lines {
		if mediaType == "application/x-ndjson" {
			var v any
			if err := json.Unmarshal(line, &v); err != nil {
				g.T.Errorf("%s: a JSON line that is not JSON: %v", where, err)
				return
			}
			if err := media.Schema.Value.VisitJSON(v); err != nil {
				g.T.Errorf("%s: a JSON line the OpenAPI document refuses: %v", where, err)
			}
			continue
		}
		err := openapi3filter.ValidateResponse(req.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(line)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		})
		if err != nil {
			g.T.Errorf("%s answered %d not as the OpenAPI document says: %v\nbody: %s", where, res.StatusCode, err, clip(line))
		}
	}
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return strings.TrimSpace(string(b))
}
