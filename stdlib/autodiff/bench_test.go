package autodiff

import (
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// Benchmarks at the shapes of the CSDI training step (methods/csdi_icr.md §1.4, §1.7):
// B = 16 rows, K = 20 columns → 320 tokens, C = 64 channels, 8 heads, FFN 64.
// Each iteration is one forward and one backward pass on a reused tape.

const (
	benchB, benchK, benchC, benchH, benchFF = 16, 20, 64, 8, 64
)

func benchRun(b *testing.B, build func(tp *Tape) *Var, ps *Params) {
	tp := NewTape()
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		tp.Reset()
		if ps != nil {
			ps.ZeroGrad()
		}
		tp.Backward(build(tp))
	}
	reportCPU(b, c0)
}

// cpuTime returns the process's user+system CPU time. On a shared machine wall time per op
// (ns/op) is inflated by other processes; CPU time per op (cpu-ms/op, summed over all
// threads) is the steadier measure of the work done.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// BenchmarkLinear: Y = X·Wᵀ + b with X [320×64], W [128×64], forward and backward.
func BenchmarkLinear(b *testing.B) {
	rng := newRng(1)
	x := uniformVar(rng, -1, 1, benchB*benchK, benchC)
	ps := NewParams()
	l := NewLinear(ps, "l", benchC, 2*benchC, true, rng)
	benchRun(b, func(tp *Tape) *Var { return tp.Sum(l.Forward(tp, x)) }, ps)
}

// BenchmarkAttention: the fused Attention op, softmax(QKᵀ/√d)·V over 16 batches × 8 heads ×
// 20 tokens × 8 dims from a packed [16, 20, 192] projection, dropout 0.1.
func BenchmarkAttention(b *testing.B) {
	rng := newRng(2)
	qkv := uniformVar(rng, -1, 1, benchB, benchK, 3*benchC)
	drng := newRng(5)
	benchRun(b, func(tp *Tape) *Var { return tp.Sum(tp.Attention(qkv, benchH, 0.1, drng)) }, nil)
}

// BenchmarkAttentionComposed: the same attention from elementary ops (Split, SplitHeads,
// BatchMatMul, Scale, Softmax, Dropout, MergeHeads).
func BenchmarkAttentionComposed(b *testing.B) {
	rng := newRng(2)
	qkv := uniformVar(rng, -1, 1, benchB, benchK, 3*benchC)
	d := benchC / benchH
	drng := newRng(5)
	benchRun(b, func(tp *Tape) *Var {
		p := tp.Split(qkv, benchC, benchC, benchC)
		q, k, v := tp.SplitHeads(p[0], benchH), tp.SplitHeads(p[1], benchH), tp.SplitHeads(p[2], benchH)
		s := tp.Scale(tp.BatchMatMul(q, k, false, true), 1/math.Sqrt(float64(d)))
		o := tp.BatchMatMul(tp.Dropout(tp.Softmax(s), 0.1, drng), v, false, false)
		return tp.Sum(tp.MergeHeads(o))
	}, nil)
}

// BenchmarkLayerNorm: affine layer norm over [320×64].
func BenchmarkLayerNorm(b *testing.B) {
	rng := newRng(3)
	x := uniformVar(rng, -1, 1, benchB*benchK, benchC)
	ps := NewParams()
	ln := NewLayerNorm(ps, "ln", benchC)
	r := uniformVar(rng, -1, 1, benchB*benchK, benchC)
	benchRun(b, func(tp *Tape) *Var { return tp.Sum(tp.Mul(ln.Forward(tp, x), r)) }, ps)
}

// BenchmarkTransformerLayer: one PyTorch-style post-norm encoder layer (dropout 0.1 on)
// over [16, 20, 64].
func BenchmarkTransformerLayer(b *testing.B) {
	rng := newRng(4)
	ps := NewParams()
	layer := NewTransformerEncoderLayer(ps, "t", benchC, benchH, benchFF, 0.1, rng)
	x := uniformVar(rng, -1, 1, benchB, benchK, benchC)
	r := uniformVar(rng, -1, 1, benchB, benchK, benchC)
	drng := newRng(5)
	benchRun(b, func(tp *Tape) *Var { return tp.Sum(tp.Mul(layer.Forward(tp, x, drng), r)) }, ps)
}

// csdiNet is the CSDI ε-network in the tabular layout (K columns, L = 1, channels last),
// built from this package's helpers to time a whole training step; the CSDI package owns
// the real one. Shapes follow methods/csdi_icr.md §1.4 with side_dim = 16 + 1.
type csdiNet struct {
	in, embOut                *Linear
	emb                       *MLP
	diff, mid, side, outBlock []*Linear
	tf                        []*TransformerEncoderLayer
	out1, out2                *Linear
	featEmb                   *Var
}

// forward returns ε̂ [B, K] for input [B, K, 2], side [B, K, 17] and step table [B, 128].
func (n *csdiNet) forward(tp *Tape, input, side, table *Var, rng *rand.Rand) *Var {
	b, k := input.Shape[0], input.Shape[1]
	c := n.in.W.Shape[0]
	x := tp.ReLU(n.in.Forward(tp, input))
	emb := tp.SiLU(n.emb.Forward(tp, table))
	emb = tp.SiLU(emb)
	var skip *Var
	for l := range n.tf {
		y := tp.Add(x, tp.Reshape(n.diff[l].Forward(tp, emb), b, 1, c))
		y = n.tf[l].Forward(tp, y, rng)
		y = tp.Add(n.mid[l].Forward(tp, y), n.side[l].Forward(tp, side))
		gf := tp.Split(y, c, c)
		y = tp.Mul(tp.Sigmoid(gf[0]), tp.Tanh(gf[1]))
		rs := tp.Split(n.outBlock[l].Forward(tp, y), c, c)
		x = tp.Scale(tp.Add(x, rs[0]), 1/math.Sqrt2)
		if skip == nil {
			skip = rs[1]
		} else {
			skip = tp.Add(skip, rs[1])
		}
	}
	h := tp.Scale(skip, 1/math.Sqrt(float64(len(n.tf))))
	return tp.Reshape(n.out2.Forward(tp, tp.ReLU(n.out1.Forward(tp, h))), b, k)
}

// BenchmarkCSDIStep: a whole CSDI training step at B = 16, K = 20, C = 64, 4 residual blocks
// with one transformer layer each (8 heads, FFN 64, dropout 0.1): forward, masked MSE,
// backward and an Adam update. The PyTorch reference takes 58.8 ms per step.
func BenchmarkCSDIStep(b *testing.B) {
	rng := newRng(6)
	ps := NewParams()
	net := newCSDINet(ps, benchC, 4, rng)
	input := uniformVar(rng, -1, 1, benchB, benchK, 2)
	side := uniformVar(rng, -1, 1, benchB, benchK, 17)
	table := uniformVar(rng, -1, 1, benchB, 128)
	eps := uniformVar(rng, -1, 1, benchB, benchK)
	for _, v := range []*Var{input, side, table, eps} {
		v.needsGrad = false
	}
	mask := make([]float64, benchB*benchK)
	for i := range mask {
		mask[i] = float64(rng.IntN(2))
	}
	opt := NewAdam(ps.Vars(), 1e-3)
	opt.WeightDecay = 1e-6
	tp := NewTape()
	drng := newRng(7)
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		tp.Reset()
		ps.ZeroGrad()
		loss := tp.MaskedMSE(net.forward(tp, input, side, table, drng), eps, mask)
		tp.Backward(loss)
		opt.Step()
	}
	reportCPU(b, c0)
}

func newCSDINet(ps *Params, c, layers int, rng *rand.Rand) *csdiNet {
	n := &csdiNet{
		in:      NewLinear(ps, "input", 2, c, true, rng),
		emb:     NewMLP(ps, "diffemb", []int{128, 128, 128}, (*Tape).SiLU, rng),
		out1:    NewLinear(ps, "out1", c, c, true, rng),
		out2:    NewLinear(ps, "out2", c, 1, true, rng),
		featEmb: ps.New("featemb", benchK, 16),
	}
	FillNormal(n.featEmb, 1, rng)
	for l := 0; l < layers; l++ {
		p := string(rune('a' + l))
		n.diff = append(n.diff, NewLinear(ps, p+".diff", 128, c, true, rng))
		n.tf = append(n.tf, NewTransformerEncoderLayer(ps, p+".tf", c, benchH, benchFF, 0.1, rng))
		n.mid = append(n.mid, NewLinear(ps, p+".mid", c, 2*c, true, rng))
		n.side = append(n.side, NewLinear(ps, p+".side", 17, 2*c, true, rng))
		n.outBlock = append(n.outBlock, NewLinear(ps, p+".out", c, 2*c, true, rng))
	}
	return n
}

// BenchmarkCSDISampleStep: one no-gradient forward pass of the same network on an
// inference tape (dropout off), as in every step of the reverse-diffusion sampler, for
// 64 sequences of K = 20 tokens (rows × samples are batched together when sampling).
func BenchmarkCSDISampleStep(b *testing.B) {
	rng := newRng(6)
	ps := NewParams()
	net := newCSDINet(ps, benchC, 4, rng)
	const nb = 64
	input := uniformVar(rng, -1, 1, nb, benchK, 2)
	side := uniformVar(rng, -1, 1, nb, benchK, 17)
	table := uniformVar(rng, -1, 1, nb, 128)
	tp := NewInferenceTape()
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		tp.Reset()
		net.forward(tp, input, side, table, nil)
	}
	reportCPU(b, c0)
}
