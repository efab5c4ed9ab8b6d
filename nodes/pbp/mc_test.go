package pbp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sampleOutput draws one weight set from q and returns the network output for input x
// (bias appended) — the deterministic network the moments of §2.4 describe.
func sampleOutput(n *network, rng *rand.Rand, x []float64, buf [][]float64) float64 {
	z := x
	for l := range n.layers {
		L := &n.layers[l]
		next := buf[l]
		for i := range L.out {
			var s float64
			for j := range L.in {
				k := i*L.in + j
				s += (L.m[k] + math.Sqrt(L.v[k])*rng.NormFloat64()) * z[j]
			}
			s *= L.sqrtScale
			if L.relu {
				s = max(s, 0)
			}
			next[i] = s
		}
		if !L.relu {
			return next[0]
		}
		next[L.out] = 1
		z = next
	}
	panic("unreachable")
}

// TestMomentPropagationMonteCarlo compares the output moments of §2.4 with 1e5 sampled
// networks (models.md §2.8 item 5). With one hidden layer and one output the hidden units are
// independent (independent weights, fixed input) and independent of the output weights, so
// the propagated moments are exact: they must agree within 5 Monte Carlo standard errors.
// With two hidden layers the second layer's units share their inputs and are correlated,
// which PBP ignores: the spec allows ≈5–10 % on the variance; the mean is still close.
func TestMomentPropagationMonteCarlo(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const draws = 100000
	for _, c := range []struct {
		hidden        []int
		exact         bool
		meanTol, vTol float64 // relative, for the approximate case
	}{
		{[]int{5}, true, 0, 0},
		{[]int{8}, true, 0, 0},
		{[]int{5, 4}, false, 0.05, 0.10},
	} {
		for trial := range 3 {
			n, x, x2 := randomNetwork(rng, 3, c.hidden)
			ws := newWorkspace(n)
			m, v := n.forward(ws, x, x2, false)
			buf := make([][]float64, len(n.layers))
			for l := range buf {
				buf[l] = make([]float64, n.layers[l].out+1)
			}
			var s1, s2, s3, s4 float64
			for range draws {
				o := sampleOutput(n, rng, x, buf)
				s1 += o
				s2 += o * o
				s3 += o * o * o
				s4 += o * o * o * o
			}
			mean := s1 / draws
			variance := s2/draws - mean*mean
			c4 := s4/draws - 4*mean*s3/draws + 6*mean*mean*s2/draws - 3*mean*mean*mean*mean
			seMean := math.Sqrt(variance / draws)
			seVar := math.Sqrt((c4 - variance*variance) / draws)
			t.Logf("hidden %v trial %d: PBP (%.5f, %.5f), Monte Carlo (%.5f ± %.5f, %.5f ± %.5f)",
				c.hidden, trial, m, v, mean, seMean, variance, seVar)
			if c.exact {
				if math.Abs(m-mean) > 5*seMean || math.Abs(v-variance) > 5*seVar {
					t.Errorf("hidden %v trial %d: PBP (%.5f, %.5f) differs from Monte Carlo (%.5f ± %.5f, %.5f ± %.5f) by more than 5 s.e.",
						c.hidden, trial, m, v, mean, seMean, variance, seVar)
				}
				continue
			}
			if math.Abs(m-mean) > c.meanTol*math.Sqrt(variance)+5*seMean || math.Abs(v-variance) > c.vTol*variance+5*seVar {
				t.Errorf("hidden %v trial %d: PBP (%.5f, %.5f) vs Monte Carlo (%.5f, %.5f): beyond %.0f %% of sd / %.0f %% of variance",
					c.hidden, trial, m, v, mean, variance, 100*c.meanTol, 100*c.vTol)
			}
		}
	}
}
