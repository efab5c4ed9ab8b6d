package diffusion

import (
	"math/rand/v2"
	"testing"
)

// The preprint's data set has 84 rows; CSDI draws 100 samples per row.
var benchLayout = Layout{Rows: 84, Samples: 100, Dim: 1}

func benchSetup(b *testing.B) (*Schedule, *CommonNoise, *GaussianOracle, []float64) {
	s := mustPower(b, 50, 1e-4, 0.05, 0.5)
	noise := NewCommonNoise(benchLayout, 50, ForwardPath, rand.New(rand.NewPCG(1, 2)))
	rng := rand.New(rand.NewPCG(3, 4))
	m := make([]float64, benchLayout.Rows)
	y := make([]float64, benchLayout.Rows)
	for i := range m {
		m[i] = rng.NormFloat64()
		y[i] = m[i] + 0.5*rng.NormFloat64()
	}
	return s, noise, scalarOracle(b, s, m, 0.25), y
}

// BenchmarkReverseStep is one reverse step on 84 rows × 100 samples (8400 states).
func BenchmarkReverseStep(b *testing.B) {
	s, noise, _, _ := benchSetup(b)
	n := benchLayout.Len()
	x := append([]float64(nil), noise.Eps()...)
	eps := append([]float64(nil), noise.Z(3)...)
	b.SetBytes(int64(8 * n))
	for b.Loop() {
		s.ReverseStep(x, x, eps, noise.Z(20), 20)
	}
}

// BenchmarkOracleEps is one scalar Gaussian-oracle ε̂ evaluation on 84 × 100 states.
func BenchmarkOracleEps(b *testing.B) {
	_, noise, o, _ := benchSetup(b)
	dst := make([]float64, benchLayout.Len())
	for b.Loop() {
		_ = o.Eps(dst, noise.Eps(), 20)
	}
}

// BenchmarkTruncatedOracle is a whole ICR run from t* = 49 (50 steps) with the oracle.
func BenchmarkTruncatedOracle(b *testing.B) {
	s, noise, o, y := benchSetup(b)
	out := make([]float64, benchLayout.Len())
	for b.Loop() {
		if err := s.Truncated(out, nil, y, 49, noise, o.Eps); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSweepOracle is a full t* sweep (every t, 1275 steps) with medians, then Select.
func BenchmarkSweepOracle(b *testing.B) {
	s, noise, o, y := benchSetup(b)
	grid := gridStep(50, 1)
	for b.Loop() {
		reg, noised, err := s.Sweep(grid, y, noise, o.Eps)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Select(s, grid, y, reg, noised, SelectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLowerMedian is the median over 100 samples for 84 rows.
func BenchmarkLowerMedian(b *testing.B) {
	_, noise, _, _ := benchSetup(b)
	dst := make([]float64, benchLayout.RowLen())
	for b.Loop() {
		LowerMedian(dst, noise.Eps(), benchLayout)
	}
}
