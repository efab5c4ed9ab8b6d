package hessian

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// The Go generation of the §8 data and LeastSquaresHVP reproduce numpy's X and H.
func TestSection8LeastSquaresMatchesNumpy(t *testing.T) {
	f := loadLS(t)
	X, y := section8()
	// Last-ulp differences of sin are all Go and numpy may disagree on.
	for j, want := range f.XRow0 {
		if got := X.At(0, j); math.Abs(got-want) > 1e-15 {
			t.Errorf("X[0][%d] = %.17g, numpy %.17g", j, got, want)
		}
	}
	for i, want := range f.YFirst3 {
		if math.Abs(y[i]-want) > 1e-14 {
			t.Errorf("y[%d] = %.17g, numpy %.17g", i, y[i], want)
		}
	}
	H := fullHessian(LeastSquaresHVP(X), f.D+1)
	for i := range f.D + 1 {
		for j := range f.D + 1 {
			// Sums of 84 products of O(1) terms: agreement to ~1e-15·84.
			if got, want := H.At(i, j), f.Hessian[i*(f.D+1)+j]; math.Abs(got-want) > 1e-13 {
				t.Errorf("H[%d][%d] = %.17g, numpy %.17g", i, j, got, want)
			}
		}
	}
}

// The spectrum of the exact least-squares Hessian: models.md §6.3.1 (10 decimals) and the
// numpy fixture (full precision).
func TestLeastSquaresSpectrum(t *testing.T) {
	f := loadLS(t)
	X, _ := section8()
	H := fullHessian(LeastSquaresHVP(X), 6)
	vals, _ := symEigen(t, H)
	spec := []float64{0.7357264915, 0.9628387663, 1.0108084308, 1.0108102740, 1.0112785886, 2.8085149495}
	for i := range vals {
		if math.Abs(vals[i]-spec[i]) > 6e-11 { // spec rounded to 10 decimals
			t.Errorf("eigenvalue %d = %.12f, models.md %.10f", i, vals[i], spec[i])
		}
		if math.Abs(vals[i]-f.Eigenvalues[i]) > 1e-13 {
			t.Errorf("eigenvalue %d = %.17g, numpy %.17g", i, vals[i], f.Eigenvalues[i])
		}
	}
	var tr, fro, diag2 float64
	for i := range 6 {
		tr += H.At(i, i)
		diag2 += H.At(i, i) * H.At(i, i)
		for j := range 6 {
			fro += H.At(i, j) * H.At(i, j)
		}
	}
	if math.Abs(tr-7.5399775008) > 1e-10 || math.Abs(tr-f.Trace) > 1e-13 {
		t.Errorf("trace = %.12f, models.md 7.5399775008, numpy %.12f", tr, f.Trace)
	}
	if math.Abs(fro-12.42226366) > 1e-8 || math.Abs(fro-f.Frobenius2) > 1e-12 {
		t.Errorf("‖H‖_F² = %.10f, models.md 12.42226366", fro)
	}
	if v := 2 * (fro - diag2); math.Abs(v-4.3719) > 1e-4 || math.Abs(v-f.HutchVar) > 1e-12 {
		t.Errorf("2Σ_{i≠j}H_ij² = %.6f, models.md 4.3719", v)
	}
}

// models.md §6.3.1: power iteration with tol = 1e-3 finds 2.80851 to a relative 1e-3; the
// second eigenvalue (three lie within 5e-4 of 1.0113) converges slowly.
func TestPowerIterationLeastSquares(t *testing.T) {
	X, _ := section8()
	hvp := LeastSquaresHVP(X)
	const lam1, lam2, lam3 = 2.8085149495, 1.0112785886, 1.0108084308
	// The Rayleigh quotient converges as λ* − λ_k ≈ C·r^k with r = (λ2/λ1)², and the rule
	// stores λ_{k−1} once |λ_{k−1} − λ_k| < tol·|λ_{k−1}|, so the stored relative error is
	// below tol/(1 − r) = 1.149e-3: the "1e-3" of models.md §6.3.1, with the factor it omits.
	bound1 := 1e-3 / (1 - (lam2/lam1)*(lam2/lam1))
	for seed := uint64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		eig, err := TopEigenvalues(hvp, 6, 2, 100, 1e-3, rng)
		if err != nil {
			t.Fatal(err)
		}
		if r := math.Abs(eig.Values[0]-lam1) / lam1; r > bound1 || !eig.Converged[0] {
			t.Errorf("seed %d: λ1 = %.8f (rel. err %.2g, converged %v), want 2.80851", seed, eig.Values[0], r, eig.Converged[0])
		}
		// With tol = 1e-3 the second estimate stops once the Rayleigh quotient changes by
		// < 0.1 % per step; the 0.9628 component decays by (0.9628/1.0113)² ≈ 0.906 per
		// step, which leaves it within about 1 % of the cluster.
		if r := math.Abs(eig.Values[1]-lam2) / lam2; r > 0.02 || eig.Values[1] > lam2+1e-9 {
			t.Errorf("seed %d: λ2 = %.8f (rel. err %.2g), want ≈ 1.0113", seed, eig.Values[1], r)
		}
		// The stored eigenvector is one iteration further along, so its Rayleigh quotient is
		// better than the stored λ by the factor r = 0.13.
		hv := make([]float64, 6)
		hvp(hv, eig.Vectors[0])
		rq := floats.Dot(hv, eig.Vectors[0]) / floats.Dot(eig.Vectors[0], eig.Vectors[0])
		if math.Abs(rq-lam1) > 0.13*bound1*lam1 {
			t.Errorf("seed %d: Rayleigh quotient of the first eigenvector %.9f, want %.9f", seed, rq, lam1)
		}
	}
	// Run to a tight tolerance, the second estimate enters the cluster [λ3, λ2] and the
	// 0.9628 component is gone.
	rng := rand.New(rand.NewPCG(3, 3))
	eig, err := TopEigenvalues(hvp, 6, 2, 5000, 1e-12, rng)
	if err != nil {
		t.Fatal(err)
	}
	if v := eig.Values[1]; v < lam3-1e-9 || v > lam2+1e-9 {
		t.Errorf("tight λ2 = %.10f, want within the cluster [%.10f, %.10f]", v, lam3, lam2)
	}
}

// models.md §6.3.4: L(w) = w₁² − 3w₂² has eigenvalues {2, −6}; power iteration returns −6,
// the largest |λ|, and deflation then gives 2.
func TestPowerIterationIndefinite(t *testing.T) {
	hvp := func(dst, v []float64) { dst[0], dst[1] = 2*v[0], -6*v[1] }
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		eig, err := TopEigenvalues(hvp, 2, 2, 100, 1e-3, rng)
		if err != nil {
			t.Fatal(err)
		}
		// Relative error below tol/(1 − (2/6)²) = 1.125e-3 (see the least-squares test).
		if math.Abs(eig.Values[0]+6)/6 > 1.125e-3 {
			t.Errorf("seed %d: top eigenvalue %.6f, want −6", seed, eig.Values[0])
		}
		// Deflation against the (tol-accurate) first eigenvector leaves a residual of the −6
		// direction, of relative size ~1e-5 in λ2.
		if math.Abs(eig.Values[1]-2)/2 > 1e-3 {
			t.Errorf("seed %d: second eigenvalue %.6f, want 2", seed, eig.Values[1])
		}
	}
}

// recorder wraps an operator and records every Rayleigh quotient vᵀHv it is asked for.
type recorder struct {
	h   HVP
	rqs []float64
}

func (r *recorder) op(dst, v []float64) {
	r.h(dst, v)
	r.rqs = append(r.rqs, floats.Dot(dst, v))
}

// PyHessian's stopping rule: stop at the first iteration i ≥ 1 with |λ_{i−1} − λ_i| /
// (|λ_{i−1}| + 1e-6) < tol and store λ_{i−1}, the previous iterate's estimate; at maxIter,
// store the last one.
func TestPowerIterationStoppingRule(t *testing.T) {
	diag := []float64{1, 0.93, 0.5, -0.2, 0.1}
	rec := &recorder{h: func(dst, v []float64) {
		for i := range v {
			dst[i] = diag[i] * v[i]
		}
	}}
	const tol = 1e-4
	eig, err := TopEigenvalues(rec.op, 5, 1, 1000, tol, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	q := rec.rqs
	if !eig.Converged[0] || eig.Iterations[0] != len(q) || len(q) < 3 {
		t.Fatalf("converged %v after %d iterations, %d products", eig.Converged[0], eig.Iterations[0], len(q))
	}
	rule := func(i int) bool { return math.Abs(q[i-1]-q[i])/(math.Abs(q[i-1])+1e-6) < tol }
	for i := 1; i+1 < len(q); i++ {
		if rule(i) {
			t.Errorf("the rule held at iteration %d but the iteration went on", i)
		}
	}
	if !rule(len(q) - 1) {
		t.Errorf("stopped at iteration %d without the rule holding", len(q)-1)
	}
	if eig.Values[0] != q[len(q)-2] {
		t.Errorf("stored λ = %.17g, want the previous estimate %.17g (last %.17g)", eig.Values[0], q[len(q)-2], q[len(q)-1])
	}
	// Exhausting maxIter stores the last estimate.
	rec.rqs = nil
	eig, err = TopEigenvalues(rec.op, 5, 1, 3, 1e-15, rand.New(rand.NewPCG(5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if eig.Converged[0] || len(rec.rqs) != 3 || eig.Values[0] != rec.rqs[2] {
		t.Errorf("maxIter = 3: converged %v, %d products, λ = %v, estimates %v", eig.Converged[0], len(rec.rqs), eig.Values[0], rec.rqs)
	}
}

// Hutchinson's stopping rule: stop at the first probe whose running mean changes by a
// relative < tol from the previous mean (which starts at 0).
func TestTraceStoppingRule(t *testing.T) {
	X, _ := section8()
	rec := &recorder{h: LeastSquaresHVP(X)}
	const tol = 1e-3
	tr, err := Trace(rec.op, 6, 1000, tol, rand.New(rand.NewPCG(9, 9)))
	if err != nil {
		t.Fatal(err)
	}
	if !floats.Equal(tr.Probes, rec.rqs) {
		t.Fatalf("probes %v, operator saw %v", tr.Probes, rec.rqs)
	}
	prev, sum := 0.0, 0.0
	stop := -1
	for i, q := range rec.rqs {
		sum += q
		mean := sum / float64(i+1)
		if math.Abs(mean-prev)/(math.Abs(prev)+1e-6) < tol {
			stop = i
			break
		}
		prev = mean
	}
	if stop != len(tr.Probes)-1 || !tr.Converged {
		t.Errorf("stopped after %d probes (converged %v); the rule first holds at probe %d", len(tr.Probes), tr.Converged, stop+1)
	}
	if want := floats.Sum(tr.Probes) / float64(len(tr.Probes)); math.Abs(tr.Mean-want) > 1e-14 {
		t.Errorf("Mean = %v, mean of probes %v", tr.Mean, want)
	}
	// Each Rademacher probe of a diagonal operator gives its trace exactly.
	d := []float64{1, 2, 3}
	tr, err = Trace(func(dst, v []float64) {
		for i := range v {
			dst[i] = d[i] * v[i]
		}
	}, 3, 100, 1e-3, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Mean != 6 || len(tr.Probes) != 2 {
		t.Errorf("diagonal operator: trace %v after %d probes, want 6 after 2", tr.Mean, len(tr.Probes))
	}
}

// models.md §6.3.1: Hutchinson's mean is within a few SE of 7.5399775008, and the variance
// per probe is 2Σ_{i≠j}H_ij² = 4.3719.
func TestHutchinsonLeastSquares(t *testing.T) {
	f := loadLS(t)
	X, _ := section8()
	hvp := LeastSquaresHVP(X)
	for seed := uint64(1); seed <= 5; seed++ {
		tr, err := Trace(hvp, 6, 100, 1e-3, rand.New(rand.NewPCG(seed, 2)))
		if err != nil {
			t.Fatal(err)
		}
		se := math.Sqrt(f.HutchVar / float64(len(tr.Probes)))
		if math.Abs(tr.Mean-f.Trace) > 4*se {
			t.Errorf("seed %d: trace %.4f after %d probes, want %.4f ± 4·%.3f", seed, tr.Mean, len(tr.Probes), f.Trace, se)
		}
	}
	const m = 20000
	tr, err := Trace(hvp, 6, m, 1e-300, rand.New(rand.NewPCG(11, 12)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Probes) != m {
		t.Fatalf("%d probes, want %d", len(tr.Probes), m)
	}
	mean, sd := meanSD(tr.Probes)
	if se := math.Sqrt(f.HutchVar / m); math.Abs(mean-f.Trace) > 4*se {
		t.Errorf("mean of %d probes %.5f, want %.5f ± 4·%.4f", m, mean, f.Trace, se)
	}
	// SE of the sample variance from the sample fourth central moment: √((μ₄ − σ⁴)/m).
	var m4 float64
	for _, q := range tr.Probes {
		m4 += math.Pow(q-mean, 4)
	}
	m4 /= m
	v := sd * sd
	seV := math.Sqrt((m4 - v*v) / m)
	if math.Abs(v-f.HutchVar) > 4*seV {
		t.Errorf("variance per probe %.4f, want %.4f ± 4·%.4f", v, f.HutchVar, seV)
	}
	if s := tr.SE(); math.Abs(s-sd/math.Sqrt(m)) > 1e-3*s {
		t.Errorf("SE() = %v, want sd/√m = %v", s, sd/math.Sqrt(m))
	}
}

// models.md §6.3.1: SLQ with iter = p = 6 gives the eigenvalues as nodes (1e-8) with weights
// summing to 1; iter = 100 > p is capped at p (the Go pitfall of §6.2) and gives the same.
func TestSLQLeastSquaresExact(t *testing.T) {
	f := loadLS(t)
	X, _ := section8()
	hvp := LeastSquaresHVP(X)
	for _, iter := range []int{6, 100} {
		slq, err := Density(hvp, 6, iter, 3, rand.New(rand.NewPCG(4, uint64(iter))))
		if err != nil {
			t.Fatal(err)
		}
		for r := range slq.Nodes {
			if len(slq.Nodes[r]) != 6 {
				t.Fatalf("iter %d run %d: %d nodes, want 6", iter, r, len(slq.Nodes[r]))
			}
			for i, th := range slq.Nodes[r] {
				if math.Abs(th-f.Eigenvalues[i]) > 1e-8 {
					t.Errorf("iter %d run %d: node %d = %.12f, eigenvalue %.12f", iter, r, i, th, f.Eigenvalues[i])
				}
			}
			if s := floats.Sum(slq.Weights[r]); math.Abs(s-1) > 1e-12 {
				t.Errorf("iter %d run %d: Σ τ² = %.15f", iter, r, s)
			}
			if slq.Restarts[r] != 0 {
				t.Errorf("iter %d run %d: %d restarts, want none", iter, r, slq.Restarts[r])
			}
		}
	}
}

// Gauss quadrature exactness: m Lanczos steps from v reproduce vᵀH^k v/‖v‖² for k < 2m
// (numpy's moments for v = 1), and not for k = 2m.
func TestLanczosMomentsLeastSquares(t *testing.T) {
	f := loadLS(t)
	X, _ := section8()
	hvp := LeastSquaresHVP(X)
	ones := []float64{1, 1, 1, 1, 1, 1}
	for m := 1; m <= 5; m++ {
		nodes, w, _, err := lanczos(hvp, ones, m, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		mom := func(k int) float64 {
			var s float64
			for i, th := range nodes {
				s += w[i] * math.Pow(th, float64(k))
			}
			return s
		}
		for k := 0; k < 2*m; k++ {
			if got, want := mom(k), f.OnesMoments[k]; math.Abs(got-want) > 1e-11*want {
				t.Errorf("m = %d: moment %d = %.15g, numpy %.15g", m, k, got, want)
			}
		}
		// The first inexact moment differs visibly, so the check above can fail. (From m = 3
		// on, the cluster of three eigenvalues within 5e-4 makes it nearly exact too.)
		if got, want := mom(2*m), f.OnesMoments[2*m]; m <= 2 && math.Abs(got-want) < 1e-6*want {
			t.Errorf("m = %d: moment %d = %.15g is exact, expected a quadrature error", m, 2*m, got)
		}
	}
}

// Breakdown and restart: a Rademacher start of diag(1,1,1,2,2,3) spans a 3-dimensional
// Krylov space, so Lanczos restarts; the first block gives nodes {1, 2, 3} with weights
// exactly {3, 2, 1}/6 and the restarted ones are eigenvalues with zero weight. The identity
// gives w = 0 exactly at the first step.
func TestLanczosRestart(t *testing.T) {
	cases := []struct {
		diag    []float64
		weights map[float64]float64 // eigenvalue → total weight
	}{
		{[]float64{1, 2, 1, 3, 2, 1}, map[float64]float64{1: 0.5, 2: 1.0 / 3, 3: 1.0 / 6}},
		{[]float64{1, 1, 1, 1}, map[float64]float64{1: 1}},
	}
	for _, c := range cases {
		p := len(c.diag)
		hvp := func(dst, v []float64) {
			for i := range v {
				dst[i] = c.diag[i] * v[i]
			}
		}
		slq, err := Density(hvp, p, 100, 3, rand.New(rand.NewPCG(8, 8)))
		if err != nil {
			t.Fatal(err)
		}
		for r := range slq.Nodes {
			if slq.Restarts[r] == 0 {
				t.Errorf("%v run %d: no restart", c.diag, r)
			}
			got := map[float64]float64{}
			want := sortedCopy(c.diag)
			for i, th := range slq.Nodes[r] {
				if math.Abs(th-want[i]) > 1e-10 {
					t.Errorf("%v run %d: node %d = %.12f, want %v", c.diag, r, i, th, want[i])
				}
				got[math.Round(th)] += slq.Weights[r][i]
			}
			for ev, w := range c.weights {
				if math.Abs(got[ev]-w) > 1e-10 {
					t.Errorf("%v run %d: weight at %v = %.12f, want %.12f", c.diag, r, ev, got[ev], w)
				}
			}
		}
	}
}

// DensityGenerate against the Gaussian it should be: one node of weight 1 at 0.5 gives the
// grid [0.49, 0.51] and a normal density of VARIANCE s = 1e-5, truncated at ±0.01 and
// renormalized. (A standard deviation of 1e-5 would give a variance of 1e-10.)
func TestDensityGenerateGaussian(t *testing.T) {
	grid, dens := DensityGenerate([][]float64{{0.5}}, [][]float64{{1}}, 10000)
	if len(grid) != 10000 || grid[0] != 0.49 || grid[9999] != 0.51 {
		t.Fatalf("grid [%v … %v] with %d points, want [0.49, 0.51], 10000", grid[0], grid[len(grid)-1], len(grid))
	}
	dx := grid[1] - grid[0]
	var mass, mean, m2 float64
	for j, x := range grid {
		mass += dens[j] * dx
		mean += x * dens[j] * dx
	}
	for j, x := range grid {
		m2 += (x - mean) * (x - mean) * dens[j] * dx
	}
	if math.Abs(mass-1) > 1e-12 || math.Abs(mean-0.5) > 1e-9 {
		t.Errorf("mass %v, mean %v; want 1, 0.5", mass, mean)
	}
	// Truncated normal on [−a, a]·σ: variance σ²·(1 − 2aφ(a)/(2Φ(a) − 1)).
	s := 1e-5
	a := 0.01 / math.Sqrt(s)
	phi := math.Exp(-a*a/2) / math.Sqrt(2*math.Pi)
	want := s * (1 - 2*a*phi/math.Erf(a/math.Sqrt2))
	if math.Abs(m2-want) > 1e-3*want {
		t.Errorf("variance of the smoothed density %.6g, want %.6g", m2, want)
	}
	// Peak: N(0.5; 0.5, s) renormalized by the truncated mass.
	if peak, w := dens[5000], 1/math.Sqrt(2*math.Pi*s)/math.Erf(a/math.Sqrt2); math.Abs(peak-w) > 1e-3*w {
		t.Errorf("peak %v, want %v", peak, w)
	}

	// Weights and run averaging: nodes 0 and 1 with weights 0.3 and 0.7 have mean 0.7; the
	// grid runs from the mean of the runs' minima − 0.01 to the mean of their maxima + 0.01;
	// the kernel variance scales with the span (1e-5·1.02).
	grid, dens = DensityGenerate([][]float64{{0, 1}}, [][]float64{{0.3, 0.7}}, 10000)
	dx = grid[1] - grid[0]
	mean = 0
	for j, x := range grid {
		mean += x * dens[j] * dx
	}
	if math.Abs(mean-0.7) > 1e-4 {
		t.Errorf("mean of two nodes %v, want 0.7", mean)
	}
	grid, _ = DensityGenerate([][]float64{{0.4, 0.6}, {0.5, 0.8}}, [][]float64{{0.5, 0.5}, {0.5, 0.5}}, 100)
	if math.Abs(grid[0]-0.44) > 1e-15 || math.Abs(grid[99]-0.71) > 1e-15 {
		t.Errorf("grid [%v, %v], want [0.44, 0.71]", grid[0], grid[99])
	}
}

// A NaN in the product is an error, not a silent NaN eigenvalue.
func TestNonFiniteProduct(t *testing.T) {
	bad := func(dst, v []float64) {
		copy(dst, v)
		dst[0] = math.NaN()
	}
	rng := rand.New(rand.NewPCG(1, 1))
	if _, err := TopEigenvalues(bad, 3, 1, 10, 1e-3, rng); err == nil {
		t.Error("TopEigenvalues: no error")
	}
	if _, err := Trace(bad, 3, 10, 1e-3, rng); err == nil {
		t.Error("Trace: no error")
	}
	if _, err := Density(bad, 3, 10, 1, rng); err == nil {
		t.Error("Density: no error")
	}
	if _, err := Analyze(bad, 3, nil, rng); err == nil {
		t.Error("Analyze: no error")
	}
}
