package plot

import (
	"bytes"
	"encoding/xml"
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
