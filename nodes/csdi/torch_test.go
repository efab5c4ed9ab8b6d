package csdi

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// TestNetworkMatchesTorch: with the same weights, the network's forward pass equals CSDI's
// own diff_CSDI module run by PyTorch in float64 (testdata/gen_torch_network.py transcribes
// the authors' diff_models.py; tabular layout, 17 side channels): input projection, step
// embedding MLP, per-block diffusion projection, post-norm transformer encoder layer with
// exact GELU over the columns, side projection, gated activation, residual and skip scaling,
// output projections; and the gradients of a weighted sum of the outputs with respect to
// every parameter equal PyTorch's autograd. Every parameter of the Go network must come from
// the fixture under its CSDI module name, so a renamed, reshaped or unused parameter fails.
func TestNetworkMatchesTorch(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "torch_network.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		K, Channels, Layers, Heads, FFN int
		Torch                           string
		Params, Grads                   map[string][]float64
		Input, Mask, Embedding, Output  []float64
		OutputWeights                   []float64 `json:"output_weights"`
		Steps                           []int
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	n := newNetwork(Arch{Channels: f.Channels, Layers: f.Layers, Heads: f.Heads, FFN: f.FFN, Dropout: 0.1}, f.K, rand.New(rand.NewPCG(1, 1)))
	used := map[string]bool{}
	for i, name := range n.ps.Names() {
		v := n.ps.Vars()[i]
		src, ok := f.Params[name]
		if !ok {
			t.Fatalf("the Go parameter %s has no PyTorch counterpart", name)
		}
		if len(src) != len(v.Data) {
			t.Fatalf("%s: %d values in PyTorch, %d in Go", name, len(src), len(v.Data))
		}
		copy(v.Data, src)
		used[name] = true
	}
	for name := range f.Params {
		if !used[name] {
			t.Errorf("the PyTorch parameter %s is not used by the Go network", name)
		}
	}
	nb := len(f.Steps)
	tp := ad.NewInferenceTape()
	side := n.sideTerms(tp, ad.Const(f.Mask, nb, f.K, 1))
	emb := n.stepEmbedding(tp, ad.Const(f.Embedding, nb, embDim))
	out := n.forward(tp, ad.Const(f.Input, nb, f.K, 2), side, emb, nil)
	var worst float64
	for i, want := range f.Output {
		worst = math.Max(worst, math.Abs(out.Data[i]-want))
	}
	t.Logf("max |Go − PyTorch %s| over %d outputs: %.2g", f.Torch, len(f.Output), worst)
	if worst > 1e-12 {
		t.Errorf("network output differs from PyTorch's diff_CSDI by %.3g (want ≤ 1e-12)\nGo    %v\ntorch %v", worst, out.Data, f.Output)
	}

	// The backward pass: ∂(Σ g⊙ε̂)/∂θ for every parameter against PyTorch's autograd.
	n.ps.ZeroGrad()
	tg := ad.NewTape()
	side = n.sideTerms(tg, ad.Const(f.Mask, nb, f.K, 1))
	emb = n.stepEmbedding(tg, ad.Const(f.Embedding, nb, embDim))
	out = n.forward(tg, ad.Const(f.Input, nb, f.K, 2), side, emb, nil)
	tg.Backward(tg.Sum(tg.Mul(out, ad.Const(f.OutputWeights, nb, f.K))))
	var gworst float64
	for i, name := range n.ps.Names() {
		want, ok := f.Grads[name]
		if !ok {
			t.Fatalf("no PyTorch gradient for %s", name)
		}
		for k, w := range want {
			gworst = math.Max(gworst, math.Abs(n.ps.Vars()[i].Grad[k]-w)/math.Max(1, math.Abs(w)))
		}
	}
	t.Logf("max relative gradient difference over %d parameters: %.2g", n.ps.NumElements(), gworst)
	if gworst > 1e-11 {
		t.Errorf("gradients differ from PyTorch autograd by %.3g (relative)", gworst)
	}
}
