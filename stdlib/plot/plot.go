// Package plot draws the figures of ntedsl's reports as standalone SVG: line and scatter
// charts with axes, ticks, labels and a legend. The output is deterministic (fixed number
// formatting, no timestamps), so a figure is a cacheable result like any table.
package plot

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
)

// Series is one named set of points.
type Series struct {
	Name    string
	X, Y    []float64
	Points  bool // draw markers instead of a line
	Dash    bool // dashed line
	ErrLow  []float64
	ErrHigh []float64 // optional vertical error bars (absolute y values)
}

// Chart is a 2-D chart.
type Chart struct {
	Title, XLabel, YLabel string
	LogY                  bool
	Series                []Series
	Width, Height         int      // pixels; 0 means 640 × 400
	Diagonal              bool     // draw y = x (for predicted-vs-measured plots)
	HLine                 *float64 // optional horizontal reference line
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#17becf", "#bcbd22"}

func f(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }

// SVG renders the chart. Non-finite points (and non-positive ones on a log axis) are
// skipped.
func (c *Chart) SVG() []byte {
	w, h := c.Width, c.Height
	if w == 0 {
		w, h = 640, 400
	}
	const left, right, top, bottom = 70.0, 20.0, 40.0, 55.0
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	ty := func(y float64) float64 {
		if c.LogY {
			return math.Log10(y)
		}
		return y
	}
	ok := func(x, y float64) bool {
		return !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0) && (!c.LogY || y > 0)
	}
	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	grow := func(x, y float64) {
		if !ok(x, y) {
			return
		}
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, ty(y)), math.Max(ymax, ty(y))
	}
	for _, s := range c.Series {
		for i := range s.X {
			grow(s.X[i], s.Y[i])
			if s.ErrLow != nil {
				grow(s.X[i], s.ErrLow[i])
				grow(s.X[i], s.ErrHigh[i])
			}
		}
	}
	if c.HLine != nil {
		ymin, ymax = math.Min(ymin, ty(*c.HLine)), math.Max(ymax, ty(*c.HLine))
	}
	if math.IsInf(xmin, 0) {
		xmin, xmax, ymin, ymax = 0, 1, 0, 1
	}
	if c.Diagonal {
		lo, hi := math.Min(xmin, ymin), math.Max(xmax, ymax)
		xmin, ymin, xmax, ymax = lo, lo, hi, hi
	}
	if xmax == xmin {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	if ymax == ymin {
		ymin, ymax = ymin-0.5, ymax+0.5
	}
	padY := 0.05 * (ymax - ymin)
	ymin, ymax = ymin-padY, ymax+padY
	// Markers and error bars at the extremes would be hidden by the frame: pad x too on
	// scatter charts and charts with error bars (a plain line chart keeps its x range, so
	// its curves start at the axis).
	scatter, bars := len(c.Series) > 0, false
	for _, s := range c.Series {
		scatter = scatter && s.Points
		bars = bars || s.ErrLow != nil
	}
	if scatter || bars || c.Diagonal {
		padX := 0.05 * (xmax - xmin)
		xmin, xmax = xmin-padX, xmax+padX
	}
	px := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return top + (1-(ty(y)-ymin)/(ymax-ymin))*ph }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%s" y="22" text-anchor="middle" font-size="14">%s</text>`+"\n", f(float64(w)/2), html.EscapeString(c.Title))
	// Axes and ticks.
	fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="none" stroke="black"/>`+"\n", f(left), f(top), f(pw), f(ph))
	for _, t := range ticks(xmin, xmax, 6) {
		x := px(t)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/><text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n",
			f(x), f(top+ph), f(x), f(top+ph+5), f(x), f(top+ph+19), label(t))
	}
	for _, t := range ticks(ymin, ymax, 6) {
		y := top + (1-(t-ymin)/(ymax-ymin))*ph
		text := label(t)
		if c.LogY {
			text = label(math.Pow(10, t))
		}
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="black"/><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e5e5e5"/><text x="%s" y="%s" text-anchor="end">%s</text>`+"\n",
			f(left-5), f(y), f(left), f(y), f(left), f(y), f(left+pw), f(y), f(left-8), f(y+4), text)
	}
	fmt.Fprintf(&b, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", f(left+pw/2), h-12, html.EscapeString(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(16 %s) rotate(-90)" text-anchor="middle">%s</text>`+"\n", f(top+ph/2), html.EscapeString(c.YLabel))
	if c.Diagonal {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999" stroke-dasharray="4 3"/>`+"\n", f(px(xmin)), f(py(xmin)), f(px(xmax)), f(py(xmax)))
	}
	if c.HLine != nil {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999" stroke-dasharray="4 3"/>`+"\n", f(left), f(py(*c.HLine)), f(left+pw), f(py(*c.HLine)))
	}
	// The legend sits in the top-right corner, as wide as its longest name (≈ 6.6 px per
	// character at 12 px).
	longest := 0
	for _, s := range c.Series {
		longest = max(longest, len([]rune(s.Name)))
	}
	legendX := left + pw - 24 - 6.6*float64(longest)
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		for k := range s.ErrLow {
			if ok(s.X[k], s.ErrLow[k]) && ok(s.X[k], s.ErrHigh[k]) {
				fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", f(px(s.X[k])), f(py(s.ErrLow[k])), f(px(s.X[k])), f(py(s.ErrHigh[k])), col)
			}
		}
		if s.Points {
			for k := range s.X {
				if ok(s.X[k], s.Y[k]) {
					fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3" fill="%s" fill-opacity="0.75"/>`+"\n", f(px(s.X[k])), f(py(s.Y[k])), col)
				}
			}
		} else {
			var pts bytes.Buffer
			for k := range s.X {
				if ok(s.X[k], s.Y[k]) {
					fmt.Fprintf(&pts, "%s,%s ", f(px(s.X[k])), f(py(s.Y[k])))
				}
			}
			dash := ""
			if s.Dash {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8"%s points="%s"/>`+"\n", col, dash, bytes.TrimSpace(pts.Bytes()))
		}
		// Legend.
		ly := top + 14 + 16*float64(i)
		fmt.Fprintf(&b, `<rect x="%s" y="%s" width="12" height="3" fill="%s"/><text x="%s" y="%s">%s</text>`+"\n",
			f(legendX), f(ly-4), col, f(legendX+16), f(ly), html.EscapeString(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// ticks returns about n round tick positions covering [lo, hi].
func ticks(lo, hi float64, n int) []float64 {
	span := hi - lo
	step := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for t := math.Ceil(lo/step) * step; t <= hi+1e-9*step; t += step {
		out = append(out, math.Round(t/step)*step)
	}
	return out
}

func label(x float64) string {
	if x == 0 {
		return "0"
	}
	a := math.Abs(x)
	if a >= 1e4 || a < 1e-3 {
		return strconv.FormatFloat(x, 'e', 1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}
