package csdi

import (
	"fmt"
	"math"
	"math/rand/v2"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// Fixed sizes of the CSDI network (csdi_icr.md §1.4, §1.6): the diffusion-step embedding
// is 128-dimensional (64 frequencies, sin and cos) and projected by two 128×128 linears;
// the learned feature embedding has 16 dimensions; the side information is that embedding
// plus the conditional mask, 17 channels (CSDI's constant time embedding of pos = 0 is
// dropped, csdi_icr.md §1.7: with L = 1 it only adds a constant bias through the side
// projection, which that projection's own bias already provides).
const (
	embDim     = 128
	embHalf    = embDim / 2
	featEmbDim = 16
	sideDim    = featEmbDim + 1
)

// block is one gated residual block (csdi_icr.md §1.4 step 2).
type block struct {
	diffProj *ad.Linear // 128 → C, the diffusion-step embedding per block
	tf       *ad.TransformerEncoderLayer
	sideW    *ad.Var    // cond_projection weight [2C, 17]: feature embedding (16) then mask (1)
	sideB    *ad.Var    // cond_projection bias [2C]
	mid      *ad.Linear // C → 2C
	out      *ad.Linear // C → 2C
}

// network is CSDI's ε_θ in the tabular layout (K columns, L = 1), channels last: tokens are
// [B, K, C] and every 1×1 convolution is a Linear over the last axis.
type network struct {
	k, c     int
	ps       *ad.Params
	emb1     *ad.Linear // diffusion embedding projection1, 128 → 128
	emb2     *ad.Linear // projection2, 128 → 128
	in       *ad.Linear // input projection, 2 → C
	out1     *ad.Linear // output projection 1, C → C
	out2     *ad.Linear // output projection 2, C → 1, weight zero-initialized
	blocks   []*block
	featEmb  *ad.Var // nn.Embedding(K, 16) [K, 16]
	featIdx  []int
	skipNorm float64 // 1/√layers
}

// kaimingConv registers a 1×1 convolution as a Linear with PyTorch's Conv1d_with_init:
// weight Kaiming-normal (fan_in, gain √2: std √(2/in)), bias U(±1/√in).
func kaimingConv(ps *ad.Params, name string, in, out int, rng *rand.Rand) *ad.Linear {
	l := &ad.Linear{W: ps.New(name+".weight", out, in), B: ps.New(name+".bias", out)}
	ad.FillNormal(l.W, math.Sqrt(2/float64(in)), rng)
	ad.FillUniform(l.B, 1/math.Sqrt(float64(in)), rng)
	return l
}

// newNetwork builds the network for k columns with PyTorch's initializations (csdi_icr.md
// §1.4), registering parameters under CSDI's module names. It panics unless heads divides
// channels and k ≥ 1.
func newNetwork(a Arch, k int, rng *rand.Rand) *network {
	if k < 1 || a.Channels < 1 || a.Layers < 1 || a.Heads < 1 || a.Channels%a.Heads != 0 || a.FFN < 1 {
		panic(fmt.Sprintf("csdi: invalid architecture %+v for %d columns", a, k))
	}
	c := a.Channels
	ps := ad.NewParams()
	n := &network{k: k, c: c, ps: ps, skipNorm: 1 / math.Sqrt(float64(a.Layers))}
	n.emb1 = ad.NewLinear(ps, "diffusion_embedding.projection1", embDim, embDim, true, rng)
	n.emb2 = ad.NewLinear(ps, "diffusion_embedding.projection2", embDim, embDim, true, rng)
	n.in = kaimingConv(ps, "input_projection", 2, c, rng)
	n.out1 = kaimingConv(ps, "output_projection1", c, c, rng)
	n.out2 = kaimingConv(ps, "output_projection2", c, 1, rng)
	clear(n.out2.W.Data) // nn.init.zeros_: ε̂ ≡ bias at initialization
	for l := 0; l < a.Layers; l++ {
		p := fmt.Sprintf("residual_layers.%d.", l)
		b := &block{diffProj: ad.NewLinear(ps, p+"diffusion_projection", embDim, c, true, rng)}
		side := kaimingConv(ps, p+"cond_projection", sideDim, 2*c, rng)
		b.sideW, b.sideB = side.W, side.B
		b.mid = kaimingConv(ps, p+"mid_projection", c, 2*c, rng)
		b.out = kaimingConv(ps, p+"output_projection", c, 2*c, rng)
		b.tf = ad.NewTransformerEncoderLayer(ps, p+"feature_layer", c, a.Heads, a.FFN, a.Dropout, rng)
		n.blocks = append(n.blocks, b)
	}
	n.featEmb = ps.New("embed_layer.weight", k, featEmbDim)
	ad.FillNormal(n.featEmb, 1, rng)
	n.featIdx = make([]int, k)
	for i := range n.featIdx {
		n.featIdx[i] = i
	}
	return n
}

// sideTerms returns, per block, the side-information projection
// Conv1x1_{17→2C}([feature embedding; M_c]) for a conditional mask given as [B, K, 1] (or
// [1, K, 1] when every sequence shares it). The concatenation is never formed: the weight is
// split into its embedding part [2C, 16] and its mask column [2C, 1], which is the same
// linear map, and the embedding part is computed once for all sequences ([K, 2C],
// broadcast).
func (n *network) sideTerms(tp *ad.Tape, mask *ad.Var) []*ad.Var {
	emb := tp.Embedding(n.featEmb, n.featIdx) // [K, 16]
	out := make([]*ad.Var, len(n.blocks))
	for l, b := range n.blocks {
		w := tp.Split(b.sideW, featEmbDim, 1)
		out[l] = tp.Add(tp.Linear(emb, w[0], b.sideB), tp.Linear(mask, w[1], nil))
	}
	return out
}

// stepEmbedding returns SiLU(W2·SiLU(W1·e + b1) + b2) for embedding-table rows e [N, 128].
func (n *network) stepEmbedding(tp *ad.Tape, table *ad.Var) *ad.Var {
	return tp.SiLU(n.emb2.Forward(tp, tp.SiLU(n.emb1.Forward(tp, table))))
}

// forward computes ε̂ [B, K] for the input [B, K, 2] (channel 0 = M_c⊙x_0, channel 1 =
// (1−M_c)⊙x_t), the per-block side terms of sideTerms, and the diffusion embedding emb
// [B, 128] (or [1, 128] when every sequence is at the same step) from stepEmbedding. drop
// drives the transformers' dropout; nil means evaluation mode.
func (n *network) forward(tp *ad.Tape, input *ad.Var, side []*ad.Var, emb *ad.Var, drop *rand.Rand) *ad.Var {
	nb, k, c := input.Shape[0], input.Shape[1], n.c
	x := tp.ReLU(n.in.Forward(tp, input)) // [B, K, C]
	eb := emb.Shape[0]
	var skip *ad.Var
	for l, b := range n.blocks {
		y := tp.Add(x, tp.Reshape(b.diffProj.Forward(tp, emb), eb, 1, c))
		if k > 1 { // the feature transformer is skipped for a single column, as in CSDI
			y = b.tf.Forward(tp, y, drop)
		}
		y = tp.Add(b.mid.Forward(tp, y), side[l])
		gf := tp.Split(y, c, c)
		y = tp.Mul(tp.Sigmoid(gf[0]), tp.Tanh(gf[1]))
		rs := tp.Split(b.out.Forward(tp, y), c, c)
		x = tp.Scale(tp.Add(x, rs[0]), 1/math.Sqrt2)
		if skip == nil {
			skip = rs[1]
		} else {
			skip = tp.Add(skip, rs[1])
		}
	}
	h := tp.Scale(skip, n.skipNorm)
	return tp.Reshape(n.out2.Forward(tp, tp.ReLU(n.out1.Forward(tp, h))), nb, k)
}
