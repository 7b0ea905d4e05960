package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"
)

// chartMain reads a -csv file, prints it as a table (req/s, p99 and req/s
// as a ratio of the same scenario's at the smallest N) and, with out,
// draws it as an SVG chart.
func chartMain(w io.Writer, csvPath, out string, rpsLog bool) error {
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	rs, err := readCSV(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", csvPath, err)
	}
	if len(rs) == 0 {
		return fmt.Errorf("%s has no rows", csvPath)
	}
	scaleTable(w, rs)
	if out == "" {
		return nil
	}
	var b bytes.Buffer
	writeSVG(&b, rs, rpsLog)
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// order returns the distinct values of key over rs in order of first
// appearance.
func order(rs []row, key func(row) string) []string {
	var out []string
	for _, r := range rs {
		if k := key(r); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func ns(rs []row) []int {
	var out []int
	for _, r := range rs {
		if !slices.Contains(out, r.N) {
			out = append(out, r.N)
		}
	}
	slices.Sort(out)
	return out
}

// countText writes n with thousands separators.
func countText(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// shortN writes 10000 as 10k and 1000000 as 1M.
func shortN(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), ".0") + "M"
	case v >= 1e3:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e3), ".0") + "k"
	}
	return fmt.Sprintf("%.0f", v)
}

func msText(v float64) string {
	d := time.Duration(v * float64(time.Millisecond))
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// scaleTable prints mode, N, scenario, req/s, p99, the ratio of req/s at N
// to req/s at the smallest N (same mode and scenario), that ratio divided
// by the baseline's (what is left once the machine's own drift between the
// runs is taken out) and errors.
func scaleTable(w io.Writer, rs []row) {
	all := ns(rs)
	first := map[[2]string]float64{}
	firstN := map[[2]string]int{}
	base := map[string]float64{} // mode and N → the baseline's req/s
	for _, r := range rs {
		k := [2]string{r.Mode, r.Scenario}
		if n, ok := firstN[k]; !ok || r.N < n {
			firstN[k], first[k] = r.N, r.RPS
		}
		if r.Scenario == "baseline" {
			base[fmt.Sprint(r.Mode, r.N)] = r.RPS
		}
	}
	vs := "vs " + shortN(float64(all[0]))
	fmt.Fprintf(w, "%-10s %10s  %-24s %9s %11s %8s %8s %7s\n", "mode", "N", "scenario", "req/s", "p99", vs, "adj.", "errors")
	for _, mode := range order(rs, func(r row) string { return r.Mode }) {
		for _, n := range all {
			for _, sc := range order(rs, func(r row) string { return r.Scenario }) {
				for _, r := range rs {
					if r.Mode != mode || r.N != n || r.Scenario != sc {
						continue
					}
					ratio, adj := "-", "-"
					if f := first[[2]string{mode, sc}]; f > 0 {
						ratio = fmt.Sprintf("%.3f", r.RPS/f)
						b0, b := base[fmt.Sprint(mode, firstN[[2]string{mode, sc}])], base[fmt.Sprint(mode, n)]
						if b0 > 0 && b > 0 {
							adj = fmt.Sprintf("%.3f", r.RPS/f/(b/b0))
						}
					}
					fmt.Fprintf(w, "%-10s %10s  %-24s %9s %11s %8s %8s %7d\n", mode, countText(n), sc, rpsCell(r.RPS), msText(r.P99ms), ratio, adj, r.Errors)
				}
			}
		}
	}
	fmt.Fprintf(w, "%s: req/s at N ÷ req/s of the same mode and scenario at N = %s; adj.: the same ÷ the baseline's (the load tool's bare handler, measured in the same run), which takes out the machine's own drift between runs\n", vs, countText(all[0]))
}

func rpsCell(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// The chart: two panels side by side, req/s and p99 against N, one line per
// scenario (a colour each) and mode (solid, dashed, dotted), the legend
// underneath.
const (
	svgW, svgH         = 1000, 580
	panelTop, panelBot = 60, 420
	panelW             = 390
	legendTop          = 490
)

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}
var dashes = []string{"", "8 5", "2 4", "10 4 2 4"}

// axis maps values to pixels, linear or logarithmic.
type axis struct {
	lo, hi float64 // data domain
	p0, p1 float64 // pixels
	log    bool
	ticks  []float64
	label  func(float64) string
}

func (a axis) at(v float64) float64 {
	if a.log {
		return a.p0 + (math.Log10(v)-math.Log10(a.lo))/(math.Log10(a.hi)-math.Log10(a.lo))*(a.p1-a.p0)
	}
	return a.p0 + (v-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}

// logAxis spans whole decades around [lo, hi] (or 1-2-5 steps when the
// data covers less than two), ticked at 1, 2 and 5 times powers of ten
// when there are few decades.
func logAxis(lo, hi float64, label func(float64) string) axis {
	if lo <= 0 {
		lo = hi / 10
	}
	if hi <= lo {
		lo, hi = lo/2, lo*2
	}
	steps := []float64{1, 2, 5}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi-dlo > 4 {
		steps = []float64{1}
	}
	var ticks []float64
	for d := dlo; d <= dhi; d++ {
		for _, s := range steps {
			ticks = append(ticks, s*math.Pow(10, d))
		}
	}
	// Trim to the ticks just around the data.
	a, b := 0, len(ticks)-1
	for a+1 < len(ticks) && ticks[a+1] <= lo {
		a++
	}
	for b-1 >= 0 && ticks[b-1] >= hi {
		b--
	}
	ticks = ticks[a : b+1]
	return axis{lo: ticks[0], hi: ticks[len(ticks)-1], log: true, ticks: ticks, label: label}
}

// linAxis runs from 0 to a round number above hi.
func linAxis(hi float64, label func(float64) string) axis {
	if hi <= 0 {
		hi = 1
	}
	raw := hi / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, s := range []float64{1, 2, 2.5, 5, 10} {
		if s*mag >= raw {
			step = s * mag
			break
		}
	}
	var ticks []float64
	for v := 0.0; v < hi+step; v += step {
		ticks = append(ticks, v)
		if v >= hi {
			break
		}
	}
	return axis{lo: 0, hi: ticks[len(ticks)-1], ticks: ticks, label: label}
}

func rpsText(v float64) string {
	if v >= 1e4 {
		return shortN(v)
	}
	return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", v), "0"), ".")
}

type series struct {
	scenario, mode string
	colour, dash   string
	pts            []row
}

// charted are the rows drawn: the baseline is the load tool's own handler,
// not the gateway, and stays in the table only.
func charted(rs []row) []row {
	var out []row
	for _, r := range rs {
		if r.Scenario != "baseline" {
			out = append(out, r)
		}
	}
	return out
}

func writeSVG(w io.Writer, all []row, rpsLog bool) {
	rs := charted(all)
	scenarios := order(rs, func(r row) string { return r.Scenario })
	modes := order(rs, func(r row) string { return r.Mode })
	var ss []series
	for si, sc := range scenarios {
		for mi, m := range modes {
			s := series{scenario: sc, mode: m, colour: palette[si%len(palette)], dash: dashes[mi%len(dashes)]}
			for _, r := range rs {
				if r.Scenario == sc && r.Mode == m {
					s.pts = append(s.pts, r)
				}
			}
			if len(s.pts) > 0 {
				slices.SortFunc(s.pts, func(a, b row) int { return a.N - b.N })
				ss = append(ss, s)
			}
		}
	}
	nlist := ns(rs)
	var maxRPS, minRPS, minP99, maxP99 float64
	minRPS, minP99 = math.Inf(1), math.Inf(1)
	for _, r := range rs {
		maxRPS = max(maxRPS, r.RPS)
		if r.RPS > 0 {
			minRPS = min(minRPS, r.RPS)
		}
		if r.P99ms > 0 {
			minP99, maxP99 = min(minP99, r.P99ms), max(maxP99, r.P99ms)
		}
	}
	if math.IsInf(minP99, 1) {
		minP99, maxP99 = 1, 10
	}
	if math.IsInf(minRPS, 1) {
		minRPS = 1
	}
	x := logAxis(float64(nlist[0]), float64(nlist[len(nlist)-1]), shortN)
	if len(nlist) == 1 {
		x = logAxis(float64(nlist[0])/2, float64(nlist[0])*2, shortN)
	}
	yRPS := linAxis(maxRPS*1.05, rpsText)
	if rpsLog {
		yRPS = logAxis(minRPS, maxRPS, rpsText)
	}
	yP99 := logAxis(minP99, maxP99, msText)

	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">
<rect width="100%%" height="100%%" fill="white"/>
`, svgW, svgH, svgW, svgH)
	fmt.Fprintf(w, `<text x="%d" y="24" font-size="17" font-weight="bold" text-anchor="middle">%s</text>`+"\n", svgW/2,
		esc("Gateway throughput and p99 latency against invitations in the store ("+strings.Join(modes, " / ")+")"))
	rpsTitle := "req/s (linear)"
	if rpsLog {
		rpsTitle = "req/s (log scale)"
	}
	panel(w, "rps", 80, x, yRPS, ss, "Throughput", rpsTitle, func(r row) float64 { return r.RPS })
	panel(w, "p99", 80+panelW+110, x, yP99, ss, "p99 latency", "p99 (log scale)", func(r row) float64 { return r.P99ms })
	legend(w, scenarios, modes)
	fmt.Fprintln(w, "</svg>")
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func panel(w io.Writer, id string, left float64, x, y axis, ss []series, title, ytitle string, val func(row) float64) {
	x.p0, x.p1 = left, left+panelW
	y.p0, y.p1 = panelBot, panelTop
	fmt.Fprintf(w, `<g id="panel-%s">`+"\n", id)
	fmt.Fprintf(w, `<text x="%.0f" y="%d" font-size="15" font-weight="bold" text-anchor="middle">%s</text>`+"\n", left+panelW/2, panelTop-14, esc(title))
	// Grid, ticks and labels.
	for _, t := range y.ticks {
		py := y.at(t)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", x.p0, py, x.p1, py)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", x.p0-6, py, esc(y.label(t)))
	}
	for _, t := range x.ticks {
		px := x.at(t)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", px, y.p0, px, y.p1)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px, y.p0+18, esc(x.label(t)))
	}
	fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#555"/>`+"\n", x.p0, y.p1, x.p1-x.p0, y.p0-y.p1)
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", left+panelW/2, float64(panelBot)+40, esc("invitations in the store, N (log scale)"))
	fmt.Fprintf(w, `<text transform="translate(%.1f %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", left-58, float64(panelTop+panelBot)/2, esc(ytitle))
	// One path per scenario and mode, a dot per point.
	for _, s := range ss {
		var d strings.Builder
		var dots []string
		for _, p := range s.pts {
			v := val(p)
			if y.log && v <= 0 {
				continue // nothing measured: no point on a log axis
			}
			px, py := x.at(float64(p.N)), y.at(v)
			if d.Len() == 0 {
				fmt.Fprintf(&d, "M%.1f %.1f", px, py)
			} else {
				fmt.Fprintf(&d, " L%.1f %.1f", px, py)
			}
			fill := s.colour
			if p.Errors > 0 {
				fill = "white" // some requests failed
			}
			dots = append(dots, fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s" stroke-width="1.8"><title>%s</title></circle>`, px, py, fill, s.colour,
				esc(fmt.Sprintf("%s, %s, N=%s: %s req/s, p99 %s, %d errors of %d", s.scenario, s.mode, countText(p.N), rpsCell(p.RPS), msText(p.P99ms), p.Errors, p.Requests))))
		}
		dash := ""
		if s.dash != "" {
			dash = ` stroke-dasharray="` + s.dash + `"`
		}
		fmt.Fprintf(w, `<path class="series" data-scenario="%s" data-mode="%s" d="%s" fill="none" stroke="%s" stroke-width="2.2"%s/>`+"\n",
			esc(s.scenario), esc(s.mode), d.String(), s.colour, dash)
		for _, c := range dots {
			fmt.Fprintln(w, c)
		}
	}
	fmt.Fprintln(w, "</g>")
}

func legend(w io.Writer, scenarios, modes []string) {
	fmt.Fprintln(w, `<g id="legend">`)
	const cols, colW, rowH = 4, 230, 22
	left := 60.0
	for i, sc := range scenarios {
		px, py := left+float64(i%cols*colW), float64(legendTop+i/cols*rowH)
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n", px, py, px+28, py, palette[i%len(palette)])
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", px+36, py, esc(sc))
	}
	py := float64(legendTop + ((len(scenarios)+cols-1)/cols)*rowH + 12)
	for i, m := range modes {
		px := left + float64(i*colW)
		dash := ""
		if d := dashes[i%len(dashes)]; d != "" {
			dash = ` stroke-dasharray="` + d + `"`
		}
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-width="2.2"%s/>`+"\n", px, py, px+40, py, dash)
		fmt.Fprintf(w, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", px+48, py, esc(m))
	}
	px := left + float64(len(modes)*colW)
	fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="4" fill="white" stroke="#333" stroke-width="1.8"/>`+"\n", px+20, py)
	fmt.Fprintf(w, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", px+32, py, esc("hollow: some requests failed"))
	fmt.Fprintln(w, "</g>")
}
