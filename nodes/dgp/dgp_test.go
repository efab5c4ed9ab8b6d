package dgp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// z4 returns rows 0, 4, 8, … of the n×d matrix x.
func z4(x []float64, n, d int) []float64 {
	var z []float64
	for i := 0; i < n; i += 4 {
		z = append(z, x[i*d:(i+1)*d]...)
	}
	return z
}

// wrap makes a Predictor of a model trained on already standardized data.
func wrap(t testing.TB, md *model, d, samples int) *Predictor {
	t.Helper()
	st, err := md.states(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &Predictor{model: md, states: st, xs: stats.IdentityScaler(d), yMean: 0, ySD: 1, samples: samples, seed1: 3, seed2: 4}
	return p
}

func normals(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.NormFloat64()
	}
	return out
}

// TestDepthReduction (models.md §3.3 item 3, the reference's tests/test_dgp.py idea): a
// two-layer DGP whose inner layer has an identity mean, kernel variance 1e-24, no White
// kernel and q(u) equal to its prior (q_mu = 0 and q_sqrt = chol(K_ZZ), tiny because K_ZZ
// is ~1e-24·K + jitter; whitened: I) has KL 0 and passes its inputs through up to
// ε·1e-12, so its ELBO and predictions equal those of the one-layer SVGP formed by its last
// layer, whatever the number of samples.
func TestDepthReduction(t *testing.T) {
	x, y := gpData(t)
	const n, d = 84, 5
	z := z4(x, n, d)
	m := len(z) / d
	for _, whiten := range []bool{false, true} {
		one := svgpModel(z, m, d, fxEll, fxSf2, fxNoise, kzzJitter, whiten)
		optimalQ(t, one, x, y, fxEll, fxSf2, fxNoise)

		two := &model{whiten: whiten, jitter: kzzJitter, sampleJitter: 0, ps: ad.NewParams()}
		inner := newLayer(two.ps, "layer0", z, m, d, d, 1e-24, 1)
		inner.mean = meanIdentity
		last := newLayer(two.ps, "layer1", z, m, d, 1, fxSf2, fxEll)
		two.layers = []*layer{inner, last}
		two.rawNoise = two.ps.Add("noise", ad.NewVar([]float64{one.rawNoise.Data[0]}, 1))
		two.prepare()
		if err := two.initQ(); err != nil { // the prior for the inner layer, after rescaling below
			t.Fatal(err)
		}
		for i := range inner.qSqrt.Data {
			inner.qSqrt.Data[i] /= innerQScale
		}
		copy(last.qMu.Data, one.layers[0].qMu.Data)
		copy(last.qSqrt.Data, one.layers[0].qSqrt.Data)

		st, err := inner.state(nil, whiten)
		if err != nil {
			t.Fatal(err)
		}
		if kl := inner.kl(nil, st, whiten).Value(); math.Abs(kl) > 1e-9 {
			t.Errorf("whiten=%v: KL of the prior-matching inner layer is %g, want 0", whiten, kl)
		}

		want := elboOf(t, one, x, y, 1, nil)
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range []int{1, 2, 5} {
			got := elboOf(t, two, x, y, s, [][]float64{normals(rng, s*n*d)})
			if math.Abs(got-want) > 1e-6 {
				t.Errorf("whiten=%v, S=%d: two-layer ELBO %.10f, one-layer %.10f", whiten, s, got, want)
			}
		}

		// Predictions at points between the training inputs.
		xe := make([]float64, 0, 10*d)
		for i := 0; i < 10; i++ {
			for j := range d {
				xe = append(xe, 0.5*(x[i*d+j]+x[(i+1)*d+j]))
			}
		}
		xm := mat.NewDense(10, d, xe)
		m1, v1 := wrap(t, one, d, 1).Predict(xm)
		for _, s := range []int{1, 7, 100} {
			m2, v2 := wrap(t, two, d, s).Predict(xm)
			for i := range m1 {
				if math.Abs(m2[i]-m1[i]) > 1e-6 || math.Abs(v2[i]-v1[i]) > 1e-6 {
					t.Errorf("whiten=%v, S=%d, point %d: two-layer N(%.9f, %.9f), one-layer N(%.9f, %.9f)", whiten, s, i, m2[i], v2[i], m1[i], v1[i])
				}
			}
		}
	}
}

// gaussKL is KL(N(m, S) ‖ N(0, K)) from an LU inverse and LU log-determinants, independent
// of the Cholesky-based formulas under test.
func gaussKL(t *testing.T, m []float64, s, k *mat.Dense) float64 {
	t.Helper()
	n := len(m)
	var kinv mat.Dense
	if err := kinv.Inverse(k); err != nil {
		t.Fatal(err)
	}
	var ks mat.Dense
	ks.Mul(&kinv, s)
	mv := mat.NewVecDense(n, m)
	ldk, _ := mat.LogDet(k)
	lds, _ := mat.LogDet(s)
	return 0.5 * (mat.Trace(&ks) + mat.Inner(mv, &kinv, mv) - float64(n) + ldk - lds)
}

// TestKL (models.md §3.3 item 4): the layers' whitened and non-whitened KL against the
// generic Gaussian KL on random SPD matrices, several outputs, diagonals of both signs; and
// the whole ELBO is the same in both parameterizations when m_white = L⁻¹m and
// S_white = L⁻¹SL⁻ᵀ (q_sqrt_white = L⁻¹q_sqrt).
func TestKL(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const m, w = 7, 3
	for trial := 0; trial < 5; trial++ {
		a := mat.NewDense(m, m, normals(rng, m*m))
		k := mat.NewDense(m, m, nil)
		k.Mul(a, a.T())
		for i := range m {
			k.Set(i, i, k.At(i, i)+0.1)
		}
		var ch mat.Cholesky
		if !ch.Factorize(mat.NewSymDense(m, k.RawMatrix().Data)) {
			t.Fatal("not SPD")
		}
		var lz mat.TriDense
		ch.LTo(&lz)
		ps := ad.NewParams()
		l := newLayer(ps, "l", make([]float64, m), m, 1, w, 1, 1)
		l.prepare(0)
		copy(l.qMu.Data, normals(rng, m*w))
		ls := make([]*mat.Dense, w)
		for o := range w {
			ls[o] = mat.NewDense(m, m, nil)
			for i := range m {
				for j := 0; j <= i; j++ {
					v := rng.NormFloat64()
					if i == j {
						v = (0.3 + math.Abs(v)) * float64(1-2*(i%2)) // both signs on the diagonal
					}
					ls[o].Set(i, j, v)
				}
			}
			setQ(l, o, col(l.qMu.Data, m, w, o), ls[o])
		}
		for _, whiten := range []bool{false, true} {
			st := layerState{lz: ad.Const(mat.DenseCopyOf(&lz).RawMatrix().Data, m, m)}
			l.whitened(nil, &st, whiten)
			got := l.kl(nil, st, whiten).Value()
			var want float64
			for o := range w {
				var s mat.Dense
				s.Mul(ls[o], ls[o].T())
				kk := k
				if whiten {
					kk = identity(m)
				}
				want += gaussKL(t, col(l.qMu.Data, m, w, o), &s, kk)
			}
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("trial %d whiten=%v: KL %.12g, generic Gaussian KL %.12g", trial, whiten, got, want)
			}
		}
	}

	// Whole-model equivalence on a two-layer model with nontrivial q.
	x, y := gpData(t)
	const n, d = 84, 5
	cfg := DefaultConfig()
	cfg.InnerWidth = 3
	cfg.Inducing = 12
	md, err := newModel(cfg, x, n, d, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range md.layers {
		for i := range l.qMu.Data {
			l.qMu.Data[i] = 0.3 * rng.NormFloat64()
		}
		for i := range l.m {
			for o := range l.dOut {
				for j := 0; j <= i; j++ {
					l.qSqrt.Data[(i*l.dOut+o)*l.m+j] += 0.1 * rng.NormFloat64()
				}
			}
		}
	}
	wm := &model{whiten: true, jitter: md.jitter, sampleJitter: md.sampleJitter, ps: ad.NewParams()}
	for i, l := range md.layers {
		st, err := l.state(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		c := newLayer(wm.ps, fmt.Sprintf("layer%d", i), l.z.Data, l.m, l.dIn, l.dOut, 1, 1)
		copy(c.rawVar.Data, l.rawVar.Data)
		copy(c.rawLen.Data, l.rawLen.Data)
		c.mean, c.w, c.white = l.mean, l.w, l.white
		copy(c.qMu.Data, st.vm.Data) // L⁻¹m
		copy(c.qSqrt.Data, st.vq.Data)
		wm.layers = append(wm.layers, c)
	}
	wm.rawNoise = wm.ps.Add("noise", ad.NewVar([]float64{md.rawNoise.Data[0]}, 1))
	wm.prepare()
	eps := [][]float64{normals(rng, 2*n*3)}
	e1 := elboOf(t, md, x, y, 2, eps)
	e2 := elboOf(t, wm, x, y, 2, eps)
	if math.Abs(e1-e2) > 1e-9*math.Abs(e1) {
		t.Errorf("ELBO non-whitened %.12f, whitened with transformed q %.12f", e1, e2)
	}
}

func col(a []float64, r, c, j int) []float64 {
	out := make([]float64, r)
	for i := range r {
		out[i] = a[i*c+j]
	}
	return out
}

func identity(n int) *mat.Dense {
	e := mat.NewDense(n, n, nil)
	for i := range n {
		e.Set(i, i, 1)
	}
	return e
}

// TestGradients (models.md §3.3 item 5): with the doubly-stochastic noise fixed (common
// random numbers), the reverse-mode gradient of the ELBO with respect to every parameter
// (inducing inputs, kernel variances and lengthscales, q_mu, q_sqrt, noise) against central
// differences, relative error < 1e-5, for models exercising every mean function (PCA
// projection, identity, [I, 0], zero), both parameterizations and two samples per step.
func TestGradients(t *testing.T) {
	x, y := gpData(t)
	const n, d = 30, 3
	xs := make([]float64, 0, n*d)
	for i := range n {
		xs = append(xs, x[i*5:i*5+d]...)
	}
	ys := y[:n]
	cases := []struct {
		layers, width int
		whiten        bool
	}{
		{2, 2, false}, // PCA projection, zero
		{3, 4, false}, // [I, 0], identity, zero
		{3, 4, true},
		{1, 0, false},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		cfg.Layers, cfg.InnerWidth, cfg.Whiten, cfg.Inducing = c.layers, c.width, c.whiten, 8
		rng := rand.New(rand.NewPCG(uint64(c.layers), uint64(c.width)))
		md, err := newModel(cfg, xs, n, d, rng)
		if err != nil {
			t.Fatal(err)
		}
		// Move away from the initial point (tiny inner q_sqrt, equal lengthscales): kernel
		// parameters jittered, then q(v) = N(a, RRᵀ) with random a and a random lower-
		// triangular R whose diagonal stays away from 0 (where log R_ii² bends too sharply
		// for finite differences), mapped to u = L_Z v when not whitened so that the KL
		// stays moderate even where K_ZZ is ill-conditioned.
		for _, l := range md.layers {
			for i := range l.rawLen.Data {
				l.rawLen.Data[i] += 0.3 * rng.NormFloat64()
			}
			l.rawVar.Data[0] += 0.3 * rng.NormFloat64()
			lz := identity(l.m)
			if !c.whiten {
				st, err := l.state(nil, false)
				if err != nil {
					t.Fatal(err)
				}
				lz = mat.NewDense(l.m, l.m, st.lz.Data)
			}
			for o := range l.dOut {
				r := mat.NewDense(l.m, l.m, nil)
				for i := range l.m {
					for j := 0; j < i; j++ {
						r.Set(i, j, 0.2*rng.NormFloat64())
					}
					r.Set(i, i, 0.5+0.2*math.Abs(rng.NormFloat64()))
				}
				var mu mat.VecDense
				mu.MulVec(lz, mat.NewVecDense(l.m, normals(rng, l.m)))
				var sq mat.Dense
				sq.Mul(lz, r)
				setQ(l, o, mu.RawVector().Data, &sq)
			}
		}
		const s = 2
		tr := newTrainer(md, xs, ys, n, d, s, 0.01)
		for _, e := range tr.eps {
			copy(e, normals(rng, len(e)))
		}
		f := func(tp *ad.Tape) *ad.Var {
			e, err := md.elbo(tp, tr.x, tr.y, s, tr.eps)
			if err != nil {
				panic(err)
			}
			return e
		}
		res, err := ad.CheckParamGradients(f, md.ps, &ad.GradCheckSettings{Tol: 1e-5})
		if err != nil {
			t.Errorf("layers=%d width=%d whiten=%v: %v", c.layers, c.width, c.whiten, err)
		}
		t.Logf("layers=%d width=%d whiten=%v: %d coordinates, max scaled error %.2g", c.layers, c.width, c.whiten, res.Checked, res.MaxErr)
	}
}
