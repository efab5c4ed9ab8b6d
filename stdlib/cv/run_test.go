package cv

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

func mustRun(t *testing.T, s Spec) *Result {
	t.Helper()
	res, err := Run(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func find(t *testing.T, res *Result, variant, arm, model string) *Series {
	t.Helper()
	for i := range res.Series {
		s := &res.Series[i]
		if s.Variant == variant && s.Arm == arm && s.Model == model {
			return s
		}
	}
	t.Fatalf("no series %s/%s/%s", variant, arm, model)
	return nil
}

// bigSpec exercises every protocol, random models and regularizers, and variances.
func bigSpec(r Runner) Spec {
	X, y := testData(30)
	X2 := mat.DenseCopyOf(X)
	X2.Scale(2, X2)
	return Spec{
		Folds: 5, Repeats: 4, Seed: 42, FoldTests: true, Runner: r,
		Variants: []Variant{
			{Key: "raw", X: X, Y: y},
			{Key: "icr", X: X, Y: y, Regularizer: noisyReg{}, Protocols: []Protocol{Shrink, A, Raw, B, Rescale},
				ShrinkToward: olsModel{}},
			{Key: "scaled", X: X2, Y: y, Regularizer: halfShrink{0.5}, Protocols: []Protocol{A, Shrink},
				ShrinkToward: meanModel{}, ShrinkMatch: MatchSlope},
		},
		Models: []Model{{"ols", olsModel{}}, {"noisy", noisyModel{0.3}}, {"mean", meanModel{}}},
	}
}

func encodeAll(t *testing.T, res *Result) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, w := range []func(*bytes.Buffer, *Result) error{
		func(b *bytes.Buffer, r *Result) error { return WriteRepsCSV(b, r) },
		func(b *bytes.Buffer, r *Result) error { return WriteSummaryCSV(b, r) },
		func(b *bytes.Buffer, r *Result) error { return WritePredictionsCSV(b, r) },
		func(b *bytes.Buffer, r *Result) error { return WriteTestsCSV(b, r) },
		func(b *bytes.Buffer, r *Result) error { return WriteDiagnosticsCSV(b, r) },
		func(b *bytes.Buffer, r *Result) error { return WriteJSON(b, r) },
		func(b *bytes.Buffer, r *Result) error { return WriteTable(b, r) },
	} {
		if err := w(&b, res); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestDeterminismAcrossRunners(t *testing.T) {
	want := encodeAll(t, mustRun(t, bigSpec(nil)))
	for _, k := range []int{2, 8} {
		for range 3 {
			if got := encodeAll(t, mustRun(t, bigSpec(Workers(k)))); !bytes.Equal(got, want) {
				t.Fatalf("%d workers: output differs from serial", k)
			}
		}
	}
	// And the random streams matter: another seed changes the noisy model's numbers.
	s := bigSpec(nil)
	s.Seed = 43
	if bytes.Equal(encodeAll(t, mustRun(t, s)), want) {
		t.Error("seed has no effect")
	}
}

func TestSeriesLayout(t *testing.T) {
	res := mustRun(t, bigSpec(nil))
	var got []string
	for _, s := range res.Series {
		if s.Model == "ols" {
			got = append(got, s.Variant+"/"+s.Arm+"/"+s.Eval)
		}
	}
	want := []string{"raw/raw/measured",
		"icr/raw/measured", "icr/A/measured", "icr/A'/fold-regularized", "icr/B/regularized", "icr/B->meas/measured",
		"icr/rescale/rescaled", "icr/rescale->meas/measured", "icr/shrink/shrunk", "icr/shrink->meas/measured",
		"scaled/A/measured", "scaled/A'/fold-regularized", "scaled/shrink/shrunk", "scaled/shrink->meas/measured"}
	if !slices.Equal(got, want) {
		t.Errorf("series order\n%q\nwant\n%q", got, want)
	}
	if len(res.Series) != 3*len(want) {
		t.Errorf("%d series, want %d", len(res.Series), 3*len(want))
	}
	// Paired: the same folds everywhere, and common random numbers: raw on variant
	// "raw" and raw on variant "icr" (same data) must be identical.
	a, b := find(t, res, "raw", "raw", "noisy"), find(t, res, "icr", "raw", "noisy")
	for r := range a.Pred {
		if !slices.Equal(a.Pred[r], b.Pred[r]) {
			t.Fatal("same data and model on two variants gave different predictions")
		}
	}
}

// bruteCV recomputes out-of-fold predictions of model m trained on targets train(r, rows)
// from the published fold assignment alone.
func bruteCV(res *Result, X *mat.Dense, m ml.Regressor, train func(r int, rows []int) []float64) [][]float64 {
	out := make([][]float64, res.Repeats)
	for r := range out {
		out[r] = make([]float64, res.N)
		for f := 0; f < res.Folds; f++ {
			var tr, te []int
			for i, g := range res.FoldOf[r] {
				if g == f {
					te = append(te, i)
				} else {
					tr = append(tr, i)
				}
			}
			p, _ := m.Fit(context.Background(), rowsOf(X, tr), train(r, tr), nil)
			pred, _ := p.Predict(rowsOf(X, te))
			for k, i := range te {
				out[r][i] = pred[k]
			}
		}
	}
	return out
}

func closeAll(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func TestProtocolArithmetic(t *testing.T) {
	// Regularizer y ↦ m + ½(y − m), m the mean of the rows it is fitted on; models: the
	// training mean and OLS. Every arm is recomputed by brute force from FoldOf.
	X, y := testData(40)
	spec := Spec{Folds: 5, Repeats: 3, Seed: 9,
		Variants: []Variant{{Key: "v", X: X, Y: y, Regularizer: halfShrink{0.5}, Protocols: []Protocol{Raw, A, B, Rescale}}},
		Models:   []Model{{"mean", meanModel{}}, {"ols", olsModel{}}}}
	res := mustRun(t, spec)
	M := stats.Mean(y)
	yB := make([]float64, len(y))
	for i, v := range y {
		yB[i] = M + 0.5*(v-M)
	}
	half := func(r int, rows []int) []float64 {
		tr := valsOf(y, rows)
		m := stats.Mean(tr)
		for k := range tr {
			tr[k] = m + 0.5*(tr[k]-m)
		}
		return tr
	}
	for _, mod := range spec.Models {
		raw := bruteCV(res, X, mod.Regressor, func(_ int, rows []int) []float64 { return valsOf(y, rows) })
		predA := bruteCV(res, X, mod.Regressor, half)
		predB := bruteCV(res, X, mod.Regressor, func(_ int, rows []int) []float64 { return valsOf(yB, rows) })
		for r := 0; r < res.Repeats; r++ {
			// A′ targets: each fold's test rows shrunk toward that fold's training mean.
			tA := make([]float64, len(y))
			for f := 0; f < res.Folds; f++ {
				var tr, te []int
				for i, g := range res.FoldOf[r] {
					if g == f {
						te = append(te, i)
					} else {
						tr = append(tr, i)
					}
				}
				m := stats.Mean(valsOf(y, tr))
				for _, i := range te {
					tA[i] = m + 0.5*(y[i]-m)
				}
			}
			for _, c := range []struct {
				arm          string
				pred, target []float64
			}{
				{"raw", raw[r], y}, {"A", predA[r], y}, {"A'", predA[r], tA},
				{"B", predB[r], yB}, {"B->meas", predB[r], y}, {"rescale", predB[r], yB},
				{"rescale->meas", predB[r], y},
			} {
				s := find(t, res, "v", c.arm, mod.Key)
				closeAll(t, mod.Key+" "+c.arm+" pred", s.Pred[r], c.pred, 1e-12)
				closeAll(t, mod.Key+" "+c.arm+" target", s.Target[r], c.target, 1e-12)
				got := s.Reps[r]
				wr, wp, _ := stats.Pearson(c.target, c.pred)
				want := []float64{stats.R2(c.target, c.pred), stats.RMSE(c.target, c.pred), stats.MAE(c.target, c.pred), wr, wp}
				closeAll(t, mod.Key+" "+c.arm+" metrics", []float64{got.R2, got.RMSE, got.MAE, got.R, got.P}, want, 1e-10)
			}
		}
	}
	// The arithmetic the protocols exist to expose, with the mean model exactly:
	// A trains on targets with the same training mean, so its predictions and RMSE equal
	// raw; A′ and B halve every residual, so their RMSE is half of raw's.
	for r := 0; r < res.Repeats; r++ {
		raw := find(t, res, "v", "raw", "mean").Reps[r]
		for arm, ratio := range map[string]float64{"A": 1, "A'": 0.5, "B": 0.5, "rescale": 0.5} {
			got := find(t, res, "v", arm, "mean").Reps[r].RMSE
			if math.Abs(got-ratio*raw.RMSE) > 1e-12 {
				t.Errorf("rep %d: %s RMSE %v, want %v × raw %v", r, arm, got, ratio, raw.RMSE)
			}
		}
	}
	// The evaluation-target relation of B: SD halves, slope ½, intercept ½·mean, and
	// mean |y_reg − y| = ½ mean |y − M|; under A the training targets have slope ½.
	b := find(t, res, "v", "B", "ols").Reps[0]
	wantMAD := 0.5 * stats.MAE(y, slices.Repeat([]float64{M}, len(y)))
	closeAll(t, "B eval relation", []float64{b.EvalSD, b.EvalSlope, b.EvalIntercept, b.EvalMAD, b.TrainSlope},
		[]float64{0.5 * stats.PopSD(y), 0.5, 0.5 * M, wantMAD, 0.5}, 1e-12)
	a := find(t, res, "v", "A", "ols").Reps[1]
	closeAll(t, "A train slope, eval slope", []float64{a.TrainSlope, a.EvalSlope, a.EvalMAD}, []float64{0.5, 1, 0}, 1e-12)
	// RMSE/SD = √(1 − R²) for every arm.
	for _, s := range res.Series {
		for _, m := range s.Reps {
			if math.Abs(m.RMSEOverSD-math.Sqrt(1-m.R2)) > 1e-12 {
				t.Fatalf("%s/%s: RMSE/SD %v vs √(1−R²) %v", s.Arm, s.Model, m.RMSEOverSD, math.Sqrt(1-m.R2))
			}
		}
	}
	// Diagnostics: rescale c = ½ and the per-fold fit means.
	var c float64
	nFold := 0
	for _, d := range res.Diagnostics {
		if d.Name == "rescale_c" {
			c = d.Value
		}
		if d.Scope == "fold" && d.Name == "fit_mean" {
			nFold++
		}
	}
	if math.Abs(c-0.5) > 1e-14 || nFold != res.Repeats*res.Folds {
		t.Errorf("rescale_c = %v, %d fold diagnostics", c, nFold)
	}
}

func TestOracle(t *testing.T) {
	_, y := testData(25)
	X := mat.NewDense(25, 1, nil)
	for i := range 25 {
		X.Set(i, 0, float64(i))
	}
	res := mustRun(t, Spec{Folds: 5, Repeats: 3, Seed: 1,
		Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: []Model{{"oracle", oracle{y}}}})
	s := find(t, res, "v", "raw", "oracle")
	for _, m := range append(slices.Clone(s.Reps), s.Summary.AvgPred, s.Summary.Mean) {
		if m.R2 != 1 || m.RMSE != 0 || m.MAE != 0 || m.R != 1 || m.P != 0 {
			t.Errorf("oracle metrics %+v", m)
		}
	}
	if s.Summary.SD.RMSE != 0 || s.Summary.SE.R2 != 0 {
		t.Errorf("oracle spread %+v", s.Summary.SD)
	}
}

func TestSummarizeByHand(t *testing.T) {
	// y = 1..4. Repetition 0 predicts (1,3,3,5), repetition 1 (2,2,4,4): residuals (0,1,0,1)
	// and (1,0,1,0), so both have RMSE √½, MAE ½ and R² = 1 − 2/5 = 0.6. Averaged
	// predictions (1.5,2.5,3.5,4.5) = y + ½: RMSE = MAE = ½, R² = 1 − 1/5 = 0.8, r = 1, p = 0.
	y := []float64{1, 2, 3, 4}
	pred := [][]float64{{1, 3, 3, 5}, {2, 2, 4, 4}}
	target := [][]float64{y, y}
	reps := []Metrics{scoreOne(y, y, pred[0], nil, 0.9), scoreOne(y, y, pred[1], nil, 0.9)}
	s := summarize(y, reps, pred, target)
	h := math.Sqrt(0.5)
	closeAll(t, "mean", []float64{s.Mean.RMSE, s.Mean.MAE, s.Mean.R2, s.SD.RMSE, s.SE.RMSE}, []float64{h, 0.5, 0.6, 0, 0}, 1e-15)
	closeAll(t, "avgpred", []float64{s.AvgPred.RMSE, s.AvgPred.MAE, s.AvgPred.R2, s.AvgPred.R, s.AvgPred.P}, []float64{0.5, 0.5, 0.8, 1, 0}, 1e-15)
	// Pearson r of rep 0: x = y − 2.5 = (−1.5,−.5,.5,1.5), p − 3 = (−2,0,0,2): r = 6/√(5·8).
	if math.Abs(reps[0].R-6/math.Sqrt(40)) > 1e-15 {
		t.Errorf("rep 0 r = %v", reps[0].R)
	}
	// Varying targets (arm A′): rep 1 targets y + 1; averaged targets y + ½ equal the
	// averaged predictions' offset, so everything is perfect.
	target = [][]float64{y, {2, 3, 4, 5}}
	s = summarize(y, reps, pred, target)
	if s.AvgPred.RMSE != 0 || s.AvgPred.EvalSlope != 1 || s.AvgPred.EvalIntercept != 0.5 {
		t.Errorf("averaged targets: %+v", s.AvgPred)
	}
	// SD over reps with ddof 1: RMSEs 1 and 3 → mean 2, SD √2, SE 1.
	s = summarize(y, []Metrics{{RMSE: 1}, {RMSE: 3}}, pred, [][]float64{y, y})
	closeAll(t, "sd/se", []float64{s.Mean.RMSE, s.SD.RMSE, s.SE.RMSE}, []float64{2, math.Sqrt2, 1}, 1e-15)
}

func TestVariances(t *testing.T) {
	X, y := testData(30)
	res := mustRun(t, Spec{Folds: 3, Repeats: 2, Seed: 5, Level: 0.8,
		Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: []Model{{"noisy", noisyModel{0.5}}, {"ols", olsModel{}}}})
	s := find(t, res, "v", "raw", "noisy")
	if s.Var == nil {
		t.Fatal("variances lost")
	}
	for r, m := range s.Reps {
		nll, _ := stats.GaussianNLL(y, s.Pred[r], s.Var[r])
		cov, _ := stats.Coverage(y, s.Pred[r], s.Var[r], 0.8)
		if m.NLL != nll || m.Coverage != cov {
			t.Errorf("rep %d: NLL %v cov %v, want %v %v", r, m.NLL, m.Coverage, nll, cov)
		}
	}
	o := find(t, res, "v", "raw", "ols")
	if o.Var != nil || !math.IsNaN(o.Reps[0].NLL) || !math.IsNaN(o.Reps[0].Coverage) {
		t.Error("a model without variances must give NaN NLL and coverage")
	}
}

func TestShrinkControl(t *testing.T) {
	X, y := testData(36)
	for _, match := range []ShrinkMatch{MatchDisplacement, MatchSlope} {
		res := mustRun(t, Spec{Folds: 4, Repeats: 2, Seed: 3,
			Variants: []Variant{{Key: "v", X: X, Y: y, Regularizer: halfShrink{0.6}, Protocols: []Protocol{B, Shrink},
				ShrinkToward: meanModel{}, ShrinkMatch: match}},
			Models: []Model{{"ols", olsModel{}}}})
		yReg := find(t, res, "v", "B", "ols").Target[0]
		yShr := find(t, res, "v", "shrink", "ols").Target[0]
		// ŷ is out of fold: the mean of y over the other shrink folds (brute force).
		folds := KFold(36, 4, stream(3, "shrink-folds"))
		yHat := make([]float64, 36)
		for _, te := range folds {
			m := stats.Mean(valsOf(y, complement(36, te)))
			for _, i := range te {
				yHat[i] = m
			}
		}
		var w float64
		if match == MatchSlope {
			w = 0.6 // slope of M + 0.6(y − M) on y
		} else {
			w = 1 - stats.RMSE(y, yReg)/stats.RMSE(y, yHat)
		}
		want := make([]float64, 36)
		for i := range want {
			want[i] = w*y[i] + (1-w)*yHat[i]
		}
		closeAll(t, string(match)+" targets", yShr, want, 1e-12)
		// And the CV trains on them: the shrink arm's predictions are a plain CV on y″.
		brute := bruteCV(res, X, olsModel{}, func(_ int, rows []int) []float64 { return valsOf(want, rows) })
		s := find(t, res, "v", "shrink->meas", "ols")
		for r := range brute {
			closeAll(t, "shrink predictions", s.Pred[r], brute[r], 1e-10)
		}
		closeAll(t, "shrink->meas targets", s.Target[0], y, 0)
		if match == MatchDisplacement {
			// Same root-mean-square displacement as the regularizer, by construction.
			if d := math.Abs(stats.RMSE(y, yShr) - stats.RMSE(y, yReg)); d > 1e-12 {
				t.Errorf("displacement differs by %g", d)
			}
		}
	}
}

func TestTestsMatchWilcoxon(t *testing.T) {
	res := mustRun(t, bigSpec(nil))
	nSeries := len(res.Series)
	// Models: 14 (variant, arm) groups × C(3,2) pairs; series: 3 models × C(14,2); ×2 for
	// the fold-level tests.
	if want := 2 * (14*3 + 3*91); len(res.Tests) != want || nSeries != 42 {
		t.Fatalf("%d tests (%d series), want %d", len(res.Tests), nSeries, want)
	}
	for _, tt := range res.Tests[:6] {
		a := find(t, res, tt.A.Variant, tt.A.Arm, tt.A.Model)
		b := find(t, res, tt.B.Variant, tt.B.Arm, tt.B.Model)
		var x, y []float64
		if tt.Scores == "rep-rmse" {
			for r := range a.Reps {
				x, y = append(x, a.Reps[r].RMSE), append(y, b.Reps[r].RMSE)
			}
		} else {
			x, y = slices.Concat(a.FoldRMSE...), slices.Concat(b.FoldRMSE...)
		}
		w, _ := stats.Wilcoxon(x, y)
		if tt.Kind != "models" || tt.Statistic != w.Statistic || tt.P != w.P || tt.N != len(x) {
			t.Errorf("test %+v vs Wilcoxon %+v", tt, w)
		}
		if tt.Comparable != (a.Comparable() && b.Comparable()) {
			t.Error("comparable flag wrong")
		}
	}
	// Fold RMSEs are the RMSE over each fold's test rows.
	s := find(t, res, "icr", "A'", "ols")
	var te []int
	for i, f := range res.FoldOf[2] {
		if f == 3 {
			te = append(te, i)
		}
	}
	if got, want := s.FoldRMSE[2][3], stats.RMSE(valsOf(s.Target[2], te), valsOf(s.Pred[2], te)); got != want {
		t.Errorf("fold RMSE %v, want %v", got, want)
	}
}

func TestCancellation(t *testing.T) {
	X, y := testData(40)
	for _, k := range []int{1, 4} {
		ctx, cancel := context.WithCancel(context.Background())
		var calls atomic.Int64
		m := funcModel(func(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error) {
			if calls.Add(1) == 10 {
				cancel()
			}
			return meanModel{}.Fit(ctx, X, y, rng)
		})
		_, err := Run(ctx, Spec{Folds: 10, Repeats: 100, Seed: 1, Runner: Workers(k),
			Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: []Model{{"m", m}}})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%d workers: err = %v, want context.Canceled", k, err)
		}
		if n := calls.Load(); n > 10+int64(k) {
			t.Errorf("%d workers: %d fits after cancelling at the 10th", k, n)
		}
	}
}

func TestProgress(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	total := -1
	s := bigSpec(Workers(4))
	s.Progress = func(done, tot int) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, done)
		total = tot
	}
	mustRun(t, s)
	// Tasks: global regularization for "icr" (1) and "scaled" (1), shrink ŷ folds (2×5),
	// A fold regularizations (2 variants × 4 reps × 5 folds), and fits: protocols 1 + 5 + 2
	// = 8, × 3 models × 4 reps × 5 folds.
	want := 2 + 10 + 40 + 8*3*4*5
	if total != want || len(seen) != want {
		t.Fatalf("total %d, %d calls; want %d", total, len(seen), want)
	}
	for i, d := range seen {
		if d != i+1 {
			t.Fatalf("progress call %d reported %d", i, d)
		}
	}
}

func TestErrors(t *testing.T) {
	X, y := testData(20)
	bad := funcModel(func(context.Context, *mat.Dense, []float64, *rand.Rand) (ml.Predictor, error) { return nil, errBoom })
	_, err := Run(context.Background(), Spec{Folds: 5, Repeats: 2, Variants: []Variant{{Key: "v", X: X, Y: y}},
		Models: []Model{{"bad", bad}}, Runner: Workers(3)})
	if !errors.Is(err, errBoom) || !strings.Contains(err.Error(), `model "bad", repetition 0, fold 0`) {
		t.Errorf("err = %v", err)
	}
	pan := funcModel(func(context.Context, *mat.Dense, []float64, *rand.Rand) (ml.Predictor, error) { panic("kaboom") })
	_, err = Run(context.Background(), Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y}},
		Models: []Model{{"p", pan}}, Runner: Workers(2)})
	if err == nil || !strings.Contains(err.Error(), "kaboom") {
		t.Errorf("panic not converted: %v", err)
	}
	ok := []Model{{"m", meanModel{}}}
	yNaN := slices.Clone(y)
	yNaN[3] = math.NaN()
	for _, c := range []struct {
		spec Spec
		msg  string
	}{
		{Spec{Folds: 21, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: ok}, "21 folds for 20 rows"},
		{Spec{Folds: 5, Repeats: 0, Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: ok}, "repeats"},
		{Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y, Protocols: []Protocol{B}}}, Models: ok}, "needs a regularizer"},
		{Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y, Protocols: []Protocol{"C"}}}, Models: ok}, "unknown protocol"},
		{Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y, Regularizer: halfShrink{}, Protocols: []Protocol{Shrink}}}, Models: ok}, "shrink toward"},
		{Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y}, {Key: "w", X: X.Slice(0, 10, 0, 5).(*mat.Dense), Y: y[:10]}}, Models: ok}, "same rows"},
		{Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: yNaN}}, Models: ok}, "target of row 3 is NaN"},
		{Spec{Folds: 5, Repeats: 1, Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: []Model{{"m", meanModel{}}, {"m", olsModel{}}}}, "repeated"},
	} {
		if _, err := Run(context.Background(), c.spec); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("want error containing %q, got %v", c.msg, err)
		}
	}
	// A constant prediction leaves r and p undefined: NaN with a note, not a failure.
	zero := funcModel(func(context.Context, *mat.Dense, []float64, *rand.Rand) (ml.Predictor, error) {
		return constPred{0}, nil
	})
	res := mustRun(t, Spec{Folds: 4, Repeats: 2, Variants: []Variant{{Key: "v", X: X, Y: y}}, Models: []Model{{"zero", zero}}})
	if m := res.Series[0].Reps[0]; !math.IsNaN(m.P) || !math.IsNaN(m.R) || m.Note != "predictions are constant: r and p undefined" ||
		res.Series[0].Summary.Note != m.Note || !math.IsNaN(res.Series[0].Summary.Mean.P) {
		t.Errorf("constant predictions: %+v", m)
	}
}

// oracleICR is ICR's Gaussian-theory limit (csdi_icr.md §2.4): y_reg = w·y + (1−w)·m(x)
// with the true conditional mean m(x) = 1.5·x0 − x1.
type oracleICR struct{ w float64 }

func (o oracleICR) Fit(context.Context, *mat.Dense, []float64, *rand.Rand) (Regularization, error) {
	return o, nil
}

func (o oracleICR) Apply(_ context.Context, X *mat.Dense, y []float64, _ *rand.Rand) ([]float64, error) {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = o.w*v + (1-o.w)*(1.5*X.At(i, 0)-X.At(i, 1))
	}
	return out, nil
}

func TestShrinkMatchTheory(t *testing.T) {
	// y = m(x) + e with Var(m) = 3.25, Var(e) = 1, so R²(m) = 3.25/4.25; true w = 0.6.
	// Displacement matching must recover w (OLS ŷ ≈ m; its excess error is O(p/n));
	// slope matching gives w + (1−w)·R²(m) = 0.906, as documented on MatchSlope.
	const n, w = 2000, 0.6
	rng := rand.New(rand.NewPCG(11, 12))
	X := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := range y {
		X.Set(i, 0, rng.NormFloat64())
		X.Set(i, 1, rng.NormFloat64())
		y[i] = 1.5*X.At(i, 0) - X.At(i, 1) + rng.NormFloat64()
	}
	r2 := 3.25 / 4.25
	for _, c := range []struct {
		match ShrinkMatch
		want  float64
	}{{MatchDisplacement, w}, {MatchSlope, w + (1-w)*r2}} {
		res := mustRun(t, Spec{Folds: 10, Repeats: 1, Seed: 2,
			Variants: []Variant{{Key: "v", X: X, Y: y, Regularizer: oracleICR{w}, Protocols: []Protocol{Shrink},
				ShrinkToward: olsModel{}, ShrinkMatch: c.match}},
			Models: []Model{{"mean", meanModel{}}}})
		var got float64
		for _, d := range res.Diagnostics {
			if d.Name == "shrink_w" {
				got = d.Value
			}
		}
		// Sampling error of the estimates at n = 2000: a few 1e-3 (slope SE ≈ 0.004).
		t.Logf("%s: w = %.4f (theory %.4f)", c.match, got, c.want)
		if math.Abs(got-c.want) > 0.015 {
			t.Errorf("%s: w = %v, want %v", c.match, got, c.want)
		}
	}
}
