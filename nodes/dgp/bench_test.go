package dgp

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
)

// synthData returns n rows of d smooth features and a nonlinear target (seeded).
func synthData(n, d int, seed uint64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range d {
			x.Set(i, j, rng.NormFloat64())
		}
		y[i] = math.Sin(x.At(i, 0)) + 0.5*x.At(i, 1)*x.At(i, 2) + 0.1*rng.NormFloat64()
	}
	return x, y
}

// BenchmarkFitNTE is one default fit on data of the NTE study's size (76 rows × 40 features).
func BenchmarkFitNTE(b *testing.B) {
	x, y := synthData(76, 40, 1)
	r, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Fit(context.Background(), x, y, rand.New(rand.NewPCG(uint64(i), 2))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitNTE40 is one default fit on data of the built-in study's size (40 × 46).
func BenchmarkFitNTE40(b *testing.B) {
	x, y := synthData(40, 46, 1)
	r, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Fit(context.Background(), x, y, rand.New(rand.NewPCG(uint64(i), 2))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitBoston is one default fit on Boston split 0 (455 × 13, M = 100 k-means).
func BenchmarkFitBoston(b *testing.B) {
	x, y, _, _ := ucitest.Split(b, ucitest.Load(b, "bostonHousing"), 0)
	r, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Fit(context.Background(), x, y, rand.New(rand.NewPCG(uint64(i), 2))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPredict is one prediction of 8 rows (a CV fold) with 100 samples.
func BenchmarkPredict(b *testing.B) {
	x, y := synthData(84, 40, 1)
	cfg := DefaultConfig()
	cfg.Iterations = 1
	r, _ := New(cfg)
	xt := mat.DenseCopyOf(x.Slice(0, 76, 0, 40))
	xe := mat.DenseCopyOf(x.Slice(76, 84, 0, 40))
	p, err := r.Fit(context.Background(), xt, y[:76], rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Predict(xe)
	}
}
