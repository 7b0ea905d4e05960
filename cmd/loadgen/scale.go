package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

// get reads invitations by id (GET /api/v1/invitations/{id}): ids when
// given (filler invitations picked at random), else 200 made through the
// API.
func (g *gen) get(ids []string) (maker, error) {
	if len(ids) == 0 {
		ids = make([]string, 200)
		err := parallel(g.conns, len(ids), func(w, i int) error {
			inv, err := g.api(w, "POST", "/api/v1/invitations", map[string]any{"dossier_code": fmt.Sprintf("LOAD-%s-G%06d", g.run, i), "agency_code": "000.00.12.H49", "survey": "sipas-5"})
			if err == nil {
				ids[i], _ = inv["id"].(string)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return func(w, i int) (*http.Request, error) {
		req, err := http.NewRequest("GET", g.target(w)+"/api/v1/invitations/"+ids[(w*7919+i)%len(ids)], nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+g.key)
		}
		return req, err
	}, nil
}

// report asks for the SIPAS report of the twelve months up to now, over
// every agency, or grouped (group_by=agency).
func (g *gen) report(now time.Time, groupBy string) maker {
	from := now.AddDate(0, -11, 0).Format("2006-01")
	path := "/api/v1/reports/sipas?from=" + from + "&to=" + now.Format("2006-01")
	if groupBy != "" {
		path += "&group_by=" + groupBy
	}
	return func(w, _ int) (*http.Request, error) {
		req, err := http.NewRequest("GET", g.target(w)+path, nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+g.key)
		}
		return req, err
	}
}

// row is one scenario's figures in a -csv file.
type row struct {
	Mode         string
	N            int
	Scenario     string
	Requests     int64
	Errors       int64
	RPS          float64
	P50ms, P99ms float64
	Ratio        float64 // req/s ÷ the baseline's in the same run
}

var csvHeader = []string{"mode", "n", "scenario", "requests", "errors", "rps", "p50_ms", "p99_ms", "ratio"}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rows turns a run's results into rows, with their ratio to its baseline.
func rows(mode string, n int, rs []result) []row {
	base := 0.0
	for _, r := range rs {
		if r.name == "baseline" {
			base = r.rps()
		}
	}
	out := make([]row, 0, len(rs))
	for _, r := range rs {
		ratio := 0.0
		if base > 0 {
			ratio = r.rps() / base
		}
		out = append(out, row{Mode: mode, N: n, Scenario: r.name, Requests: r.n, Errors: r.errors, RPS: r.rps(),
			P50ms: ms(pct(r.lat, .5)), P99ms: ms(pct(r.lat, .99)), Ratio: ratio})
	}
	return out
}

// appendCSV appends a run's rows to path, with the header when the file is
// new or empty.
func appendCSV(path, mode string, n int, rs []result) error {
	return appendRows(path, rows(mode, n, rs))
}

func appendRows(path string, rs []row) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	cw := csv.NewWriter(f)
	if st.Size() == 0 {
		_ = cw.Write(csvHeader)
	}
	for _, r := range rs {
		_ = cw.Write([]string{r.Mode, strconv.Itoa(r.N), r.Scenario, strconv.FormatInt(r.Requests, 10), strconv.FormatInt(r.Errors, 10),
			strconv.FormatFloat(r.RPS, 'f', 2, 64), strconv.FormatFloat(r.P50ms, 'f', 3, 64), strconv.FormatFloat(r.P99ms, 'f', 3, 64),
			strconv.FormatFloat(r.Ratio, 'f', 5, 64)})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readCSV reads the rows of a -csv file (header lines are skipped, so files
// can be concatenated).
func readCSV(r io.Reader) ([]row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(csvHeader)
	var out []row
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if rec[0] == csvHeader[0] && rec[1] == csvHeader[1] {
			continue
		}
		var x row
		var errs [7]error
		x.Mode, x.Scenario = rec[0], rec[2]
		x.N, errs[0] = strconv.Atoi(rec[1])
		x.Requests, errs[1] = strconv.ParseInt(rec[3], 10, 64)
		x.Errors, errs[2] = strconv.ParseInt(rec[4], 10, 64)
		x.RPS, errs[3] = strconv.ParseFloat(rec[5], 64)
		x.P50ms, errs[4] = strconv.ParseFloat(rec[6], 64)
		x.P99ms, errs[5] = strconv.ParseFloat(rec[7], 64)
		x.Ratio, errs[6] = strconv.ParseFloat(rec[8], 64)
		for _, e := range errs {
			if e != nil {
				return nil, fmt.Errorf("line %d: %w", line, e)
			}
		}
		out = append(out, x)
	}
}
