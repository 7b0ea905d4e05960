package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// codesOf are the dossier codes of a list answer, in order.
func codesOf(t *testing.T, out map[string]any) []string {
	t.Helper()
	rows, ok := out["invitations"].([]any)
	if !ok {
		t.Fatalf("no invitations in %v", out)
	}
	var codes []string
	for _, r := range rows {
		codes = append(codes, r.(map[string]any)["dossier_code"].(string))
	}
	return codes
}

// search lists the invitations whose codes match q, as key.
func search(t *testing.T, g *gwtest.Gateway, key, query string) (int, map[string]any) {
	t.Helper()
	res, out := g.As(key, "GET", "/api/v1/invitations?"+query, nil)
	return res.StatusCode, out
}

// An operator finds a dossier by the start of its code, a middle part
// (the agency's last group and the date) or its sequence number, in
// either case; an agency's key sees only its subtree's dossiers.
func TestDossierSearch(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	justice, building := g.Key(t, "agency", "000.00.12.H49"), g.Key(t, "agency", "000.00.13.H49")
	for _, d := range [][2]string{
		{"000.00.12.H49-261205-0042", "000.00.12.H49"},
		{"000.00.12.H49-261205-0043", "000.00.12.H49"},
		{"000.00.12.H49-261130-0042", "000.00.12.H49"},
		{"000.01.12.H49-261205-0042", "000.01.12.H49"},
		{"000.00.13.H49-261205-0042", "000.00.13.H49"},
		{"G01-xd/2026_77", "000.00.13.H49"},
	} {
		g.Invite(d[0], d[1], nil)
	}
	for _, tc := range []struct {
		key, q string
		want   []string
	}{
		{gwtest.AdminKey, "000.00.12.H49-2612", []string{"000.00.12.H49-261205-0043", "000.00.12.H49-261205-0042"}}, // the start
		{gwtest.AdminKey, "000.00.12.H49-261205-0042", []string{"000.00.12.H49-261205-0042"}},                       // the whole code
		// By the matching part from the greatest, then newest first.
		{gwtest.AdminKey, "h49-261205", []string{"000.00.12.H49-261205-0043", "000.00.13.H49-261205-0042", "000.01.12.H49-261205-0042", "000.00.12.H49-261205-0042"}},
		{gwtest.AdminKey, "261130", []string{"000.00.12.H49-261130-0042"}},                                                                                      // the date
		{gwtest.AdminKey, "0042", []string{"000.00.13.H49-261205-0042", "000.01.12.H49-261205-0042", "000.00.12.H49-261130-0042", "000.00.12.H49-261205-0042"}}, // the number
		{gwtest.AdminKey, "xd/2026", []string{"G01-xd/2026_77"}},
		{gwtest.AdminKey, "2026_7", []string{"G01-xd/2026_77"}},
		{justice, "0042", []string{"000.01.12.H49-261205-0042", "000.00.12.H49-261130-0042", "000.00.12.H49-261205-0042"}}, // its subtree only
		{building, "0042", []string{"000.00.13.H49-261205-0042"}},
		{building, "000.00.12", []string{}},
		{gwtest.AdminKey, "0044", []string{}},
		{gwtest.AdminKey, "H49", []string{"000.00.12.H49-261205-0043", "000.00.13.H49-261205-0042", "000.01.12.H49-261205-0042", "000.00.12.H49-261205-0042", "000.00.12.H49-261130-0042"}},
		{gwtest.AdminKey, "2612", []string{"000.00.12.H49-261205-0043", "000.00.13.H49-261205-0042", "000.01.12.H49-261205-0042", "000.00.12.H49-261205-0042"}},
	} {
		status, out := search(t, g, tc.key, "q="+url.QueryEscape(tc.q))
		if status != 200 {
			t.Fatalf("q=%s: %d %v", tc.q, status, out)
		}
		if got := codesOf(t, out); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("q=%s as %s…: %q, want %q", tc.q, tc.key[:6], got, tc.want)
		}
		if out["complete"] != true || out["more"] != false {
			t.Errorf("q=%s: complete %v more %v", tc.q, out["complete"], out["more"])
		}
	}
	// Asking for another branch's agency is refused, naming it.
	if status, out := search(t, g, building, "q=0042&agency=000.00.12.H49"); status != 403 || errorOf(out)["field"] != "agency" {
		t.Errorf("another branch: %d %v", status, out)
	}
	// The lookup by the whole code stays as it was.
	if res, out := g.API("GET", "/api/v1/invitations?dossier_code=000.00.12.H49-261205-0042", nil); res.StatusCode != 200 || out["dossier_code"] != "000.00.12.H49-261205-0042" {
		t.Errorf("lookup: %d %v", res.StatusCode, out)
	}
}

// Hostile or useless queries get a 400 naming the field, never a scan.
func TestDossierSearchRefusesBadQueries(t *testing.T) {
	g := gwtest.New(t, "")
	g.Invite("000.00.12.H49-261205-0042", "000.00.12.H49", nil)
	for _, tc := range []struct{ query, field string }{
		{"q=.*", "q"},
		{"q=" + url.QueryEscape("0042|.*"), "q"},
		{"q=" + url.QueryEscape("[0042"), "q"},
		{"q=" + url.QueryEscape("0042\x00"), "q"},
		{"q=" + url.QueryEscape("00 42"), "q"},
		{"q=" + url.QueryEscape("số"), "q"},
		{"q=" + strings.Repeat("0", 3000), "q"},
		{"q=" + strings.Repeat("0", 65), "q"},
		{"q=42", "q"},
		{"q=", "q"},
		{"q=%20%20", "q"},
		{"status=done", "status"},
		{"channel=" + url.QueryEscape("$ne"), "channel"},
		{"cursor=zz", "cursor"},
		{"cursor=" + url.QueryEscape("2026-13~abc"), "cursor"},
		{"limit=0", "limit"},
		{"limit=1000", "limit"},
		{"from=2026-1", "from"},
	} {
		status, out := search(t, g, gwtest.AdminKey, tc.query)
		if status != 400 || errorOf(out)["field"] != tc.field {
			t.Errorf("%.60s: %d %v, want 400 naming %s", tc.query, status, out, tc.field)
		}
	}
	// A 10 KB query does not reach the search: its headers are refused.
	g.Listen()
	req, _ := http.NewRequest("GET", g.URL+"/api/v1/invitations?q="+strings.Repeat("0", 10<<10), nil)
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 431 {
		t.Errorf("10 KB query: %v %v, want 431", res, err)
	} else {
		res.Body.Close()
	}
	// An empty q is no search: the list.
	if status, out := search(t, g, gwtest.AdminKey, "limit=5"); status != 200 || len(codesOf(t, out)) != 1 {
		t.Errorf("list: %d %v", status, out)
	}
}

// Invitations list newest first, a page at a time by cursor, filtered
// by status, channel and months; a row links to the dossier's case.
func TestInvitationList(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	var made []string
	for i := range 7 {
		code := fmt.Sprintf("000.00.12.H49-261205-%04d", i)
		g.Invite(code, "000.00.12.H49", nil)
		made = append(made, code)
	}
	slices.Reverse(made)
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		status, out := search(t, g, gwtest.AdminKey, "limit=3&cursor="+url.QueryEscape(cursor))
		if status != 200 || pages > 5 {
			t.Fatalf("page %d: %d %v", pages, status, out)
		}
		got = append(got, codesOf(t, out)...)
		next, _ := out["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, made) {
		t.Errorf("pages: %q, want %q", got, made)
	}
	// An answered dossier: completed via web, with its case linked.
	tok := gwtest.Token(g.Invite("000.00.12.H49-261205-0100", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=2&D=1&E=1&comment="+url.QueryEscape("Hồ sơ bị chậm trễ")); res.StatusCode != 303 {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	g.Drain()
	status, out := search(t, g, gwtest.AdminKey, "status=completed&channel=web")
	if codes := codesOf(t, out); status != 200 || !slices.Equal(codes, []string{"000.00.12.H49-261205-0100"}) {
		t.Fatalf("completed via web: %d %v", status, out)
	}
	if row := out["invitations"].([]any)[0].(map[string]any); row["case_id"] == nil || row["case_id"] == "" {
		t.Errorf("no case linked: %v", row)
	}
	for _, q := range []string{"status=completed&channel=sms", "status=opted_out", "from=2020-01&to=2020-03"} {
		if status, out := search(t, g, gwtest.AdminKey, q); status != 200 || len(codesOf(t, out)) != 0 {
			t.Errorf("%s: %d %v", q, status, out)
		}
	}
	if status, out := search(t, g, gwtest.AdminKey, "status=pending&limit=200"); status != 200 || len(codesOf(t, out)) != 7 {
		t.Errorf("pending: %d %v", status, out)
	}
}

// A month past retention leaves the index at the sweep: its dossiers are
// no longer found, and nothing newer goes with it.
func TestSweptDossiersLeaveTheSearch(t *testing.T) {
	g := gwtest.New(t, "")
	g.Invite("000.00.12.H49-250105-0042", "000.00.12.H49", nil)
	retention := 180 * 24 * time.Hour
	g.Later(retention - 24*time.Hour) // within retention still
	if n, err := g.Core.Sweep(context.Background(), retention); err != nil || n.SearchMonths != 0 {
		t.Fatalf("sweep within retention: %+v %v", n, err)
	}
	g.Invite("000.00.12.H49-250705-0042", "000.00.12.H49", nil)
	if _, out := search(t, g, gwtest.AdminKey, "q=0042"); len(codesOf(t, out)) != 2 {
		t.Fatalf("before: %v", out)
	}
	g.Later(62 * 24 * time.Hour) // the first one's whole month is past retention now
	n, err := g.Core.Sweep(context.Background(), retention)
	if err != nil || n.SearchMonths != 1 {
		t.Fatalf("sweep: %+v %v", n, err)
	}
	for q, want := range map[string][]string{"q=0042": {"000.00.12.H49-250705-0042"}, "": {"000.00.12.H49-250705-0042"}, "q=250105": nil} {
		if _, out := search(t, g, gwtest.AdminKey, q); !slices.Equal(codesOf(t, out), want) {
			t.Errorf("%q after the sweep: %v", q, out)
		}
	}
}

// The backfill indexes invitations Redis lost (or that were filled
// straight into MongoDB), resumes where a run stopped, and run again
// changes nothing.
func TestSearchBackfill(t *testing.T) {
	g := gwtest.New(t, "")
	for i := range 1200 {
		if i%400 == 0 {
			g.Invite(fmt.Sprintf("000.00.12.H49-261205-%04d", i), "000.00.12.H49", nil)
		}
	}
	var invs []*store.Invitation
	for i := range 1200 {
		now := time.Now().UTC()
		invs = append(invs, &store.Invitation{ID: fmt.Sprintf("%024x", i+1), Token: fmt.Sprintf("tok-backfill-%d", i), DossierCode: fmt.Sprintf("BF-%04d", i),
			AgencyCode: "000.00.13.H49", Survey: "sipas", Locale: "vi", Status: store.StatusPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	}
	if err := g.Mongo.Invitations.InsertBulk(context.Background(), invs); err != nil {
		t.Fatal(err)
	}
	found := func(q string) int {
		_, out := search(t, g, gwtest.AdminKey, "q="+q+"&limit=200")
		return len(codesOf(t, out))
	}
	if found("BF-0") != 0 {
		t.Fatal("filled invitations found before the backfill")
	}
	// A run cut short after its first batch left its place.
	ctx := context.Background()
	if err := g.Core.Dossiers.Unmark(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g.Core.Dossiers.SetPlace(ctx, store.BackfillPlace{Done: 500, Last: "not-there"}); err != nil {
		t.Fatal(err)
	}
	if _, out := search(t, g, gwtest.AdminKey, "q=BF-0"); out["complete"] != false {
		t.Errorf("an index being built says it is complete: %v", out)
	}
	n, err := g.Core.IndexSearch(ctx, 180*24*time.Hour, false)
	if err != nil || n.Invitations != 1203 {
		t.Fatalf("backfill from a place not found again: %+v %v, want all 1203", n, err)
	}
	if got := found("BF-0"); got != 50 {
		t.Errorf("BF-0 after the backfill: %d, want 50 (capped)", got)
	}
	if _, out := search(t, g, gwtest.AdminKey, "q=BF-0"); out["more"] != true || out["complete"] != true {
		t.Errorf("capped search: more %v complete %v", out["more"], out["complete"])
	}
	members := func() int64 {
		var all int64
		for _, a := range []string{"000.00.12.H49", "000.00.13.H49"} {
			c, err := g.Core.Dossiers.R.ZCard(ctx, "gw:dossiers:"+g.Core.Dossiers.Name+":"+a+":"+store.MonthOf(time.Now())).Result()
			if err != nil {
				t.Fatal(err)
			}
			all += c
		}
		return all
	}
	before := members()
	// Resumed from a place it recorded: only what follows it is read.
	if err := g.Core.Dossiers.Unmark(ctx); err != nil {
		t.Fatal(err)
	}
	last, err := g.Mongo.Invitations.StoredAt(ctx, 999)
	if err != nil || last == "" {
		t.Fatal(last, err)
	}
	if err := g.Core.Dossiers.SetPlace(ctx, store.BackfillPlace{Done: 1000, Last: last}); err != nil {
		t.Fatal(err)
	}
	if n, err := g.Core.IndexSearch(ctx, 180*24*time.Hour, false); err != nil || n.Invitations != 203 {
		t.Fatalf("resumed: %+v %v, want the last 203", n, err)
	}
	// Forced again (gateway rebuild): the same members, none twice.
	if n, err := g.Core.IndexSearch(ctx, 180*24*time.Hour, true); err != nil || n.Invitations != 1203 {
		t.Fatalf("forced: %+v %v", n, err)
	}
	// 000.00.12.H49-261205-0000: the code, H49-…, 261205-…, 0000 and the
	// list's; BF-0000: the code, 0000 and the list's.
	if after := members(); after != before || before != 3*5+1200*3 {
		t.Errorf("members %d before, %d after a second run, want %d", before, after, 3*5+1200*3)
	}
}

// Cases are found by words of their text with or without diacritics, by
// their assignee and by a part of their dossier code, each within the
// key's subtree, and by what they have now (a replaced assignee no more).
func TestCaseSearch(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	answer := func(dossier, agency, comment string) string {
		t.Helper()
		tok := gwtest.Token(g.Invite(dossier, agency, map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, "A=1&B=2&C=1&D=1&E=1&comment="+url.QueryEscape(comment)); res.StatusCode != 303 {
			t.Fatalf("answer %s: %d", dossier, res.StatusCode)
		}
		return dossier
	}
	answer("000.00.12.H49-261205-0042", "000.00.12.H49", "Hồ sơ bị CHẬM TRỄ hai tuần")
	answer("000.00.12.H49-261205-0043", "000.00.12.H49", "Cán bộ thái độ không tốt")
	answer("000.00.13.H49-261205-0042", "000.00.13.H49", "Trả kết quả chậm trễ")
	g.Drain()
	cases := func(key, query string) []string {
		t.Helper()
		res, out := g.As(key, "GET", "/api/v1/cases?"+query, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %v", query, res.StatusCode, out)
		}
		var codes []string
		for _, c := range out["cases"].([]any) {
			codes = append(codes, c.(map[string]any)["dossier_code"].(string))
		}
		slices.Sort(codes)
		return codes
	}
	id := func(dossier string) string {
		res, out := g.API("GET", "/api/v1/cases?dossier="+dossier, nil)
		if res.StatusCode != 200 || len(out["cases"].([]any)) != 1 {
			t.Fatalf("case of %s: %d %v", dossier, res.StatusCode, out)
		}
		return out["cases"].([]any)[0].(map[string]any)["id"].(string)
	}
	if res, out := g.API("POST", "/api/v1/cases/"+id("000.00.12.H49-261205-0043")+"/assign", map[string]any{"assignee": "Trần Thị Lan"}); res.StatusCode != 200 {
		t.Fatalf("assign: %d %v", res.StatusCode, out)
	}
	justice := g.Key(t, "agency", "000.00.12.H49")
	for _, tc := range []struct {
		key, query string
		want       []string
	}{
		{gwtest.AdminKey, "q=cham+tre", []string{"000.00.12.H49-261205-0042", "000.00.13.H49-261205-0042"}},
		{gwtest.AdminKey, "q=" + url.QueryEscape("chậm trễ"), []string{"000.00.12.H49-261205-0042", "000.00.13.H49-261205-0042"}},
		{gwtest.AdminKey, "q=cham+tr+tuan", []string{"000.00.12.H49-261205-0042"}}, // a word's start
		{gwtest.AdminKey, "q=cham+vui", nil},
		{justice, "q=cham+tre", []string{"000.00.12.H49-261205-0042"}},
		{gwtest.AdminKey, "assignee=lan", []string{"000.00.12.H49-261205-0043"}},
		{gwtest.AdminKey, "assignee=" + url.QueryEscape("trần lan"), []string{"000.00.12.H49-261205-0043"}},
		{gwtest.AdminKey, "dossier=0042", []string{"000.00.12.H49-261205-0042", "000.00.13.H49-261205-0042"}},
		{gwtest.AdminKey, "dossier=h49-2612", []string{"000.00.12.H49-261205-0042", "000.00.12.H49-261205-0043", "000.00.13.H49-261205-0042"}},
		{justice, "dossier=0042&q=tre", []string{"000.00.12.H49-261205-0042"}},
		{gwtest.AdminKey, "dossier=0042&status=closed", nil},
	} {
		if got := cases(tc.key, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s as %s…: %q, want %q", tc.query, tc.key[:6], got, tc.want)
		}
	}
	// Given to someone else, the case is no longer Lan's.
	if res, out := g.API("POST", "/api/v1/cases/"+id("000.00.12.H49-261205-0043")+"/assign", map[string]any{"assignee": "Lê Văn Minh"}); res.StatusCode != 200 {
		t.Fatalf("assign: %d %v", res.StatusCode, out)
	}
	if got := cases(gwtest.AdminKey, "assignee=lan"); got != nil {
		t.Errorf("lan after reassigning: %q", got)
	}
	for _, q := range []string{"q=" + url.QueryEscape("..."), "q=" + url.QueryEscape(strings.Repeat("a ", 150)), "dossier=" + url.QueryEscape(".*"), "dossier=42"} {
		if res, out := g.API("GET", "/api/v1/cases?"+q, nil); res.StatusCode != 400 {
			t.Errorf("%.40s: %d %v, want 400", q, res.StatusCode, out)
		}
	}
}
