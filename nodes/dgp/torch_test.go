package dgp

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// TestELBOMatchesTorch: for a two-layer DGP (a linear-mean inner layer with a White kernel,
// a zero-mean last layer, two Monte Carlo samples with given normals) the ELBO and its
// gradient with respect to every parameter equal an independent PyTorch implementation of
// the bound in its textbook, non-whitened form (testdata/gen_torch_elbo.py: K_ZZ⁻¹ by
// cholesky_solve, S_d = L_dL_dᵀ formed explicitly, the KL by torch.distributions), which
// the Go code computes through L_Z⁻¹ and whitened quantities instead.
func TestELBOMatchesTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_elbo.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Torch         string
		N, D, M, S    int
		Params, Grads map[string][]float64
		W, X, Y, Eps  []float64
		ELBO, KL, ELL float64
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	md := &model{ps: ad.NewParams(), jitter: kzzJitter, sampleJitter: sampleJitter}
	inner := newLayer(md.ps, "layer0", make([]float64, f.M*f.D), f.M, f.D, 2, 1, 1)
	inner.mean, inner.w, inner.white = meanLinear, ad.Const(f.W, f.D, 2), innerWhite
	last := newLayer(md.ps, "layer1", make([]float64, f.M*2), f.M, 2, 1, 1, 1)
	md.layers = []*layer{inner, last}
	md.rawNoise = md.ps.Add("noise", ad.NewVar([]float64{0}, 1))
	md.prepare()
	for i, name := range md.ps.Names() {
		v := md.ps.Vars()[i]
		src, ok := f.Params[name]
		if !ok || len(src) != len(v.Data) {
			t.Fatalf("Go parameter %s (%d values) has no PyTorch counterpart of that size", name, len(v.Data))
		}
		copy(v.Data, src)
	}
	if len(f.Params) != md.ps.Len() {
		t.Fatalf("%d PyTorch parameters, %d in Go", len(f.Params), md.ps.Len())
	}
	x := make([]float64, 0, f.S*f.N*f.D)
	y := make([]float64, 0, f.S*f.N)
	for s := 0; s < f.S; s++ {
		x, y = append(x, f.X...), append(y, f.Y...)
	}
	md.ps.ZeroGrad()
	tp := ad.NewTape()
	elbo, err := md.elbo(tp, ad.Const(x, f.S*f.N, f.D), ad.Const(y, f.S*f.N, 1), f.S, [][]float64{f.Eps, nil})
	if err != nil {
		t.Fatal(err)
	}
	tp.Backward(elbo)
	if math.Abs(elbo.Value()-f.ELBO) > 1e-10*math.Abs(f.ELBO) {
		t.Errorf("ELBO %.15g, PyTorch %.15g (KL %.6g, expected log-likelihood %.6g)", elbo.Value(), f.ELBO, f.KL, f.ELL)
	}
	var worst float64
	for i, name := range md.ps.Names() {
		g := md.ps.Vars()[i].Grad
		for k, want := range f.Grads[name] {
			if name == "layer0/q_sqrt" || name == "layer1/q_sqrt" {
				// Strict upper parts of the q_sqrt blocks are structural zeros; PyTorch's
				// tril makes their gradient 0, Go clears them before each step.
				m := f.M
				if r, c := k/(len(g)/m), k%(len(g)/m)%m; c > r {
					continue
				}
			}
			worst = math.Max(worst, math.Abs(g[k]-want)/math.Max(1, math.Abs(want)))
		}
	}
	t.Logf("PyTorch %s: ELBO %.6f (Go %.6f); max relative gradient difference %.2g over %d parameters", f.Torch, f.ELBO, elbo.Value(), worst, md.ps.NumElements())
	if worst > 1e-8 {
		t.Errorf("∂ELBO/∂θ differs from PyTorch autograd by %.3g (relative)", worst)
	}
}
