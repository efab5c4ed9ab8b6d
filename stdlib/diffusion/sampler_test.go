package diffusion

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestForwardAndReverseStep(t *testing.T) {
	s := mustPower(t, 50, 1e-4, 0.5, 0.5)
	x0 := []float64{0.3, -1.2, 2}
	eps := []float64{1, 0.5, -0.25}
	z := []float64{-0.7, 0.1, 1.9}
	for _, step := range []int{0, 1, 17, 49} {
		ab := 1.0 // plain product, independent of the schedule's log-space ᾱ
		for i := 0; i <= step; i++ {
			ab *= 1 - s.Beta(i)
		}
		fw := make([]float64, 3)
		s.Forward(fw, x0, eps, step)
		rs := make([]float64, 3)
		s.ReverseStep(rs, x0, eps, z, step)
		for i := range x0 {
			if want := math.Sqrt(ab)*x0[i] + math.Sqrt(1-ab)*eps[i]; math.Abs(fw[i]-want) > 1e-14 {
				t.Errorf("t=%d Forward[%d] = %.17g, want %.17g", step, i, fw[i], want)
			}
			// csdi_icr.md §1.5, with σ_t² = β_t(1−ᾱ_{t−1})/(1−ᾱ_t) and no noise at t = 0.
			b := s.Beta(step)
			want := (x0[i] - b/math.Sqrt(1-ab)*eps[i]) / math.Sqrt(1-b)
			if step > 0 {
				want += math.Sqrt(b*(1-ab/(1-b))/(1-ab)) * z[i]
			}
			if math.Abs(rs[i]-want) > 1e-13 {
				t.Errorf("t=%d ReverseStep[%d] = %.17g, want %.17g", step, i, rs[i], want)
			}
		}
	}
	// In-place use and a nil z at t = 0.
	x := slices.Clone(x0)
	s.ReverseStep(x, x, eps, nil, 0)
	want := make([]float64, 3)
	s.ReverseStep(want, x0, eps, z, 0)
	if !slices.Equal(x, want) {
		t.Errorf("in-place step %v, out-of-place %v", x, want)
	}
}

func TestLowerMedianMatchesGonumEmpirical(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, samples := range []int{1, 2, 3, 10, 15, 100} {
		l := Layout{Rows: 3, Samples: samples, Dim: 2}
		x := make([]float64, l.Len())
		for i := range x {
			x[i] = math.Round(rng.NormFloat64()*4) / 4 // ties on purpose
		}
		got := make([]float64, l.RowLen())
		LowerMedian(got, x, l)
		for r := 0; r < l.Rows; r++ {
			for d := 0; d < l.Dim; d++ {
				var v []float64
				for smp := 0; smp < samples; smp++ {
					v = append(v, x[(r*samples+smp)*l.Dim+d])
				}
				slices.Sort(v)
				want := stat.Quantile(0.5, stat.Empirical, v, nil)
				if got[r*l.Dim+d] != want {
					t.Errorf("S=%d row %d dim %d: median %g, gonum Empirical %g", samples, r, d, got[r*l.Dim+d], want)
				}
			}
		}
	}
	// Even count: the lower middle value, as torch.median.
	got := make([]float64, 1)
	LowerMedian(got, []float64{4, 1, 3, 2}, Layout{Rows: 1, Samples: 4, Dim: 1})
	if got[0] != 2 {
		t.Errorf("median of {1,2,3,4} = %g, want the lower middle 2", got[0])
	}
	LowerMedian(got, []float64{4, math.NaN(), 3}, Layout{Rows: 1, Samples: 3, Dim: 1})
	if !math.IsNaN(got[0]) {
		t.Errorf("median with a NaN = %g, want NaN", got[0])
	}
}

func TestCommonNoiseOrderAndDeterminism(t *testing.T) {
	l := Layout{Rows: 2, Samples: 3, Dim: 2}
	const T = 4
	a := NewCommonNoise(l, T, ForwardPath, rand.New(rand.NewPCG(7, 8)))
	b := NewCommonNoise(l, T, ForwardPath, rand.New(rand.NewPCG(7, 8)))
	if !slices.Equal(a.Eps(), b.Eps()) || !slices.Equal(a.Z(3), b.Z(3)) {
		t.Fatal("same seed, different noise")
	}
	// Documented order: per (row, sample): ε[dim], z_1[dim], …, z_{T−1}[dim].
	rng := rand.New(rand.NewPCG(7, 8))
	for u := 0; u < l.Rows*l.Samples; u++ {
		for d := 0; d < l.Dim; d++ {
			if v := rng.NormFloat64(); a.Eps()[u*l.Dim+d] != v {
				t.Fatalf("ε of unit %d dim %d out of order", u, d)
			}
		}
		for step := 1; step < T; step++ {
			for d := 0; d < l.Dim; d++ {
				if v := rng.NormFloat64(); a.Z(step)[u*l.Dim+d] != v {
					t.Fatalf("z_%d of unit %d dim %d out of order", step, u, d)
				}
			}
		}
	}
	// Adding rows does not change the noise of the first rows.
	c := NewCommonNoise(Layout{Rows: 5, Samples: 3, Dim: 2}, T, FixedStart, rand.New(rand.NewPCG(7, 8)))
	if !slices.Equal(c.Eps()[:l.Len()], a.Eps()) || !slices.Equal(c.Z(2)[:l.Len()], a.Z(2)) {
		t.Error("noise of the first rows depends on the number of rows")
	}
}

// RepeatRows gives each new row exactly the numbers of its source row, for every sample and
// step, so the runs of copies of one row share their noise.
func TestRepeatRows(t *testing.T) {
	l := Layout{Rows: 3, Samples: 2, Dim: 2}
	const T = 5
	c := NewCommonNoise(l, T, ForwardPath, rand.New(rand.NewPCG(1, 9)))
	rows := []int{2, 0, 2, 2}
	r := c.RepeatRows(rows)
	if r.Layout() != (Layout{Rows: 4, Samples: 2, Dim: 2}) || r.Steps() != T || r.Coupling() != ForwardPath {
		t.Fatalf("layout %+v, steps %d", r.Layout(), r.Steps())
	}
	per := l.Samples * l.Dim
	for i, src := range rows {
		if !slices.Equal(r.Eps()[i*per:(i+1)*per], c.Eps()[src*per:(src+1)*per]) {
			t.Errorf("ε of row %d is not row %d's", i, src)
		}
		for step := 1; step < T; step++ {
			if !slices.Equal(r.Z(step)[i*per:(i+1)*per], c.Z(step)[src*per:(src+1)*per]) {
				t.Errorf("z_%d of row %d is not row %d's", step, i, src)
			}
		}
	}
	s, _ := Power(T, 1e-4, 0.05, 0.5)
	a, b := make([]float64, l.Len()), make([]float64, r.Layout().Len())
	c.StartEps(a, s, 1)
	r.StartEps(b, s, 1)
	if !slices.Equal(b[per:2*per], a[:per]) || !slices.Equal(b[3*per:], a[2*per:]) {
		t.Error("the forward-path starts of the copies differ from their source row's")
	}
}

// meanVar returns the sample mean and (n−1) variance.
func meanVar(x []float64) (float64, float64) {
	m, v := stat.MeanVariance(x, nil)
	return m, v
}

// checkMoments applies the 4-standard-error criterion of csdi_icr.md §4.2.
func checkMoments(t *testing.T, name string, x []float64, M, V float64) {
	t.Helper()
	n := float64(len(x))
	m, v := meanVar(x)
	seM, seV := 4*math.Sqrt(V/n), 4*math.Sqrt(2/(n-1))
	t.Logf("%s: mean %.5f (exact %.5f, 4SE %.4f), var %.5f (exact %.5f, ratio %.4f, 4SE %.3f)", name, m, M, seM, v, V, v/V, seV)
	if math.Abs(m-M) > seM {
		t.Errorf("%s: sample mean %.5f, exact %.5f: off by more than 4 SE (%.5f)", name, m, M, seM)
	}
	if math.Abs(v/V-1) > seV {
		t.Errorf("%s: sample var %.5f, exact %.5f: ratio off by more than 4 SE (%.4f)", name, v, V, seV)
	}
}

func scalarOracle(t testing.TB, s *Schedule, means []float64, s2 float64) *GaussianOracle {
	t.Helper()
	o, err := NewGaussianOracle(s, means, mat.NewSymDense(1, []float64{s2}))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOracleSamplerFullChain(t *testing.T) {
	ref := loadReference(t)
	const n = 20000 // csdi_icr.md §4.2
	for k, c := range ref.FullChain {
		s := mustPower(t, c.T, 1e-4, c.BetaEnd, 0.5)
		mo := s.PropagateFull(c.M, c.S2)
		if mo.Gain != 0 || math.Abs(mo.Mean-c.Mean) > 1e-12 || math.Abs(mo.Var-c.Var) > 1e-12 {
			t.Errorf("quad→%g T=%d s²=%g: propagated (%.15g, %.15g), numpy (%.15g, %.15g)", c.BetaEnd, c.T, c.S2, mo.Mean, mo.Var, c.Mean, c.Var)
		}
		l := Layout{Rows: 1, Samples: n, Dim: 1}
		noise := NewCommonNoise(l, c.T, ForwardPath, rand.New(rand.NewPCG(11, uint64(k))))
		out := make([]float64, l.Len())
		if err := s.Full(out, noise, scalarOracle(t, s, []float64{c.M}, c.S2).Eps); err != nil {
			t.Fatal(err)
		}
		checkMoments(t, "full chain", out, mo.Mean, mo.Var)
	}
	// Published (csdi_icr.md §4.2, m = 0.7, s² = 0.25 unless said): quad(1e-4, 0.5), T = 50:
	// mean 0.7000, var 0.2142 = 0.857 s²; var/s² 0.792 (s² = 0.05), 0.887 (s² = 1); T = 100
	// 0.905, T = 150 0.926; quad to 0.05: mean 0.597.
	pub := []struct {
		be           float64
		T            int
		s2           float64
		mean, varRat float64
		meanDP       int
	}{
		{0.5, 50, 0.25, 0.7000, 0.857, 4},
		{0.5, 50, 0.05, 0.7, 0.792, 1},
		{0.5, 50, 1, 0.7, 0.887, 1},
		{0.5, 100, 0.25, 0.7, 0.905, 1},
		{0.5, 150, 0.25, 0.7, 0.926, 1},
		{0.05, 50, 0.25, 0.597, math.NaN(), 3},
	}
	for _, p := range pub {
		mo := mustPower(t, p.T, 1e-4, p.be, 0.5).PropagateFull(0.7, p.s2)
		if !within(mo.Mean, p.mean, p.meanDP) || (!math.IsNaN(p.varRat) && !within(mo.Var/p.s2, p.varRat, 3)) {
			t.Errorf("quad→%g T=%d s²=%g: mean %.5f var/s² %.5f, published %g, %g", p.be, p.T, p.s2, mo.Mean, mo.Var/p.s2, p.mean, p.varRat)
		}
	}
	if mo := mustPower(t, 50, 1e-4, 0.5, 0.5).PropagateFull(0.7, 0.25); !within(mo.Var, 0.2142, 4) {
		t.Errorf("full chain var %.6f, published 0.2142", mo.Var)
	}
}

func TestOracleSamplerTruncated(t *testing.T) {
	ref := loadReference(t)
	s := mustPower(t, 50, 1e-4, 0.05, 0.5)
	const m, s2, y, n = 0.7, 0.25, 1.3, 20000
	// Published table, csdi_icr.md §4.2 (quad to 0.05, T = 50, m = 0.7, s² = 0.25):
	// t*, ᾱ, G = w, (1−w)m, sampler var, exact posterior var.
	pub := [][6]float64{
		{10, 0.9869, 0.9494, 0.0354, 0.0210, 0.0246},
		{20, 0.9276, 0.7620, 0.1666, 0.0947, 0.1048},
		{30, 0.7988, 0.4981, 0.3514, 0.1732, 0.1880},
		{49, 0.4091, 0.1475, 0.5967, 0.2271, 0.2446},
	}
	l := Layout{Rows: 1, Samples: n, Dim: 1}
	oracle := scalarOracle(t, s, []float64{m}, s2)
	out := make([]float64, l.Len())
	start := make([]float64, l.Len())
	for k, p := range pub {
		ts := int(p[0])
		mo := s.PropagateTruncated(ts, m, s2)
		w := s.ShrinkWeight(ts, s2)
		if math.Abs(mo.Gain-w) > 1e-6 { // csdi_icr.md §4.2: G = w to 1e-6
			t.Errorf("t*=%d: gain %.9f, w %.9f", ts, mo.Gain, w)
		}
		if math.Abs(mo.Mean-(1-w)*m) > 1e-6 {
			t.Errorf("t*=%d: y-free mean %.9f, (1−w)m %.9f", ts, mo.Mean, (1-w)*m)
		}
		got := [6]float64{float64(ts), s.AlphaBar(ts), mo.Gain, mo.Mean, mo.Var, s.ExactTruncatedVar(ts, s2)}
		for j := 1; j < 6; j++ {
			if !within(got[j], p[j], 4) {
				t.Errorf("t*=%d column %d: %.6f, published %.4f", ts, j, got[j], p[j])
			}
		}
		r := ref.Truncated[k]
		if r.TStar != ts || math.Abs(mo.Gain-r.Gain) > 1e-12 || math.Abs(mo.Mean-r.Mean) > 1e-12 || math.Abs(mo.Var-r.Var) > 1e-12 || math.Abs(got[5]-r.ExactVar) > 1e-12 {
			t.Errorf("t*=%d: (G, M, V, exact) = (%.15g %.15g %.15g %.15g), numpy (%.15g %.15g %.15g %.15g)", ts, mo.Gain, mo.Mean, mo.Var, got[5], r.Gain, r.Mean, r.Var, r.ExactVar)
		}
	}
	// Every coupling must give each single run the law of the truncated sampler; t* = 0 is one
	// noise-free step from the noised value.
	for _, coupling := range []Coupling{ForwardPath, FixedStart} {
		noise := NewCommonNoise(l, 50, coupling, rand.New(rand.NewPCG(12, uint64(coupling))))
		for _, ts := range []int{0, 10, 20, 30, 49} {
			if err := s.Truncated(out, start, []float64{y}, ts, noise, oracle.Eps); err != nil {
				t.Fatal(err)
			}
			mo := s.PropagateTruncated(ts, m, s2)
			checkMoments(t, coupling.String()+" noised start", start, s.SqrtAlphaBar(ts)*y, s.OneMinusAlphaBar(ts))
			checkMoments(t, coupling.String()+" truncated", out, mo.Gain*y+mo.Mean, mo.Var)
		}
	}
}

func TestForwardPathCoupling(t *testing.T) {
	// Under ForwardPath the start noises ε_t of one unit form the reversed forward chain:
	// Var ε_t = 1, Corr(ε_t, ε_{t+1}) = ρ_t = √α_{t+1}√(1−ᾱ_t)/√(1−ᾱ_{t+1}), and ε_t is
	// uncorrelated with the z_t, …, z_1 a run from t uses. Equivalently the noised starts
	// x_t = √ᾱ_t y + √(1−ᾱ_t) ε_t satisfy x_{t+1} = √α_{t+1} x_t + √β_{t+1} η with η ⟂ x_t.
	s := mustPower(t, 30, 1e-4, 0.2, 0.5)
	const n = 20000
	l := Layout{Rows: 1, Samples: n, Dim: 1}
	noise := NewCommonNoise(l, 30, ForwardPath, rand.New(rand.NewPCG(31, 0)))
	e := make([][]float64, 30)
	for ts := range e {
		e[ts] = make([]float64, n)
		noise.StartEps(e[ts], s, ts)
	}
	if !slices.Equal(e[29], noise.Eps()) {
		t.Error("the start noise at T−1 is not Eps()")
	}
	se := 4 / math.Sqrt(n) // 4 SE of a correlation near 0; of a variance ratio it is 4√(2/n)
	for _, ts := range []int{0, 5, 17, 28} {
		m, v := meanVar(e[ts])
		if math.Abs(m) > 4/math.Sqrt(n) || math.Abs(v-1) > 4*math.Sqrt(2.0/n) {
			t.Errorf("ε_%d: mean %.4f var %.4f, want N(0, 1)", ts, m, v)
		}
		rho := math.Sqrt(1-s.Beta(ts+1)) * math.Sqrt(1-s.AlphaBar(ts)) / math.Sqrt(1-s.AlphaBar(ts+1))
		// SE of a sample correlation r is (1−r²)/√n.
		if r := stat.Correlation(e[ts], e[ts+1], nil); math.Abs(r-rho) > 4*(1-rho*rho)/math.Sqrt(n)+1e-12 {
			t.Errorf("corr(ε_%d, ε_%d) = %.5f, ρ = %.5f", ts, ts+1, r, rho)
		}
		for _, zt := range []int{1, ts} {
			if zt < 1 || zt > ts { // a run from ts uses z_ts, …, z_1
				continue
			}
			if r := stat.Correlation(e[ts], noise.Z(zt), nil); math.Abs(r) > se {
				t.Errorf("ε_%d correlates with z_%d the run uses: %.4f", ts, zt, r)
			}
		}
	}
	// The rest of the coupling by hand: ε_t = ρ ε_{t+1} + √(1−ρ²) z_{t+1}.
	for _, ts := range []int{0, 13, 27} {
		rho := math.Sqrt(1-s.Beta(ts+1)) * math.Sqrt(1-s.AlphaBar(ts)) / math.Sqrt(1-s.AlphaBar(ts+1))
		for i := 0; i < 5; i++ {
			if want := rho*e[ts+1][i] + math.Sqrt(1-rho*rho)*noise.Z(ts + 1)[i]; math.Abs(e[ts][i]-want) > 1e-10 {
				t.Errorf("ε_%d[%d] = %.15g, recursion %.15g", ts, i, e[ts][i], want)
			}
		}
	}
}

func TestMultivariateOracleSampler(t *testing.T) {
	// A correlated 2-d conditional law. In S's eigenbasis the oracle chain splits into
	// independent scalar chains (every step matrix is a function of S), so each eigen-
	// direction must follow PropagateFull with s² = its eigenvalue.
	s := mustPower(t, 50, 1e-4, 0.5, 0.5)
	S := mat.NewSymDense(2, []float64{0.3, 0.2, 0.2, 0.5})
	m := []float64{0.4, -1}
	o, err := NewGaussianOracle(s, m, S)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	l := Layout{Rows: 1, Samples: n, Dim: 2}
	out := make([]float64, l.Len())
	if err := s.Full(out, NewCommonNoise(l, 50, ForwardPath, rand.New(rand.NewPCG(13, 0))), o.Eps); err != nil {
		t.Fatal(err)
	}
	var eig mat.EigenSym
	if !eig.Factorize(S, true) {
		t.Fatal("eigen")
	}
	var q mat.Dense
	eig.VectorsTo(&q)
	vals := eig.Values(nil)
	proj := [2][]float64{make([]float64, n), make([]float64, n)}
	for j := 0; j < 2; j++ {
		mj := q.At(0, j)*m[0] + q.At(1, j)*m[1]
		for i := 0; i < n; i++ {
			proj[j][i] = q.At(0, j)*out[2*i] + q.At(1, j)*out[2*i+1]
		}
		mo := s.PropagateFull(mj, vals[j])
		checkMoments(t, "eigen-direction", proj[j], mo.Mean, mo.Var)
	}
	c := stat.Covariance(proj[0], proj[1], nil)
	v0, v1 := s.PropagateFull(0, vals[0]).Var, s.PropagateFull(0, vals[1]).Var
	if se := math.Sqrt(v0 * v1 / n); math.Abs(c) > 4*se {
		t.Errorf("eigen-directions correlated: cov %.5f, 4 SE %.5f", c, 4*se)
	}
}

func TestRunsStopOnError(t *testing.T) {
	s := mustPower(t, 10, 1e-4, 0.5, 0.5)
	l := Layout{Rows: 2, Samples: 3, Dim: 1}
	noise := NewCommonNoise(l, 10, ForwardPath, rand.New(rand.NewPCG(1, 1)))
	stop := errors.New("cancelled")
	var seen []int
	eps := func(dst, x []float64, t int) error {
		seen = append(seen, t)
		if t == 4 {
			return stop
		}
		clear(dst)
		return nil
	}
	out := make([]float64, l.Len())
	if err := s.Truncated(out, nil, []float64{0, 1}, 6, noise, eps); err != stop {
		t.Errorf("Truncated returned %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []int{6, 5, 4}) {
		t.Errorf("steps visited %v, want [6 5 4]", seen)
	}
	seen = nil
	if err := s.Full(out, noise, eps); err != stop || !slices.Equal(seen, []int{9, 8, 7, 6, 5, 4}) {
		t.Errorf("Full: err %v, steps %v", err, seen)
	}
}

func TestTruncatedUsesAbsoluteStepNoise(t *testing.T) {
	// With ε̂ ≡ 0 the chain is x ← x/√α_t + σ_t z_t, so the result can be written out by hand
	// from the start noise and the common z indexed by absolute t.
	s := mustPower(t, 20, 1e-4, 0.2, 0.5)
	l := Layout{Rows: 2, Samples: 2, Dim: 1}
	zero := func(dst, x []float64, t int) error { clear(dst); return nil }
	y := []float64{0.5, -2}
	for _, coupling := range []Coupling{ForwardPath, FixedStart} {
		noise := NewCommonNoise(l, 20, coupling, rand.New(rand.NewPCG(3, 4)))
		for _, ts := range []int{0, 1, 7, 19} {
			out := make([]float64, l.Len())
			if err := s.Truncated(out, nil, y, ts, noise, zero); err != nil {
				t.Fatal(err)
			}
			e := make([]float64, l.Len())
			noise.StartEps(e, s, ts)
			if coupling == FixedStart && !slices.Equal(e, noise.Eps()) {
				t.Errorf("FixedStart t*=%d: start noise is not Eps()", ts)
			}
			for u := 0; u < l.Len(); u++ {
				x := s.SqrtAlphaBar(ts)*y[u/l.Samples] + s.SqrtOneMinusAlphaBar(ts)*e[u]
				for step := ts; step >= 0; step-- {
					x /= math.Sqrt(1 - s.Beta(step))
					if step > 0 {
						x += s.Sigma(step) * noise.Z(step)[u]
					}
				}
				if math.Abs(out[u]-x) > 1e-12 {
					t.Errorf("%v t*=%d unit %d: %.15g, by hand %.15g", coupling, ts, u, out[u], x)
				}
			}
		}
	}
}
