package pbp

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

type fixtures struct {
	Relu []struct {
		M, V, Mean, Var float64
		MeanQuad        float64 `json:"mean_quad"`
		VarQuad         float64 `json:"var_quad"`
	}
	Noise struct {
		A, B, M, V, Y float64
		DlogzDm       float64 `json:"dlogz_dm"`
		DlogzDv       float64 `json:"dlogz_dv"`
		ANew          float64 `json:"a_new"`
		BNew          float64 `json:"b_new"`
	}
	Prior struct {
		M, V, Mhat, Vhat, A, B float64
		MNew                   float64 `json:"m_new"`
		VNew                   float64 `json:"v_new"`
		ANew                   float64 `json:"a_new"`
		BNew                   float64 `json:"b_new"`
		MhatNew                float64 `json:"mhat_new"`
		VhatNew                float64 `json:"vhat_new"`
		AhatNew                float64 `json:"ahat_new"`
		BhatNew                float64 `json:"bhat_new"`
	}
	PriorSweep struct {
		Weights []struct {
			M, V, Mhat, Vhat, Ahat, Bhat float64
			MNew                         float64 `json:"m_new"`
			VNew                         float64 `json:"v_new"`
			MhatNew                      float64 `json:"mhat_new"`
			VhatNew                      float64 `json:"vhat_new"`
			AhatNew                      float64 `json:"ahat_new"`
			BhatNew                      float64 `json:"bhat_new"`
		}
		AFinal float64 `json:"a_final"`
		BFinal float64 `json:"b_final"`
	} `json:"prior_sweep"`
}

func loadFixtures(t *testing.T) *fixtures {
	t.Helper()
	b, err := os.ReadFile("testdata/fixtures.json")
	if err != nil {
		t.Fatal(err)
	}
	var f fixtures
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Relu) != 4 {
		t.Fatalf("fixtures.json has %d ReLU cases, want 4", len(f.Relu))
	}
	return &f
}

func relErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

// TestReluMomentsFixture checks the closed-form ReLU moments against scipy (textbook form and
// quadrature, testdata/fixtures.json) and against the values printed in models.md §2.8 item 1.
func TestReluMomentsFixture(t *testing.T) {
	f := loadFixtures(t)
	// models.md §2.8 item 1, printed to 12 significant digits.
	printed := [][4]float64{
		{0.3, 1.0, 0.566761242117, 0.466721489258},
		{-1.2, 0.5, 0.0130244736887, 0.00662250010133},
		{2.0, 0.1, 2.00000000001, 0.0999999999752},
		{-3.0, 2.0, 0.00862286432478, 0.00795190676118},
	}
	for i, c := range f.Relu {
		for _, fn := range []struct {
			name string
			f    func(m, v float64) (float64, float64)
		}{
			{"reluMoments", reluMoments},
			{"reluGrad", func(m, v float64) (float64, float64) { a, b, _, _, _, _ := reluGrad(m, v); return a, b }},
		} {
			mz, vz := fn.f(c.M, c.V)
			// 1e-12: both sides are double-precision evaluations of the same closed form;
			// the variance loses a few digits to cancellation at (2, 0.1) (E[relu²] − mean²).
			if relErr(mz, c.Mean) > 1e-12 || relErr(vz, c.Var) > 1e-10 {
				t.Errorf("%s(%v, %v) = (%.15g, %.15g), scipy closed form (%.15g, %.15g)", fn.name, c.M, c.V, mz, vz, c.Mean, c.Var)
			}
			// Quadrature is accurate to its requested 1e-13 relative.
			if relErr(mz, c.MeanQuad) > 1e-11 || relErr(vz, c.VarQuad) > 1e-9 {
				t.Errorf("%s(%v, %v) = (%.15g, %.15g), quadrature (%.15g, %.15g)", fn.name, c.M, c.V, mz, vz, c.MeanQuad, c.VarQuad)
			}
			p := printed[i]
			if c.M != p[0] || c.V != p[1] {
				t.Fatalf("fixture case %d is (%v, %v), models.md lists (%v, %v)", i, c.M, c.V, p[0], p[1])
			}
			// 12 significant digits printed: half a unit in the 12th digit.
			if relErr(mz, p[2]) > 5e-12 || relErr(vz, p[3]) > 5e-12 {
				t.Errorf("%s(%v, %v) = (%.12g, %.12g), models.md (%.12g, %.12g)", fn.name, c.M, c.V, mz, vz, p[2], p[3])
			}
		}
	}
	// The asymptote branch: α = −40, far below where φ/Φ would be 0/0.
	for _, c := range [][2]float64{{-40, 1}, {-400, 100}, {-1e5, 1}, {-31, 1}} {
		mz, vz := reluMoments(c[0], c[1])
		mz2, vz2, d1, d2, d3, d4 := reluGrad(c[0], c[1])
		for _, x := range []float64{mz, vz, mz2, vz2, d1, d2, d3, d4} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("ReLU moments at (m, v) = %v are not finite: %v %v %v %v %v %v %v %v", c, mz, vz, mz2, vz2, d1, d2, d3, d4)
			}
		}
		// E[relu] ≤ √v·φ(α)/α² < 1e-200 for α ≤ −31; both moments are nonnegative.
		if mz < 0 || vz < 0 || mz > 1e-200 || vz > 1e-200 {
			t.Errorf("ReLU moments at (m, v) = %v: (%g, %g), want tiny and nonnegative", c, mz, vz)
		}
	}
}

// TestReluMomentsMonteCarlo compares the closed form with 4e5 draws (models.md §2.8 item 1):
// the difference must be within 5 Monte Carlo standard errors (estimated from the draws) —
// about 1e-3 at these scales, as the spec says.
func TestReluMomentsMonteCarlo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 400000
	for _, c := range [][2]float64{{0.3, 1.0}, {-1.2, 0.5}, {2.0, 0.1}, {-3.0, 2.0}, {0, 1}} {
		s := math.Sqrt(c[1])
		var s1, s2, s3, s4 float64
		for range n {
			z := max(c[0]+s*rng.NormFloat64(), 0)
			s1 += z
			s2 += z * z
			s3 += z * z * z
			s4 += z * z * z * z
		}
		mean := s1 / n
		variance := s2/n - mean*mean
		c4 := s4/n - 4*mean*s3/n + 6*mean*mean*s2/n - 3*mean*mean*mean*mean // 4th central moment
		seMean := math.Sqrt(variance / n)
		seVar := math.Sqrt((c4 - variance*variance) / n)
		mz, vz := reluMoments(c[0], c[1])
		if math.Abs(mz-mean) > 5*seMean || math.Abs(vz-variance) > 5*seVar {
			t.Errorf("(m, v) = %v: closed form (%.5g, %.5g), Monte Carlo (%.5g ± %.2g, %.5g ± %.2g)",
				c, mz, vz, mean, seMean, variance, seVar)
		}
	}
}

// TestAsymptoteContinuity checks that g, the moments and their derivatives do not jump where
// the forward pass switches to the asymptotic inverse Mills ratio (α = −30): the next term of
// the series, −10/α⁵, is 1.4e-8 relative to g there (models.md §2.8 item 1 asks < 1e-6).
func TestAsymptoteContinuity(t *testing.T) {
	for _, v := range []float64{1, 0.01, 37} {
		s := math.Sqrt(v)
		above := asymptoteAlpha * s                  // α = −30 exactly: the exact branch
		below := math.Nextafter(above, math.Inf(-1)) // one ulp lower: the asymptote
		if above/s < asymptoteAlpha || below/s >= asymptoteAlpha {
			t.Fatalf("v = %v: the two points do not straddle the switch (%v, %v)", v, above/s, below/s)
		}
		ma, va, a1, a2, a3, a4 := reluGrad(above, v)
		mb, vb, b1, b2, b3, b4 := reluGrad(below, v)
		// g itself: recover it from mz = Φ(α)(m + √v g).
		p, _ := normTails(asymptoteAlpha)
		ga, gb := (ma/p-above)/s, (mb/p-below)/s
		if relErr(gb, ga) > 1e-6 {
			t.Errorf("v = %v: g jumps from %.12g to %.12g across α = −30", v, ga, gb)
		}
		// The moments are computed from g through cancellations (α + g ≈ −1/α in mz, and
		// 1 − g² − gα ≈ 1/α² in vz), which amplify g's 1.4e-8 error by α² and α⁴. So at the
		// switch mz and the ∂mz jump by ≈ 900·1.4e-8 and vz and the ∂vz by ≈ 8e5·1.4e-8, all at
		// magnitudes below 1e-195, where they cannot affect a fit.
		pairs := []struct {
			name string
			x, y float64
			tol  float64
		}{
			{"mz", ma, mb, 3e-5}, {"∂mz/∂m", a1, b1, 3e-5}, {"∂mz/∂v", a2, b2, 3e-5},
			{"vz", va, vb, 2e-2}, {"∂vz/∂m", a3, b3, 2e-2}, {"∂vz/∂v", a4, b4, 2e-2},
		}
		for _, pr := range pairs {
			if relErr(pr.y, pr.x) > pr.tol || pr.x > 1e-195 {
				t.Errorf("v = %v: %s jumps from %.12g to %.12g across α = −30", v, pr.name, pr.x, pr.y)
			}
		}
		t.Logf("v = %v: g %.15g | %.15g; mz %.6g | %.6g; vz %.6g | %.6g", v, ga, gb, ma, mb, va, vb)
	}
}

// TestReluGradFiniteDifferences checks the four ReLU derivatives in both branches against
// central differences of reluMoments (which has no derivative code).
func TestReluGradFiniteDifferences(t *testing.T) {
	for _, alpha := range []float64{-36, -33, -31, -30.5, -29.5, -20, -8, -5, -2, -0.3, 0, 0.7, 3, 5, 9} {
		for _, v := range []float64{0.04, 1, 7} {
			m := alpha * math.Sqrt(v)
			_, _, g1, g2, g3, g4 := reluGrad(m, v)
			hm := 1e-6 * math.Sqrt(v)
			hv := 1e-6 * v
			mp, vp := reluMoments(m+hm, v)
			mm, vm := reluMoments(m-hm, v)
			f1, f3 := (mp-mm)/(2*hm), (vp-vm)/(2*hm)
			mp, vp = reluMoments(m, v+hv)
			mm, vm = reluMoments(m, v-hv)
			f2, f4 := (mp-mm)/(2*hv), (vp-vm)/(2*hv)
			// Error model of the central difference with relative step 1e-6: truncation
			// O(α²·1e-12) relative, plus rounding of the function values divided by the step.
			// For negative α the forward pass (the reference's g-form) is ill-conditioned:
			// φ(α) and Φ(α) carry relative errors ≈ α²ε from their arguments, and the
			// cancellations α + g ≈ −1/α (in mz) and 1 − g² − gα ≈ 1/α² (in vz) amplify
			// them by α² and α⁴. So the rounding terms are 10·ε·(1+α⁴)·|mz|/h and
			// 10·ε·(1+α⁶)·|vz|/h; at |α| ≤ 8 the check is tight, near −30 it only catches
			// gross errors (sign, factor), which is all the asymptote branch can support.
			a2 := alpha * alpha
			em := 2.2e-15 * (1 + a2*a2)
			ev := 2.2e-15 * (1 + a2*a2*a2)
			mz, vz := reluMoments(m, v)
			for _, c := range []struct {
				name        string
				an, fd, tol float64
			}{
				{"∂mz/∂m", g1, f1, em * mz / hm}, {"∂vz/∂m", g3, f3, ev * vz / hm},
				{"∂mz/∂v", g2, f2, em * mz / hv}, {"∂vz/∂v", g4, f4, ev * vz / hv},
			} {
				if math.Abs(c.an-c.fd) > 1e-6*math.Abs(c.an)+c.tol {
					t.Errorf("α = %v, v = %v: %s analytic %.10g, finite difference %.10g (tolerance %.3g)", alpha, v, c.name, c.an, c.fd, 1e-6*math.Abs(c.an)+c.tol)
				}
			}
		}
	}
}
