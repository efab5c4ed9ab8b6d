package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// This file holds small layer helpers with PyTorch's parameter layout and default
// initialization, built only from the Tape's ops (so the op gradient checks cover them).

// FillUniform sets every element of v to an independent draw from U(−bound, bound).
func FillUniform(v *Var, bound float64, rng *rand.Rand) {
	for i := range v.Data {
		v.Data[i] = (2*rng.Float64() - 1) * bound
	}
}

// FillNormal sets every element of v to an independent draw from N(0, std²).
func FillNormal(v *Var, std float64, rng *rand.Rand) {
	for i := range v.Data {
		v.Data[i] = std * rng.NormFloat64()
	}
}

// Linear is a fully connected layer y = x·Wᵀ + b with W [out, in] and b [out].
type Linear struct {
	W, B *Var // B is nil for a layer without bias
}

// NewLinear registers name+".weight" (and name+".bias" when bias is set) in ps, initialized
// as PyTorch's nn.Linear: every entry ~ U(±1/√in).
func NewLinear(ps *Params, name string, in, out int, bias bool, rng *rand.Rand) *Linear {
	l := &Linear{W: ps.New(name+".weight", out, in)}
	bound := 1 / math.Sqrt(float64(in))
	FillUniform(l.W, bound, rng)
	if bias {
		l.B = ps.New(name+".bias", out)
		FillUniform(l.B, bound, rng)
	}
	return l
}

// Forward applies the layer to the last axis of x.
func (l *Linear) Forward(tp *Tape, x *Var) *Var { return tp.Linear(x, l.W, l.B) }

// MLP is a stack of Linear layers with Act between them (not after the last one).
type MLP struct {
	Layers []*Linear
	Act    func(tp *Tape, x *Var) *Var
}

// NewMLP registers layers name+".0", name+".1", … mapping sizes[0] → sizes[1] → … with
// biases, initialized as nn.Linear. act is e.g. (*Tape).Tanh or (*Tape).ReLU.
func NewMLP(ps *Params, name string, sizes []int, act func(tp *Tape, x *Var) *Var, rng *rand.Rand) *MLP {
	if len(sizes) < 2 {
		panic("autodiff: NewMLP needs at least two sizes")
	}
	m := &MLP{Act: act}
	for i := 0; i+1 < len(sizes); i++ {
		m.Layers = append(m.Layers, NewLinear(ps, fmt.Sprintf("%s.%d", name, i), sizes[i], sizes[i+1], true, rng))
	}
	return m
}

// Forward applies the MLP to the last axis of x.
func (m *MLP) Forward(tp *Tape, x *Var) *Var {
	for i, l := range m.Layers {
		x = l.Forward(tp, x)
		if i+1 < len(m.Layers) {
			x = m.Act(tp, x)
		}
	}
	return x
}

// LayerNorm is layer normalization over the last axis with affine parameters.
type LayerNorm struct {
	Gamma, Beta *Var
	Eps         float64
}

// NewLayerNorm registers name+".weight" (γ = 1) and name+".bias" (β = 0) of size c, with
// PyTorch's eps 1e-5.
func NewLayerNorm(ps *Params, name string, c int) *LayerNorm {
	ln := &LayerNorm{Gamma: ps.New(name+".weight", c), Beta: ps.New(name+".bias", c), Eps: 1e-5}
	for i := range ln.Gamma.Data {
		ln.Gamma.Data[i] = 1
	}
	return ln
}

// Forward normalizes x over its last axis.
func (ln *LayerNorm) Forward(tp *Tape, x *Var) *Var {
	return tp.LayerNorm(x, ln.Gamma, ln.Beta, ln.Eps)
}

// MultiHeadAttention is PyTorch's nn.MultiheadAttention for self-attention
// (batch_first): a packed input projection [3C, C] (rows Q, K, V), scaled dot-product
// attention per head, and an output projection.
type MultiHeadAttention struct {
	InProj, OutProj *Linear
	Heads           int
	Dropout         float64 // on the attention weights, training only
}

// NewMultiHeadAttention registers name+".in_proj" and name+".out_proj", initialized as
// PyTorch: in_proj weight Xavier-uniform (bound √(6/(C+3C))), in_proj bias 0, out_proj
// weight U(±1/√C), out_proj bias 0. It panics unless heads divides c.
func NewMultiHeadAttention(ps *Params, name string, c, heads int, dropout float64, rng *rand.Rand) *MultiHeadAttention {
	if heads <= 0 || c%heads != 0 {
		panic(fmt.Sprintf("autodiff: %d heads do not divide %d channels", heads, c))
	}
	m := &MultiHeadAttention{Heads: heads, Dropout: dropout}
	m.InProj = &Linear{W: ps.New(name+".in_proj.weight", 3*c, c), B: ps.New(name+".in_proj.bias", 3*c)}
	FillUniform(m.InProj.W, math.Sqrt(6/float64(c+3*c)), rng)
	m.OutProj = &Linear{W: ps.New(name+".out_proj.weight", c, c), B: ps.New(name+".out_proj.bias", c)}
	FillUniform(m.OutProj.W, 1/math.Sqrt(float64(c)), rng)
	return m
}

// Forward runs self-attention over x [B, K, C] (K tokens per sequence) with the fused
// Attention op. rng drives the attention-weight dropout; nil means evaluation mode.
func (m *MultiHeadAttention) Forward(tp *Tape, x *Var, rng *rand.Rand) *Var {
	p := m.Dropout
	if rng == nil {
		p = 0
	}
	return m.OutProj.Forward(tp, tp.Attention(m.InProj.Forward(tp, x), m.Heads, p, rng))
}

// ForwardComposed is Forward built from the elementary ops (Split, SplitHeads,
// BatchMatMul, Softmax, Dropout, MergeHeads); it gives the same result as Forward, slower.
func (m *MultiHeadAttention) ForwardComposed(tp *Tape, x *Var, rng *rand.Rand) *Var {
	c := x.Shape[len(x.Shape)-1]
	qkv := tp.Split(m.InProj.Forward(tp, x), c, c, c)
	q, k, v := tp.SplitHeads(qkv[0], m.Heads), tp.SplitHeads(qkv[1], m.Heads), tp.SplitHeads(qkv[2], m.Heads)
	d := c / m.Heads
	s := tp.Scale(tp.BatchMatMul(q, k, false, true), 1/math.Sqrt(float64(d)))
	p := tp.Softmax(s)
	if rng != nil {
		p = tp.Dropout(p, m.Dropout, rng)
	}
	return m.OutProj.Forward(tp, tp.MergeHeads(tp.BatchMatMul(p, v, false, false)))
}

// TransformerEncoderLayer is PyTorch's nn.TransformerEncoderLayer with batch_first,
// norm_first = false (post-norm) and GELU (exact erf):
//
//	z   = LN1(u + Drop(MHA(u)))
//	out = LN2(z + Drop(W2·Drop(GELU(W1·z + b1)) + b2))
type TransformerEncoderLayer struct {
	Attn         *MultiHeadAttention
	Lin1, Lin2   *Linear
	Norm1, Norm2 *LayerNorm
	Dropout      float64
}

// NewTransformerEncoderLayer registers a layer of width c with the given heads, feed-forward
// width ff and dropout (also used inside attention, as PyTorch), under PyTorch's names
// (self_attn, linear1, linear2, norm1, norm2).
func NewTransformerEncoderLayer(ps *Params, name string, c, heads, ff int, dropout float64, rng *rand.Rand) *TransformerEncoderLayer {
	return &TransformerEncoderLayer{
		Attn:    NewMultiHeadAttention(ps, name+".self_attn", c, heads, dropout, rng),
		Lin1:    NewLinear(ps, name+".linear1", c, ff, true, rng),
		Lin2:    NewLinear(ps, name+".linear2", ff, c, true, rng),
		Norm1:   NewLayerNorm(ps, name+".norm1", c),
		Norm2:   NewLayerNorm(ps, name+".norm2", c),
		Dropout: dropout,
	}
}

// Forward applies the layer to x [B, K, C]. rng drives all dropouts in a fixed order;
// nil means evaluation mode.
func (l *TransformerEncoderLayer) Forward(tp *Tape, x *Var, rng *rand.Rand) *Var {
	drop := func(v *Var) *Var {
		if rng == nil {
			return v
		}
		return tp.Dropout(v, l.Dropout, rng)
	}
	z := l.Norm1.Forward(tp, tp.Add(x, drop(l.Attn.Forward(tp, x, rng))))
	h := drop(tp.GELU(l.Lin1.Forward(tp, z)))
	return l.Norm2.Forward(tp, tp.Add(z, drop(l.Lin2.Forward(tp, h))))
}
