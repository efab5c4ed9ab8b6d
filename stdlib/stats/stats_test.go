package stats

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// fixtures mirrors testdata/stats_fixtures.json, written by testdata/gen_stats.py with
// scipy 1.10.1, sklearn 1.2.1 and numpy 1.24.2.
type fixtures struct {
	PearsonPOfR []struct {
		R, P    float64
		PMpmath float64 `json:"p_mpmath"`
		N       int
	} `json:"pearson_p_of_r"`
	Pearsonr []struct {
		Name string
		X, Y []float64
		R, P float64
	} `json:"pearsonr"`
	Regression []struct {
		Name          string
		Y, Pred       []float64
		R2, RMSE, MAE float64
	} `json:"regression"`
	Moments struct {
		X            []float64
		Mean, SD, SE float64
		SDPop        float64 `json:"sd_pop"`
	} `json:"moments"`
	Gauss struct {
		Y, Mean, Var         []float64
		NLL, Coverage90, Z95 float64
	} `json:"gauss"`
	Quantiles []struct {
		X, Probs, Linear []float64
		LowerMedian      float64 `json:"lower_median"`
	} `json:"quantiles"`
	Wilcoxon []struct {
		Name         string
		X, Y         []float64
		Statistic, P float64
		Warnings     []string
	} `json:"wilcoxon"`
}

func loadFixtures(t *testing.T) fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/stats_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), math.SmallestNonzeroFloat64)
}

func TestMomentsFixture(t *testing.T) {
	m := loadFixtures(t).Moments
	// numpy mean/std and scipy sem use pairwise sums; agreement to a few ulp is expected.
	const tol = 1e-14
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"Mean", Mean(m.X), m.Mean},
		{"PopSD", PopSD(m.X), m.SDPop},
		{"SD", SD(m.X), m.SD},
		{"SE", SE(m.X), m.SE},
	} {
		if e := relErr(c.got, c.want); e > tol {
			t.Errorf("%s = %v, want %v (rel err %g)", c.name, c.got, c.want, e)
		}
	}
	// gonum's StdDev is the ddof-1 estimator: it must agree with SD, not PopSD.
	if e := relErr(SD(m.X), stat.StdDev(m.X, nil)); e > 1e-14 {
		t.Errorf("SD differs from gonum stat.StdDev by %g", e)
	}
	if !math.IsNaN(SD([]float64{3})) {
		t.Error("SD of one value must be NaN")
	}
}

func TestRegressionMetricsFixture(t *testing.T) {
	for _, c := range loadFixtures(t).Regression {
		// sklearn sums with numpy's pairwise summation; a few ulp of difference.
		const tol = 1e-13
		if e := relErr(R2(c.Y, c.Pred), c.R2); e > tol {
			t.Errorf("%s: R2 = %v, want %v", c.Name, R2(c.Y, c.Pred), c.R2)
		}
		if e := relErr(RMSE(c.Y, c.Pred), c.RMSE); e > tol {
			t.Errorf("%s: RMSE = %v, want %v", c.Name, RMSE(c.Y, c.Pred), c.RMSE)
		}
		if e := relErr(MAE(c.Y, c.Pred), c.MAE); e > tol {
			t.Errorf("%s: MAE = %v, want %v", c.Name, MAE(c.Y, c.Pred), c.MAE)
		}
	}
}

func TestR2Analytic(t *testing.T) {
	y := []float64{1, 2, 3, 4}
	// Perfect predictions: R² = 1. Predicting the mean: R² = 0. Predicting the mirror
	// image 5−y: SS_res = Σ(2y−5)² = 9+1+1+9 = 20, SS_tot = 5, so R² = 1 − 4 = −3.
	for _, c := range []struct {
		pred []float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 1},
		{[]float64{2.5, 2.5, 2.5, 2.5}, 0},
		{[]float64{4, 3, 2, 1}, -3},
	} {
		if got := R2(y, c.pred); got != c.want {
			t.Errorf("R2(%v) = %v, want %v", c.pred, got, c.want)
		}
	}
	if got := R2([]float64{2, 2}, []float64{2, 3}); !math.IsNaN(got) {
		t.Errorf("R2 with constant y = %v, want NaN", got)
	}
}

func TestLinearFit(t *testing.T) {
	// y = 0.5x + 3 exactly, then a symmetric perturbation that leaves the fit unchanged.
	x := []float64{-2, -1, 0, 1, 2}
	y := []float64{2, 2.5, 3, 3.5, 4}
	s, b := LinearFit(x, y)
	if math.Abs(s-0.5) > 1e-15 || math.Abs(b-3) > 1e-15 {
		t.Errorf("LinearFit = (%v, %v), want (0.5, 3)", s, b)
	}
	y2 := []float64{2, 2.5 + 0.1, 3 - 0.2, 3.5 + 0.1, 4} // residual ⟂ (1, x)
	s, b = LinearFit(x, y2)
	if math.Abs(s-0.5) > 1e-15 || math.Abs(b-3) > 1e-15 {
		t.Errorf("LinearFit perturbed = (%v, %v), want (0.5, 3)", s, b)
	}
	if s, _ := LinearFit([]float64{1, 1}, []float64{1, 2}); !math.IsNaN(s) {
		t.Error("LinearFit with constant x must be NaN")
	}
}

func TestPearsonPFixture(t *testing.T) {
	worstM, worstS := 0.0, 0.0
	for _, c := range loadFixtures(t).PearsonPOfR {
		got := PearsonP(c.R, c.N)
		// Against the 50-digit mpmath value for the same float64 r. cephes incbet is good
		// to ≤ 1e-14 for n ≤ 100 even at p ≈ 1e-112; at n = 1000 it reaches 5.5e-13 (its
		// exp(log Γ …) prefactor has an exponent near −226).
		e := relErr(got, c.PMpmath)
		worstM = math.Max(worstM, e)
		if e > 1e-12 {
			t.Errorf("PearsonP(%v, %d) = %v, mpmath %v (rel err %g)", c.R, c.N, got, c.PMpmath, e)
		}
		// Against scipy 1.10.1, which rounds r+1 before its beta tail: p ∝ (1−|r|)^(n/2−1),
		// so it is off by ≈ (n/2−1)·ε/(1−|r|) relative (4e-10 at r = 0.999999, n = 10).
		want := math.Min(c.P, 1) // scipy returns 1.0000000000000009 at r = 0
		es := relErr(got, want)
		worstS = math.Max(worstS, es)
		if tol := 1e-12 + float64(c.N/2)*0x1p-52/(1-math.Abs(c.R)); es > tol {
			t.Errorf("PearsonP(%v, %d) = %v, scipy %v (rel err %g > %g)", c.R, c.N, got, want, es, tol)
		}
	}
	t.Logf("worst relative error: %g against mpmath, %g against scipy", worstM, worstS)
}

func TestPearsonPModelsMD(t *testing.T) {
	// models.md §1.3 [fixture] values, printed by scipy 1.10.1 to 7 significant digits.
	for _, c := range []struct {
		r    float64
		n    int
		want float64
	}{
		{0.5, 20, 2.476956e-02},
		{math.Sqrt(0.75), 84, 2.089353e-26},
		{math.Sqrt(0.80), 84, 2.153330e-30},
		{0.3, 84, 5.562508e-03},
	} {
		if e := relErr(PearsonP(c.r, c.n), c.want); e > 5e-7 {
			t.Errorf("PearsonP(%v, %d) = %v, want %v", c.r, c.n, PearsonP(c.r, c.n), c.want)
		}
	}
}

func TestPearsonPAgainstStudentsT(t *testing.T) {
	// Independent route: 2·S_t(|t|) with t = r√(df/(1−r²)) and gonum's StudentsT.Survival
	// (0.5·I_{df/(df+t²)}(df/2, ½) for t > 0), and scipy's Beta(a, a) form through
	// RegIncBeta at (1−|r|)/2: three expressions of the same tail.
	for _, n := range []int{3, 5, 10, 84, 500} {
		for _, r := range []float64{0.01, 0.3, -0.6, 0.9, 0.97, -0.995} {
			df := float64(n - 2)
			tt := math.Abs(r) * math.Sqrt(df/((1-r)*(1+r)))
			viaT := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(tt)
			a := df / 2
			viaBeta := 2 * mathext.RegIncBeta(a, a, (1-math.Abs(r))/2)
			got := PearsonP(r, n)
			if e := relErr(got, viaT); e > 1e-10 {
				t.Errorf("n=%d r=%v: %v vs Student-t %v", n, r, got, viaT)
			}
			if e := relErr(got, viaBeta); e > 1e-10 {
				t.Errorf("n=%d r=%v: %v vs beta %v", n, r, got, viaBeta)
			}
		}
	}
}

func TestPearsonPExtremes(t *testing.T) {
	if p := PearsonP(1, 84); p != 0 {
		t.Errorf("|r| = 1 must give p = 0, got %v", p)
	}
	if p := PearsonP(-1, 10); p != 0 {
		t.Errorf("r = -1 must give p = 0, got %v", p)
	}
	if p := PearsonP(0, 84); p != 1 {
		t.Errorf("r = 0 must give p = 1, got %v", p)
	}
	// 1 − CDF would return exactly 0 below ~1e-16; the tail must stay positive and
	// decrease monotonically as r → 1.
	prev := 1.0
	for _, r := range []float64{0.9, 0.95, 0.99, 0.999, 0.9999} {
		p := PearsonP(r, 84)
		if !(p > 0 && p < prev) {
			t.Errorf("PearsonP(%v, 84) = %v not in (0, %v)", r, p, prev)
		}
		prev = p
	}
}

func TestPearsonFixture(t *testing.T) {
	for _, c := range loadFixtures(t).Pearsonr {
		r, p, err := Pearson(c.X, c.Y)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if math.Abs(r-c.R) > 1e-14 {
			t.Errorf("%s: r = %v, want %v", c.Name, r, c.R)
		}
		// An ulp of r moves p by (n−2)·r/(1−r²)·ulp relative: loosen for r ≈ 0.98.
		if e := relErr(p, c.P); e > 1e-11 {
			t.Errorf("%s: p = %v, want %v (rel err %g)", c.Name, p, c.P, e)
		}
	}
	// models.md §1.3: x = 1..10, y = x + 2 sin x.
	x := make([]float64, 10)
	y := make([]float64, 10)
	for i := range x {
		x[i] = float64(i + 1)
		y[i] = x[i] + 2*math.Sin(x[i])
	}
	r, p, _ := Pearson(x, y)
	if math.Abs(r-0.8879089443311278) > 1e-15 || relErr(p, 6.020258772423073e-04) > 1e-12 {
		t.Errorf("x+2sinx: r=%v p=%v", r, p)
	}
}

func TestPearsonConstant(t *testing.T) {
	r, p, err := Pearson([]float64{1, 2, 3}, []float64{4, 4, 4})
	if !math.IsNaN(r) || !math.IsNaN(p) {
		t.Errorf("constant y: r=%v p=%v, want NaN", r, p)
	}
	var ce *ConstantError
	if !errors.As(err, &ce) || ce.Arg != "y" || !errors.Is(err, ErrConstant) {
		t.Errorf("constant y: err = %v, want a ConstantError for y", err)
	}
	_, _, err = Pearson([]float64{5, 5, 5}, []float64{1, 2, 3})
	if !errors.As(err, &ce) || ce.Arg != "x" {
		t.Errorf("constant x: err = %v", err)
	}
	// Perfect line: r = 1 exactly (clamped), p = 0.
	r, p, err = Pearson([]float64{1, 2, 3, 4}, []float64{3, 5, 7, 9})
	if err != nil || r != 1 || p != 0 {
		t.Errorf("perfect line: r=%v p=%v err=%v", r, p, err)
	}
}

func TestGaussFixture(t *testing.T) {
	g := loadFixtures(t).Gauss
	nll, err := GaussianNLL(g.Y, g.Mean, g.Var)
	if err != nil || relErr(nll, g.NLL) > 1e-14 {
		t.Errorf("GaussianNLL = %v (%v), want %v", nll, err, g.NLL)
	}
	cov, err := Coverage(g.Y, g.Mean, g.Var, 0.9)
	if err != nil || cov != g.Coverage90 {
		t.Errorf("Coverage = %v (%v), want %v", cov, err, g.Coverage90)
	}
	if z := distuv.UnitNormal.Quantile(0.95); relErr(z, g.Z95) > 1e-15 {
		t.Errorf("z95 = %v, want %v", z, g.Z95)
	}
	if _, err := GaussianNLL([]float64{1}, []float64{1}, []float64{0}); err == nil {
		t.Error("zero variance must be an error")
	}
	if v, err := Coverage([]float64{1}, []float64{1}, []float64{-1}, 0.9); err == nil || !math.IsNaN(v) {
		t.Error("negative variance must be an error")
	}
}

func TestGaussAnalytic(t *testing.T) {
	// y = m: NLL = ½log(2πv). Points at exactly ±z·σ are inside (closed interval).
	nll, _ := GaussianNLL([]float64{1, 2}, []float64{1, 2}, []float64{4, 4})
	if want := 0.5 * math.Log(8*math.Pi); math.Abs(nll-want) > 1e-15 {
		t.Errorf("NLL = %v, want %v", nll, want)
	}
	z := distuv.UnitNormal.Quantile(0.95)
	y := []float64{2 * z, -2 * z, 2*z + 1e-9, 0}
	cov, _ := Coverage(y, []float64{0, 0, 0, 0}, []float64{4, 4, 4, 4}, 0.9)
	if cov != 0.75 {
		t.Errorf("coverage = %v, want 0.75", cov)
	}
}

func TestQuantileFixture(t *testing.T) {
	for _, c := range loadFixtures(t).Quantiles {
		s := slices.Clone(c.X)
		slices.Sort(s)
		for k, p := range c.Probs {
			// Bit-identical: same index arithmetic and numpy's two-sided lerp.
			if got := Quantile(p, s); got != c.Linear[k] {
				t.Errorf("n=%d Quantile(%v) = %v, want %v", len(s), p, got, c.Linear[k])
			}
		}
		if got := LowerMedian(c.X); got != c.LowerMedian {
			t.Errorf("n=%d LowerMedian = %v, want %v", len(s), got, c.LowerMedian)
		}
		if got := stat.Quantile(0.5, stat.Empirical, s, nil); got != c.LowerMedian {
			t.Errorf("n=%d gonum Empirical median %v != lower median %v", len(s), got, c.LowerMedian)
		}
	}
	if m := LowerMedian([]float64{4, 1, 3, 2}); m != 2 {
		t.Errorf("LowerMedian(4,1,3,2) = %v, want 2 (torch.median)", m)
	}
}

func TestScaler(t *testing.T) {
	// Column 0: rows {0,1,2} = 1,2,3 → mean 2, population SD √(2/3). Column 1 constant on
	// those rows → scale 1. Row 3 is not fitted and must not influence the statistics.
	X := mat.NewDense(4, 2, []float64{1, 7, 2, 7, 3, 7, 100, -5})
	s := FitScaler(X, []int{0, 1, 2})
	if s.Mean[0] != 2 || math.Abs(s.Scale[0]-math.Sqrt(2.0/3)) > 1e-15 || s.Mean[1] != 7 || s.Scale[1] != 1 {
		t.Fatalf("scaler = %+v", s)
	}
	Z := mat.NewDense(4, 2, nil)
	s.Transform(Z, X)
	if math.Abs(Z.At(2, 0)-math.Sqrt(1.5)) > 1e-15 || Z.At(1, 1) != 0 || Z.At(3, 1) != -12 {
		t.Errorf("transform = %v", mat.Formatted(Z))
	}
	row := []float64{3, 7}
	s.TransformRow(row, row)
	if row[0] != Z.At(2, 0) || row[1] != 0 {
		t.Errorf("TransformRow = %v", row)
	}
	m, sc := FitScale([]float64{2, 2, 2})
	if m != 2 || sc != 1 {
		t.Errorf("FitScale(const) = %v, %v", m, sc)
	}
}

func TestWilcoxonFixture(t *testing.T) {
	for _, c := range loadFixtures(t).Wilcoxon {
		res, err := Wilcoxon(c.X, c.Y)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if res.Statistic != c.Statistic {
			t.Errorf("%s: statistic = %v, want %v", c.Name, res.Statistic, c.Statistic)
		}
		// Exact p are dyadic rationals scipy sums in floating point (exact here); the
		// approximation differs only through erfc vs scipy's norm.sf.
		if e := relErr(res.P, c.P); e > 1e-13 {
			t.Errorf("%s: p = %v, want %v (rel err %g, %s)", c.Name, res.P, c.P, e, res.Method)
		}
		// scipy warns exactly when zeros force the approximation at n ≤ 50.
		wantApprox := len(c.X) > 50 || len(c.Warnings) > 0
		if (res.Method == "approx") != wantApprox {
			t.Errorf("%s: method %s, scipy warnings %q", c.Name, res.Method, c.Warnings)
		}
	}
}

func TestWilcoxonBruteForce(t *testing.T) {
	// Exact p by enumerating all 2^n sign patterns of the ranks 1..n (no ties):
	// p = 2·min(P(R+ ≤ r), P(R+ ≥ r)).
	d := []float64{0.3, -1.1, 2.5, 0.7, -0.2, 1.9, 3.3, -0.45, 1.2, 0.05, 2.2}
	res, err := Wilcoxon(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	ranks, _ := absRanks(d)
	r := 0.0
	for i, v := range d {
		if v > 0 {
			r += ranks[i]
		}
	}
	n := len(d)
	var le, ge int
	for mask := 0; mask < 1<<n; mask++ {
		s := 0
		for k := 0; k < n; k++ {
			if mask&(1<<k) != 0 {
				s += k + 1
			}
		}
		if float64(s) <= r {
			le++
		}
		if float64(s) >= r {
			ge++
		}
	}
	want := 2 * float64(min(le, ge)) / float64(int(1)<<n)
	if res.P != want {
		t.Errorf("exact p = %v, brute force %v", res.P, want)
	}
}

func TestWilcoxonErrors(t *testing.T) {
	if _, err := Wilcoxon([]float64{1, 2, 3}, []float64{1, 2, 3}); !errors.Is(err, ErrAllZero) {
		t.Errorf("all-zero differences: err = %v", err)
	}
	if r, err := Wilcoxon(nil, nil); err == nil || !math.IsNaN(r.P) {
		t.Error("empty input must give NaN and an error")
	}
}
