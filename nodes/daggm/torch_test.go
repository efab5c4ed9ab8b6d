package daggm

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// TestLossMatchesTorch: with the same weights and inputs, the loss J, its three parts, the
// per-row energies and ∂J/∂θ for every weight equal an independent PyTorch implementation of
// the paper's DAGMM in float64 (testdata/gen_torch_dagmm.py: torch's own linear layers,
// torch.linalg.cholesky, solve_triangular, logsumexp and autograd). Every Go parameter must
// come from the fixture under the same name.
func TestLossMatchesTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_dagmm.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Torch                    string
		N, D, Latent, K          int
		Hidden                   []int
		EstHidden                []int `json:"est_hidden"`
		Lambda1, Lambda2, Jitter float64
		Params, Grads            map[string][]float64
		X, Energy                []float64
		J, Recon, Penalty        float64
		EnergyMean               float64 `json:"energy_mean"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	net := NewNetwork(f.D, Arch{Hidden: f.Hidden, Latent: f.Latent, EstHidden: f.EstHidden, K: f.K, Dropout: 0.5}, rand.New(rand.NewPCG(1, 1)))
	used := map[string]bool{}
	for i, name := range net.Params.Names() {
		v := net.Params.Vars()[i]
		src, ok := f.Params[name]
		if !ok || len(src) != len(v.Data) {
			t.Fatalf("Go parameter %s (%d values) has no PyTorch counterpart of that size", name, len(v.Data))
		}
		copy(v.Data, src)
		used[name] = true
	}
	for name := range f.Params {
		if !used[name] {
			t.Errorf("PyTorch parameter %s is not in the Go network", name)
		}
	}
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, PyTorch %.15g", what, got, want)
		}
	}
	x := autodiff.Const(f.X, f.N, f.D)
	net.Params.ZeroGrad()
	tp := autodiff.NewTape()
	l, err := net.Loss(tp, x, nil, Weights{Lambda1: f.Lambda1, Lambda2: f.Lambda2, Jitter: f.Jitter})
	if err != nil {
		t.Fatal(err)
	}
	tp.Backward(l.J)
	near("J", l.J.Value(), f.J, 1e-12)
	near("mean ‖x − x'‖²", l.Recon, f.Recon, 1e-12)
	near("mean E", l.Energy, f.EnergyMean, 1e-12)
	near("covariance penalty", l.CovPenalty, f.Penalty, 1e-12)
	var worst float64
	for i, name := range net.Params.Names() {
		g := net.Params.Vars()[i].Grad
		for k, want := range f.Grads[name] {
			worst = math.Max(worst, math.Abs(g[k]-want)/math.Max(1, math.Abs(want)))
		}
	}
	t.Logf("PyTorch %s: J %.6f; max relative gradient difference %.2g over %d weights", f.Torch, f.J, worst, net.Params.NumElements())
	if worst > 1e-10 {
		t.Errorf("∂J/∂θ differs from PyTorch autograd by %.3g (relative)", worst)
	}
	o := net.Forward(nil, x, nil)
	phi, mu, sigma := GMMParams(nil, o.Z, o.Gamma)
	e, err := Energy(nil, o.Z, phi, mu, sigma, f.Jitter)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range f.Energy {
		near(fmt.Sprintf("E(z_%d)", i), e.Data[i], want, 1e-12)
	}
}
