package pbp

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig: %v", err)
	}
	d := DefaultConfig()
	if len(d.Hidden) != 1 || d.Hidden[0] != 50 || d.Epochs != 40 || !d.NormalizeInputs {
		t.Errorf("DefaultConfig = %+v, want hidden [50], 40 epochs, normalized inputs (models.md §2.7)", d)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Epochs: 40}, "hidden"},
		{Config{Hidden: []int{50, 0}, Epochs: 40}, "hidden[1]"},
		{Config{Hidden: []int{-3}, Epochs: 40}, "hidden[0]"},
		{Config{Hidden: []int{maxWidth + 1}, Epochs: 40}, "hidden[0]"},
		{Config{Hidden: []int{50}, Epochs: 0}, "epochs"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error naming %q", c.cfg, err, c.want)
		}
		if _, err := New(c.cfg); err == nil {
			t.Errorf("New(%+v) accepted an invalid configuration", c.cfg)
		}
	}
}

// syntheticData is a smooth nonlinear target with noise sd 0.1, on inputs of very different
// scales (so that input normalization matters).
func syntheticData(rng *rand.Rand, n int) (*mat.Dense, []float64) {
	X := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := range n {
		a, b, c := rng.Float64()*2-1, rng.Float64()*2-1, rng.Float64()*2-1
		X.Set(i, 0, a)
		X.Set(i, 1, 1000*b)
		X.Set(i, 2, 0.01*c)
		y[i] = 3 + math.Sin(2*a) + b*b - c + 0.1*rng.NormFloat64()
	}
	return X, y
}

// TestFitSynthetic checks that PBP learns a smooth function: the test RMSE must come close to
// the noise sd (0.1) — far below the target's sd (≈ 0.9) — and the predicted variance must be
// calibrated (mean standardized squared error near 1).
func TestFitSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	Xtr, ytr := syntheticData(rng, 400)
	Xte, yte := syntheticData(rng, 400)
	reg, _ := New(DefaultConfig())
	p, err := reg.Fit(context.Background(), Xtr, ytr, rand.New(rand.NewPCG(7, 8)))
	if err != nil {
		t.Fatal(err)
	}
	m, v := p.Predict(Xte)
	var se, z2 float64
	for i := range yte {
		r := yte[i] - m[i]
		se += r * r
		z2 += r * r / v[i]
	}
	rmse := math.Sqrt(se / float64(len(yte)))
	z2 /= float64(len(yte))
	noise := p.(*Predictor).NoiseVariance()
	t.Logf("RMSE %.4f, mean z² %.3f, noise variance %.4g", rmse, z2, noise)
	// Bounds: the irreducible RMSE is 0.1; over six seeds this fit measured RMSE 0.115–0.130,
	// mean z² 0.65–0.84 and noise variance 0.018–0.021 (PBP's Gaussian approximation of the
	// Student-t overestimates the noise a little), while least squares on the same data gives
	// 0.33–0.37.
	if rmse > 0.22 {
		t.Errorf("test RMSE %.4f, want < 0.22 (noise sd 0.1)", rmse)
	}
	if z2 < 0.5 || z2 > 2 {
		t.Errorf("mean standardized squared error %.3f, want within [0.5, 2] (calibrated variances)", z2)
	}
	// The fit must have run the EP prior refinement (α^λ grows by about ½ per weight per
	// sweep: 251 weights here) and every noise update must have been accepted.
	net := p.(*Predictor).net
	if net.aPrior < 50 || net.bPrior == beta0 {
		t.Errorf("prior Gamma(%v, %v): the EP refinement did not run", net.aPrior, net.bPrior)
	}
	if net.rejectedNoise != 0 {
		t.Errorf("%d noise updates were rejected", net.rejectedNoise)
	}
	if noise < 0.005 || noise > 0.04 {
		t.Errorf("noise variance %.4g, want near 0.01 (0.018–0.021 measured)", noise)
	}
}

func predictBytes(t *testing.T, cfg Config, X *mat.Dense, y []float64, seed uint64) []float64 {
	t.Helper()
	reg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Fit(context.Background(), X, y, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	m, v := p.Predict(X)
	return append(m, v...)
}

// TestFitDeterministic: the same data and seed give the same bits; another seed does not; and
// Fit leaves X and y alone.
func TestFitDeterministic(t *testing.T) {
	X, y := syntheticData(rand.New(rand.NewPCG(1, 1)), 60)
	Xc, yc := mat.DenseCopyOf(X), append([]float64(nil), y...)
	cfg := DefaultConfig()
	cfg.Epochs = 5
	a := predictBytes(t, cfg, X, y, 42)
	b := predictBytes(t, cfg, X, y, 42)
	c := predictBytes(t, cfg, X, y, 43)
	same := true
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("output %d differs between two fits with the same seed: %v vs %v", i, a[i], b[i])
		}
		same = same && a[i] == c[i]
	}
	if same {
		t.Errorf("two seeds gave identical predictions")
	}
	if !mat.Equal(X, Xc) {
		t.Errorf("Fit modified X")
	}
	for i := range y {
		if y[i] != yc[i] {
			t.Fatalf("Fit modified y[%d]", i)
		}
	}
}

// TestNormalizeInputsOff: without input normalization the inputs enter as they are, so a
// column scaled by 1000 changes the fit, while with normalization a rescaled column gives
// the same predictions up to rounding.
func TestNormalizeInputsOff(t *testing.T) {
	X, y := syntheticData(rand.New(rand.NewPCG(2, 2)), 80)
	X2 := mat.DenseCopyOf(X)
	for i := range 80 {
		X2.Set(i, 1, X.At(i, 1)/1000)
	}
	cfg := DefaultConfig()
	cfg.Epochs = 3
	a, b := predictBytes(t, cfg, X, y, 9), predictBytes(t, cfg, X2, y, 9)
	for i := range a {
		if relErr(a[i], b[i]) > 1e-9 {
			t.Fatalf("with normalization, rescaling a column changed output %d: %v vs %v", i, a[i], b[i])
		}
	}
	cfg.NormalizeInputs = false
	a, b = predictBytes(t, cfg, X, y, 9), predictBytes(t, cfg, X2, y, 9)
	diff := 0.0
	for i := range a {
		diff = math.Max(diff, relErr(a[i], b[i]))
	}
	if diff < 1e-3 {
		t.Errorf("without normalization, rescaling a column by 1000 changed nothing (max rel diff %g)", diff)
	}
}

func TestFitErrors(t *testing.T) {
	reg, _ := New(DefaultConfig())
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 1))
	X := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	for _, c := range []struct {
		name string
		X    *mat.Dense
		y    []float64
		want string
	}{
		{"one row", mat.NewDense(1, 2, []float64{1, 2}), []float64{1}, "at least 2"},
		{"constant y", X, []float64{2, 2, 2}, "all 3 training targets equal"},
		{"NaN y", X, []float64{1, math.NaN(), 2}, "target 1"},
		{"Inf x", mat.NewDense(3, 2, []float64{1, 2, 3, math.Inf(1), 5, 6}), []float64{1, 2, 3}, "row 1, column 1"},
	} {
		_, err := reg.Fit(ctx, c.X, c.y, rng)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := reg.Fit(cctx, X, []float64{1, 2, 3}, rng); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestPanics(t *testing.T) {
	reg, _ := New(DefaultConfig())
	mustPanic := func(name string, f func()) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	X := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 7})
	mustPanic("row mismatch", func() { reg.Fit(context.Background(), X, []float64{1, 2}, rand.New(rand.NewPCG(1, 1))) })
	cfg := DefaultConfig()
	cfg.Epochs = 1
	reg, _ = New(cfg)
	p, err := reg.Fit(context.Background(), X, []float64{1, 2, 4}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	mustPanic("column mismatch", func() { p.Predict(mat.NewDense(1, 3, nil)) })
}

// TestStandardizer checks the population SD of models.md §1.4 (np.std, ddof = 0) in Fit: for
// inputs 1, 2, 3, 4 the mean is 2.5 and the SD sqrt(1.25), not the sample SD sqrt(5/3); a
// constant column gets SD 1; the target is z-scored the same way.
func TestStandardizer(t *testing.T) {
	X := mat.NewDense(4, 2, []float64{1, 5, 2, 5, 3, 5, 4, 5})
	cfg := DefaultConfig()
	cfg.Epochs = 1
	reg, _ := New(cfg)
	p, err := reg.Fit(context.Background(), X, []float64{10, 20, 30, 40}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	pp := p.(*Predictor)
	if pp.xs.Mean[0] != 2.5 || math.Abs(pp.xs.Scale[0]-math.Sqrt(1.25)) > 1e-15 || pp.xs.Mean[1] != 5 || pp.xs.Scale[1] != 1 ||
		pp.yMean != 25 || math.Abs(pp.ySD-10*math.Sqrt(1.25)) > 1e-14 {
		t.Errorf("Fit's z-scoring: x %+v, y mean %v SD %v", pp.xs, pp.yMean, pp.ySD)
	}
}
