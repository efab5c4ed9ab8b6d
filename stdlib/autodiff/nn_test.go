package autodiff

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestTransformerLayerGradients: the whole encoder layer, with dropout on (fixed seed inside
// the loss), checked on every parameter (all coordinates) and on the input, against finite
// differences — the same call the model authors make on their whole models.
func TestTransformerLayerGradients(t *testing.T) {
	rng := newRng(81)
	ps := NewParams()
	layer := NewTransformerEncoderLayer(ps, "tf", 8, 2, 12, 0.2, rng)
	x := uniformVar(rng, -1, 1, 2, 4, 8)
	r := uniformVar(rng, -1, 1, 2, 4, 8)
	r.needsGrad = false
	f := func(tp *Tape) *Var { return tp.Sum(tp.Mul(layer.Forward(tp, x, newRng(3)), r)) }
	res, err := CheckParamGradients(f, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parameters: %d coordinates, max scaled error %.2g", res.Checked, res.MaxErr)
	if res, err = CheckGradients(f, []*Var{x}, nil); err != nil {
		t.Fatal(err)
	}
	t.Logf("input: %d coordinates, max scaled error %.2g", res.Checked, res.MaxErr)
}

// TestMHAPermutationEquivariance: without positional information, permuting the tokens
// of a sequence permutes the attention output the same way.
func TestMHAPermutationEquivariance(t *testing.T) {
	rng := newRng(82)
	ps := NewParams()
	mha := NewMultiHeadAttention(ps, "a", 8, 4, 0, rng)
	const b, k, c = 2, 5, 8
	x := uniformVar(rng, -1, 1, b, k, c)
	perm := []int{3, 0, 4, 1, 2}
	xp := NewVar(make([]float64, len(x.Data)), b, k, c)
	for s := 0; s < b; s++ {
		for i, p := range perm {
			copy(xp.Data[(s*k+i)*c:(s*k+i+1)*c], x.Data[(s*k+p)*c:(s*k+p+1)*c])
		}
	}
	var tp *Tape
	y, yp := mha.Forward(tp, x, nil), mha.Forward(tp, xp, nil)
	for s := 0; s < b; s++ {
		for i, p := range perm {
			for j := 0; j < c; j++ {
				if math.Abs(yp.Data[(s*k+i)*c+j]-y.Data[(s*k+p)*c+j]) > 1e-14 {
					t.Fatalf("sequence %d token %d channel %d not equivariant", s, i, j)
				}
			}
		}
	}
}

// TestPyTorchInit: the helpers' initial parameters follow PyTorch's rules: bounds and
// the constant parts (LayerNorm γ = 1, β = 0; MHA biases 0).
func TestPyTorchInit(t *testing.T) {
	ps := NewParams()
	NewTransformerEncoderLayer(ps, "t", 16, 4, 32, 0.1, newRng(83))
	bound := map[string]float64{
		"t.self_attn.in_proj.weight":  math.Sqrt(6.0 / (16 + 48)),
		"t.self_attn.out_proj.weight": 1 / math.Sqrt(16),
		"t.linear1.weight":            1 / math.Sqrt(16), "t.linear1.bias": 1 / math.Sqrt(16),
		"t.linear2.weight": 1 / math.Sqrt(32), "t.linear2.bias": 1 / math.Sqrt(32),
	}
	constant := map[string]float64{
		"t.self_attn.in_proj.bias": 0, "t.self_attn.out_proj.bias": 0,
		"t.norm1.weight": 1, "t.norm1.bias": 0, "t.norm2.weight": 1, "t.norm2.bias": 0,
	}
	for i, name := range ps.Names() {
		v := ps.Vars()[i]
		if bd, ok := bound[name]; ok {
			maxAbs := 0.0
			for _, x := range v.Data {
				maxAbs = math.Max(maxAbs, math.Abs(x))
			}
			// The largest of n uniform draws lies above 0.8·bound with probability
			// 1 − 0.8ⁿ ≈ 1 for n ≥ 32.
			if maxAbs > bd || maxAbs < 0.8*bd {
				t.Errorf("%s: max |w| = %v, bound %v", name, maxAbs, bd)
			}
			continue
		}
		c, ok := constant[name]
		if !ok {
			t.Errorf("unexpected parameter %s", name)
			continue
		}
		for _, x := range v.Data {
			if x != c {
				t.Errorf("%s = %v, want %v", name, x, c)
				break
			}
		}
	}
}

// TestTrainingDeterminism: runs of 5 training steps of a transformer layer with the same
// seeds produce bit-identical parameters, with 1, 2 or 3 threads (the shapes are large
// enough to take the parallel gemm, attention and elementwise paths).
func TestTrainingDeterminism(t *testing.T) {
	run := func() []byte {
		rng := newRng(84)
		ps := NewParams()
		layer := NewTransformerEncoderLayer(ps, "t", 64, 8, 64, 0.1, rng)
		x := uniformVar(rng, -1, 1, 16, 20, 64)
		x.needsGrad = false
		opt := NewAdam(ps.Vars(), 1e-3)
		tp := NewTape()
		drop := rand.New(rand.NewPCG(1, 2))
		for step := 0; step < 5; step++ {
			tp.Reset()
			ps.ZeroGrad()
			y := layer.Forward(tp, x, drop)
			tp.Backward(tp.MaskedMSE(y, x, nil))
			opt.Step()
		}
		b, _ := ps.MarshalBinary()
		return b
	}
	a, b := run(), run()
	if string(a) != string(b) {
		t.Fatal("same seeds gave different parameters")
	}
	// The goroutine splits of gemm, attention and elementwise ops must not change a bit.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if c := run(); string(c) != string(a) {
		t.Fatal("GOMAXPROCS=1 gave different parameters")
	}
	runtime.GOMAXPROCS(3)
	if c := run(); string(c) != string(a) {
		t.Fatal("GOMAXPROCS=3 gave different parameters")
	}
	defer SetMaxThreads(SetMaxThreads(1))
	if c := run(); string(c) != string(a) {
		t.Fatal("SetMaxThreads(1) gave different parameters")
	}
}

// TestCSDIShapedModelGradients: the CSDI-shaped network of the benchmarks (input conv,
// diffusion-embedding MLP, per-block broadcast projection, transformer, side conv, gated
// activation, residual and skip paths, output convs) at a tiny size (C = 8, 2 blocks,
// B = 2, K = 3), dropout on with a fixed seed, masked MSE loss: every parameter tensor is
// checked on up to 20 random coordinates (methods/csdi_icr.md §3.3).
func TestCSDIShapedModelGradients(t *testing.T) {
	rng := newRng(85)
	ps := NewParams()
	net := newCSDINet(ps, 8, 2, rng)
	const b, k = 2, 3
	input := uniformVar(rng, -1, 1, b, k, 2)
	side := uniformVar(rng, -1, 1, b, k, 17)
	table := uniformVar(rng, -1, 1, b, 128)
	eps := uniformVar(rng, -1, 1, b, k)
	for _, v := range []*Var{input, side, table, eps} {
		v.needsGrad = false
	}
	// The output layer is not zero-initialized here, so gradients reach every block.
	mask := []float64{1, 0, 1, 1, 1, 0}
	f := func(tp *Tape) *Var {
		return tp.MaskedMSE(net.forward(tp, input, side, table, newRng(4)), eps, mask)
	}
	res, err := CheckParamGradients(f, ps, &GradCheckSettings{MaxCoords: 20, Rand: newRng(5)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d coordinates over %d tensors, max scaled error %.2g", res.Checked, ps.Len(), res.MaxErr)
}
