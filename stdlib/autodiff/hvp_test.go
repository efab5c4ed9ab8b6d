package autodiff

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// tapeGrad turns a loss built on a tape from ps into a GradFunc over the flat parameters.
func tapeGrad(ps *Params, loss func(tp *Tape) *Var) GradFunc {
	return func(grad, theta []float64) {
		saved := ps.Flatten(nil)
		ps.SetFlat(theta)
		ps.ZeroGrad()
		tp := NewTape()
		tp.Backward(loss(tp))
		ps.FlattenGrad(grad)
		ps.SetFlat(saved)
	}
}

// TestHVPQuadratic: for L = ½θᵀAθ + bᵀθ (A symmetric indefinite, built on the tape as
// ½·Σ θ⊙(Aθ) + b·θ) the Hessian is A at every θ, so Hv = Av; both difference schemes are
// exact for a quadratic up to rounding (tolerance 1e-9 relative).
func TestHVPQuadratic(t *testing.T) {
	rng := newRng(41)
	n := 7
	a := uniformVar(rng, -1, 1, n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			a.Data[i*n+j] = a.Data[j*n+i]
		}
	}
	a.needsGrad = false
	bv := uniformVar(rng, -1, 1, n, 1)
	bv.needsGrad = false
	ps := NewParams()
	th := ps.New("theta", n, 1)
	FillUniform(th, 2, rng)
	loss := func(tp *Tape) *Var {
		q := tp.Scale(tp.Sum(tp.Mul(th, tp.MatMul(a, th, false, false))), 0.5)
		return tp.Add(q, tp.Sum(tp.Mul(bv, th)))
	}
	g := tapeGrad(ps, loss)
	theta := ps.Flatten(nil)
	for _, set := range []*HVPSettings{nil, {Central: true}} {
		v := uniformVar(rng, -1, 1, n).Data
		hv := HVP(nil, g, theta, v, set)
		for i := 0; i < n; i++ {
			want := dot(a.Data[i*n:(i+1)*n], v)
			if math.Abs(hv[i]-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Fatalf("settings %+v: (Hv)[%d] = %v, want %v", set, i, hv[i], want)
			}
		}
	}
	if z := HVP(nil, g, theta, make([]float64, n), nil); dot(z, z) != 0 {
		t.Fatal("H·0 is not 0")
	}
}

// TestHVPIndefinite: L = w1² − 3w2² has H = diag(2, −6) (methods/models.md §6.3.4).
func TestHVPIndefinite(t *testing.T) {
	g := func(grad, w []float64) { grad[0], grad[1] = 2*w[0], -6*w[1] }
	hv := HVP(nil, g, []float64{0.3, -0.7}, []float64{1, 1}, nil)
	if math.Abs(hv[0]-2) > 1e-12 || math.Abs(hv[1]+6) > 1e-12 {
		t.Fatalf("Hv = %v, want (2, −6)", hv)
	}
}

// TestHVPTanhMLP: a 2-4-1 tanh MLP with mean squared error on 6 rows (17 parameters).
// The reference Hessian is gonum's fd.Hessian of the loss (central differences of loss
// values, step 1e-4: truncation ~1e-8·L⁽⁴⁾, rounding ~4e-16·L/1e-8 ≈ 1e-7), so the
// tolerance is 1e-6 relative. Also checks uᵀ(Hv) = vᵀ(Hu) to 1e-10 (H is symmetric; the
// difference schemes are not exactly, so this bounds their error too).
func TestHVPTanhMLP(t *testing.T) {
	rng := newRng(42)
	ps := NewParams()
	mlp := NewMLP(ps, "m", []int{2, 4, 1}, (*Tape).Tanh, rng)
	x := uniformVar(rng, -2, 2, 6, 2)
	y := uniformVar(rng, -1, 1, 6, 1)
	x.needsGrad, y.needsGrad = false, false
	loss := func(tp *Tape) *Var { return tp.MaskedMSE(mlp.Forward(tp, x), y, nil) }
	theta := ps.Flatten(nil)
	n := len(theta)
	f := func(th []float64) float64 {
		saved := ps.Flatten(nil)
		ps.SetFlat(th)
		v := loss(nil).Value()
		ps.SetFlat(saved)
		return v
	}
	h := mat.NewSymDense(n, nil)
	fd.Hessian(h, f, theta, &fd.Settings{Formula: fd.Central, Step: 1e-4})
	g := tapeGrad(ps, loss)
	for _, set := range []*HVPSettings{nil, {Central: true}} {
		u := uniformVar(rng, -1, 1, n).Data
		v := uniformVar(rng, -1, 1, n).Data
		hv := HVP(nil, g, theta, v, set)
		hu := HVP(nil, g, theta, u, set)
		for i := 0; i < n; i++ {
			want := 0.0
			for j := 0; j < n; j++ {
				want += h.At(i, j) * v[j]
			}
			if math.Abs(hv[i]-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Fatalf("settings %+v: (Hv)[%d] = %.10g, finite-difference Hessian gives %.10g", set, i, hv[i], want)
			}
		}
		a, b := dot(u, hv), dot(v, hu)
		if math.Abs(a-b) > 1e-10*math.Max(1, math.Abs(a)) {
			t.Fatalf("settings %+v: uᵀHv = %.15g, vᵀHu = %.15g", set, a, b)
		}
	}
}
