package diffusion

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
)

func TestOracleDiagonalMatchesScalar(t *testing.T) {
	s := mustPower(t, 50, 1e-4, 0.5, 0.5)
	vars := []float64{0.25, 1, 0.05}
	means := []float64{0.7, -0.3, 2, 0.1, 0.2, -1} // 2 rows × 3 dims
	cov := mat.NewSymDense(3, nil)
	for j, v := range vars {
		cov.SetSym(j, j, v)
	}
	o, err := NewGaussianOracle(s, means, cov)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const samples = 4
	x := make([]float64, 2*samples*3)
	for i := range x {
		x[i] = 2 * rng.NormFloat64()
	}
	got := make([]float64, len(x))
	for _, step := range []int{0, 13, 49} {
		if err := o.Eps(got, x, step); err != nil {
			t.Fatal(err)
		}
		for r := 0; r < 2; r++ {
			for smp := 0; smp < samples; smp++ {
				for d := 0; d < 3; d++ {
					k := (r*samples+smp)*3 + d
					if want := s.OracleEps(x[k], step, means[r*3+d], vars[d]); math.Abs(got[k]-want) > 1e-13 {
						t.Errorf("t=%d row %d sample %d dim %d: ε* %.15g, scalar %.15g", step, r, smp, d, got[k], want)
					}
				}
			}
		}
	}
}

// ar1Conditional returns (m, S) of the missing dims {1, 2} of x ~ N(μ, Σ) given observed dims
// {0, 3}, for Σ = AR(1) with ρ = 0.7 on dims 0..2 plus an independent dim 3 (csdi_icr.md §4.1).
func ar1Conditional(t *testing.T) ([]float64, *mat.SymDense) {
	t.Helper()
	sig := mat.NewSymDense(4, nil)
	for i := 0; i < 3; i++ {
		for j := i; j < 3; j++ {
			sig.SetSym(i, j, math.Pow(0.7, float64(j-i)))
		}
	}
	sig.SetSym(3, 3, 1)
	joint, ok := distmv.NewNormal([]float64{0.1, -0.2, 0.3, 0}, sig, nil)
	if !ok {
		t.Fatal("Σ not PD")
	}
	cond, ok := joint.ConditionNormal([]int{0, 3}, []float64{1.2, -0.5}, nil)
	if !ok {
		t.Fatal("condition")
	}
	var S mat.SymDense
	cond.CovarianceMatrix(&S)
	return cond.Mean(nil), &S
}

func TestOracleMatchesBruteForceConditional(t *testing.T) {
	// ε* = E[ε | x_t]. Brute force: the joint law of (ε, x_t) with x_t = √ᾱ y + √(1−ᾱ) ε,
	// y ~ N(m, S), is Gaussian with Cov(ε, x_t) = √(1−ᾱ) I, Var(x_t) = ᾱS + (1−ᾱ)I; condition
	// it on x_t with gonum's ConditionNormal.
	s := mustPower(t, 50, 1e-4, 0.05, 0.5)
	m, S := ar1Conditional(t)
	if math.Abs(S.At(0, 1)) < 0.1 {
		t.Fatalf("the conditional covariance should be correlated, got %v", mat.Formatted(S))
	}
	o, err := NewGaussianOracle(s, m, S)
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{0.9, -1.4}
	got := make([]float64, 2)
	for _, step := range []int{0, 7, 25, 49} {
		ab := s.AlphaBar(step)
		joint := mat.NewSymDense(4, nil)
		for i := 0; i < 2; i++ {
			joint.SetSym(i, i, 1)
			joint.SetSym(i, i+2, math.Sqrt(1-ab))
			for j := i; j < 2; j++ {
				v := ab * S.At(i, j)
				if i == j {
					v += 1 - ab
				}
				joint.SetSym(i+2, j+2, v)
			}
		}
		mu := []float64{0, 0, math.Sqrt(ab) * m[0], math.Sqrt(ab) * m[1]}
		n, ok := distmv.NewNormal(mu, joint, nil)
		if !ok {
			t.Fatal("joint not PD")
		}
		c, ok := n.ConditionNormal([]int{2, 3}, x, nil)
		if !ok {
			t.Fatal("condition")
		}
		want := c.Mean(nil)
		if err := o.Eps(got, x, step); err != nil {
			t.Fatal(err)
		}
		for d := range got {
			if math.Abs(got[d]-want[d]) > 1e-10 {
				t.Errorf("t=%d dim %d: ε* %.12g, brute-force conditional %.12g", step, d, got[d], want[d])
			}
		}
	}
}

func TestBayesEpsLoss(t *testing.T) {
	ref := loadReference(t)
	s := mustPower(t, 50, 1e-4, 0.5, 0.5)
	if got := s.BayesEpsLoss(0.25); math.Abs(got-ref.BayesLoss) > 1e-12 {
		t.Errorf("Bayes ε-loss %.15g, numpy %.15g", got, ref.BayesLoss)
	}
	// Monte Carlo: E(ε − ε*(x_t, t))² averaged over every t, with y ~ N(m, s²).
	rng := rand.New(rand.NewPCG(9, 9))
	const m, s2, per = 0.7, 0.25, 2000
	var sum, sumsq float64
	for step := 0; step < s.T(); step++ {
		for i := 0; i < per; i++ {
			y := m + math.Sqrt(s2)*rng.NormFloat64()
			e := rng.NormFloat64()
			x := s.SqrtAlphaBar(step)*y + s.SqrtOneMinusAlphaBar(step)*e
			r := e - s.OracleEps(x, step, m, s2)
			sum += r * r
			sumsq += r * r * r * r
		}
	}
	nn := float64(per * s.T())
	mc := sum / nn
	se := math.Sqrt((sumsq/nn - mc*mc) / nn)
	t.Logf("Bayes ε-loss %.5f, Monte Carlo %.5f ± %.5f", s.BayesEpsLoss(s2), mc, se)
	if math.Abs(mc-s.BayesEpsLoss(s2)) > 4*se {
		t.Errorf("Monte Carlo ε-loss of the oracle %.5f, formula %.5f (4 SE %.5f)", mc, s.BayesEpsLoss(s2), 4*se)
	}

	// Multivariate: by the Cholesky inverse; independently, the mean of the scalar loss over
	// the eigenvalues of S (the trace is basis-free).
	_, S := ar1Conditional(t)
	got, err := s.BayesEpsLossCov(S)
	if err != nil {
		t.Fatal(err)
	}
	var eig mat.EigenSym
	eig.Factorize(S, false)
	var want float64
	for _, v := range eig.Values(nil) {
		want += s.BayesEpsLoss(v) / 2
	}
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("multivariate Bayes loss %.15g, eigenvalue mean %.15g", got, want)
	}
	if _, err := s.BayesEpsLossCov(mat.NewSymDense(2, []float64{1, 3, 3, 1})); !errors.Is(err, ErrNotPSD) {
		t.Errorf("indefinite covariance: err %v, want ErrNotPSD", err)
	}
	if _, err := NewGaussianOracle(s, []float64{0, 0}, mat.NewSymDense(2, []float64{1, 3, 3, 1})); !errors.Is(err, ErrNotPSD) {
		t.Errorf("indefinite covariance: err %v, want ErrNotPSD", err)
	}
}

func TestShrinkageWeight(t *testing.T) {
	// w_t from λ_t directly (csdi_icr.md §2.4), and the Gaussian displacement s²(1−w)².
	s := mustPower(t, 50, 1e-4, 0.05, 0.5)
	for _, s2 := range []float64{0.05, 0.25, 1} {
		for step := 0; step < 50; step++ {
			lam := s.AlphaBar(step) / (1 - s.AlphaBar(step))
			w := lam * s2 / (1 + lam*s2)
			if math.Abs(s.ShrinkWeight(step, s2)-w) > 1e-13 {
				t.Errorf("s²=%g t=%d: w %.15g, λs²/(1+λs²) %.15g", s2, step, s.ShrinkWeight(step, s2), w)
			}
			if d := s2 / ((1 + lam*s2) * (1 + lam*s2)); math.Abs(s.GaussianDisplacement(step, s2)-d) > 1e-13 {
				t.Errorf("s²=%g t=%d: D %.15g, s²/(1+λs²)² %.15g", s2, step, s.GaussianDisplacement(step, s2), d)
			}
			if g := s.PropagateTruncated(step, 0.7, s2).Gain; math.Abs(g-w) > 1e-6 {
				t.Errorf("s²=%g t=%d: gain %.9f, w %.9f", s2, step, g, w)
			}
		}
	}
}
