package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/qr"
)

func sampleRows() []row {
	var rs []row
	for _, mode := range []string{"embedded", "servers"} {
		for _, n := range []int{10000, 100000, 1000000} {
			for i, sc := range []string{"baseline", "invitation create", "survey page load", "sipas report by agency"} {
				rps := math.Round(5000/float64(i+1)*10000/float64(n)*100) / 100 // as precise as the file keeps it
				rs = append(rs, row{Mode: mode, N: n, Scenario: sc, Requests: int64(rps * 6), Errors: int64(i), RPS: rps,
					P50ms: 1.5 * float64(n) / 10000, P99ms: 12.25 * float64(n) / 10000, Ratio: math.Round(rps/40000*1e5) / 1e5})
			}
		}
	}
	return rs
}

// Rows written with -csv read back the same, across two appends (one
// header) and with a scenario name that needs quoting.
func TestCSVRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scale.csv")
	want := sampleRows()
	want[1].Scenario = `report, "quoted"`
	if err := appendRows(path, want[:5]); err != nil {
		t.Fatal(err)
	}
	if err := appendRows(path, want[5:]); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if n := strings.Count(string(b), "mode,n,scenario"); n != 1 {
		t.Fatalf("%d header lines:\n%s", n, b)
	}
	got, err := readCSV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, want)
	}
	// From a run's results: the ratio is to that run's baseline.
	rs := []result{{name: "baseline", n: 1000, elapsed: time.Second, lat: []time.Duration{time.Millisecond}},
		{name: "invitation get", n: 250, errors: 2, elapsed: time.Second, lat: []time.Duration{2 * time.Millisecond, 4 * time.Millisecond}}}
	if err := appendCSV(path, "servers", 100000, rs); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	got, err = readCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if w := (row{Mode: "servers", N: 100000, Scenario: "invitation get", Requests: 250, Errors: 2, RPS: 250, P50ms: 4, P99ms: 4, Ratio: 0.25}); last != w {
		t.Fatalf("last row %+v, want %+v", last, w)
	}
}

// The chart is well-formed SVG with one line per scenario and mode in each
// panel (the baseline left out), and the table has a ratio to the smallest N.
func TestChartDrawsEveryScenarioAndMode(t *testing.T) {
	rs := sampleRows()
	for _, logRPS := range []bool{false, true} {
		var b bytes.Buffer
		writeSVG(&b, rs, logRPS)
		paths := map[string]int{}
		var panel string
		dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
		root := ""
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("not XML: %v\n%s", err, b.String())
			}
			if se, ok := tok.(xml.StartElement); ok {
				if root == "" {
					root = se.Name.Local
				}
				for _, a := range se.Attr {
					if se.Name.Local == "g" && a.Name.Local == "id" {
						panel = a.Value
					}
				}
				if se.Name.Local == "path" {
					paths[panel]++
				}
			}
		}
		if root != "svg" {
			t.Fatalf("root element %q", root)
		}
		if want := map[string]int{"panel-rps": 3 * 2, "panel-p99": 3 * 2}; !reflect.DeepEqual(paths, want) {
			t.Fatalf("paths by panel %v, want %v", paths, want)
		}
		for _, s := range []string{"survey page load", "embedded", "servers", "1M", "10k", "stroke-dasharray"} {
			if !strings.Contains(b.String(), s) {
				t.Fatalf("no %q in the chart", s)
			}
		}
	}
	var tb bytes.Buffer
	scaleTable(&tb, rs)
	if !strings.Contains(tb.String(), "vs 10k") || !strings.Contains(tb.String(), "0.010") || !strings.Contains(tb.String(), "1,000,000") {
		t.Fatalf("table:\n%s", tb.String())
	}
}

// Filler invitations are valid as the gateway makes them, the same
// invitation number gives the same dossier, and codes are unique and of
// the usual shape: <agency>-<YYMMDD of the day it was made>-<4 digits>.
func TestFillerInvitationsLookReal(t *testing.T) {
	now := time.Now().UTC()
	open, done, agencies, procs, codes := 0, 0, map[string]bool{}, map[string]bool{}, map[string]bool{}
	const n = 5000
	shape := regexp.MustCompile(`^000\.\d\d\.\d\d\.H49-(\d{6})-\d{4}$`)
	for i := range n {
		inv := fillInvitation(i, now)
		if _, err := qr.ParseToken(inv.Token); err != nil {
			t.Fatalf("token %q: %v", inv.Token, err)
		}
		if len(inv.ID) != 24 || inv.DossierCode != fillDossier(i, now) || codes[inv.DossierCode] {
			t.Fatalf("invitation %d: id %q dossier %q (want %q, once)", i, inv.ID, inv.DossierCode, fillDossier(i, now))
		}
		codes[inv.DossierCode] = true
		m := shape.FindStringSubmatch(inv.DossierCode)
		if m == nil || !strings.HasPrefix(inv.DossierCode, inv.AgencyCode+"-") || m[1] != inv.CreatedAt.In(vietnam).Format("060102") {
			t.Fatalf("invitation %d: dossier %q of agency %s made %s", i, inv.DossierCode, inv.AgencyCode, inv.CreatedAt.In(vietnam))
		}
		if inv.CreatedAt.After(now) || now.Sub(inv.CreatedAt) > 367*24*time.Hour || inv.ExpiresAt.Sub(inv.CreatedAt) != fillTTL {
			t.Fatalf("invitation %d: created %s expires %s", i, inv.CreatedAt, inv.ExpiresAt)
		}
		if inv.ExpiresAt.After(now) {
			open++
		}
		if inv.Status == "completed" {
			done++
			if inv.CompletedAt == nil || inv.CompletedAt.Before(inv.CreatedAt) || inv.CompletedAt.After(now) || (inv.CompletedVia != "web" && inv.CompletedVia != "sms") {
				t.Fatalf("invitation %d: completed %v via %q, created %s", i, inv.CompletedAt, inv.CompletedVia, inv.CreatedAt)
			}
		}
		agencies[inv.AgencyCode], procs[inv.ProcedureCode] = true, true
	}
	if open < n/20 || open > n/6 || done < n/4 || done > n*35/100 || len(agencies) < 50 || len(procs) < 150 {
		t.Fatalf("of %d: %d open, %d completed, %d agencies, %d procedures", n, open, done, len(agencies), len(procs))
	}
}
