package server_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

func get(g *gwtest.Gateway, key, path string) (int, string, string) {
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res := g.Do(req)
	return res.StatusCode, res.Header.Get("Content-Type"), gwtest.Body(res)
}

func TestExports(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for i, ag := range []string{"000.01.12.H49", "000.00.13.H49"} {
		tok := gwtest.Token(g.Invite("D-EXP-"+ag, ag, map[string]any{"phone": "0912345678", "survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, "A=5&B=4&C=3&D=2&E=1&comment=Phòng chờ hơi nóng, cần thêm quạt"); res.StatusCode != 303 {
			t.Fatalf("submit %d: %d", i, res.StatusCode)
		}
	}
	g.Drain()
	status, ctype, body := get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&format=csv")
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || !strings.HasPrefix(body, "\ufeff") {
		t.Fatalf("csv: %d %s %q", status, ctype, body[:min(len(body), 40)])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("rows %v %v", rows, err)
	}
	head, row := rows[0], rows[1]
	if head[12] != "A" || head[17] != "comment" || row[12] != "5" || row[16] != "1" || row[17] != "Phòng chờ hơi nóng, cần thêm quạt" || row[8] != "web" {
		t.Fatalf("head %v row %v", head, row)
	}
	if !strings.HasSuffix(row[11], "+07:00") {
		t.Fatalf("submitted_at %q is not in Vietnam time with its offset", row[11])
	}
	if strings.Contains(body, "912345678") || row[10] == "" {
		t.Fatal("the export carries a phone number or lacks the respondent hash")
	}
	status, ctype, body = get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&format=jsonl&agency=000.00.12.H49")
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var first map[string]any
	if status != 200 || !strings.HasPrefix(ctype, "application/x-ndjson") || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &first) != nil || first["agency_code"] != "000.01.12.H49" {
		t.Fatalf("jsonl for a subtree: %d %s %v", status, ctype, lines)
	}
	justice := g.Key(t, "agency", "000.00.12.H49")
	if _, _, body := get(g, justice, "/api/v1/responses?survey=sipas-5&format=jsonl"); strings.Count(strings.TrimSpace(body), "\n") != 0 || !strings.Contains(body, "000.01.12.H49") {
		t.Fatalf("agency key export: %s", body)
	}
	if status, _, _ := get(g, justice, "/api/v1/responses?agency=000.00.13.H49"); status != 403 {
		t.Fatalf("agency key outside its tree: %d", status)
	}
	for q, field := range map[string]string{"format=xml": "format", "from=yesterday": "from", "survey=nps": "survey"} {
		if status, _, body := get(g, gwtest.AdminKey, "/api/v1/responses?"+q); status != 400 || !strings.Contains(body, `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s", q, status, body)
		}
	}
	if _, _, body := get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&from=2000-01-01&to=2000-12-31"); strings.Count(body, "\n") != 1 {
		t.Fatalf("date filter let rows through: %q", body)
	}
	status, _, body = get(g, gwtest.AdminKey, "/api/v1/reports/sipas?survey=sipas-5&format=csv")
	rows, _ = csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	// Topic rows come last: "Phòng chờ hơi nóng, cần thêm quạt" twice.
	topicRows := slices.DeleteFunc(slices.Clone(rows), func(r []string) bool { return r[0] != "topic" })
	if !slices.ContainsFunc(topicRows, func(r []string) bool { return r[2] == "facilities:complaint" && r[14] == "2" }) {
		t.Fatalf("report csv topic rows: %v", topicRows)
	}
	rows = slices.DeleteFunc(rows, func(r []string) bool { return r[0] == "topic" || strings.HasPrefix(r[0], "cases_") })
	if status != 200 || len(rows) != 1+2+5+5 || rows[1][0] != "overall" || rows[1][3] != "40.00" || rows[2][0] != "read_by_operators" || rows[2][14] != "0" || rows[3][1] != "A" || rows[3][13] != "2" {
		t.Fatalf("report csv: %d %v", status, rows)
	}
	// Every form in one file: criterion columns, then each form's own.
	tok := gwtest.Token(g.Invite("D-EXP-FULL", "000.00.13.H49", nil))
	if res := g.Form("/s/"+tok, answerAll("4")); res.StatusCode != 303 {
		t.Fatalf("full form: %d", res.StatusCode)
	}
	g.Drain()
	status, _, body = get(g, gwtest.AdminKey, "/api/v1/responses?survey=all&format=csv")
	rows, _ = csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if status != 200 || len(rows) != 4 {
		t.Fatalf("survey=all csv: %d %v", status, rows)
	}
	head = rows[0]
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, h := range []string{"criterion_A", "criterion_E", "sipas:A1", "sipas:E4", "sipas-5:A", "sipas-5:E", "comment"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("survey=all csv has no column %s: %v", h, head)
		}
	}
	for _, r := range rows[1:] {
		switch r[2] {
		case "sipas-5": // A=5 B=4 C=3 D=2 E=1
			if r[col["criterion_A"]] != "100.00" || r[col["criterion_C"]] != "0.00" || r[col["sipas-5:B"]] != "4" || r[col["sipas:A1"]] != "" {
				t.Fatalf("short form row %v", r)
			}
		case "sipas":
			if r[col["criterion_E"]] != "100.00" || r[col["sipas:E4"]] != "4" || r[col["sipas-5:A"]] != "" {
				t.Fatalf("full form row %v", r)
			}
		default:
			t.Fatalf("row of survey %s", r[2])
		}
	}
}

// GATEWAY_TIMEZONE moves the times exports show, offset included; report
// months stay Vietnamese.
func TestExportTimesInTheConfiguredZone(t *testing.T) {
	g := gwtest.New(t, "", func(c *config.Config) { c.Timezone = "Asia/Tokyo" })
	tok := gwtest.Token(g.Invite("D-TZ", "000.00.13.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=5&B=4&C=3&D=2&E=1"); res.StatusCode != 303 {
		t.Fatalf("submit %d", res.StatusCode)
	}
	g.Drain()
	_, _, body := get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&format=jsonl")
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &line); err != nil || !strings.HasSuffix(line["submitted_at"].(string), "+09:00") {
		t.Fatalf("jsonl submitted_at in Tokyo time: %v %v", line["submitted_at"], err)
	}
}
