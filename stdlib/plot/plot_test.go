package plot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestSVGIsWellFormedAndDeterministic(t *testing.T) {
	c := &Chart{Title: "ᾱ_t <quad>", XLabel: "t", YLabel: "ᾱ", Series: []Series{
		{Name: "a", X: []float64{0, 1, 2}, Y: []float64{1, 0.5, math.NaN()}},
		{Name: "b", X: []float64{0, 1, 2}, Y: []float64{0.2, 0.3, 0.4}, Points: true, ErrLow: []float64{0.1, 0.2, 0.3}, ErrHigh: []float64{0.3, 0.4, 0.5}},
	}, Diagonal: true}
	a, b := c.SVG(), c.SVG()
	if !bytes.Equal(a, b) {
		t.Fatal("not deterministic")
	}
	d := xml.NewDecoder(bytes.NewReader(a))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("malformed SVG: %v", err)
			}
			break
		}
	}
	if !strings.Contains(string(a), "&lt;quad&gt;") || strings.Count(string(a), "<circle") != 3 {
		t.Fatal("escaping or markers")
	}
	// The NaN point is skipped: the line has 2 points.
	if !strings.Contains(string(a), `points="`) || strings.Count(strings.Split(strings.Split(string(a), `points="`)[1], `"`)[0], ",") != 2 {
		t.Fatal("NaN not skipped")
	}
}

func TestTicks(t *testing.T) {
	got := ticks(0, 1, 6)
	want := []float64{0, 0.2, 0.4, 0.6, 0.8, 1}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("%v", got)
		}
	}
}

// TestScatterMarkersInsideTheFrame: on a scatter chart the extreme points are drawn whole,
// inside the plotting frame (x from 70 to 620 px at the default size), not on its edge.
func TestScatterMarkersInsideTheFrame(t *testing.T) {
	c := &Chart{Series: []Series{{Name: "s", X: []float64{-22, 0, 20}, Y: []float64{-8, 0, 2}, Points: true}}}
	svg := string(c.SVG())
	n := 0
	for _, part := range strings.Split(svg, `<circle cx="`)[1:] {
		var cx float64
		if _, err := fmt.Sscanf(part, "%g", &cx); err != nil {
			t.Fatal(err)
		}
		n++
		if cx < 70+3 || cx > 620-3 { // marker radius 3
			t.Errorf("marker at cx = %v is cut by the frame [70, 620]", cx)
		}
	}
	if n != 3 {
		t.Fatalf("%d markers", n)
	}
}
