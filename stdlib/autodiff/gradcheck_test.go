package autodiff

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// TestCheckGradientsCatchesWrongBackward: a custom op whose backward is off by 1% must fail
// the check, and the error must name the Var and coordinate.
func TestCheckGradientsCatchesWrongBackward(t *testing.T) {
	x := NewVar([]float64{0.5, -1.2, 2}, 3)
	f := func(tp *Tape) *Var {
		y := make([]float64, 3)
		for i, v := range x.Data {
			y[i] = math.Sin(v)
		}
		out := tp.Custom(NewTensor(y, 3), []*Var{x}, func(g []float64, gp [][]float64) {
			for i, v := range x.Data {
				gp[0][i] += 1.01 * math.Cos(v) * g[i] // wrong by 1%
			}
		})
		return tp.Sum(out)
	}
	res, err := CheckGradients(f, []*Var{x}, &GradCheckSettings{Names: []string{"x"}})
	if err == nil {
		t.Fatal("a wrong gradient passed the check")
	}
	if len(res.Failures) != 3 || !strings.Contains(err.Error(), "x[") {
		t.Fatalf("failures %v, error %q", res.Failures, err)
	}
	if x.Grad != nil {
		t.Fatal("CheckGradients did not restore Grad")
	}
}

// TestCheckGradientsAgreesWithGonumFD: on a small nonlinear loss, the finite differences
// inside CheckGradients agree with gonum's fd.Gradient (fd.Central), and both agree with
// reverse mode.
func TestCheckGradientsAgreesWithGonumFD(t *testing.T) {
	rng := newRng(71)
	w := uniformVar(rng, -1, 1, 3, 4)
	x := uniformVar(rng, -1, 1, 5, 4)
	x.needsGrad = false
	loss := func(tp *Tape) *Var {
		return tp.Sum(tp.LogSumExp(tp.Tanh(tp.Linear(x, w, nil))))
	}
	if _, err := CheckGradients(loss, []*Var{w}, nil); err != nil {
		t.Fatal(err)
	}
	f := func(p []float64) float64 {
		saved := append([]float64(nil), w.Data...)
		copy(w.Data, p)
		v := loss(nil).Value()
		copy(w.Data, saved)
		return v
	}
	ref := fd.Gradient(nil, f, append([]float64(nil), w.Data...), &fd.Settings{Formula: fd.Central})
	tp := NewTape()
	tp.Backward(loss(tp))
	for i, g := range w.Grad {
		// fd.Central's default step 6e-6 gives ~1e-10 truncation error.
		if math.Abs(g-ref[i]) > 1e-8*math.Max(1, math.Abs(g)) {
			t.Fatalf("coordinate %d: reverse mode %v, gonum fd %v", i, g, ref[i])
		}
	}
}

func TestCheckGradientsSubset(t *testing.T) {
	w := uniformVar(newRng(72), -1, 1, 50)
	f := func(tp *Tape) *Var { return tp.Sum(tp.Square(w)) }
	res, err := CheckGradients(f, []*Var{w}, &GradCheckSettings{MaxCoords: 7, Rand: newRng(1)})
	if err != nil || res.Checked != 7 {
		t.Fatalf("checked %d, err %v", res.Checked, err)
	}
	res, err = CheckGradients(f, []*Var{w}, &GradCheckSettings{MaxCoords: 9})
	if err != nil || res.Checked != 9 {
		t.Fatalf("checked %d, err %v", res.Checked, err)
	}
}
