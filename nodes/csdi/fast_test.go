package csdi

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// randomizeParams replaces the zero-initialized output weight by N(0, 1/C) draws and moves
// every other parameter by 20% of its initialization scale (LayerNorm γ, β by 0.2), so
// that every path through the network affects ε̂ at realistic activation sizes.
func randomizeParams(m *Model, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	names := m.net.ps.Names()
	for i, v := range m.net.ps.Vars() {
		var rms float64
		for _, x := range v.Data {
			rms += x * x
		}
		rms = math.Sqrt(rms / float64(len(v.Data)))
		switch {
		case strings.HasPrefix(names[i], "output_projection2.weight"):
			rms = 5 / math.Sqrt(float64(m.net.c))
		case rms == 0 || strings.Contains(names[i], "norm"):
			rms = 1
		}
		for j := range v.Data {
			v.Data[j] += 0.2 * rms * rng.NormFloat64()
		}
	}
}

func TestFastDenoiserMatchesForward(t *testing.T) {
	s, _ := diffusion.Power(20, 1e-4, 0.2, 0.5)
	for _, tc := range []struct {
		k, layers int
		noised    []int
		cond      string
	}{
		{5, 2, []int{4}, CondStep},
		{6, 3, []int{1, 4}, CondNoiseLevel},
		{4, 1, []int{0}, CondStep},
		{3, 1, []int{0, 2}, CondNoiseLevel},
		{7, 4, []int{6}, CondStep},
	} {
		rng := rand.New(rand.NewPCG(uint64(tc.k), uint64(tc.layers)))
		n := 5
		X := mat.NewDense(n, tc.k, nil)
		for i := 0; i < n; i++ {
			for j := 0; j < tc.k; j++ {
				X.Set(i, j, rng.NormFloat64())
			}
		}
		cfg := TrainConfig{Arch: Arch{8, tc.layers, 2, 12, 0}, Steps: 1, Batch: 4, LR: 1e-3, Masks: MasksMix, Conditioning: tc.cond, NoiseRange: [2]float64{-10, 12}}
		m, err := Train(context.Background(), X, TrainOptions{Config: cfg, Noised: tc.noised, Schedule: s, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		randomizeParams(m, 9)
		const samples = 3
		fast, err := m.session(context.Background(), s, X, samples, nil)
		if err != nil {
			t.Fatal(err)
		}
		m.reference = true
		ref, _ := m.session(context.Background(), s, X, samples, nil)
		m.reference = false
		l := fast.layout
		x := make([]float64, l.Len())
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		for _, step := range []int{0, 7, 19} {
			a, b := make([]float64, len(x)), make([]float64, len(x))
			if err := fast.eps(a, x, step); err != nil {
				t.Fatal(err)
			}
			ref.eps(b, x, step)
			var worst, scale float64
			for i := range a {
				worst = math.Max(worst, math.Abs(a[i]-b[i]))
				scale = math.Max(scale, math.Abs(b[i]))
			}
			if worst > 1e-12*math.Max(1, scale) || scale == 0 {
				t.Errorf("K=%d layers=%d noised=%v t=%d: fast and reference ε̂ differ by %.3g (scale %.3g)", tc.k, tc.layers, tc.noised, step, worst, scale)
			}
		}
	}
}
