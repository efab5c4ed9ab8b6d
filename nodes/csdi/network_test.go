package csdi

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// tinyBatch is a fixed training batch for the tiny gradient-check network of csdi_icr.md
// §3.3: B = 2 sequences of K = 3 columns, fixed steps, masks and noise.
type tinyBatch struct {
	b, k          int
	input, mask   []float64 // [B,K,2], [B,K,1]
	eps, tgt, tab []float64 // [B,K], [B·K], [B,128]
}

func newTinyBatch(rng *rand.Rand, b, k int, steps []int) *tinyBatch {
	tb := &tinyBatch{b: b, k: k, input: make([]float64, b*k*2), mask: make([]float64, b*k),
		eps: make([]float64, b*k), tgt: make([]float64, b*k), tab: make([]float64, b*embDim)}
	for s := 0; s < b; s++ {
		stepTable(tb.tab[s*embDim:(s+1)*embDim], steps[s])
		for j := 0; j < k; j++ {
			q := s*k + j
			cm := float64((q + s) % 2) // a fixed mix of conditions and targets
			x0, xt := rng.NormFloat64(), rng.NormFloat64()
			tb.input[2*q], tb.input[2*q+1] = cm*x0, (1-cm)*xt
			tb.mask[q], tb.tgt[q] = cm, 1-cm
			tb.eps[q] = rng.NormFloat64()
		}
	}
	return tb
}

// loss is the training loss of the batch (csdi_icr.md §1.3).
func (tb *tinyBatch) loss(n *network, tp *ad.Tape) *ad.Var {
	side := n.sideTerms(tp, ad.Const(tb.mask, tb.b, tb.k, 1))
	emb := n.stepEmbedding(tp, ad.Const(tb.tab, tb.b, embDim))
	pred := n.forward(tp, ad.Const(tb.input, tb.b, tb.k, 2), side, emb, nil)
	return tp.MaskedMSE(pred, ad.Const(tb.eps, tb.b, tb.k), tb.tgt)
}

func tinyModel(t *testing.T, a Arch, k int, seed uint64) *Model {
	t.Helper()
	m := &Model{Config: TrainConfig{Arch: a}, net: newNetwork(a, k, rand.New(rand.NewPCG(seed, 1)))}
	randomizeParams(m, seed)
	return m
}

// TestWholeModelGradient: reverse-mode gradients of the whole network and loss against
// central finite differences (csdi_icr.md §3.3: C = 4, heads = 2, layers = 2, K = 3, B = 2,
// dropout 0, fixed t and masks; at least 20 coordinates of every parameter tensor; pass if
// |g_ad − g_fd| ≤ 1e-6·max(1, |g_ad|, |g_fd|)). The output layer is randomized first, since
// at its zero initialization no gradient would reach the rest of the network.
func TestWholeModelGradient(t *testing.T) {
	for _, a := range []Arch{{4, 2, 2, 8, 0}, {4, 1, 1, 3, 0}} {
		m := tinyModel(t, a, 3, 11)
		tb := newTinyBatch(rand.New(rand.NewPCG(5, 6)), 2, 3, []int{3, 41})
		res, err := ad.CheckParamGradients(func(tp *ad.Tape) *ad.Var { return tb.loss(m.net, tp) }, m.net.ps,
			&ad.GradCheckSettings{MaxCoords: 24, Rand: rand.New(rand.NewPCG(8, 9))})
		if err != nil {
			t.Fatalf("%+v: %v", a, err)
		}
		if want := minCoords(m, 24); res.Checked < want {
			t.Fatalf("%+v: checked %d coordinates, want %d", a, res.Checked, want)
		}
		t.Logf("%+v: %d coordinates of %d tensors, max scaled error %.2g", a, res.Checked, m.net.ps.Len(), res.MaxErr)
	}
}

func minCoords(m *Model, per int) int {
	n := 0
	for _, v := range m.net.ps.Vars() {
		n += min(per, len(v.Data))
	}
	return n
}

// TestSideTermsEqualConcatProjection: the side projection computed from the split weight
// equals CSDI's Conv1x1_{17→2C} of the concatenated [feature embedding; M_c] (an identity of
// csdi_icr.md §3.3 for the one place the network is not a literal transcription), and its
// gradients agree with finite differences.
func TestSideTermsEqualConcatProjection(t *testing.T) {
	m := tinyModel(t, Arch{6, 2, 2, 8, 0}, 4, 3)
	n := m.net
	b, k := 3, 4
	rng := rand.New(rand.NewPCG(1, 2))
	mask := make([]float64, b*k)
	for i := range mask {
		mask[i] = float64(rng.IntN(2))
	}
	got := n.sideTerms(nil, ad.Const(mask, b, k, 1))
	for l, blk := range n.blocks {
		for s := 0; s < b; s++ {
			for j := 0; j < k; j++ {
				in := append(append([]float64(nil), n.featEmb.Data[j*featEmbDim:(j+1)*featEmbDim]...), mask[s*k+j])
				for o := 0; o < 2*n.c; o++ {
					want := blk.sideB.Data[o]
					for i, v := range in {
						want += blk.sideW.Data[o*sideDim+i] * v
					}
					g := got[l].Data[(s*k+j)*2*n.c+o]
					if math.Abs(g-want) > 1e-13*math.Max(1, math.Abs(want)) {
						t.Fatalf("block %d, sequence %d, column %d, channel %d: %v, concatenation %v", l, s, j, o, g, want)
					}
				}
			}
		}
	}
	r := make([]float64, b*k*2*n.c)
	for i := range r {
		r[i] = rng.NormFloat64()
	}
	_, err := ad.CheckGradients(func(tp *ad.Tape) *ad.Var {
		st := n.sideTerms(tp, ad.Const(mask, b, k, 1))
		return tp.Sum(tp.Mul(st[1], ad.Const(r, b, k, 2*n.c)))
	}, []*ad.Var{n.featEmb, n.blocks[1].sideW, n.blocks[1].sideB}, nil)
	if err != nil {
		t.Fatal(err)
	}
}

// TestZeroOutputGivesBias: with the output projection zero-initialized (CSDI), ε̂ is its
// bias for every input (csdi_icr.md §3.3).
func TestZeroOutputGivesBias(t *testing.T) {
	n := newNetwork(Arch{8, 2, 2, 16, 0.1}, 5, rand.New(rand.NewPCG(3, 4)))
	tb := newTinyBatch(rand.New(rand.NewPCG(5, 6)), 4, 5, []int{0, 10, 30, 49})
	side := n.sideTerms(nil, ad.Const(tb.mask, tb.b, tb.k, 1))
	out := n.forward(nil, ad.Const(tb.input, tb.b, tb.k, 2), side, n.stepEmbedding(nil, ad.Const(tb.tab, tb.b, embDim)), nil)
	bias := n.out2.B.Data[0]
	if bias == 0 {
		t.Fatal("output bias is exactly 0: the check would be vacuous")
	}
	for i, v := range out.Data {
		if v != bias {
			t.Fatalf("ε̂[%d] = %v, output bias %v", i, v, bias)
		}
	}
}

// TestEmptyTargetMask: a batch without targets has loss 0 and zero gradient (csdi_icr.md
// §1.3: the loss is normalized by max(1, Σ M_t)).
func TestEmptyTargetMask(t *testing.T) {
	m := tinyModel(t, Arch{4, 2, 2, 8, 0}, 3, 2)
	tb := newTinyBatch(rand.New(rand.NewPCG(5, 6)), 2, 3, []int{3, 41})
	clear(tb.tgt)
	tp := ad.NewTape()
	m.net.ps.ZeroGrad()
	loss := tb.loss(m.net, tp)
	tp.Backward(loss)
	if loss.Value() != 0 {
		t.Fatalf("loss %v with no targets", loss.Value())
	}
	for i, v := range m.net.ps.Vars() {
		for _, g := range v.Grad {
			if g != 0 {
				t.Fatalf("%s has gradient %v with no targets", m.net.ps.Names()[i], g)
			}
		}
	}
}

// TestColumnPermutationEquivariance: the network has no positional information besides the
// learned feature embedding, so with all embedding rows equal, permuting the columns of the
// input and mask permutes ε̂ the same way (csdi_icr.md §3.3; with distinct embeddings it
// must not).
func TestColumnPermutationEquivariance(t *testing.T) {
	m := tinyModel(t, Arch{8, 3, 2, 16, 0}, 5, 4)
	n := m.net
	tb := newTinyBatch(rand.New(rand.NewPCG(7, 8)), 3, 5, []int{2, 20, 45})
	perm := []int{3, 0, 4, 1, 2}
	eval := func(input, mask []float64) []float64 {
		side := n.sideTerms(nil, ad.Const(mask, tb.b, tb.k, 1))
		return n.forward(nil, ad.Const(input, tb.b, tb.k, 2), side, n.stepEmbedding(nil, ad.Const(tb.tab, tb.b, embDim)), nil).Data
	}
	permute := func(x []float64, width int) []float64 {
		out := make([]float64, len(x))
		for s := 0; s < tb.b; s++ {
			for j, p := range perm {
				copy(out[(s*tb.k+j)*width:(s*tb.k+j+1)*width], x[(s*tb.k+p)*width:(s*tb.k+p+1)*width])
			}
		}
		return out
	}
	check := func(equal bool) float64 {
		a := eval(tb.input, tb.mask)
		b := eval(permute(tb.input, 2), permute(tb.mask, 1))
		pa := permute(a, 1)
		var worst float64
		for i := range b {
			worst = math.Max(worst, math.Abs(b[i]-pa[i]))
		}
		return worst
	}
	if d := check(false); d < 1e-6 {
		t.Fatalf("distinct feature embeddings, yet permuting columns only permutes ε̂ (difference %g)", d)
	}
	for j := 1; j < tb.k; j++ {
		copy(n.featEmb.Data[j*featEmbDim:(j+1)*featEmbDim], n.featEmb.Data[:featEmbDim])
	}
	if d := check(true); d > 1e-12 {
		t.Fatalf("equal feature embeddings: permuted ε̂ differs by %g", d)
	}
}

// TestInitialization: PyTorch's initializations (csdi_icr.md §1.4): 1×1 convolutions
// Kaiming-normal with std √(2/fan_in) and biases U(±1/√fan_in); the final projection
// zero; Linear U(±1/√fan_in); embedding N(0, 1); MHA in_proj Xavier-uniform with bias 0,
// out_proj bias 0; LayerNorm γ = 1, β = 0. Sample statistics are checked within 5 standard
// errors.
func TestInitialization(t *testing.T) {
	n := newNetwork(Arch{64, 2, 8, 64, 0.1}, 40, rand.New(rand.NewPCG(1, 1)))
	get := func(name string) []float64 {
		v := n.ps.Get(name)
		if v == nil {
			t.Fatalf("no parameter %s", name)
		}
		return v.Data
	}
	std := func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += v * v
		}
		return math.Sqrt(s / float64(len(x)))
	}
	// Normal: the SE of the sample SD is σ/√(2n).
	normal := func(name string, sigma float64) {
		x := get(name)
		if got := std(x); math.Abs(got-sigma) > 5*sigma/math.Sqrt(2*float64(len(x))) {
			t.Errorf("%s: sample SD %.4f, want %.4f", name, got, sigma)
		}
	}
	// Uniform(±b): every value within the bound, and the SD b/√3 within 5 SE (≈ 0.9·b/√(3n)).
	uniform := func(name string, b float64) {
		x := get(name)
		for _, v := range x {
			if math.Abs(v) > b {
				t.Fatalf("%s: %v outside ±%v", name, v, b)
			}
		}
		if got := std(x); math.Abs(got-b/math.Sqrt(3)) > 5*0.9*b/math.Sqrt(3*float64(len(x))) {
			t.Errorf("%s: sample SD %.4f, want %.4f", name, got, b/math.Sqrt(3))
		}
	}
	constant := func(name string, c float64) {
		for _, v := range get(name) {
			if v != c {
				t.Fatalf("%s: %v, want %v", name, v, c)
			}
		}
	}
	normal("residual_layers.0.mid_projection.weight", math.Sqrt(2.0/64))
	normal("residual_layers.1.cond_projection.weight", math.Sqrt(2.0/17))
	normal("output_projection1.weight", math.Sqrt(2.0/64))
	normal("embed_layer.weight", 1)
	uniform("residual_layers.0.mid_projection.bias", 1/math.Sqrt(64))
	uniform("input_projection.bias", 1/math.Sqrt(2))
	uniform("diffusion_embedding.projection1.weight", 1/math.Sqrt(128))
	uniform("residual_layers.0.diffusion_projection.weight", 1/math.Sqrt(128))
	uniform("residual_layers.0.feature_layer.self_attn.in_proj.weight", math.Sqrt(6.0/(64+3*64)))
	uniform("residual_layers.0.feature_layer.self_attn.out_proj.weight", 1/math.Sqrt(64))
	uniform("residual_layers.0.feature_layer.linear1.weight", 1/math.Sqrt(64))
	constant("output_projection2.weight", 0)
	constant("residual_layers.0.feature_layer.self_attn.in_proj.bias", 0)
	constant("residual_layers.1.feature_layer.self_attn.out_proj.bias", 0)
	constant("residual_layers.0.feature_layer.norm1.weight", 1)
	constant("residual_layers.1.feature_layer.norm2.bias", 0)
	// CSDI at 64 channels, 4 layers, side_dim 17 (csdi_icr.md §1.7): per block 8.3k
	// diffusion projection, 2.3k side, 8.3k mid, 8.3k out, 25.2k transformer; shared 33k
	// embedding MLP, 16·K feature embedding, plus the input and output projections.
	full := newNetwork(Arch{64, 4, 8, 64, 0.1}, 21, rand.New(rand.NewPCG(1, 1)))
	perBlock := (128*64 + 64) + (17*128 + 128) + 2*(64*128+128) + (3*64*64 + 3*64 + 64*64 + 64 + 64*64 + 64 + 64*64 + 64 + 4*64)
	want := 4*perBlock + 2*(128*128+128) + 16*21 + (2*64 + 64) + (64*64 + 64) + (64 + 1)
	if got := full.ps.NumElements(); got != want {
		t.Errorf("CSDI-size network has %d parameters, the layer-by-layer count is %d", got, want)
	}
}

// TestStepTableMatchesCSDI: the diffusion-step table against CSDI's _build_embedding
// transcribed in numpy (testdata/gen_embedding.py).
func TestStepTableMatchesCSDI(t *testing.T) {
	raw, err := os.ReadFile("testdata/embedding.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Steps []int
		Table [][]float64
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	got := make([]float64, embDim)
	for i, step := range ref.Steps {
		stepTable(got, step)
		for j, want := range ref.Table[i] {
			// sin/cos of arguments up to 49·10⁴: a last-bit difference in a frequency moves
			// the value by ~1e-11.
			if math.Abs(got[j]-want) > 1e-9 {
				t.Fatalf("t = %d, entry %d: %v, CSDI %v", step, j, got[j], want)
			}
		}
	}
}

// TestNoiseTableSmooth: the noise-level features are smooth in ℓ (their largest frequency is
// 2π per unit of log-SNR), unlike the step table, so nearby noise levels get nearby inputs.
func TestNoiseTableSmooth(t *testing.T) {
	a, b := make([]float64, embDim), make([]float64, embDim)
	const dl = 1e-3
	noiseTable(a, 2.5)
	noiseTable(b, 2.5+dl)
	for j := range a {
		if math.Abs(a[j]-b[j]) > 2*math.Pi*dl*1.0001 {
			t.Fatalf("entry %d moves by %g for Δℓ = %g", j, math.Abs(a[j]-b[j]), dl)
		}
	}
	if !strings.Contains(DefaultTrainConfig().Conditioning, "step") {
		t.Fatal("the faithful step conditioning must be the default")
	}
}
