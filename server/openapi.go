package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// operation describes one route for the OpenAPI document. Path parameters
// come from the path itself.
type operation struct {
	method, path, summary, tag string
	query                      []string // query parameter names
	body                       string   // request body schema name, or ""
	auth                       bool
	responses                  []int
}

var operations = []operation{
	{"get", "/healthz", "Liveness", "service", nil, "", false, []int{200}},
	{"get", "/readyz", "Readiness: Redis and MongoDB answer; warnings for channels that need an operator", "service", nil, "", false, []int{200, 503}},
	{"get", "/metrics", "Prometheus metrics", "service", nil, "", false, []int{200}},
	{"get", "/api/v1/openapi.json", "This document", "service", nil, "", false, []int{200}},
	{"post", "/api/v1/invitations", "Create a dossier's invitation (idempotent per dossier code)", "invitations", nil, "NewInvitation", true, []int{200, 201, 400, 401, 403}},
	{"get", "/api/v1/invitations", "Find an invitation by dossier code", "invitations", []string{"dossier_code"}, "", true, []int{200, 400, 401, 403, 404}},
	{"get", "/api/v1/invitations/{id}", "An invitation", "invitations", nil, "", true, []int{200, 401, 403, 404}},
	{"get", "/api/v1/invitations/{id}/qr.png", "The invitation's QR code (PNG)", "invitations", []string{"size"}, "", true, []int{200, 400, 401, 403, 404}},
	{"get", "/api/v1/invitations/{id}/messages", "The invitation's conversation: texts sent and received, SMS parts sent", "invitations", nil, "", true, []int{200, 401, 403, 404}},
	{"get", "/api/v1/surveys", "Survey definitions", "surveys", nil, "", true, []int{200, 401}},
	{"get", "/api/v1/surveys/{id}", "One survey definition", "surveys", nil, "", true, []int{200, 401, 404}},
	{"get", "/api/v1/reports/sipas", "The SIPAS index from roll-ups (format=csv for a spreadsheet)", "reports", []string{"agency", "from", "to", "channel", "procedure", "field", "survey", "group_by", "format"}, "", true, []int{200, 400, 401, 403}},
	{"get", "/api/v1/comments", "Citizens' comments, newest first, phone numbers redacted (format=csv for a spreadsheet)", "reports", []string{"agency", "from", "to", "channel", "band", "q", "before", "limit", "format"}, "", true, []int{200, 400, 401, 403}},
	{"get", "/api/v1/responses", "Normalised responses, streamed as CSV or JSON lines", "reports", []string{"agency", "from", "to", "channel", "survey", "format"}, "", true, []int{200, 400, 401, 403}},
	{"get", "/api/v1/agencies", "The agency tree", "agencies", nil, "", true, []int{200, 401}},
	{"get", "/api/v1/agencies/{code}", "One agency", "agencies", nil, "", true, []int{200, 401, 404}},
	{"put", "/api/v1/agencies/{code}", "Create or replace an agency", "agencies", nil, "Agency", true, []int{200, 400, 401, 403}},
	{"delete", "/api/v1/agencies/{code}", "Delete an agency without sub-agencies", "agencies", nil, "", true, []int{204, 401, 403, 404, 409}},
	{"post", "/api/v1/agencies/import", "Import agencies from CSV (code,name,name_en,parent,level)", "agencies", nil, "", true, []int{200, 400, 401, 403}},
	{"get", "/api/v1/channels", "Channels (secret names only)", "channels", nil, "", true, []int{200, 401, 403}},
	{"get", "/api/v1/channels/{id}", "One channel", "channels", nil, "", true, []int{200, 401, 403, 404}},
	{"put", "/api/v1/channels/{id}", "Create or replace a channel", "channels", nil, "Channel", true, []int{200, 400, 401, 403}},
	{"delete", "/api/v1/channels/{id}", "Delete a channel", "channels", nil, "", true, []int{204, 401, 403, 404}},
	{"post", "/api/v1/channels/{id}/test", "Check the provider credentials, or send a test message to {\"phone\"}", "channels", nil, "", true, []int{200, 400, 401, 403, 404, 502}},
	{"post", "/api/v1/keys", "Create an API key (its value is shown once)", "keys", nil, "Key", true, []int{201, 400, 401, 403}},
	{"get", "/api/v1/keys", "API keys (no values)", "keys", nil, "", true, []int{200, 401, 403}},
	{"delete", "/api/v1/keys/{id}", "Revoke an API key", "keys", nil, "", true, []int{204, 401, 403, 404}},
	{"post", "/api/v1/erasures", "Erase a citizen's phone number and its hashes; answers stay", "keys", nil, "Erasure", true, []int{200, 400, 401, 403}},
	{"get", "/api/v1/audit", "Who changed what and when", "keys", []string{"limit"}, "", true, []int{200, 401, 403}},
	{"get", "/api/v1/unread-replies", "Chat and SMS replies the gateway did not understand, newest first (phone masked)", "unread replies", []string{"status", "before", "limit"}, "", true, []int{200, 400, 401, 403}},
	{"get", "/api/v1/unread-replies/{id}", "One reply not understood, with its test-table line once resolved", "unread replies", nil, "", true, []int{200, 401, 403, 404}},
	{"post", "/api/v1/unread-replies/{id}/resolve", "Enter the scores the citizen meant (not by the rated agency's own keys)", "unread replies", nil, "UnreadInput", true, []int{200, 400, 401, 403, 404, 409, 410}},
	{"post", "/api/v1/unread-replies/{id}/dismiss", "Take a reply that holds no scores off the list", "unread replies", nil, "UnreadInput", true, []int{200, 401, 403, 404, 409}},
	{"get", "/s/{token}", "The survey page (HTML)", "survey page", []string{"step", "lang"}, "", false, []int{200, 404, 410}},
	{"post", "/s/{token}", "Submit answers (form-encoded)", "survey page", nil, "", false, []int{200, 303, 404, 410, 422}},
	{"get", "/s/{token}/done", "Thank-you page", "survey page", []string{"lang"}, "", false, []int{200, 303, 404}},
	{"get", "/static/app.css", "The survey page's stylesheet", "survey page", nil, "", false, []int{200}},
	{"post", "/webhooks/sms/{channel_id}", "Inbound SMS in the channel type's format", "webhooks", nil, "", false, []int{200, 400, 401, 404}},
	{"get", "/webhooks/sms/{channel_id}", "Inbound SMS by GET (eSMS MO)", "webhooks", nil, "", false, []int{200, 400, 401, 404}},
	{"post", "/webhooks/zalo/{channel_id}", "Zalo OA events", "webhooks", nil, "", false, []int{200, 401, 404, 503}},
}

var pathParam = regexp.MustCompile(`\{([a-z_]+)\}`)

func obj(props map[string]string, required ...string) map[string]any {
	p := map[string]any{}
	for k, t := range props {
		if strings.HasPrefix(t, "[]") {
			p[k] = map[string]any{"type": "array", "items": map[string]any{"type": t[2:]}}
		} else {
			p[k] = map[string]any{"type": t}
		}
	}
	o := map[string]any{"type": "object", "properties": p}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// openAPI builds the document once.
func openAPI() []byte {
	paths := map[string]map[string]any{}
	for _, op := range operations {
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(op.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		resp := map[string]any{}
		for _, code := range op.responses {
			r := map[string]any{"description": http.StatusText(code)}
			if code >= 400 && strings.HasPrefix(op.path, "/api/") {
				r["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}
			}
			resp[itoa(code)] = r
		}
		o := map[string]any{"summary": op.summary, "tags": []string{op.tag}, "responses": resp}
		if len(params) > 0 {
			o["parameters"] = params
		}
		if op.body != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + op.body}}}}
		}
		if !op.auth {
			o["security"] = []any{}
		}
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][op.method] = o
	}
	doc := map[string]any{
		"openapi":  "3.0.3",
		"info":     map[string]any{"title": "SIPAS survey gateway", "version": "1", "description": "Invitations, surveys, channels and the SIPAS index. See README.md."},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{
				"Error":         map[string]any{"type": "object", "properties": map[string]any{"error": obj(map[string]string{"code": "string", "message": "string", "field": "string"}, "code", "message")}},
				"NewInvitation": obj(map[string]string{"dossier_code": "string", "agency_code": "string", "procedure_code": "string", "field_code": "string", "phone": "string", "survey": "string", "locale": "string", "send": "[]string"}, "dossier_code", "agency_code"),
				"Agency":        obj(map[string]string{"name": "string", "name_en": "string", "parent": "string", "level": "string"}, "name"),
				"Channel":       map[string]any{"type": "object", "required": []string{"type"}, "properties": map[string]any{"type": map[string]any{"type": "string"}, "enabled": map[string]any{"type": "boolean"}, "settings": map[string]any{"type": "object"}, "secrets": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}}},
				"Erasure":       obj(map[string]string{"phone": "string"}, "phone"),
				"UnreadInput":   map[string]any{"type": "object", "properties": map[string]any{"scores": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "integer", "minimum": 0, "maximum": 5}}, "comment": map[string]any{"type": "string"}, "note": map[string]any{"type": "string"}}},
				"Key":           obj(map[string]string{"name": "string", "role": "string", "agency": "string"}, "name", "role"),
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
