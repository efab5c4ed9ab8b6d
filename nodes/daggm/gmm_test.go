package daggm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
)

func close(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// TestGMMFromGammaFixture checks GMMParams, Energy and the covariance penalty against the
// scipy/numpy numbers of methods/models.md §5.3.1 [fixture] (10 decimals given).
func TestGMMFromGammaFixture(t *testing.T) {
	z := mat.NewDense(6, 2, []float64{0, 0, 1, 0, 0, 1, 3, 3, 4, 3, 3, 4})
	gamma := mat.NewDense(6, 2, []float64{.9, .1, .8, .2, .85, .15, .1, .9, .2, .8, .05, .95})
	g := NewGMM(z, gamma)
	const tol = 1e-9 // the fixture is rounded to 10 decimals
	want := struct{ phi, mu, sigma, energy []float64 }{
		phi:    []float64{0.4833333333, 0.5166666667},
		mu:     []float64{0.7068965517, 0.6724137931, 2.8870967742, 2.9193548387},
		sigma:  []float64{1.3451248514, 0.8695005945, 0.8695005945, 1.0478596908, 1.2291883455, 0.9586368366, 0.9586368366, 1.3644640999},
		energy: []float64{2.5567314013, 3.0583067546, 3.1043556513, 2.2985604555, 3.3201662794, 3.1541106955},
	}
	for name, p := range map[string][2][]float64{"phi": {g.Phi, want.phi}, "mu": {g.Mu, want.mu}, "sigma": {g.Sigma, want.sigma}} {
		for i := range p[1] {
			if math.Abs(p[0][i]-p[1][i]) > tol {
				t.Errorf("%s[%d] = %.10f, want %.10f", name, i, p[0][i], p[1][i])
			}
		}
	}
	e, err := g.Energy(nil, z, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want.energy {
		if math.Abs(e[i]-w) > tol {
			t.Errorf("energy[%d] = %.10f, want %.10f", i, e[i], w)
		}
	}
	if p := g.CovDiagPenalty(); math.Abs(p-3.2441850942) > tol {
		t.Errorf("covariance penalty %.10f, want 3.2441850942", p)
	}
	// The default jitter moves these energies by about ε·tr(Σ⁻¹)/2 ≈ 2e-6 at most.
	ej, err := g.Energy(nil, z, DefaultJitter)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ej {
		if d := math.Abs(ej[i] - e[i]); d > 1e-5 || d == 0 {
			t.Errorf("jitter changed energy %d by %g: want a change, below 1e-5", i, d)
		}
	}
}

// naiveEnergy is −log Σ_k φ_k exp(−½ m_k)/√|2πΣ_k| with an explicit inverse and
// determinant: the textbook formula, independent of the Cholesky/logsumexp code.
func naiveEnergy(g *GMM, z []float64) float64 {
	s := 0.0
	for k := 0; k < g.K; k++ {
		inv, det := invDet(g, k)
		m := quad(inv, z, g.Mu[k*g.D:(k+1)*g.D])
		s += g.Phi[k] * math.Exp(-0.5*m) / math.Sqrt(math.Pow(2*math.Pi, float64(g.D))*det)
	}
	return -math.Log(s)
}

func invDet(g *GMM, k int) (*mat.Dense, float64) {
	s := mat.NewDense(g.D, g.D, append([]float64(nil), g.Sigma[k*g.D*g.D:(k+1)*g.D*g.D]...))
	var inv mat.Dense
	if err := inv.Inverse(s); err != nil {
		panic(err)
	}
	return &inv, mat.Det(s)
}

func quad(inv *mat.Dense, z, mu []float64) float64 {
	d := len(z)
	m := 0.0
	for a := 0; a < d; a++ {
		for b := 0; b < d; b++ {
			m += (z[a] - mu[a]) * inv.At(a, b) * (z[b] - mu[b])
		}
	}
	return m
}

// logDensities returns log φ_k + log N(z; μ_k, Σ_k) per component from gonum's distmv.
func logDensities(g *GMM, z []float64) []float64 {
	out := make([]float64, g.K)
	for k := 0; k < g.K; k++ {
		sym := mat.NewSymDense(g.D, append([]float64(nil), g.Sigma[k*g.D*g.D:(k+1)*g.D*g.D]...))
		nrm, ok := distmv.NewNormal(g.Mu[k*g.D:(k+1)*g.D], sym, nil)
		if !ok {
			panic("not positive definite")
		}
		out[k] = math.Log(g.Phi[k]) + nrm.LogProb(z)
	}
	return out
}

func lse(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// randomGMM returns a K-component mixture in D dimensions with well-conditioned random
// covariances (A·Aᵀ + 0.5 I).
func randomGMM(k, d int, rng *rand.Rand) *GMM {
	g := &GMM{K: k, D: d, Phi: make([]float64, k), Mu: make([]float64, k*d), Sigma: make([]float64, k*d*d)}
	tot := 0.0
	for c := 0; c < k; c++ {
		g.Phi[c] = 0.5 + rng.Float64()
		tot += g.Phi[c]
		for j := 0; j < d; j++ {
			g.Mu[c*d+j] = 4 * rng.NormFloat64()
		}
		a := mat.NewDense(d, d, nil)
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				a.Set(i, j, 0.7*rng.NormFloat64())
			}
		}
		var s mat.Dense
		s.Mul(a, a.T())
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				v := s.At(i, j)
				if i == j {
					v += 0.5
				}
				g.Sigma[c*d*d+i*d+j] = v
			}
		}
	}
	for c := range g.Phi {
		g.Phi[c] /= tot
	}
	return g
}

// sample draws n points of g with their component labels.
func sample(g *GMM, n int, rng *rand.Rand) (*mat.Dense, []int) {
	z := mat.NewDense(n, g.D, nil)
	lab := make([]int, n)
	chols := make([]mat.Cholesky, g.K)
	for k := range chols {
		chols[k].Factorize(mat.NewSymDense(g.D, append([]float64(nil), g.Sigma[k*g.D*g.D:(k+1)*g.D*g.D]...)))
	}
	for i := 0; i < n; i++ {
		u, k := rng.Float64(), 0
		for c := 0.0; k < g.K-1; k++ {
			c += g.Phi[k]
			if u < c {
				break
			}
		}
		lab[i] = k
		var l mat.TriDense
		chols[k].LTo(&l)
		e := make([]float64, g.D)
		for j := range e {
			e[j] = rng.NormFloat64()
		}
		for a := 0; a < g.D; a++ {
			v := g.Mu[k*g.D+a]
			for b := 0; b <= a; b++ {
				v += l.At(a, b) * e[b]
			}
			z.Set(i, a, v)
		}
	}
	return z, lab
}

// TestEnergyIdentities checks Energy against closed forms (§5.3.3).
func TestEnergyIdentities(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// K = 1: E = ½(z−μ)ᵀΣ⁻¹(z−μ) + ½ log|2πΣ| (explicit inverse and determinant).
	g1 := randomGMM(1, 4, rng)
	z, _ := sample(g1, 20, rng)
	e, err := g1.Energy(nil, z, 0)
	if err != nil {
		t.Fatal(err)
	}
	inv, det := invDet(g1, 0)
	for i := range e {
		want := 0.5*quad(inv, z.RawRowView(i), g1.Mu) + 0.5*math.Log(math.Pow(2*math.Pi, 4)*det)
		if !close(e[i], want, 1e-12) {
			t.Errorf("K=1 energy %d: %.15g, closed form %.15g", i, e[i], want)
		}
	}
	// K = 3, D = 3: mean energy = −mean log-density (gonum distmv), and the stable form
	// equals the naive textbook form to 1e-12 where that does not underflow.
	g := randomGMM(3, 3, rng)
	z, _ = sample(g, 200, rng)
	e, err = g.Energy(nil, z, 0)
	if err != nil {
		t.Fatal(err)
	}
	meanE, meanLL := 0.0, 0.0
	for i := range e {
		meanE += e[i] / 200
		meanLL += lse(logDensities(g, z.RawRowView(i))) / 200
		if nv := naiveEnergy(g, z.RawRowView(i)); !close(e[i], nv, 1e-12) {
			t.Errorf("point %d: stable %.15g, naive %.15g", i, e[i], nv)
		}
	}
	if !close(meanE, -meanLL, 1e-12) {
		t.Errorf("mean energy %.15g, −mean log-density %.15g", meanE, -meanLL)
	}
	// At least 50σ (Mahalanobis) from every component the naive form underflows to +Inf;
	// the stable form stays finite and equals the max-subtracted log-sum-exp of the
	// distmv log-densities.
	far := make([]float64, 3)
	for s := 1.0; ; s *= 1.5 {
		copy(far, g.Mu[:3])
		far[0] += s * math.Sqrt(g.Sigma[0])
		near := math.Inf(1)
		for k := 0; k < 3; k++ {
			inv, _ := invDet(g, k)
			near = math.Min(near, quad(inv, far, g.Mu[3*k:3*k+3]))
		}
		if near >= 50*50 {
			break
		}
	}
	if nv := naiveEnergy(g, far); !math.IsInf(nv, 1) {
		t.Fatalf("the naive energy 50σ away is %v: the test point does not reach underflow", nv)
	}
	ef, err := g.Energy(nil, mat.NewDense(1, 3, far), 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := -lse(logDensities(g, far)); math.IsInf(ef[0], 0) || math.IsNaN(ef[0]) || !close(ef[0], want, 1e-12) {
		t.Errorf("50σ energy %v, want finite %v", ef[0], want)
	}
}

// mStep is the weighted EM M-step written out with loops: the reference GMMParams must
// reproduce.
func mStep(z *mat.Dense, gamma *mat.Dense) *GMM {
	n, d := z.Dims()
	_, k := gamma.Dims()
	g := &GMM{K: k, D: d, Phi: make([]float64, k), Mu: make([]float64, k*d), Sigma: make([]float64, k*d*d)}
	for c := 0; c < k; c++ {
		nk := 0.0
		for i := 0; i < n; i++ {
			nk += gamma.At(i, c)
		}
		g.Phi[c] = nk / float64(n)
		for i := 0; i < n; i++ {
			for a := 0; a < d; a++ {
				g.Mu[c*d+a] += gamma.At(i, c) * z.At(i, a) / nk
			}
		}
		for i := 0; i < n; i++ {
			for a := 0; a < d; a++ {
				for b := 0; b < d; b++ {
					g.Sigma[c*d*d+a*d+b] += gamma.At(i, c) * (z.At(i, a) - g.Mu[c*d+a]) * (z.At(i, b) - g.Mu[c*d+b]) / nk
				}
			}
		}
	}
	return g
}

// eStep returns the responsibilities of g for the points z, from distmv densities, and
// the total log-likelihood.
func eStep(g *GMM, z *mat.Dense) (*mat.Dense, float64) {
	n, _ := z.Dims()
	r := mat.NewDense(n, g.K, nil)
	ll := 0.0
	for i := 0; i < n; i++ {
		ld := logDensities(g, z.RawRowView(i))
		l := lse(ld)
		ll += l
		for k, v := range ld {
			r.Set(i, k, math.Exp(v-l))
		}
	}
	return r, ll
}

func maxAbsDiff(a, b []float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// TestEMEquivalence checks §5.3.2: the DAGMM formulas are one EM M-step; iterating E-step
// and these formulas never lowers the log-likelihood and recovers well-separated clusters;
// one-hot memberships give proportions, sample means and 1/N_k covariances.
func TestEMEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	truth := &GMM{K: 3, D: 2, Phi: []float64{0.5, 0.3, 0.2},
		Mu:    []float64{0, 0, 8, 0, 0, 8},
		Sigma: []float64{1, 0.3, 0.3, 0.5, 0.6, -0.2, -0.2, 0.8, 0.4, 0, 0, 1.2}}
	z, lab := sample(truth, 1500, rng)

	// One M-step from the E-step responsibilities of a known (wrong) mixture.
	start := randomGMM(3, 2, rng)
	r, _ := eStep(start, z)
	got, want := NewGMM(z, r), mStep(z, r)
	for name, p := range map[string][2][]float64{"phi": {got.Phi, want.Phi}, "mu": {got.Mu, want.Mu}, "sigma": {got.Sigma, want.Sigma}} {
		if d := maxAbsDiff(p[0], p[1]); d > 1e-12 {
			t.Errorf("M-step %s differs by %g", name, d)
		}
	}

	// One-hot memberships from the true labels.
	oneHot := mat.NewDense(1500, 3, nil)
	count := make([]float64, 3)
	for i, k := range lab {
		oneHot.Set(i, k, 1)
		count[k]++
	}
	oracle := NewGMM(z, oneHot)
	for k := 0; k < 3; k++ {
		var sx, sy, sxx, sxy, syy float64
		for i, l := range lab {
			if l == k {
				x, y := z.At(i, 0), z.At(i, 1)
				sx, sy, sxx, sxy, syy = sx+x, sy+y, sxx+x*x, sxy+x*y, syy+y*y
			}
		}
		n := count[k]
		mx, my := sx/n, sy/n
		wantS := []float64{sxx/n - mx*mx, sxy/n - mx*my, sxy/n - mx*my, syy/n - my*my}
		if math.Abs(oracle.Phi[k]-n/1500) > 1e-15 || maxAbsDiff(oracle.Mu[2*k:2*k+2], []float64{mx, my}) > 1e-12 ||
			maxAbsDiff(oracle.Sigma[4*k:4*k+4], wantS) > 1e-10 {
			t.Errorf("one-hot component %d: φ %v μ %v Σ %v; want %v, (%v %v), %v", k, oracle.Phi[k], oracle.Mu[2*k:2*k+2], oracle.Sigma[4*k:4*k+4], n/1500, mx, my, wantS)
		}
	}

	// EM from a farthest-point start: z_0, then the point farthest from those chosen.
	cur := &GMM{K: 3, D: 2, Phi: []float64{1. / 3, 1. / 3, 1. / 3}, Sigma: []float64{1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1}}
	centers := [][]float64{z.RawRowView(0)}
	for len(centers) < 3 {
		best, bi := -1.0, 0
		for i := 0; i < 1500; i++ {
			dmin := math.Inf(1)
			for _, c := range centers {
				dx, dy := z.At(i, 0)-c[0], z.At(i, 1)-c[1]
				dmin = math.Min(dmin, dx*dx+dy*dy)
			}
			if dmin > best {
				best, bi = dmin, i
			}
		}
		centers = append(centers, z.RawRowView(bi))
	}
	for _, c := range centers {
		cur.Mu = append(cur.Mu, c...)
	}
	prev := math.Inf(-1)
	for it := 0; it < 40; it++ {
		r, ll := eStep(cur, z)
		if ll < prev-1e-9*math.Abs(prev) {
			t.Fatalf("EM iteration %d lowered the log-likelihood: %.12g → %.12g", it, prev, ll)
		}
		prev = ll
		cur = NewGMM(z, r)
	}
	// Match components to the truth by their means, then compare with the one-hot oracle
	// (the clusters are ≥ 8 apart with SD ≤ 1.1, so EM converges to it almost exactly) and
	// with the true parameters within sampling error (SE of a mean ≈ σ/√300 ≈ 0.06, of a
	// covariance entry ≈ σ²√(2/300) ≈ 0.1; the tolerances are about 4 SE).
	for k := 0; k < 3; k++ {
		best, bj := math.Inf(1), 0
		for j := 0; j < 3; j++ {
			dx, dy := cur.Mu[2*j]-truth.Mu[2*k], cur.Mu[2*j+1]-truth.Mu[2*k+1]
			if d := dx*dx + dy*dy; d < best {
				best, bj = d, j
			}
		}
		if math.Abs(cur.Phi[bj]-oracle.Phi[k]) > 1e-3 || maxAbsDiff(cur.Mu[2*bj:2*bj+2], oracle.Mu[2*k:2*k+2]) > 1e-2 ||
			maxAbsDiff(cur.Sigma[4*bj:4*bj+4], oracle.Sigma[4*k:4*k+4]) > 2e-2 {
			t.Errorf("EM component %d differs from the labelled estimate: φ %v μ %v Σ %v vs %v %v %v", k, cur.Phi[bj], cur.Mu[2*bj:2*bj+2], cur.Sigma[4*bj:4*bj+4], oracle.Phi[k], oracle.Mu[2*k:2*k+2], oracle.Sigma[4*k:4*k+4])
		}
		if math.Abs(cur.Phi[bj]-truth.Phi[k]) > 0.05 || maxAbsDiff(cur.Mu[2*bj:2*bj+2], truth.Mu[2*k:2*k+2]) > 0.25 ||
			maxAbsDiff(cur.Sigma[4*bj:4*bj+4], truth.Sigma[4*k:4*k+4]) > 0.4 {
			t.Errorf("EM component %d far from the truth: φ %v μ %v Σ %v vs %v %v %v", k, cur.Phi[bj], cur.Mu[2*bj:2*bj+2], cur.Sigma[4*bj:4*bj+4], truth.Phi[k], truth.Mu[2*k:2*k+2], truth.Sigma[4*k:4*k+4])
		}
	}
}

// TestReconFeatures checks §5.3.4 for x = (1, 2, 2).
func TestReconFeatures(t *testing.T) {
	x := []float64{1, 2, 2}
	cases := []struct {
		xr       []float64
		rel, cos float64
		sq       float64
	}{
		{[]float64{1, 2, 2}, 0, 1, 0},
		{[]float64{-1, -2, -2}, 2, -1, 36},
		{[]float64{2, 4, 4}, 1, 1, 9},
		{[]float64{1, 2, 0}, 2.0 / 3, 0.7453559925, 4}, // cos = 5/(3√5), 10 decimals
	}
	var xs, xrs []float64
	for _, c := range cases {
		xs = append(xs, x...)
		xrs = append(xrs, c.xr...)
	}
	feat, sq := ReconFeatures(nil, autodiff.Const(xs, 4, 3), autodiff.Const(xrs, 4, 3))
	for i, c := range cases {
		if math.Abs(feat.Data[2*i]-c.rel) > 1e-10 || math.Abs(feat.Data[2*i+1]-c.cos) > 1e-10 || math.Abs(sq.Data[i]-c.sq) > 1e-12 {
			t.Errorf("x' = %v: (rel, cos, sq) = (%.10f, %.10f, %g), want (%.10f, %.10f, %g)", c.xr, feat.Data[2*i], feat.Data[2*i+1], sq.Data[i], c.rel, c.cos, c.sq)
		}
	}
}
