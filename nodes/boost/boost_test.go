package boost

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func fitCfg(t testing.TB, cfg Config, X *mat.Dense, y []float64, rng *rand.Rand) *Model {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.(*Regressor).FitModel(context.Background(), X, y, rng)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func column(x ...float64) *mat.Dense { return mat.NewDense(len(x), 1, x) }

func maxDepthOf(m *Model) int {
	d := 0
	for i := 0; i < m.NumTrees(); i++ {
		for _, n := range m.Nodes(i) {
			d = max(d, n.Depth)
		}
	}
	return d
}

// TestSingleFeatureByHand: x = 1..4, y = (1, 1, 3, 3), base 0.5, λ = 1, η = 0.1, one
// stump. Gradients g = 0.5 − y = (−0.5, −0.5, −2.5, −2.5), G = −6, H = 4.
// Candidates (G_L²/(H_L+1) + G_R²/(H_R+1) − G²/(H+1)):
//
//	x < 1.5: 0.25/2 + 30.25/4 − 36/5 = 0.4875
//	x < 2.5: 1/3 + 25/3 − 36/5 = 22/15 ≈ 1.4667  (best)
//	x < 3.5: 12.25/4 + 6.25/2 − 36/5 = −1.0125
//
// Leaves η·(−G/(H+1)): left 0.1·1/3, right 0.1·5/3.
func TestSingleFeatureByHand(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDepth, cfg.NEstimators = 1, 1
	m := fitCfg(t, cfg, column(1, 2, 3, 4), []float64{1, 1, 3, 3}, nil)
	ns := m.Nodes(0)
	if len(ns) != 3 {
		t.Fatalf("stump has %d nodes, want 3:\n%s", len(ns), m.Dump(0, true))
	}
	root, l, r := ns[0], ns[1], ns[2]
	if root.Feature != 0 || root.Threshold != 2.5 || root.Cover != 4 {
		t.Errorf("root f%d < %v cover %v, want f0 < 2.5 cover 4", root.Feature, root.Threshold, root.Cover)
	}
	if math.Abs(float64(root.Gain)-22.0/15) > 1e-6 {
		t.Errorf("gain %v, want 22/15 = %v", root.Gain, 22.0/15)
	}
	if math.Abs(float64(l.Value)-0.1/3) > 1e-8 || math.Abs(float64(r.Value)-0.5/3) > 1e-8 || l.Cover != 2 || r.Cover != 2 {
		t.Errorf("leaves %v (cover %v), %v (cover %v); want 1/30, 1/6 with cover 2", l.Value, l.Cover, r.Value, r.Cover)
	}
	p, _ := m.Predict(column(0, 2.49, 2.5, 100))
	want := []float64{0.5 + 0.1/3, 0.5 + 0.1/3, 0.5 + 0.5/3, 0.5 + 0.5/3}
	for i := range p {
		if math.Abs(p[i]-want[i]) > 1e-7 {
			t.Errorf("ŷ(%d) = %v, want %v", i, p[i], want[i])
		}
	}
}

// TestMinChildWeightBlocks: one outlier among six rows. With min_child_weight 1 the
// first split isolates it (cover 1); with 2 no node of any tree has cover < 2.
func TestMinChildWeightBlocks(t *testing.T) {
	X := column(1, 2, 3, 4, 5, 6)
	y := []float64{0, 0.1, 0, 0.1, 0, 10}
	cfg := DefaultConfig()
	cfg.NEstimators = 20
	m1 := fitCfg(t, cfg, X, y, nil)
	if ns := m1.Nodes(0); ns[0].Threshold != 5.5 || ns[2].Cover != 1 {
		t.Errorf("mcw = 1: root split %v, right cover %v; want the outlier isolated at 5.5", ns[0].Threshold, ns[2].Cover)
	}
	cfg.MinChildWeight = 2
	m2 := fitCfg(t, cfg, X, y, nil)
	for i := 0; i < m2.NumTrees(); i++ {
		for _, n := range m2.Nodes(i) {
			if n.Cover < 2 {
				t.Fatalf("mcw = 2: tree %d node %d has cover %v:\n%s", i, n.ID, n.Cover, m2.Dump(i, true))
			}
		}
	}
}

// TestTieBreaking: xgboost's SplitEntry::NeedReplace. Two identical columns have equal
// gains and feature 0 must win; within a feature, of two thresholds with equal gain
// (y symmetric, both gains exactly 0.1875) the first of the descending scan — the
// larger threshold — must win.
func TestTieBreaking(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDepth, cfg.NEstimators = 1, 1
	x := []float64{1, 2, 3, 4}
	y := []float64{0, 1, 1, 0} // g = (0.5, −0.5, −0.5, 0.5)
	X := mat.NewDense(4, 2, nil)
	X.SetCol(0, x)
	X.SetCol(1, x)
	m := fitCfg(t, cfg, X, y, nil)
	root := m.Nodes(0)[0]
	if root.Feature != 0 {
		t.Errorf("tie between identical features: chose f%d, want f0", root.Feature)
	}
	// x < 1.5 and x < 3.5 both give 0.25/2 + 0.25/4 − 0 = 0.1875 exactly.
	if root.Threshold != 3.5 || root.Gain != 0.1875 {
		t.Errorf("within-feature tie: f%d < %v gain %v, want 3.5 (first in the descending scan), 0.1875",
			root.Feature, root.Threshold, root.Gain)
	}
	// Swap the roles: feature 1 carries the signal alone, feature 0 is constant.
	X.SetCol(0, []float64{7, 7, 7, 7})
	if root := fitCfg(t, cfg, X, y, nil).Nodes(0)[0]; root.Feature != 1 {
		t.Errorf("with a constant feature 0, chose f%d, want f1", root.Feature)
	}

	// NeedReplace itself.
	cases := []struct {
		best      split
		loss      float32
		feat      int32
		want      bool
		rationale string
	}{
		{split{loss: 1, feat: 3}, 1, 1, true, "equal loss, lower feature replaces"},
		{split{loss: 1, feat: 3}, 1, 3, false, "equal loss, same feature keeps the first"},
		{split{loss: 1, feat: 3}, 1, 5, false, "equal loss, higher feature keeps the best"},
		{split{loss: 1, feat: 3}, 1.5, 5, true, "strictly better replaces"},
		{split{loss: 1, feat: 3}, float32(math.Inf(1)), 0, false, "infinite loss is ignored"},
	}
	for _, c := range cases {
		if got := c.best.needReplace(c.loss, c.feat); got != c.want {
			t.Errorf("%s: needReplace = %v", c.rationale, got)
		}
	}
}

// TestDepthLimit: on the 84-row fixture every tree reaches, and never exceeds,
// max_depth.
func TestDepthLimit(t *testing.T) {
	X, y := loadToy(t)
	for _, d := range []int{1, 2, 3, 5} {
		cfg := DefaultConfig()
		cfg.MaxDepth, cfg.NEstimators = d, 10
		if got := maxDepthOf(fitCfg(t, cfg, X, y, nil)); got != d {
			t.Errorf("max_depth %d: deepest node at depth %d", d, got)
		}
	}
}

// TestInterpolation: with λ = 0 and min_child_weight = 0 every split of two distinct
// targets has positive gain, so one deep enough tree with η = 1 ends with one row per
// leaf, each leaf −G/H = y − base, and reproduces the targets (to float32 rounding).
func TestInterpolation(t *testing.T) {
	x := []float64{0.3, 1.7, 2.2, 3.9, 4.1, 5.5, 6.8, 7.0}
	y := []float64{3, -1, 4, 1, -5, 9, 2, 6}
	cfg := DefaultConfig()
	cfg.Lambda, cfg.MinChildWeight, cfg.LearningRate, cfg.NEstimators, cfg.MaxDepth = 0, 0, 1, 1, 8
	m := fitCfg(t, cfg, column(x...), y, nil)
	p, _ := m.Predict(column(x...))
	for i := range y {
		if math.Abs(p[i]-y[i]) > 1e-6 {
			t.Errorf("ŷ[%d] = %v, want %v", i, p[i], y[i])
		}
	}
	leaves := 0
	for _, n := range m.Nodes(0) {
		if n.Leaf() {
			leaves++
			if n.Cover != 1 {
				t.Errorf("leaf %d has cover %v, want 1", n.ID, n.Cover)
			}
		}
	}
	if leaves != len(y) {
		t.Errorf("%d leaves, want %d", leaves, len(y))
	}
}

// TestBaseScoreMean: "mean" starts from the float32 mean of the targets. With η = 0
// every leaf is 0, so the model predicts exactly that offset; and a fit with "mean"
// equals a fit with the same number given as text.
func TestBaseScoreMean(t *testing.T) {
	X, y := loadToy(t)
	var s float64
	for _, v := range y {
		s += float64(float32(v))
	}
	want := float32(s / float64(len(y)))
	cfg := DefaultConfig()
	cfg.BaseScore, cfg.LearningRate, cfg.NEstimators = "mean", 0, 3
	m := fitCfg(t, cfg, X, y, nil)
	if m.BaseScore() != want {
		t.Errorf("base score %v, want mean(y) = %v", m.BaseScore(), want)
	}
	p, _ := m.Predict(X)
	for i, v := range p {
		if v != float64(want) {
			t.Fatalf("η = 0: ŷ[%d] = %v, want the offset %v", i, v, want)
		}
	}
	cfg = DefaultConfig()
	cfg.BaseScore = "mean"
	pm, _ := fitCfg(t, cfg, X, y, nil).Predict(X)
	cfg.BaseScore = strconv.FormatFloat(float64(want), 'g', -1, 32)
	pn, _ := fitCfg(t, cfg, X, y, nil).Predict(X)
	if !slices.Equal(pm, pn) {
		t.Errorf("base_score \"mean\" and %q give different models", cfg.BaseScore)
	}
	// And it differs from 1.x's 0.5 (models.md §4.1: by up to ~0.2 on this data).
	p05, _ := fitCfg(t, DefaultConfig(), X, y, nil).Predict(X)
	if d := maxAbsDiff(pm, p05); d < 0.05 {
		t.Errorf("base_score mean vs 0.5 differ by only %g", d)
	}
}

// TestPruneAll: with γ above every loss_chg, updater_prune collapses each tree to its
// root, a leaf of η·(−G/(H+λ)).
func TestPruneAll(t *testing.T) {
	X, y := loadToy(t)
	cfg := DefaultConfig()
	cfg.Gamma, cfg.NEstimators = 1e9, 2
	m := fitCfg(t, cfg, X, y, nil)
	var G float64
	for _, v := range y {
		G += float64(float32(0.5) - float32(v))
	}
	want := float32(0.1) * float32(-G/(84+1))
	ns := m.Nodes(0)
	if len(ns) != 1 || !ns[0].Leaf() || ns[0].Value != want {
		t.Errorf("tree 0 = %+v, want one leaf of value %v", ns, want)
	}
	if tg := m.TotalGain(nil); slices.Max(tg) != 0 {
		t.Errorf("pruned model still has split gains %v", tg)
	}
}

// TestSampling: subsample and colsample_bytree draw from the rng given to Fit — the
// same seed gives the same bytes, another seed another model, and both differ from the
// deterministic model. Each tree sees only ⌊0.6·5⌋ = 3 features, and the root covers
// average 0.7·84 = 58.8 rows (100 trees: Binomial(8400, 0.7)/100 has s.d. 0.42).
func TestSampling(t *testing.T) {
	X, y := loadToy(t)
	cfg := DefaultConfig()
	cfg.Subsample, cfg.ColsampleBytree = 0.7, 0.6
	fit := func(seed uint64) (*Model, []float64) {
		m := fitCfg(t, cfg, X, y, rand.New(rand.NewPCG(seed, 1)))
		p, _ := m.Predict(X)
		return m, p
	}
	m1, p1 := fit(1)
	_, p1b := fit(1)
	_, p2 := fit(2)
	p0, _ := fitCfg(t, DefaultConfig(), X, y, nil).Predict(X)
	if !slices.Equal(p1, p1b) {
		t.Error("same seed, different predictions")
	}
	if slices.Equal(p1, p2) {
		t.Error("different seeds, same predictions")
	}
	if slices.Equal(p1, p0) {
		t.Error("sampling did not change the model")
	}
	var cover float64
	for i := 0; i < m1.NumTrees(); i++ {
		feats := map[int]bool{}
		for _, n := range m1.Nodes(i) {
			if !n.Leaf() {
				feats[n.Feature] = true
			}
		}
		if len(feats) > 3 {
			t.Errorf("tree %d splits on %d features, colsample allows 3", i, len(feats))
		}
		cover += float64(m1.Nodes(i)[0].Cover)
	}
	if mean := cover / float64(m1.NumTrees()); math.Abs(mean-58.8) > 2 {
		t.Errorf("mean root cover %v, want 58.8 ± 2 (≈ 5 s.d.)", mean)
	}
}

// TestNoDrawsWithoutSampling: with subsample = colsample = 1 the rng is left untouched.
func TestNoDrawsWithoutSampling(t *testing.T) {
	X, y := loadToy(t)
	rng := rand.New(rand.NewPCG(7, 7))
	fitCfg(t, DefaultConfig(), X, y, rng)
	if rng.Uint64() != rand.New(rand.NewPCG(7, 7)).Uint64() {
		t.Error("Fit drew random numbers although nothing is sampled")
	}
}

// TestDeterministicAndConcurrent: refits give identical dumps, also when fitted from
// several goroutines at once (run with -race to check for shared state).
func TestDeterministicAndConcurrent(t *testing.T) {
	X, y := loadToy(t)
	ref := fitCfg(t, DefaultConfig(), X, y, nil)
	dump := func(m *Model) string {
		var b strings.Builder
		for i := 0; i < m.NumTrees(); i++ {
			b.WriteString(m.Dump(i, true))
		}
		return b.String()
	}
	want := dump(ref)
	var wg sync.WaitGroup
	got := make([]string, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := New(DefaultConfig())
			m, err := r.(*Regressor).FitModel(context.Background(), X, y, nil)
			if err == nil {
				got[g] = dump(m)
			}
		}()
	}
	wg.Wait()
	for g, s := range got {
		if s != want {
			t.Errorf("goroutine %d: model differs from the sequential fit", g)
		}
	}
}

// TestPredictMissingGoesLeft: a NaN follows the default branch (left), like −∞.
func TestPredictMissingGoesLeft(t *testing.T) {
	X, y := loadToy(t)
	m := fitCfg(t, DefaultConfig(), X, y, nil)
	a := mat.NewDense(1, 5, []float64{math.NaN(), 0.2, math.NaN(), 0.1, 0.3})
	b := mat.NewDense(1, 5, []float64{math.Inf(-1), 0.2, math.Inf(-1), 0.1, 0.3})
	pa, _ := m.Predict(a)
	pb, _ := m.Predict(b)
	if pa[0] != pb[0] || math.IsNaN(pa[0]) {
		t.Errorf("NaN row %v, −∞ row %v", pa[0], pb[0])
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		mod  func(*Config)
		name string // the parameter the error must name
	}{
		{func(c *Config) { c.MaxDepth = 0 }, "max_depth"},
		{func(c *Config) { c.NEstimators = 0 }, "n_estimators"},
		{func(c *Config) { c.LearningRate = -0.1 }, "learning_rate"},
		{func(c *Config) { c.LearningRate = math.NaN() }, "learning_rate"},
		{func(c *Config) { c.Lambda = -1 }, "lambda"},
		{func(c *Config) { c.Alpha = math.Inf(1) }, "alpha"},
		{func(c *Config) { c.Gamma = -1e-3 }, "gamma"},
		{func(c *Config) { c.MinChildWeight = 1e39 }, "min_child_weight"}, // overflows float32
		{func(c *Config) { c.Subsample = 0 }, "subsample"},
		{func(c *Config) { c.Subsample = 1.5 }, "subsample"},
		{func(c *Config) { c.ColsampleBytree = -1 }, "colsample_bytree"},
		{func(c *Config) { c.BaseScore = "median" }, "base_score"},
		{func(c *Config) { c.BaseScore = "" }, "base_score"},
		{func(c *Config) { c.BaseScore = "1e50" }, "base_score"},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%+v: error %v, want one naming %s", cfg, err, c.name)
		}
		if _, err := New(cfg); err == nil {
			t.Errorf("New accepted %+v", cfg)
		}
	}
	for _, bs := range []string{"0.5", "mean", " MEAN ", "-3.25", "1e3"} {
		cfg := DefaultConfig()
		cfg.BaseScore = bs
		if err := cfg.Validate(); err != nil {
			t.Errorf("base_score %q rejected: %v", bs, err)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("default config rejected: %v", err)
	}
}

func TestFitErrors(t *testing.T) {
	r, _ := New(DefaultConfig())
	ctx := context.Background()
	X := column(1, 2, math.NaN())
	if _, err := r.Fit(ctx, X, []float64{1, 2, 3}, nil); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("NaN feature: error %v", err)
	}
	if _, err := r.Fit(ctx, column(1, 2, 3), []float64{1, math.Inf(1), 3}, nil); err == nil || !strings.Contains(err.Error(), "y[1]") {
		t.Errorf("infinite target: error %v", err)
	}
	if _, err := r.Fit(ctx, column(1, 1e39, 3), []float64{1, 2, 3}, nil); err == nil {
		t.Error("feature overflowing float32 accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Fit(cctx, column(1, 2, 3), []float64{1, 2, 3}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v", err)
	}
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	mustPanic("len(y) ≠ rows", func() { r.Fit(ctx, column(1, 2, 3), []float64{1, 2}, nil) })
	cfg := DefaultConfig()
	cfg.Subsample = 0.5
	rs, _ := New(cfg)
	mustPanic("sampling with nil rng", func() { rs.Fit(ctx, column(1, 2, 3), []float64{1, 2, 3}, nil) })
	m := fitCfg(t, DefaultConfig(), column(1, 2, 3), []float64{1, 2, 3}, nil)
	mustPanic("predict with wrong width", func() { m.Predict(mat.NewDense(1, 2, nil)) })
}

// TestThresholdRounding: the threshold is the float32 midpoint of two neighbouring
// values, unless it rounds down onto the smaller one; then it is the larger value (else
// the smaller value's row would not go left). For 1 and its float32 successor
// 1+2^-23, (1 + (1+2^-23))·0.5 rounds to 1, so the threshold must be 1+2^-23.
func TestThresholdRounding(t *testing.T) {
	b := float64(math.Nextafter32(1, 2))
	cfg := DefaultConfig()
	cfg.MaxDepth, cfg.NEstimators = 1, 1
	m := fitCfg(t, cfg, column(1, b), []float64{0, 10}, nil)
	if root := m.Nodes(0)[0]; root.Leaf() || float64(root.Threshold) != b {
		t.Fatalf("root %+v, want a split at %v", root, b)
	}
	p, _ := m.Predict(column(1, b))
	if !(p[0] < p[1]) {
		t.Errorf("the two rows are not separated: %v", p)
	}
}

// TestMinLossChange: a split is made only if loss_chg > 1e-6 (xgboost's kRtEps). Two
// rows with y = 0.5 (g = 0) and 0.5+δ (g = −δ): loss_chg = δ²/2 − δ²/3 = δ²/6.
func TestMinLossChange(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxDepth, cfg.NEstimators, cfg.MinChildWeight = 1, 1, 0
	for _, c := range []struct {
		delta float64
		split bool
	}{
		{1.5e-3, false}, // δ²/6 = 3.75e-7
		{3e-3, true},    // δ²/6 = 1.5e-6
	} {
		m := fitCfg(t, cfg, column(1, 2), []float64{0.5, 0.5 + c.delta}, nil)
		if split := !m.Nodes(0)[0].Leaf(); split != c.split {
			t.Errorf("δ = %g: split = %v, want %v:\n%s", c.delta, split, c.split, m.Dump(0, true))
		}
	}
}
