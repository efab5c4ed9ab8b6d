package dgp

import (
	"math"
	"testing"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// Hyperparameters of models.md §3.3 item 1.
const (
	fxEll, fxSf2, fxNoise = 1.3, 1.7, 0.05
)

func TestExactGPReduction(t *testing.T) {
	f := loadGPFixtures(t)
	x, y := gpData(t)
	const n, d = 84, 5
	// The helpers reproduce the fixtures' linear algebra.
	if got := titsias(x, y, x, n, d, fxEll, fxSf2, fxNoise, f.Jitter); math.Abs(got-f.tzx) > 1e-9 {
		t.Errorf("collapsed bound at Z = X: %.12f, mpmath %.12f", got, f.tzx)
	}
	for _, whiten := range []bool{false, true} {
		md := svgpModel(x, n, d, fxEll, fxSf2, fxNoise, f.Jitter, whiten)
		optimalQ(t, md, x, y, fxEll, fxSf2, fxNoise)
		got := elboOf(t, md, x, y, 1, nil)
		t.Logf("whiten=%v: ELBO %.13f; collapsed bound (mpmath) %.13f; exact LML %.13f", whiten, got, f.tzx, f.exact)
		if math.Abs(got-f.tzx) > 1e-7 {
			t.Errorf("whiten=%v: ELBO at the optimal q with Z = X is %.12f, want the collapsed bound %.12f", whiten, got, f.tzx)
		}
		if math.Abs(got-f.exact) > 1e-7 {
			t.Errorf("whiten=%v: ELBO %.12f is not the exact LML %.12f up to jitter", whiten, got, f.exact)
		}
	}
}

func TestSVGPEqualsTitsias(t *testing.T) {
	f := loadGPFixtures(t)
	x, y := gpData(t)
	const n, d = 84, 5
	var z []float64
	for i := 0; i < n; i += 4 {
		z = append(z, x[i*d:(i+1)*d]...)
	}
	m := len(z) / d
	if got := titsias(x, y, z, m, d, fxEll, fxSf2, fxNoise, f.Jitter); math.Abs(got-f.tz4) > 1e-11 {
		t.Errorf("collapsed bound at Z = X[0::4]: %.13f, mpmath %.13f", got, f.tz4)
	}
	for _, whiten := range []bool{false, true} {
		md := svgpModel(z, m, d, fxEll, fxSf2, fxNoise, f.Jitter, whiten)
		optimalQ(t, md, x, y, fxEll, fxSf2, fxNoise)
		got := elboOf(t, md, x, y, 1, nil)
		t.Logf("whiten=%v: ELBO %.14f, collapsed bound %.14f, diff %.2g", whiten, got, f.tz4, got-f.tz4)
		if math.Abs(got-f.tz4) > 1e-11 {
			t.Errorf("whiten=%v: ELBO at the optimal q is %.13f, want %.13f", whiten, got, f.tz4)
		}
	}
}

// Gradient ascent on (m, S) alone from the reference initialisation (q_mu = 0, q_sqrt =
// chol(K_ZZ)) with Adam at the reference's learning rate reaches the optimum: the ELBO is a
// concave function of (m, S) here, so the only check needed is the value. It never exceeds
// the optimum (which bounds it), and it ends within 1e-7 of it. Adam at a constant rate
// jitters around the optimum by up to ~3e-4 (seen at step 1250), so the last 500 of the
// 1500 steps use a tenth of the rate.
func TestSVGPAscentConverges(t *testing.T) {
	f := loadGPFixtures(t)
	x, y := gpData(t)
	const n, d = 84, 5
	var z []float64
	for i := 0; i < n; i += 4 {
		z = append(z, x[i*d:(i+1)*d]...)
	}
	m := len(z) / d
	md := svgpModel(z, m, d, fxEll, fxSf2, fxNoise, f.Jitter, false)
	if err := md.initQ(); err != nil {
		t.Fatal(err)
	}
	l := md.layers[0]
	tr := newTrainer(md, x, y, n, d, 1, 0.01)
	opt := ad.NewAdam([]*ad.Var{l.qMu, l.qSqrt}, 0.01)
	tp := ad.NewTape()
	var e float64
	best := math.Inf(-1)
	for it := 0; it <= 1500; it++ {
		tp.Reset()
		md.ps.ZeroGrad()
		v, err := md.elbo(tp, tr.x, tr.y, 1, tr.eps)
		if err != nil {
			t.Fatal(err)
		}
		e = v.Value()
		best = math.Max(best, e)
		if it%250 == 0 {
			t.Logf("step %d: ELBO %.10f", it, e)
		}
		tp.Backward(tp.Neg(v))
		md.projectGrad()
		if it == 1000 {
			opt.LR = 0.001
		}
		opt.Step()
	}
	if best > f.tz4+1e-9 {
		t.Errorf("ELBO %.12f exceeds its maximum %.12f", best, f.tz4)
	}
	if math.Abs(e-f.tz4) > 1e-7 {
		t.Errorf("after 1500 Adam steps on (m, S) the ELBO is %.10f, the optimum %.10f", e, f.tz4)
	}
}
