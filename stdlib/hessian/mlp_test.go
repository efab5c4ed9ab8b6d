package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// randomProblem returns an objective on n random rows and random parameters: PyTorch's
// initialization scaled by `gain` so that the tanh units are not all linear.
func randomProblem(sizes []int, act Activation, n int, gain float64, seed uint64) (*Objective, []float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	net := MLP{Sizes: sizes, Act: act}
	X := mat.NewDense(n, sizes[0], nil)
	y := make([]float64, n)
	for i := range n {
		for j := range sizes[0] {
			X.Set(i, j, rng.NormFloat64())
		}
		y[i] = rng.NormFloat64()
	}
	theta := make([]float64, net.NumParams())
	net.Init(theta, rng)
	floats.Scale(gain, theta)
	return NewObjective(net, X, y), theta
}

// tapeGrad is an independent gradient of the same loss through stdlib/autodiff's tape
// (nn.Linear layout, MaskedMSE with no mask = the mean squared error).
func tapeGrad(obj *Objective) autodiff.GradFunc {
	net := obj.Net()
	ps := autodiff.NewParams()
	act := (*autodiff.Tape).Tanh
	if net.Act == ReLU {
		act = (*autodiff.Tape).ReLU
	}
	mlp := autodiff.NewMLP(ps, "mlp", net.Sizes, act, rand.New(rand.NewPCG(0, 0)))
	n, d := obj.n, net.Sizes[0]
	x := autodiff.Const(obj.x, n, d)
	y := autodiff.Const(obj.y, n, 1)
	tp := autodiff.NewTape()
	return func(grad, theta []float64) {
		ps.SetFlat(theta)
		tp.Reset()
		ps.ZeroGrad()
		loss := tp.MaskedMSE(mlp.Forward(tp, x), y, nil)
		tp.Backward(loss)
		ps.FlattenGrad(grad)
	}
}

var fdNets = []struct {
	sizes []int
	act   Activation
}{
	{[]int{4, 8, 1}, Tanh},    // models.md §6.3.2
	{[]int{4, 6, 5, 1}, Tanh}, // two hidden layers: the σ'' term of R{δ} in a hidden layer
	{[]int{3, 5, 4, 3, 1}, Tanh},
	{[]int{4, 8, 1}, ReLU},
	{[]int{4, 6, 5, 1}, ReLU},
}

// The predictions, loss and analytic gradient equal the autodiff tape's to rounding.
func TestGradVsAutodiff(t *testing.T) {
	for _, c := range fdNets {
		obj, theta := randomProblem(c.sizes, c.act, 20, 2, 1)
		g := make([]float64, len(theta))
		loss := obj.Grad(g, theta)
		want := make([]float64, len(theta))
		tapeGrad(obj)(want, theta)
		if r := relErr(g, want); r > 1e-12 {
			t.Errorf("%v %v: gradient rel. error %.2g vs autodiff", c.sizes, c.act, r)
		}

		ps := autodiff.NewParams()
		act := (*autodiff.Tape).Tanh
		if c.act == ReLU {
			act = (*autodiff.Tape).ReLU
		}
		mlp := autodiff.NewMLP(ps, "mlp", c.sizes, act, rand.New(rand.NewPCG(0, 0)))
		ps.SetFlat(theta)
		X := mat.NewDense(obj.n, c.sizes[0], obj.x)
		pred := MLP{Sizes: c.sizes, Act: c.act}.Predict(nil, theta, X)
		ref := mlp.Forward(nil, autodiff.Const(obj.x, obj.n, c.sizes[0])).Data
		if r := relErr(pred, ref); r > 1e-14 {
			t.Errorf("%v %v: predictions rel. error %.2g vs autodiff", c.sizes, c.act, r)
		}
		var mse float64
		for i, p := range ref {
			mse += (p - obj.y[i]) * (p - obj.y[i])
		}
		mse /= float64(obj.n)
		if math.Abs(loss-mse) > 1e-14*mse || obj.Loss(theta) != loss {
			t.Errorf("%v %v: loss %.17g, autodiff MSE %.17g", c.sizes, c.act, loss, mse)
		}
	}
}

// models.md §6.3.2: Pearlmutter's Hv against the central difference of the analytic gradient
// (relative error < 1e-6) and against autodiff.HVP (Richardson on the tape's gradient), with
// symmetry uᵀ(Hv) = vᵀ(Hu) to 1e-10. ReLU nets are checked away from kinks: the activation
// pattern is verified to be the same at both ends of every difference (σ″ = 0 there).
func TestPearlmutterVsFiniteDifferences(t *testing.T) {
	for _, c := range fdNets {
		for seed := uint64(1); seed <= 3; seed++ {
			name := fmt.Sprintf("%v %v seed %d", c.sizes, c.act, seed)
			obj, theta := randomProblem(c.sizes, c.act, 20, 2, seed)
			p := len(theta)
			hvp := obj.HVP(theta)
			rng := rand.New(rand.NewPCG(seed, 3))
			u, v := randVec(p, rng), randVec(p, rng)
			hv, hu := make([]float64, p), make([]float64, p)
			hvp(hv, v)
			hvp(hu, u)

			// Central difference of the analytic gradient, step 1e-5·(1 + max|θ|): error
			// ≈ h²/6·M₃ + 1e-16/h ≈ 1e-10 relative for these O(1) nets.
			step := 1e-5
			if c.act == ReLU {
				checkSamePattern(t, name, obj, theta, v, step)
			}
			fd := autodiff.HVP(nil, func(g, th []float64) { obj.Grad(g, th) }, theta, v, &autodiff.HVPSettings{Central: true, Step: step})
			if r := relErr(hv, fd); r > 1e-6 {
				t.Errorf("%s: Hv vs central difference: rel. error %.2g", name, r)
			}
			if c.act == ReLU {
				checkSamePattern(t, name, obj, theta, v, 1e-3)
			}
			rich := autodiff.HVP(nil, tapeGrad(obj), theta, v, nil)
			t.Logf("%s: rel. error vs central %.2g, vs Richardson %.2g", name, relErr(hv, fd), relErr(hv, rich))
			if r := relErr(hv, rich); r > 1e-8 {
				t.Errorf("%s: Hv vs autodiff.HVP: rel. error %.2g", name, r)
			}
			a, b := floats.Dot(u, hv), floats.Dot(v, hu)
			if math.Abs(a-b) > 1e-10*math.Max(1, math.Abs(a)) {
				t.Errorf("%s: uᵀHv = %.17g, vᵀHu = %.17g", name, a, b)
			}
		}
	}
}

// checkSamePattern fails the test unless every ReLU pre-activation keeps its sign on the
// whole segment θ ± h·(1+max|θ|)·v/‖v‖ that a finite difference of step h visits (each
// pre-activation is at most quadratic in the step, so the ends and the middle decide it
// only if it is monotone; we also check a fine grid).
func checkSamePattern(t *testing.T, name string, obj *Objective, theta, v []float64, step float64) {
	t.Helper()
	h := step * (1 + floats.Norm(theta, math.Inf(1))) / floats.Norm(v, 2)
	pattern := func(s float64) []bool {
		th := append([]float64(nil), theta...)
		floats.AddScaled(th, s, v)
		obj.forward(th)
		var pat []bool
		for l := 1; l+1 < len(obj.pre); l++ {
			for _, a := range obj.pre[l] {
				pat = append(pat, a > 0)
			}
		}
		return pat
	}
	ref := pattern(0)
	for k := -10; k <= 10; k++ {
		got := pattern(float64(k) / 10 * h)
		for i := range ref {
			if got[i] != ref[i] {
				t.Fatalf("%s: a ReLU unit changes sign within the difference step; pick another seed", name)
			}
		}
	}
}

// models.md §6.3.3: the full Hessian of tiny nets, column by column from Hv(e_j), is
// symmetric, and its mat.EigenSym spectrum is what the PyHessian algorithms estimate.
func TestFullHessianTinyNets(t *testing.T) {
	for _, c := range []struct {
		sizes []int
		act   Activation
		gain  float64
	}{
		{[]int{3, 4, 3, 1}, Tanh, 2}, // p = 35, indefinite at random weights
		{[]int{2, 5, 1}, Tanh, 1},    // p = 21
		{[]int{3, 6, 1}, ReLU, 2},    // p = 31
	} {
		name := fmt.Sprintf("%v %v", c.sizes, c.act)
		obj, theta := randomProblem(c.sizes, c.act, 15, c.gain, 4)
		p := len(theta)
		hvp := obj.HVP(theta)
		H := fullHessian(hvp, p)
		hmax := mat.Norm(H, math.Inf(1))
		for i := range p {
			for j := range i {
				if d := math.Abs(H.At(i, j) - H.At(j, i)); d > 1e-13*hmax {
					t.Errorf("%s: H[%d][%d] − H[%d][%d] = %.3g", name, i, j, j, i, d)
				}
			}
		}
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
		// Largest |λ| by power iteration, run to convergence.
		top := vals[p-1]
		if math.Abs(vals[0]) > math.Abs(top) {
			top = vals[0]
		}
		eig, err := TopEigenvalues(hvp, p, 1, 20000, 1e-13, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		// PyHessian normalizes v (already of norm ≈ 1) by ‖v‖ + 1e-6 before each product, so
		// its Rayleigh quotients are biased by the factor (1 − 1e-6)²: reproduce the quirk.
		if want := top * (1 - 1e-6) * (1 - 1e-6); math.Abs(eig.Values[0]-want) > 1e-10*math.Abs(top) {
			t.Errorf("%s: power iteration %.12g, EigenSym largest |λ|·(1 − 1e-6)² %.12g", name, eig.Values[0], want)
		}
		// Hutchinson: 4000 probes within 4 SE of the exact trace, SE from the exact
		// variance per probe 2Σ_{i≠j}H_ij².
		trc, err := Trace(hvp, p, 4000, 1e-300, rand.New(rand.NewPCG(1, 3)))
		if err != nil {
			t.Fatal(err)
		}
		if se := math.Sqrt(2 * off2 / 4000); math.Abs(trc.Mean-tr) > 4*se {
			t.Errorf("%s: Hutchinson %.6g, exact trace %.6g (SE %.3g)", name, trc.Mean, tr, se)
		}
		// SLQ with iter = p: the nodes are the eigenvalues.
		slq, err := Density(hvp, p, p, 1, rand.New(rand.NewPCG(1, 4)))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: p = %d, eigenvalues [%.4g, %.4g], SLQ restarts %d", name, p, vals[0], vals[p-1], slq.Restarts[0])
		// With p steps the Lanczos basis is complete, so even with restarts (dead ReLU units
		// give a repeated zero eigenvalue, which exhausts the Krylov space early) T is H in
		// another orthonormal basis up to the dropped couplings β ≤ 1e-10·‖T‖.
		for i, th := range slq.Nodes[0] {
			if math.Abs(th-vals[i]) > 1e-9*hmax {
				t.Errorf("%s: node %d = %.12g, eigenvalue %.12g", name, i, th, vals[i])
			}
		}
		if s := floats.Sum(slq.Weights[0]); math.Abs(s-1) > 1e-12 {
			t.Errorf("%s: Σ τ² = %.15f", name, s)
		}
		// SLQ moments with m = 5 < p steps from a random start v: Σ τ² θ^k = vᵀH^k v/‖v‖²
		// for k < 2m, computed from the eigendecomposition.
		rng := rand.New(rand.NewPCG(2, 2))
		v := randVec(p, rng)
		const m = 5
		nodes, w, restarts, err := lanczos(hvp, v, m, rng)
		if err != nil || restarts != 0 {
			t.Fatalf("%s: lanczos: %v, %d restarts", name, err, restarts)
		}
		_, Q := symEigen(t, H)
		proj := make([]float64, p) // (q_iᵀv)²/‖v‖²
		for i := range p {
			c := floats.Dot(mat.Col(nil, i, Q), v)
			proj[i] = c * c / floats.Dot(v, v)
		}
		scale := math.Max(math.Abs(vals[0]), math.Abs(vals[p-1]))
		for k := 0; k <= 2*m; k++ {
			var got, want float64
			for i, th := range nodes {
				got += w[i] * math.Pow(th, float64(k))
			}
			for i, ev := range vals {
				want += proj[i] * math.Pow(ev, float64(k))
			}
			err := math.Abs(got-want) / math.Pow(scale, float64(k))
			if k < 2*m && err > 1e-10 {
				t.Errorf("%s: moment %d = %.12g, vᵀH^k v/‖v‖² = %.12g", name, k, got, want)
			}
			if k == 2*m && err < 1e-12 {
				t.Errorf("%s: moment %d is exact; the quadrature check cannot fail", name, k)
			}
		}
	}
}
