package pbp

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomNetwork returns a network with d inputs and the given hidden widths whose weight
// means are N(0, 1)/sqrt(fan-in+1) and variances uniform on [0.02, 0.6], and Gamma noise
// (α, β) = (7, 3), with an input x (bias appended) drawn N(0, 1).
func randomNetwork(rng *rand.Rand, d int, hidden []int) (*network, []float64, []float64) {
	n := newNetwork(d, hidden)
	for l := range n.layers {
		L := &n.layers[l]
		for k := range L.m {
			L.m[k] = rng.NormFloat64() * L.sqrtScale * 1.5
			L.v[k] = 0.02 + 0.58*rng.Float64()
		}
	}
	n.aNoise, n.bNoise = 7, 3
	x := make([]float64, d+1)
	x2 := make([]float64, d+1)
	for j := range d {
		x[j] = rng.NormFloat64()
		x2[j] = x[j] * x[j]
	}
	x[d], x2[d] = 1, 1
	return n, x, x2
}

// setFirstLayerAlphas moves the bias means of the first layer so that hidden unit i has
// pre-activation α = ma/√va = alphas[i] (va does not depend on the means: the input has no
// variance).
func setFirstLayerAlphas(n *network, x []float64, alphas []float64) {
	L := &n.layers[0]
	for i, a := range alphas {
		var sm, sv float64
		for j := 0; j < L.in-1; j++ {
			sm += L.m[i*L.in+j] * x[j]
		}
		for j := 0; j < L.in; j++ {
			sv += L.v[i*L.in+j] * x[j] * x[j]
		}
		va := sv * L.scale
		L.m[i*L.in+L.in-1] = a*math.Sqrt(va)/L.sqrtScale - sm
	}
}

// logZ is the ADF normalizer of §2.5 without the constant, computed from the forward pass
// only (no derivative code).
func logZ(n *network, ws *workspace, x, x2 []float64, y float64) float64 {
	m, v := n.forward(ws, x, x2, false)
	V := v + n.bNoise/(n.aNoise-1)
	return -0.5 * (math.Log(V) + (y-m)*(y-m)/V)
}

func gradients(n *network, ws *workspace, x, x2 []float64, y float64) (gm, gv [][]float64) {
	for l := range n.layers {
		gm = append(gm, make([]float64, len(n.layers[l].m)))
		gv = append(gv, make([]float64, len(n.layers[l].m)))
	}
	m, v := n.forward(ws, x, x2, true)
	dm, dv, _, _ := noiseUpdate(n.aNoise, n.bNoise, m, v, y)
	n.backward(ws, x, x2, dm, dv, gm, gv)
	return gm, gv
}

// TestLogZGradients compares ∂logZ/∂m_w and ∂logZ/∂v_w of every weight with central
// differences (h = 1e-6) on random 3-5-1 and 3-5-4-1 networks (models.md §2.8 item 4), with
// first-layer units placed at α = ±5 and near it, and at α ≈ 0.
func TestLogZGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		hidden []int
		alphas []float64
	}{
		{[]int{5}, []float64{5, -5, 4.9, -5.1, 0.3}},
		{[]int{5}, []float64{-4.8, 5.2, -0.1, 2, -2}},
		{[]int{5}, nil},
		{[]int{5, 4}, []float64{5, -5, 1, -1, 0}},
		{[]int{5, 4}, nil},
	}
	const h = 1e-6
	checked := 0
	for ci, c := range cases {
		for trial := range 3 {
			n, x, x2 := randomNetwork(rng, 3, c.hidden)
			if c.alphas != nil {
				setFirstLayerAlphas(n, x, c.alphas)
			}
			ws := newWorkspace(n)
			y := rng.NormFloat64() * 2
			gm, gv := gradients(n, ws, x, x2, y)
			for l := range n.layers {
				L := &n.layers[l]
				for k := range L.m {
					for _, p := range []struct {
						name  string
						param []float64
						an    float64
					}{{"m", L.m, gm[l][k]}, {"v", L.v, gv[l][k]}} {
						old := p.param[k]
						p.param[k] = old + h
						fp := logZ(n, ws, x, x2, y)
						p.param[k] = old - h
						fm := logZ(n, ws, x, x2, y)
						p.param[k] = old
						fd := (fp - fm) / (2 * h)
						// Relative 1e-6 as models.md asks, plus the rounding floor of the
						// difference quotient: ε·|logZ|/h ≈ 1e-10 for |logZ| ≲ 3.
						if math.Abs(fd-p.an) > 1e-6*math.Abs(p.an)+1e-9 {
							t.Errorf("case %d trial %d: layer %d weight %d: ∂logZ/∂%s analytic %.10g, central difference %.10g",
								ci, trial, l, k, p.name, p.an, fd)
						}
						checked++
					}
				}
			}
		}
	}
	t.Logf("%d partial derivatives checked", checked)
}

// TestADFUpdateApplies checks that the in-place ADF step applies m ← m + v·∂m and
// v ← v − v²·(∂m² − 2∂v) with the gradients at the old weights (the fused update must not
// disturb the gradients of the layers below).
func TestADFUpdateApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	n, x, x2 := randomNetwork(rng, 3, []int{5, 4})
	ws := newWorkspace(n)
	y := 2.5
	gm, gv := gradients(n, ws, x, x2, y)
	var oldM, oldV [][]float64
	for l := range n.layers {
		oldM = append(oldM, append([]float64(nil), n.layers[l].m...))
		oldV = append(oldV, append([]float64(nil), n.layers[l].v...))
	}
	m, v := n.forward(ws, x, x2, true)
	dm, dv, _, _ := noiseUpdate(n.aNoise, n.bNoise, m, v, y)
	n.backward(ws, x, x2, dm, dv, nil, nil)
	for l := range n.layers {
		for k := range n.layers[l].m {
			s, g := oldV[l][k], gm[l][k]
			wantV := s - s*s*(g*g-2*gv[l][k])
			wantM := oldM[l][k] + s*g
			if !(wantV > 1e-100) {
				t.Fatalf("layer %d weight %d: the test network has an update to reject", l, k)
			}
			if relErr(n.layers[l].m[k], wantM) > 1e-14 || relErr(n.layers[l].v[k], wantV) > 1e-14 {
				t.Errorf("layer %d weight %d: (m, v) = (%.16g, %.16g), want (%.16g, %.16g)", l, k, n.layers[l].m[k], n.layers[l].v[k], wantM, wantV)
			}
		}
	}
}

// TestUpdateGuard checks the reference's rejection rule on crafted gradients: a weight keeps
// its old (m, v) when the new variance is ≤ 1e-100 or either value is NaN.
func TestUpdateGuard(t *testing.T) {
	n := newNetwork(3, []int{1}) // layer 0 is 1×4
	L := &n.layers[0]
	copy(L.m, []float64{0.1, 0.2, 0.3, 0.4})
	copy(L.v, []float64{1, 1, 1, 0.5})
	gm := []float64{2, 1, math.NaN(), 0.2} // v_new = 1−4 < 0; 1−1 = 0; NaN; accepted
	gv := []float64{0, 0, 0, -0.1}
	n.finishRow(L, 0, 0, gm, gv, nil, nil)
	wantM := []float64{0.1, 0.2, 0.3, 0.4 + 0.5*0.2}
	wantV := []float64{1, 1, 1, 0.5 - 0.25*(0.04+0.2)}
	for k := range wantM {
		if L.m[k] != wantM[k] || math.Abs(L.v[k]-wantV[k]) > 1e-16 {
			t.Errorf("weight %d: (m, v) = (%v, %v), want (%v, %v)", k, L.m[k], L.v[k], wantM[k], wantV[k])
		}
	}

	// A target 1e4 standard deviations away overflows the Gamma moment matching (the Z
	// ratios are exp(±r²·…)); the noise posterior must keep its old value, not become 0 or NaN.
	rng := rand.New(rand.NewPCG(9, 9))
	n, x, x2 := randomNetwork(rng, 3, []int{5})
	ws := newWorkspace(n)
	a, b := n.aNoise, n.bNoise
	_, _, aNew, bNew := noiseUpdate(a, b, 0, 0.1, 1e4)
	if aNew > 1 && bNew > 0 && !math.IsInf(aNew, 0) && !math.IsInf(bNew, 0) {
		t.Fatalf("the crafted noise update (%v, %v) is valid; the test needs an invalid one", aNew, bNew)
	}
	n.adfUpdate(ws, x, x2, 1e4)
	if n.aNoise != a || n.bNoise != b || n.rejectedNoise != 1 {
		t.Errorf("after an invalid noise update: Gamma(%v, %v), %d rejected; want Gamma(%v, %v), 1 rejected", n.aNoise, n.bNoise, n.rejectedNoise, a, b)
	}
}
