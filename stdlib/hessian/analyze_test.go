package hessian

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// fitDecay is the weight decay of the test fits: without one, a 57-parameter net
// nearly interpolates the 84 smooth §8 rows and L-BFGS creeps along a valley for thousands
// of iterations (‖∇L‖ ≈ 2e-4 after 5000).
const fitDecay = 1e-3

// fitSection8 fits a tanh 5-8-1 MLP (p = 57) to the z-scored §8 data.
func fitSection8(t testing.TB, seed uint64) (*Objective, TrainResult) {
	t.Helper()
	X, y := section8()
	zscore(X, y)
	obj := NewObjective(MLP{Sizes: []int{5, 8, 1}, Act: Tanh}, X, y)
	res, err := Fit(context.Background(), obj, &TrainSettings{WeightDecay: fitDecay}, rand.New(rand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return obj, res
}

// L-BFGS reaches a stationary point of L + (wd/2)‖θ‖² that fits far better than linear least
// squares, and the Hessian of that objective, H + wd·I, is positive semidefinite there up to
// rounding: a minimum, not a saddle. The same seed gives the same bytes.
func TestFitSection8(t *testing.T) {
	obj, res := fitSection8(t, 1)
	X, y := section8()
	zscore(X, y)
	n, d := X.Dims()
	Xt := mat.NewDense(n, d+1, nil)
	for i := range n {
		for j := range d {
			Xt.Set(i, j, X.At(i, j))
		}
		Xt.Set(i, d, 1)
	}
	var w mat.VecDense
	if err := w.SolveVec(Xt, mat.NewVecDense(n, y)); err != nil {
		t.Fatal(err)
	}
	var r mat.VecDense
	r.MulVec(Xt, &w)
	r.SubVec(&r, mat.NewVecDense(n, y))
	ols := mat.Dot(&r, &r) / float64(n)
	t.Logf("loss %.4g (OLS %.4g), ‖∇L‖ %.2g after %d iterations, %d evaluations: %s", res.Loss, ols, res.GradNorm, res.Iterations, res.Evaluations, res.Status)
	if res.Loss >= 0.5*ols {
		t.Errorf("MLP loss %.4g is not well below the linear fit's %.4g", res.Loss, ols)
	}
	if res.GradNorm > 1e-6 || math.Abs(res.Objective-res.Loss-0.5*fitDecay*floats.Dot(res.Theta, res.Theta)) > 1e-15 {
		t.Errorf("‖∇L‖ = %.3g at the end of training (%s)", res.GradNorm, res.Status)
	}
	if l := obj.Loss(res.Theta); l != res.Loss {
		t.Errorf("reported loss %v, recomputed %v", res.Loss, l)
	}
	vals, _ := symEigen(t, fullHessian(Shift(obj.HVP(res.Theta), fitDecay), obj.NumParams()))
	t.Logf("penalized Hessian: λ_min %.3g, λ_max %.4g", vals[0], vals[len(vals)-1])
	if vals[0] < -1e-6*vals[len(vals)-1] {
		t.Errorf("λ_min(H + wd·I) = %.3g at the fitted weights (λ_max %.3g): not a minimum", vals[0], vals[len(vals)-1])
	}
	_, again := fitSection8(t, 1)
	if !reflect.DeepEqual(res, again) {
		t.Error("two fits with the same seed differ")
	}
	_, other := fitSection8(t, 2)
	if floats.Equal(res.Theta, other.Theta) {
		t.Error("fits with different seeds are identical")
	}
}

// Analyze at trained weights against the exact spectrum (p = 57 < 100, so SLQ sees the whole
// spectrum), and determinism.
func TestAnalyzeTrainedMLP(t *testing.T) {
	obj, res := fitSection8(t, 3)
	p := obj.NumParams()
	hvp := obj.HVP(res.Theta)
	H := fullHessian(hvp, p)
	vals, _ := symEigen(t, H)
	var tr, off2 float64
	for i := range p {
		tr += H.At(i, i)
		for j := range p {
			if i != j {
				off2 += H.At(i, j) * H.At(i, j)
			}
		}
	}
	rep, err := Analyze(hvp, p, &Settings{TopN: 2}, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	lmax, l2 := vals[p-1], vals[p-2]
	t.Logf("p = %d: λ = %.5g, %.5g (power %.5g, %.5g), trace %.5g (Hutchinson %.5g ± %.2g, %d probes), λ_min %.3g, negative mass %.3g",
		p, lmax, l2, rep.TopEigenvalues[0], rep.TopEigenvalues[1], tr, rep.Trace, rep.TraceSE, rep.TraceProbes, vals[0], rep.NegativeMass)
	if rep.Params != p {
		t.Errorf("Params = %d, want %d", rep.Params, p)
	}
	// Relative error below tol/(1 − (λ2/λ1)²) (see TestPowerIterationLeastSquares).
	if bound := 1e-3/(1-(l2/lmax)*(l2/lmax)) + 2e-6; math.Abs(rep.TopEigenvalues[0]-lmax) > bound*lmax {
		t.Errorf("top eigenvalue %.6g, exact %.6g (bound %.2g relative)", rep.TopEigenvalues[0], lmax, bound)
	}
	if se := math.Sqrt(2 * off2 / float64(rep.TraceProbes)); math.Abs(rep.Trace-tr) > 4*se {
		t.Errorf("trace %.6g, exact %.6g, SE %.3g", rep.Trace, tr, se)
	}
	if math.Abs(rep.MinNode-vals[0]) > 1e-9*lmax || math.Abs(rep.MaxNode-lmax) > 1e-9*lmax {
		t.Errorf("extreme nodes [%.10g, %.10g], eigenvalues [%.10g, %.10g]", rep.MinNode, rep.MaxNode, vals[0], lmax)
	}
	if len(rep.Grid) != 10000 || len(rep.Density) != 10000 {
		t.Errorf("density on %d points", len(rep.Grid))
	}
	again, err := Analyze(hvp, p, &Settings{TopN: 2}, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep, again) {
		t.Error("two analyses with the same seed differ")
	}
	other, err := Analyze(hvp, p, &Settings{TopN: 2}, rand.New(rand.NewPCG(6, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if other.Trace == rep.Trace {
		t.Error("analyses with different seeds give the same trace")
	}
}

// "Appreciable" negative curvature on spectra with known SLQ weights: for a diagonal H and a
// Rademacher start, the weight of an eigenvalue is its multiplicity/p exactly. p = 200 > 100
// Lanczos steps.
func TestAppreciableNegative(t *testing.T) {
	const p = 200
	mk := func(neg float64, nNeg int) HVP {
		d := make([]float64, p)
		for i := range p {
			d[i] = 0.1 + 0.9*float64(i)/p // distinct, in [0.1, 1)
		}
		for i := range nNeg {
			d[i] = neg
		}
		return func(dst, v []float64) {
			for i := range v {
				dst[i] = d[i] * v[i]
			}
		}
	}
	cases := []struct {
		name        string
		hvp         HVP
		mass        float64
		appreciable bool
	}{
		{"20 eigenvalues at −0.5", mk(-0.5, 20), 0.1, true},
		{"1 eigenvalue at −0.5", mk(-0.5, 1), 0.005, false},
		{"20 eigenvalues at −1e-5 (numerically flat)", mk(-1e-5, 20), 0, false},
		{"PSD", mk(0.5, 0), 0, false},
		// Relative threshold 1e-3·1 = 1e-3 counts −0.002; a floor of 0.003 does not.
		{"20 eigenvalues at −0.002", mk(-0.002, 20), 0.1, true},
		{"20 eigenvalues at −0.002, floor 0.003", mk(-0.002, 20), 0, false},
	}
	for _, c := range cases {
		var set *Settings
		if strings.Contains(c.name, "floor") {
			set = &Settings{NegativeFloor: 0.003}
		}
		rep, err := Analyze(c.hvp, p, set, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		// 100 Gauss nodes resolve an isolated eigenvalue (and place none in the gap).
		if math.Abs(rep.NegativeMass-c.mass) > 1e-9 || rep.AppreciableNegative != c.appreciable {
			t.Errorf("%s: negative mass %.12f (appreciable %v), want %v (%v)", c.name, rep.NegativeMass, rep.AppreciableNegative, c.mass, c.appreciable)
		}
		wantThr := -1e-3 * math.Max(math.Abs(rep.MaxNode), math.Abs(rep.MinNode))
		if set != nil {
			wantThr = math.Min(wantThr, -set.NegativeFloor)
		}
		if rep.NegativeThreshold != wantThr {
			t.Errorf("%s: threshold %v, nodes [%v, %v]", c.name, rep.NegativeThreshold, rep.MinNode, rep.MaxNode)
		}
	}
}

// A cancelled context stops training with its error.
func TestTrainCancelled(t *testing.T) {
	X, y := section8()
	zscore(X, y)
	obj := NewObjective(MLP{Sizes: []int{5, 8, 1}, Act: Tanh}, X, y)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, obj, nil, rand.New(rand.NewPCG(1, 1))); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}
