package dgp

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/nodes"
)

func quickConfig() Config {
	c := DefaultConfig()
	c.Iterations = 30
	c.PredictSamples = 20
	return c
}

// The same seed gives the same bytes; another seed gives another fit.
func TestFitDeterministic(t *testing.T) {
	x, y := synthData(40, 6, 3)
	r, err := New(quickConfig())
	if err != nil {
		t.Fatal(err)
	}
	fit := func(seed uint64) ([]float64, []float64) {
		p, err := r.Fit(context.Background(), x, y, rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			t.Fatal(err)
		}
		m, v := p.Predict(x)
		m2, v2 := p.Predict(x) // repeated calls are deterministic too
		for i := range m {
			if math.Float64bits(m[i]) != math.Float64bits(m2[i]) || math.Float64bits(v[i]) != math.Float64bits(v2[i]) {
				t.Fatalf("Predict is not repeatable at row %d", i)
			}
		}
		return m, v
	}
	m1, v1 := fit(9)
	m2, v2 := fit(9)
	m3, _ := fit(10)
	same := true
	for i := range m1 {
		if math.Float64bits(m1[i]) != math.Float64bits(m2[i]) || math.Float64bits(v1[i]) != math.Float64bits(v2[i]) {
			t.Fatalf("row %d: seed 9 gave (%v, %v) then (%v, %v)", i, m1[i], v1[i], m2[i], v2[i])
		}
		same = same && m1[i] == m3[i]
	}
	if same {
		t.Error("seeds 9 and 10 gave identical predictions: the rng is not used")
	}
	for i := range v1 {
		if !(v1[i] > 0) {
			t.Fatalf("row %d: predictive variance %v", i, v1[i])
		}
	}
}

// Fit leaves X and y untouched.
func TestFitDoesNotModifyInputs(t *testing.T) {
	x, y := synthData(30, 4, 4)
	x0, y0 := mat.DenseCopyOf(x), append([]float64(nil), y...)
	r, _ := New(quickConfig())
	if _, err := r.Fit(context.Background(), x, y, rand.New(rand.NewPCG(1, 1))); err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(x, x0) {
		t.Error("Fit modified X")
	}
	for i := range y {
		if y[i] != y0[i] {
			t.Fatal("Fit modified y")
		}
	}
}

func TestFitCancel(t *testing.T) {
	x, y := synthData(30, 4, 4)
	c := DefaultConfig()
	c.Iterations = 1000000
	r, _ := New(c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Fit(ctx, x, y, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, context.Canceled) {
		t.Errorf("Fit with a cancelled context returned %v", err)
	}
}

func TestFitErrors(t *testing.T) {
	r, _ := New(quickConfig())
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := synthData(10, 3, 1)
	cases := []struct {
		name string
		x    *mat.Dense
		y    []float64
		want string
	}{
		{"one row", mat.NewDense(1, 3, []float64{1, 2, 3}), []float64{1}, "at least 2"},
		{"NaN target", x, append(append([]float64(nil), y[:9]...), math.NaN()), "target 9"},
		{"Inf input", func() *mat.Dense { c := mat.DenseCopyOf(x); c.Set(2, 1, math.Inf(1)); return c }(), y, "row 2, column 1"},
		{"constant target", x, make([]float64, 10), "nothing to fit"},
	}
	for _, c := range cases {
		_, err := r.Fit(context.Background(), c.x, c.y, rng)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"row mismatch", func() { r.Fit(context.Background(), x, y[:5], rng) }},
		{"no columns", func() { r.Fit(context.Background(), &mat.Dense{}, nil, rng) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Fit did not panic", c.name)
				}
			}()
			c.f()
		}()
	}
	p, err := r.Fit(context.Background(), x, y, rng)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Predict with the wrong column count did not panic")
		}
	}()
	p.Predict(mat.NewDense(2, 4, nil))
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cases := []struct {
		attr string
		mod  func(*Config)
	}{
		{"layers", func(c *Config) { c.Layers = 0 }},
		{"layers", func(c *Config) { c.Layers = 11 }},
		{"inner_width", func(c *Config) { c.InnerWidth = -1 }},
		{"inducing", func(c *Config) { c.Inducing = 0 }},
		{"iterations", func(c *Config) { c.Iterations = 0 }},
		{"learning_rate", func(c *Config) { c.LearningRate = 0 }},
		{"learning_rate", func(c *Config) { c.LearningRate = math.NaN() }},
		{"train_samples", func(c *Config) { c.TrainSamples = 0 }},
		{"predict_samples", func(c *Config) { c.PredictSamples = 0 }},
		{"noise_variance", func(c *Config) { c.NoiseVariance = 1e-7 }},
		{"noise_variance", func(c *Config) { c.NoiseVariance = math.Inf(1) }},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mod(&cfg)
		_, err := New(cfg)
		if err == nil || !strings.Contains(err.Error(), c.attr) {
			t.Errorf("%+v: error %v, want one naming %s", cfg, err, c.attr)
		}
	}
}

// k-means finds three well-separated clusters' means from any start, deterministically.
func TestKMeans(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	centres := [][]float64{{0, 0}, {10, 0}, {0, 10}}
	var x []float64
	for i := range 90 {
		c := centres[i%3]
		x = append(x, c[0]+0.1*rng.NormFloat64(), c[1]+0.1*rng.NormFloat64())
	}
	got := kmeans(x, 90, 2, 3, 10, rand.New(rand.NewPCG(5, 5)))
	again := kmeans(x, 90, 2, 3, 10, rand.New(rand.NewPCG(5, 5)))
	for i := range got {
		if got[i] != again[i] {
			t.Fatal("k-means is not deterministic for a seed")
		}
	}
	for _, c := range centres {
		best := math.Inf(1)
		for j := range 3 {
			best = math.Min(best, math.Hypot(got[2*j]-c[0], got[2*j+1]-c[1]))
		}
		if best > 0.1 {
			t.Errorf("no centre near %v: %v", c, got)
		}
	}
}

// The shrinking mean function is the PCA projection: orthonormal columns spanning the top
// eigenvectors of XᵀX (checked with an eigendecomposition); the growing one is [I, 0].
func TestLinearMean(t *testing.T) {
	x, _ := synthData(50, 6, 8)
	w := linearMean(x.RawMatrix().Data, 50, 6, 2)
	var xtx mat.SymDense
	xtx.SymOuterK(1, x.T())
	var eig mat.EigenSym
	if !eig.Factorize(&xtx, true) {
		t.Fatal("eigendecomposition failed")
	}
	var v mat.Dense
	eig.VectorsTo(&v) // ascending eigenvalues
	wm := mat.NewDense(6, 2, w)
	for j := range 2 {
		top := v.ColView(5 - j)
		if c := math.Abs(mat.Dot(wm.ColView(j), top)); math.Abs(c-1) > 1e-10 {
			t.Errorf("column %d of W has |cos| %.12f with eigenvector %d", j, c, 5-j)
		}
	}
	up := linearMean(x.RawMatrix().Data, 50, 2, 3)
	if want := []float64{1, 0, 0, 0, 1, 0}; !slices.Equal(up, want) {
		t.Errorf("growing mean W = %v, want %v", up, want)
	}
}

// Initialization follows init_layers_linear: Z = X when N ≤ M, widths and mean kinds,
// q_sqrt = chol(K_ZZ) scaled by 1e-5 on inner layers, noise 0.05.
func TestInit(t *testing.T) {
	x, _ := synthData(20, 7, 1)
	xs := x.RawMatrix().Data
	cfg := DefaultConfig()
	cfg.Layers = 3
	md, err := newModel(cfg, xs, 20, 7, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	kinds := []meanKind{meanLinear, meanIdentity, meanZero}
	widths := [][2]int{{7, 5}, {5, 5}, {5, 1}}
	for i, l := range md.layers {
		if l.mean != kinds[i] || l.dIn != widths[i][0] || l.dOut != widths[i][1] || l.m != 20 {
			t.Errorf("layer %d: mean %v, %d→%d, M %d", i, l.mean, l.dIn, l.dOut, l.m)
		}
		st, err := l.state(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		scale := 1.0
		if i < 2 {
			scale = innerQScale
		}
		for r := range l.m {
			for o := range l.dOut {
				for c := range l.m {
					if got, want := l.qSqrt.Data[(r*l.dOut+o)*l.m+c], scale*st.lz.Data[r*l.m+c]; got != want {
						t.Fatalf("layer %d q_sqrt[%d,%d,%d] = %v, want %v", i, r, o, c, got, want)
					}
				}
			}
		}
	}
	if !slices.Equal(md.layers[0].z.Data, xs) {
		t.Error("Z of the first layer is not X when N ≤ M")
	}
	if got := md.noise(nil).Value(); math.Abs(got-0.05) > 1e-15 {
		t.Errorf("initial noise %v", got)
	}
}

// The block kind is registered with the documented attributes and defaults.
func TestRegister(t *testing.T) {
	r := nodes.NewRegistry()
	Register(r)
	k, ok := r.Kind("dgp")
	if !ok {
		t.Fatal("dgp not registered")
	}
	want := map[string]string{"layers": "2", "inner_width": "5", "inducing": "100", "iterations": "1000", "learning_rate": "0.01",
		"whiten": "false", "train_samples": "1", "predict_samples": "100", "noise_variance": "0.05"}
	for name, def := range want {
		a, ok := k.Schema.Attr(name)
		if !ok {
			t.Errorf("attribute %s missing", name)
			continue
		}
		if a.Default != def {
			t.Errorf("attribute %s default %q, want %q", name, a.Default, def)
		}
	}
	if len(k.Schema.Attrs) != len(want) {
		t.Errorf("%d attributes, want %d", len(k.Schema.Attrs), len(want))
	}
}

// A fitted model may be used from several goroutines at once (run with -race).
func TestPredictConcurrent(t *testing.T) {
	x, y := synthData(30, 4, 6)
	r, _ := New(quickConfig())
	p, err := r.Fit(context.Background(), x, y, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Predict(x)
	done := make(chan []float64)
	for range 4 {
		go func() {
			m, _ := p.Predict(x)
			done <- m
		}()
	}
	for range 4 {
		m := <-done
		for i := range m {
			if m[i] != want[i] {
				t.Fatalf("concurrent Predict differs at row %d", i)
			}
		}
	}
}
