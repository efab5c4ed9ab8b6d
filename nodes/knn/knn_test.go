package knn

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// fixture mirrors testdata/knn_fixtures.json, written by testdata/gen_knn.py with
// sklearn 1.2.1.
type fixture struct {
	X        [][]float64
	Y        []float64
	TestRows []int `json:"test_rows"`
	Cases    []struct {
		K         int
		Weights   string
		PredTest  []float64 `json:"pred_test"`
		PredTrain []float64 `json:"pred_train"`
	}
	Boston struct {
		K        int
		Weights  string
		PredTest []float64 `json:"pred_test"`
		RMSE     float64
	} `json:"boston_split0"`
}

func load(t *testing.T) fixture {
	t.Helper()
	b, err := os.ReadFile("testdata/knn_fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func fit(t *testing.T, c Config, X *mat.Dense, y []float64) *Model {
	t.Helper()
	r, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Fit(context.Background(), X, y, nil)
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
	test := map[int]bool{}
	for _, i := range f.TestRows {
		test[i] = true
	}
	var tr, te []float64
	var ytr []float64
	for i, row := range f.X {
		if test[i] {
			te = append(te, row...)
		} else {
			tr = append(tr, row...)
			ytr = append(ytr, f.Y[i])
		}
	}
	p := len(f.X[0])
	Xtr, Xte := mat.NewDense(len(tr)/p, p, tr), mat.NewDense(len(te)/p, p, te)
	worst := 0.0
	for _, c := range f.Cases {
		m := fit(t, Config{K: c.K, Weights: c.Weights, Standardize: true}, Xtr, ytr)
		pte, v := m.Predict(Xte)
		ptr, _ := m.Predict(Xtr)
		// The neighbour sets are identical (the generator asserts a 1e-6 gap between the
		// k-th and (k+1)-th distance); only the weights' last bits can differ.
		d := math.Max(maxRelDiff(pte, c.PredTest), maxRelDiff(ptr, c.PredTrain))
		worst = math.Max(worst, d)
		if d > 1e-12 || v != nil {
			t.Errorf("k=%d %s: predictions differ from sklearn by %g", c.K, c.Weights, d)
		}
		if c.Weights == "distance" {
			// Each training row is its own zero-distance neighbour, so it is reproduced.
			for i, yv := range ytr {
				if ptr[i] != yv {
					t.Fatalf("k=%d: training row %d predicted %v, want its own target %v", c.K, i, ptr[i], yv)
				}
			}
		}
	}
	t.Logf("worst relative difference from sklearn: %g", worst)
}

func TestHandComputed(t *testing.T) {
	// 1-D raw inputs 0, 1, 3, 6 with targets 10, 20, 30, 40. Query 2: distances 2, 1, 1, 4.
	// k = 2 uniform: rows 1 and 2 (tied at distance 1), mean 25.
	// k = 3 uniform: rows 1, 2 and then row 0 (distance 2): 20.
	// k = 3 distance: weights 1, 1, ½ → (20 + 30 + 5)/2.5 = 22.
	X := mat.NewDense(4, 1, []float64{0, 1, 3, 6})
	y := []float64{10, 20, 30, 40}
	q := mat.NewDense(1, 1, []float64{2})
	for _, c := range []struct {
		cfg  Config
		want float64
	}{
		{Config{K: 2, Weights: "uniform"}, 25},
		{Config{K: 3, Weights: "uniform"}, 20},
		{Config{K: 3, Weights: "distance"}, 22},
	} {
		got, _ := fit(t, c.cfg, X, y).Predict(q)
		if math.Abs(got[0]-c.want) > 1e-14 {
			t.Errorf("%+v: %v, want %v", c.cfg, got[0], c.want)
		}
	}
}

func TestTieBreakByRowOrder(t *testing.T) {
	// Query 0 is at distance 1 from rows 0..3 (x = ±1 twice); k = 1 must take row 0, and
	// k = 2 rows 0 and 1, whatever the values.
	X := mat.NewDense(4, 1, []float64{1, -1, 1, -1})
	y := []float64{5, 7, 100, 1000}
	q := mat.NewDense(1, 1, []float64{0})
	got, _ := fit(t, Config{K: 1, Weights: "uniform"}, X, y).Predict(q)
	if got[0] != 5 {
		t.Errorf("k=1 tie: %v, want row 0's 5", got[0])
	}
	got, _ = fit(t, Config{K: 2, Weights: "distance"}, X, y).Predict(q)
	if got[0] != 6 {
		t.Errorf("k=2 tie: %v, want (5+7)/2", got[0])
	}
	// Duplicated training points at distance 0 share the weight uniformly (sklearn).
	X2 := mat.NewDense(3, 1, []float64{2, 2, 5})
	got, _ = fit(t, Config{K: 3, Weights: "distance"}, X2, []float64{1, 3, 50}).Predict(mat.NewDense(1, 1, []float64{2}))
	if got[0] != 2 {
		t.Errorf("zero-distance duplicates: %v, want 2", got[0])
	}
}

func TestStandardization(t *testing.T) {
	// Column 1 is in units 1000× larger: raw distance is dominated by it, z-scored
	// distance is not. Rows: (0, 0), (1, 3000), (3, 1000); query (0.9, 800).
	// Raw: squared distances 640000.81, 4840000.01, 40004.41 → nearest is row 2 (y = 30).
	// z-scored (means 4/3, 4000/3; population SDs √(14/9) and √(14/9)·1000): nearest is row 0 (y = 10).
	X := mat.NewDense(3, 2, []float64{0, 0, 1, 3000, 3, 1000})
	y := []float64{10, 20, 30}
	q := mat.NewDense(1, 2, []float64{0.9, 800})
	raw, _ := fit(t, Config{K: 1, Weights: "uniform", Standardize: false}, X, y).Predict(q)
	z, _ := fit(t, Config{K: 1, Weights: "uniform", Standardize: true}, X, y).Predict(q)
	if raw[0] != 30 || z[0] != 10 {
		t.Errorf("raw %v (want 30), z-scored %v (want 10)", raw[0], z[0])
	}
}

func TestBoston(t *testing.T) {
	f := load(t)
	Xtr, ytr, Xte, yte := ucitest.Split(t, ucitest.Load(t, "bostonHousing"), 0)
	pred, _ := fit(t, Config{K: f.Boston.K, Weights: f.Boston.Weights, Standardize: true}, Xtr, ytr).Predict(Xte)
	if d := maxRelDiff(pred, f.Boston.PredTest); d > 1e-12 {
		t.Errorf("Boston predictions differ from sklearn by %g", d)
	}
	if r := stats.RMSE(yte, pred); math.Abs(r-f.Boston.RMSE) > 1e-12 {
		t.Errorf("Boston RMSE %v, sklearn %v", r, f.Boston.RMSE)
	}
}

func TestValidateAndErrors(t *testing.T) {
	for _, c := range []Config{{K: 0, Weights: "uniform"}, {K: 3, Weights: "gaussian"}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	r, _ := New(DefaultConfig())
	if _, err := r.Fit(context.Background(), mat.NewDense(3, 1, []float64{1, 2, 3}), []float64{1, 2, 3}, nil); err == nil {
		t.Error("k = 5 with 3 rows accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Fit(ctx, mat.NewDense(6, 1, nil), make([]float64, 6), nil); err == nil {
		t.Error("cancelled context ignored")
	}
}

// BenchmarkFitPredict84 is one CV fit of the cv package's scale: 76 training rows of
// the 84-row set (6 columns), 8 test rows, k = 5.
func BenchmarkFitPredict84(b *testing.B) {
	X := mat.NewDense(84, 6, nil)
	y := make([]float64, 84)
	for i := range y {
		for j := 0; j < 6; j++ {
			X.Set(i, j, math.Sin(0.37*float64((i+1)*(j+1))+0.5*float64(j)))
		}
		y[i] = X.At(i, 0)
	}
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
