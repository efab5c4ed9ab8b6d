package ridge

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// fixture mirrors testdata/ridge_fixtures.json, written by testdata/gen_ridge.py with
// sklearn 1.2.1.
type fixture struct {
	X        [][]float64
	Y        []float64
	TestRows []int `json:"test_rows"`
	Cases    []struct {
		Standardize bool
		Alpha       float64
		Coef        []float64
		Intercept   float64
		PredTest    []float64 `json:"pred_test"`
		PredTrain   []float64 `json:"pred_train"`
	}
	Boston struct {
		Alpha    float64
		PredTest []float64 `json:"pred_test"`
		RMSE     float64
	} `json:"boston_split0"`
}

func load(t *testing.T) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/ridge_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func split(f fixture) (Xtr *mat.Dense, ytr []float64, Xte *mat.Dense) {
	test := map[int]bool{}
	for _, i := range f.TestRows {
		test[i] = true
	}
	var tr, te []float64
	for i, row := range f.X {
		if test[i] {
			te = append(te, row...)
		} else {
			tr = append(tr, row...)
			ytr = append(ytr, f.Y[i])
		}
	}
	p := len(f.X[0])
	return mat.NewDense(len(tr)/p, p, tr), ytr, mat.NewDense(len(te)/p, p, te)
}

func fit(t *testing.T, c Config, X *mat.Dense, y []float64) *Model {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Fit(context.Background(), X, y, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Model)
}

func maxRelDiff(a, b []float64) float64 {
	var w float64
	for i := range a {
		w = math.Max(w, math.Abs(a[i]-b[i])/math.Max(1, math.Abs(b[i])))
	}
	return w
}

func TestSklearnFixture(t *testing.T) {
	f := load(t)
	Xtr, ytr, Xte := split(f)
	worst := 0.0
	defer func() { t.Logf("worst relative difference from sklearn: %g", worst) }()
	for _, c := range f.Cases {
		m := fit(t, Config{Alpha: c.Alpha, Standardize: c.Standardize}, Xtr, ytr)
		pte, v := m.Predict(Xte)
		ptr, _ := m.Predict(Xtr)
		coef, b := m.Coefficients()
		// Same SVD solution, different LAPACK builds: 1.4e-15 observed; the margin covers
		// other platforms' floating-point kernels.
		const tol = 1e-12
		worst = math.Max(worst, math.Max(maxRelDiff(pte, c.PredTest), maxRelDiff(append(coef, b), append(c.Coef, c.Intercept))))
		if d := maxRelDiff(pte, c.PredTest); d > tol || v != nil {
			t.Errorf("std=%v α=%v: test predictions differ by %g", c.Standardize, c.Alpha, d)
		}
		if d := maxRelDiff(ptr, c.PredTrain); d > tol {
			t.Errorf("std=%v α=%v: train predictions differ by %g", c.Standardize, c.Alpha, d)
		}
		if d := maxRelDiff(append(coef, b), append(c.Coef, c.Intercept)); d > tol {
			t.Errorf("std=%v α=%v: coef %v b %v, want %v %v", c.Standardize, c.Alpha, coef, b, c.Coef, c.Intercept)
		}
	}
}

func TestNormalEquations(t *testing.T) {
	// Independent route: (ZᵀZ + αI)w = Zᵀ(y − ȳ) solved by LU, with Z z-scored by stats.
	f := load(t)
	Xtr, ytr, _ := split(f)
	n, p := Xtr.Dims()
	Xtr = mat.DenseCopyOf(Xtr.Slice(0, n, 0, p-1)) // drop the constant column: full rank
	p--
	for _, alpha := range []float64{0.01, 1, 50} {
		m := fit(t, Config{Alpha: alpha, Standardize: true}, Xtr, ytr)
		s := stats.FitScaler(Xtr, nil)
		Z := mat.NewDense(n, p, nil)
		s.Transform(Z, Xtr)
		var A mat.Dense
		A.Mul(Z.T(), Z)
		for j := 0; j < p; j++ {
			A.Set(j, j, A.At(j, j)+alpha)
		}
		ybar := stats.Mean(ytr)
		yc := mat.NewVecDense(n, nil)
		for i, v := range ytr {
			yc.SetVec(i, v-ybar)
		}
		var rhs, w mat.VecDense
		rhs.MulVec(Z.T(), yc)
		if err := w.SolveVec(&A, &rhs); err != nil {
			t.Fatal(err)
		}
		coef, b := m.Coefficients()
		for j := range coef {
			if math.Abs(coef[j]-w.AtVec(j)) > 1e-11 {
				t.Errorf("α=%v: coef[%d] = %v, normal equations %v", alpha, j, coef[j], w.AtVec(j))
			}
		}
		if math.Abs(b-ybar) > 1e-14 {
			t.Errorf("α=%v: intercept %v, want ȳ = %v (unpenalized)", alpha, b, ybar)
		}
	}
}

func TestLimits(t *testing.T) {
	// An exact linear target is recovered by α = 0; α → ∞ predicts the training mean
	// (the intercept is not shrunk).
	X := mat.NewDense(6, 2, []float64{1, 0, 2, 1, 3, 5, 4, 2, 5, 3, 6, 1})
	y := make([]float64, 6)
	for i := range y {
		y[i] = 2 + 0.5*X.At(i, 0) - 3*X.At(i, 1)
	}
	m := fit(t, Config{Alpha: 0, Standardize: false}, X, y)
	pred, _ := m.Predict(X)
	if d := maxRelDiff(pred, y); d > 1e-13 {
		t.Errorf("α=0 misses an exact linear target by %g", d)
	}
	coef, b := m.Coefficients()
	if math.Abs(coef[0]-0.5) > 1e-13 || math.Abs(coef[1]+3) > 1e-13 || math.Abs(b-2) > 1e-13 {
		t.Errorf("raw coefficients %v, %v; want (0.5, −3), 2", coef, b)
	}
	m = fit(t, Config{Alpha: 1e15, Standardize: true}, X, y)
	pred, _ = m.Predict(X)
	ybar := stats.Mean(y)
	for _, v := range pred {
		if math.Abs(v-ybar) > 1e-12 {
			t.Fatalf("α=1e15 predicts %v, want ȳ = %v", v, ybar)
		}
	}
}

func TestBoston(t *testing.T) {
	// UCI Boston housing, standard split 0 (repository testdata), z-scored, α = 1.
	f := load(t)
	Xtr, ytr, Xte, yte := ucitest.Split(t, ucitest.Load(t, "bostonHousing"), 0)
	m := fit(t, Config{Alpha: f.Boston.Alpha, Standardize: true}, Xtr, ytr)
	pred, _ := m.Predict(Xte)
	if d := maxRelDiff(pred, f.Boston.PredTest); d > 1e-10 {
		t.Errorf("Boston predictions differ from sklearn by %g", d)
	}
	if r := stats.RMSE(yte, pred); math.Abs(r-f.Boston.RMSE) > 1e-10 {
		t.Errorf("Boston RMSE %v, sklearn %v", r, f.Boston.RMSE)
	}
}

func TestValidateAndErrors(t *testing.T) {
	for _, a := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := New(Config{Alpha: a}); err == nil {
			t.Errorf("alpha %v accepted", a)
		}
	}
	r, _ := New(DefaultConfig())
	X := mat.NewDense(2, 1, []float64{1, math.NaN()})
	if _, err := r.Fit(context.Background(), X, []float64{1, 2}, nil); err == nil {
		t.Error("NaN input accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Fit(ctx, mat.NewDense(2, 1, []float64{1, 2}), []float64{1, 2}, nil); err == nil {
		t.Error("cancelled context ignored")
	}
}

// BenchmarkFitPredict84 is one CV fit of the cv package's scale: 76 training rows of
// the 84-row set (6 columns), 8 test rows.
func BenchmarkFitPredict84(b *testing.B) {
	X, y := benchData()
	r, _ := New(DefaultConfig())
	tr, te := mat.DenseCopyOf(X.Slice(0, 76, 0, 6)), mat.DenseCopyOf(X.Slice(76, 84, 0, 6))
	for b.Loop() {
		p, err := r.Fit(context.Background(), tr, y[:76], nil)
		if err != nil {
			b.Fatal(err)
		}
		p.Predict(te)
	}
}

func benchData() (*mat.Dense, []float64) {
	X := mat.NewDense(84, 6, nil)
	y := make([]float64, 84)
	for i := range y {
		for j := 0; j < 6; j++ {
			X.Set(i, j, math.Sin(0.37*float64((i+1)*(j+1))+0.5*float64(j)))
		}
		y[i] = 3*X.At(i, 0) - 2*X.At(i, 1)*X.At(i, 1) + X.At(i, 2)*X.At(i, 3)
	}
	return X, y
}
