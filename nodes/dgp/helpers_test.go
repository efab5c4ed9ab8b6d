package dgp

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// gpFixtures are the reference numbers of testdata/gen_gp.py (numpy 1.24.2 and mpmath 1.2.1).
type gpFixtures struct {
	Jitter          float64     `json:"jitter"`
	ExactLML        float64     `json:"exact_lml"`
	SVGPOptZX       float64     `json:"svgp_opt_elbo_zx"`
	TitsiasZX       float64     `json:"titsias_zx"`
	SVGPOptZ4       float64     `json:"svgp_opt_elbo_z4"`
	TitsiasZ4       float64     `json:"titsias_z4"`
	OptMZ4          []float64   `json:"svgp_opt_m_z4"`
	OptSZ4          [][]float64 `json:"svgp_opt_S_z4"`
	ExactLMLmp      string      `json:"exact_lml_mp"`
	TitsiasZXmp     string      `json:"titsias_zx_mp"`
	TitsiasZ4mp     string      `json:"titsias_z4_mp"`
	exact, tzx, tz4 float64
}

func loadGPFixtures(t testing.TB) *gpFixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/gp_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f gpFixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		s   string
		dst *float64
	}{{f.ExactLMLmp, &f.exact}, {f.TitsiasZXmp, &f.tzx}, {f.TitsiasZ4mp, &f.tz4}} {
		if *p.dst, err = strconv.ParseFloat(p.s, 64); err != nil {
			t.Fatal(err)
		}
	}
	return &f
}

// gpData returns the data set of models.md §8 (n = 84, d = 5) regenerated in float64 from
// its formula (in numpy's order of operations), with y z-scored by the population SD, after checking it against the
// committed testdata/gp_data.csv (written by numpy) to 1e-14 relative.
func gpData(t testing.TB) (x []float64, y []float64) {
	t.Helper()
	const n, d = 84, 5
	x = make([]float64, n*d)
	y = make([]float64, n)
	for i := range n {
		for j := range d {
			x[i*d+j] = math.Sin(0.37*float64(i+1)*float64(j+1)+0.5*float64(j)) + 0.01*float64(i+1)/float64(j+1)
		}
		r := x[i*d:]
		y[i] = 3*r[0] - 2*r[1]*r[1] + r[2]*r[3] + 0.1*math.Cos(float64(i)) + 5
	}
	f, err := os.Open("testdata/gp_data.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 {
		t.Fatalf("gp_data.csv has %d records, want %d", len(recs), n+1)
	}
	for i, r := range recs[1:] {
		for j, s := range r {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			got := y[i]
			if j < d {
				got = x[i*d+j]
			}
			if math.Abs(v-got) > 1e-14*math.Max(1, math.Abs(v)) { // libm sin/cos may differ in the last ulp
				t.Fatalf("gp_data.csv[%d][%d] = %v, regenerated %v", i, j, v, got)
			}
		}
	}
	mean, sd := stats.MeanScale(y)
	for i := range y {
		y[i] = (y[i] - mean) / sd
	}
	return x, y
}

// rbfGram is an independent isotropic RBF Gram matrix (direct differences, no expansion).
func rbfGram(a []float64, na int, b []float64, nb, d int, ell, sf2 float64) *mat.Dense {
	k := mat.NewDense(na, nb, nil)
	for i := range na {
		for j := range nb {
			var s float64
			for q := range d {
				t := a[i*d+q] - b[j*d+q]
				s += t * t
			}
			k.Set(i, j, sf2*math.Exp(-0.5*s/(ell*ell)))
		}
	}
	return k
}

// svgpModel builds a one-layer model (an SVGP) with inducing inputs z (m×d), an
// isotropic kernel and the given likelihood variance; q is left at zero.
func svgpModel(z []float64, m, d int, ell, sf2, noise, jitter float64, whiten bool) *model {
	md := &model{whiten: whiten, jitter: jitter, sampleJitter: sampleJitter, ps: ad.NewParams()}
	md.layers = []*layer{newLayer(md.ps, "layer0", z, m, d, 1, sf2, ell)}
	md.rawNoise = md.ps.Add("noise", ad.NewVar([]float64{softplusInv(noise - noiseFloor)}, 1))
	md.prepare()
	return md
}

// optimalQ sets the last layer's q(u) to the optimum for a Gaussian likelihood given the
// inputs f (n×d) reaching it, computed the numerically stable way: with L = chol(K_ZZ)
// and Φ = L⁻¹K_ZX, q(v) = N(σ⁻²B⁻¹Φy, B⁻¹) for B = I + σ⁻²ΦΦᵀ, and u = Lv, so that
// m* = L m_v and chol(S*) = L chol(B⁻¹) (the same optimum as models.md §3.3 item 1's
// S* = K(K + σ⁻²K_ZX K_XZ)⁻¹K, m* = σ⁻²S*K⁻¹K_ZX y). For a whitened model it sets m_v
// and chol(B⁻¹) directly.
func optimalQ(t testing.TB, md *model, f []float64, y []float64, ell, sf2, noise float64) {
	t.Helper()
	l := md.layers[len(md.layers)-1]
	m, d, n := l.m, l.dIn, len(y)
	kzz := rbfGram(l.z.Data, m, l.z.Data, m, d, ell, sf2)
	for i := range m {
		kzz.Set(i, i, kzz.At(i, i)+md.jitter+l.white)
	}
	var ch mat.Cholesky
	if !ch.Factorize(mat.NewSymDense(m, kzz.RawMatrix().Data)) {
		t.Fatal("K_ZZ not positive definite")
	}
	var lz mat.TriDense
	ch.LTo(&lz)
	phi := mat.NewDense(m, n, nil)
	if err := phi.Solve(&lz, rbfGram(l.z.Data, m, f, n, d, ell, sf2)); err != nil {
		t.Fatal(err)
	}
	b := mat.NewSymDense(m, nil)
	b.SymOuterK(1/noise, phi)
	for i := range m {
		b.SetSym(i, i, b.At(i, i)+1)
	}
	var bc mat.Cholesky
	if !bc.Factorize(b) {
		t.Fatal("B not positive definite")
	}
	var binv mat.SymDense
	if err := bc.InverseTo(&binv); err != nil {
		t.Fatal(err)
	}
	var sc mat.Cholesky
	if !sc.Factorize(&binv) {
		t.Fatal("B⁻¹ not positive definite")
	}
	var ls mat.TriDense
	sc.LTo(&ls)
	var phiy, mv mat.VecDense
	phiy.MulVec(phi, mat.NewVecDense(n, y))
	mv.MulVec(&binv, &phiy)
	mv.ScaleVec(1/noise, &mv)
	qm, qs := mat.NewVecDense(m, nil), mat.NewDense(m, m, nil)
	if md.whiten {
		qm.CopyVec(&mv)
		qs.Copy(&ls)
	} else {
		qm.MulVec(&lz, &mv)
		qs.Mul(&lz, &ls)
	}
	setQ(l, 0, qm.RawVector().Data, qs)
}

// setQ sets output o's q_mu and q_sqrt of layer l.
func setQ(l *layer, o int, mu []float64, sq mat.Matrix) {
	for i := range l.m {
		l.qMu.Data[i*l.dOut+o] = mu[i]
		for j := range l.m {
			l.qSqrt.Data[(i*l.dOut+o)*l.m+j] = sq.At(i, j)
		}
	}
}

// titsias is the collapsed bound log N(y | 0, Q + σ²I) − tr(K − Q)/(2σ²) with
// Q = K_XZ K_ZZ⁻¹ K_ZX, in plain gonum.
func titsias(x, y []float64, z []float64, m, d int, ell, sf2, noise, jitter float64) float64 {
	n := len(y)
	kzz := rbfGram(z, m, z, m, d, ell, sf2)
	for i := range m {
		kzz.Set(i, i, kzz.At(i, i)+jitter)
	}
	var ch mat.Cholesky
	ch.Factorize(mat.NewSymDense(m, kzz.RawMatrix().Data))
	var lz mat.TriDense
	ch.LTo(&lz)
	phi := mat.NewDense(m, n, nil)
	phi.Solve(&lz, rbfGram(z, m, x, n, d, ell, sf2))
	c := mat.NewSymDense(n, nil)
	c.SymOuterK(1, phi.T())
	tr := float64(n) * sf2
	for i := range n {
		tr -= c.At(i, i)
		c.SetSym(i, i, c.At(i, i)+noise)
	}
	var cc mat.Cholesky
	cc.Factorize(c)
	var a mat.VecDense
	cc.SolveVecTo(&a, mat.NewVecDense(n, y))
	quad := mat.Dot(&a, mat.NewVecDense(n, y))
	return -0.5*quad - 0.5*cc.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi) - tr/(2*noise)
}

// elboOf evaluates md's ELBO on (x, y) with s samples and fixed noise eps (nil: zeros).
func elboOf(t testing.TB, md *model, x, y []float64, s int, eps [][]float64) float64 {
	t.Helper()
	n := len(y)
	d := len(x) / n
	tr := newTrainer(md, x, y, n, d, s, 0.01)
	if eps != nil {
		tr.eps = eps
	}
	e, err := md.elbo(nil, tr.x, tr.y, s, tr.eps)
	if err != nil {
		t.Fatal(err)
	}
	return e.Value()
}
