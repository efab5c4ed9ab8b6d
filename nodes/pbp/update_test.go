package pbp

import (
	"math"
	"testing"
)

// TestNoiseUpdateFixture checks the output deltas and the moment-matched noise posterior
// against testdata/fixtures.json and the values printed in models.md §2.8 item 2.
func TestNoiseUpdateFixture(t *testing.T) {
	f := loadFixtures(t).Noise
	dm, dv, a, b := noiseUpdate(f.A, f.B, f.M, f.V, f.Y)
	// models.md §2.8 item 2: 0.6, −0.153333…, 6.462108514284079, 6.271049341026466.
	for _, c := range []struct {
		name              string
		got, want, printd float64
	}{
		{"∂logZ/∂m", dm, f.DlogzDm, 0.6},
		{"∂logZ/∂v", dv, f.DlogzDv, -0.46 / 3},
		{"α_new", a, f.ANew, 6.462108514284079},
		{"β_new", b, f.BNew, 6.271049341026466},
	} {
		// Same formula in numpy and Go; exp/log differ by an ulp or two, and α_new's
		// denominator exp(…)·(α+1)/α − 1 cancels about one digit.
		if relErr(c.got, c.want) > 1e-13 || relErr(c.got, c.printd) > 1e-13 {
			t.Errorf("%s = %.16g, numpy %.16g, models.md %.16g", c.name, c.got, c.want, c.printd)
		}
	}
}

func oneWeightNetwork(m, v, mhat, vhat, ahat, bhat float64) *network {
	n := newNetwork(0, nil) // a single 1×1 "layer": only the bias weight
	L := &n.layers[0]
	L.m[0], L.v[0], L.mHat[0], L.vHat[0], L.aHat[0], L.bHat[0] = m, v, mhat, vhat, ahat, bhat
	return n
}

// TestPriorRefinementFixture checks one EP refinement (models.md §2.8 item 3): a weight whose
// factor already equals the prior N(0, β/(α−1)) keeps q(w), and (α^λ, β^λ) move to the
// printed values.
func TestPriorRefinementFixture(t *testing.T) {
	f := loadFixtures(t).Prior
	n := oneWeightNetwork(f.M, f.V, f.Mhat, f.Vhat, 0, 0)
	n.aPrior, n.bPrior = f.A, f.B
	n.refinePrior()
	L := &n.layers[0]
	for _, c := range []struct {
		name              string
		got, want, printd float64
	}{
		{"m_new", L.m[0], f.MNew, 0.3},
		{"v_new", L.v[0], f.VNew, 0.5},
		{"α^λ_new", n.aPrior, f.ANew, 6.45539961996641},
		{"β^λ_new", n.bPrior, f.BNew, 6.176183866058359},
		{"v̂_new", L.vHat[0], f.VhatNew, 5.0 / 6},
		{"â_new", L.aHat[0], f.AhatNew, f.AhatNew},
		{"b̂_new", L.bHat[0], f.BhatNew, f.BhatNew},
	} {
		// models.md prints α^λ to 15 digits; the rest agree to rounding.
		if relErr(c.got, c.want) > 1e-13 || relErr(c.got, c.printd) > 1e-13 {
			t.Errorf("%s = %.16g, numpy %.16g, models.md %.16g", c.name, c.got, c.want, c.printd)
		}
	}
	if math.Abs(L.mHat[0]) > 1e-15 {
		t.Errorf("m̂_new = %g, want 0 (the prior has mean 0)", L.mHat[0])
	}
}

// TestPriorSweepFixture checks that the sweep is sequential in storage order and shares
// (α^λ, β^λ): three weights in storage order against numpy.
func TestPriorSweepFixture(t *testing.T) {
	f := loadFixtures(t).PriorSweep
	if len(f.Weights) != 3 {
		t.Fatalf("fixture has %d weights, want 3", len(f.Weights))
	}
	// Layer 0 is 1×2 (one input plus bias), layer 1 is 1×2 (one hidden unit plus bias): the
	// storage order is layer 0's two weights, then layer 1's first weight is the third.
	n := newNetwork(1, []int{1})
	slots := []*layer{&n.layers[0], &n.layers[0], &n.layers[1]}
	idx := []int{0, 1, 0}
	for i, w := range f.Weights {
		L, k := slots[i], idx[i]
		L.m[k], L.v[k], L.mHat[k], L.vHat[k], L.aHat[k], L.bHat[k] = w.M, w.V, w.Mhat, w.Vhat, w.Ahat, w.Bhat
	}
	// The fourth weight (layer 1's bias) gets an improper cavity (v̂ > 1/v) and must be
	// skipped, leaving the shared parameters where the third weight put them.
	n.layers[1].m[1], n.layers[1].v[1], n.layers[1].vHat[1] = 0.5, 1, 2
	n.aPrior, n.bPrior = 6, 6
	n.refinePrior()
	for i, w := range f.Weights {
		L, k := slots[i], idx[i]
		for _, c := range [][3]any{
			{"m", L.m[k], w.MNew}, {"v", L.v[k], w.VNew}, {"v̂", L.vHat[k], w.VhatNew},
			{"â", L.aHat[k], w.AhatNew}, {"b̂", L.bHat[k], w.BhatNew},
		} {
			if got, want := c[1].(float64), c[2].(float64); relErr(got, want) > 1e-12 {
				t.Errorf("weight %d: %s = %.16g, numpy %.16g", i, c[0], got, want)
			}
		}
		if math.Abs(L.mHat[k]-w.MhatNew) > 1e-14 {
			t.Errorf("weight %d: m̂ = %g, numpy %g", i, L.mHat[k], w.MhatNew)
		}
	}
	if relErr(n.aPrior, f.AFinal) > 1e-12 || relErr(n.bPrior, f.BFinal) > 1e-12 {
		t.Errorf("final (α^λ, β^λ) = (%.16g, %.16g), numpy (%.16g, %.16g)", n.aPrior, n.bPrior, f.AFinal, f.BFinal)
	}
	if L := n.layers[1]; L.m[1] != 0.5 || L.v[1] != 1 || L.vHat[1] != 2 {
		t.Errorf("the weight with an improper cavity was changed: m %v v %v v̂ %v", L.m[1], L.v[1], L.vHat[1])
	}
}
