package csdi

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// The batched replay of fd.Hessian gives gonum's own central-difference Hessian bit for bit,
// and both approach the analytic Hessian (and the stencil's gradient the analytic gradient)
// of a smooth nonlinear function to O(h²).
func TestStencilHessianMatchesGonum(t *testing.T) {
	c := []float64{0.3, -0.7, 1.1}
	f := func(x []float64) float64 {
		return x[0]*x[0]*x[1] + math.Sin(x[2]) + x[0]*x[2]*x[2]*x[2]
	}
	grad := []float64{2*c[0]*c[1] + c[2]*c[2]*c[2], c[0] * c[0], math.Cos(c[2]) + 3*c[0]*c[2]*c[2]}
	hess := [][]float64{
		{2 * c[1], 2 * c[0], 3 * c[2] * c[2]},
		{2 * c[0], 0, 0},
		{3 * c[2] * c[2], 0, -math.Sin(c[2]) + 6*c[0]*c[2]},
	}
	const step = 0.01
	st := newCentralStencil(3, step)
	if len(st.pts) != 2*3*3+1 {
		t.Fatalf("%d stencil points, want 2p²+1 = 19", len(st.pts))
	}
	vals := make([]float64, len(st.pts))
	x := make([]float64, 3)
	for q, off := range st.pts {
		for j := range x {
			x[j] = c[j] + off[j]
		}
		vals[q] = f(x)
	}
	got := st.hessian(vals)
	g := st.gradient(vals)
	// gonum on f shifted to the origin: the same points, the same arithmetic.
	want := mat.NewSymDense(3, nil)
	fd.Hessian(want, func(off []float64) float64 {
		y := make([]float64, 3)
		for j := range y {
			y[j] = c[j] + off[j]
		}
		return f(y)
	}, make([]float64, 3), &fd.Settings{Formula: fd.Central, Step: step})
	for a := 0; a < 3; a++ {
		if d := math.Abs(g[a] - grad[a]); d > 1e-3 {
			t.Errorf("gradient[%d] = %v, analytic %v", a, g[a], grad[a])
		}
		for b := 0; b < 3; b++ {
			if got.At(a, b) != want.At(a, b) {
				t.Errorf("H[%d][%d] = %v, gonum's fd.Hessian %v", a, b, got.At(a, b), want.At(a, b))
			}
			if d := math.Abs(got.At(a, b) - hess[a][b]); d > 1e-3 {
				t.Errorf("H[%d][%d] = %v, analytic %v", a, b, got.At(a, b), hess[a][b])
			}
		}
	}
}

// With the analytic ε* of a Gaussian law (csdi_icr.md §4.2) the expected ICR displacement is
// (1 − w_t)·(m(x) − y) up to the chain's noise, affine in the conditioning values: the
// finite-difference gradient must equal (1 − G_t)·∇m exactly (every chain's output is
// affine in m with the deterministic coefficient of the oracle recursion), and the Hessian
// must vanish. This checks the perturbation of the right columns in the right units, the
// shared noise of the copies, and the stencil bookkeeping.
func TestInputHessianWithOracle(t *testing.T) {
	g := newGaussian()
	X := g.sample(60, rand.New(rand.NewPCG(11, 12)))
	s, _ := diffusion.Power(50, 1e-4, 0.05, 0.5)
	const u = 1
	m := untrained(t, X, u, s, CondStep)
	oracleFor(m, g, u)
	mean, s2 := g.conditional(m, u)
	var cond []int
	for j := 0; j < 4; j++ {
		if j != u {
			cond = append(cond, j)
		}
	}
	zero := make([]float64, 4)
	dm := make([]float64, len(cond)) // ∂m/∂z_j: m is affine
	for a, j := range cond {
		e := make([]float64, 4)
		e[j] = 1
		dm[a] = mean(e) - mean(zero)
	}
	grid := []int{0, 10, 25, 45}
	res, err := m.InputHessian(context.Background(), s, X, []int{3, 17, 40}, grid, 5, 0.05, rand.New(rand.NewPCG(5, 6)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for gi, ts := range grid {
		coef := s.PropagateTruncated(ts, 1, s2).Mean - s.PropagateTruncated(ts, 0, s2).Mean // = 1 − G_t
		if w := s.ShrinkWeight(ts, s2); math.Abs(coef-(1-w)) > 1e-6 {
			t.Fatalf("t = %d: coefficient of m %.8f, 1 − w_t %.8f", ts, coef, 1-w)
		}
		for r := range res.Rows {
			for a := range cond {
				if d := math.Abs(res.Grad[gi][r][a] - coef*dm[a]); d > 1e-8 {
					t.Errorf("t = %d, row %d: ∂f/∂z_%d = %.10f, (1 − G_t)·∂m/∂z = %.10f", ts, res.Rows[r], cond[a], res.Grad[gi][r][a], coef*dm[a])
				}
			}
			for k, h := range res.Hess[gi][r] {
				if math.Abs(h) > 1e-7 {
					t.Errorf("t = %d, row %d: H[%d] = %.3g, want 0 for an affine conditional mean", ts, res.Rows[r], k, h)
				}
			}
			if res.MaxAbsEig[gi][r] > 1e-7 {
				t.Errorf("t = %d, row %d: max |λ| %.3g", ts, res.Rows[r], res.MaxAbsEig[gi][r])
			}
		}
	}
}

// Suggest is the largest grid step up to which the curvature stays within the factor of
// its first level.
func TestInputHessianSuggest(t *testing.T) {
	h := &InputHessians{Grid: []int{0, 5, 10, 15, 20}, MaxAbsEig: [][]float64{{1, 1}, {1.5, 1.7}, {1.9, 2.0}, {3, 2}, {1, 1}}}
	if got := h.Suggest(2); got != 10 {
		t.Errorf("Suggest(2) = %d, want 10 (curvature 1, 1.6, 1.95, 2.5: first above 2 at t = 15)", got)
	}
	if got := h.Suggest(1); got != 0 {
		t.Errorf("Suggest(1) = %d, want 0", got)
	}
}
