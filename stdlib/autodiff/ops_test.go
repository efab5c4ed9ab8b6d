package autodiff

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Every op is checked against central finite differences through CheckGradients, whose own
// correctness is checked in gradcheck_test.go. The loss is f = Σ op(x)⊙R with a random
// upstream gradient R, and every input is checked at every coordinate. The tolerance is the
// project's: |g_ad − g_fd| ≤ 1e-6·max(1, |g_ad|, |g_fd|) with step 1e-6·max(1, |x|)
// (methods/csdi_icr.md §3.3).

func newRng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// uniformVar returns a leaf Var with entries ~ U(lo, hi).
func uniformVar(rng *rand.Rand, lo, hi float64, shape ...int) *Var {
	d := make([]float64, sizeOf(shape))
	for i := range d {
		d[i] = lo + (hi-lo)*rng.Float64()
	}
	return NewVar(d, shape...)
}

// awayFromZero returns entries with lo ≤ |x| ≤ hi and random sign (ReLU test points stay
// clear of the kink).
func awayFromZero(rng *rand.Rand, lo, hi float64, shape ...int) *Var {
	v := uniformVar(rng, lo, hi, shape...)
	for i := range v.Data {
		if rng.IntN(2) == 0 {
			v.Data[i] = -v.Data[i]
		}
	}
	return v
}

func fixedVar(data []float64, shape ...int) *Var { return NewVar(data, shape...) }

// spd returns a batch of random symmetric positive definite matrices M·Mᵀ + n·I.
func spd(rng *rand.Rand, batch, n int) *Var {
	d := make([]float64, batch*n*n)
	for b := 0; b < batch; b++ {
		m := make([]float64, n*n)
		for i := range m {
			m[i] = rng.NormFloat64()
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for k := 0; k < n; k++ {
					s += m[i*n+k] * m[j*n+k]
				}
				if i == j {
					s += float64(n)
				}
				d[b*n*n+i*n+j] = s
			}
		}
	}
	return NewVar(d, batch, n, n)
}

// lowerTri returns a batch of random lower-triangular matrices with diagonal in [1, 2].
// The strict upper part holds random junk that TriSolve must ignore.
func lowerTri(rng *rand.Rand, batch, n int) *Var {
	v := uniformVar(rng, -1, 1, batch, n, n)
	for b := 0; b < batch; b++ {
		for i := 0; i < n; i++ {
			v.Data[b*n*n+i*n+i] = 1 + rng.Float64()
		}
	}
	return v
}

type opCase struct {
	name   string
	inputs func(rng *rand.Rand) []*Var
	op     func(tp *Tape, x []*Var) *Var
}

func shapes(shs ...[]int) func(rng *rand.Rand) []*Var {
	return func(rng *rand.Rand) []*Var {
		var vs []*Var
		for _, s := range shs {
			vs = append(vs, uniformVar(rng, -1.5, 1.5, s...))
		}
		return vs
	}
}

func sh(s ...int) []int { return s }

func unaryCase(name string, gen func(rng *rand.Rand) *Var, f func(tp *Tape, x *Var) *Var) opCase {
	return opCase{name, func(rng *rand.Rand) []*Var { return []*Var{gen(rng)} }, func(tp *Tape, x []*Var) *Var { return f(tp, x[0]) }}
}

func mustChol(tp *Tape, a *Var) *Var {
	l, err := tp.Cholesky(a)
	if err != nil {
		panic(err)
	}
	return l
}

var opCases = []opCase{
	// Matrix products.
	{"MatMul", shapes(sh(3, 4), sh(4, 5)), func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1], false, false) }},
	{"MatMul/Aᵀ", shapes(sh(4, 3), sh(4, 5)), func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1], true, false) }},
	{"MatMul/Bᵀ", shapes(sh(3, 4), sh(5, 4)), func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1], false, true) }},
	{"MatMul/AᵀBᵀ", shapes(sh(4, 3), sh(5, 4)), func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[1], true, true) }},
	{"MatMul/shared", shapes(sh(4, 4)), func(tp *Tape, x []*Var) *Var { return tp.MatMul(x[0], x[0], false, true) }},
	{"BatchMatMul", shapes(sh(2, 3, 4, 5), sh(2, 3, 5, 2)), func(tp *Tape, x []*Var) *Var { return tp.BatchMatMul(x[0], x[1], false, false) }},
	{"BatchMatMul/Bᵀ", shapes(sh(2, 3, 4, 5), sh(2, 3, 6, 5)), func(tp *Tape, x []*Var) *Var { return tp.BatchMatMul(x[0], x[1], false, true) }},
	{"BatchMatMul/AᵀBᵀ", shapes(sh(3, 5, 4), sh(3, 2, 5)), func(tp *Tape, x []*Var) *Var { return tp.BatchMatMul(x[0], x[1], true, true) }},
	{"Linear", shapes(sh(2, 3, 4), sh(5, 4), sh(5)), func(tp *Tape, x []*Var) *Var { return tp.Linear(x[0], x[1], x[2]) }},
	{"Linear/nobias", shapes(sh(6, 4), sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Linear(x[0], x[1], nil) }},

	// Broadcasting arithmetic.
	{"Add/same", shapes(sh(3, 4), sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
	{"Add/bias[C]", shapes(sh(2, 3, 4), sh(4)), func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
	{"Add/persample[B,1,C]", shapes(sh(2, 3, 4), sh(2, 1, 4)), func(tp *Tape, x []*Var) *Var { return tp.Add(x[1], x[0]) }},
	{"Add/scalar[]", shapes(sh(3, 4), sh()), func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
	{"Add/outer[3,1]+[1,4]", shapes(sh(3, 1), sh(1, 4)), func(tp *Tape, x []*Var) *Var { return tp.Add(x[0], x[1]) }},
	{"Sub/rows[N,1]", shapes(sh(3, 4), sh(3, 1)), func(tp *Tape, x []*Var) *Var { return tp.Sub(x[0], x[1]) }},
	{"Sub/bias", shapes(sh(4), sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Sub(x[0], x[1]) }},
	{"Mul/same", shapes(sh(3, 4), sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Mul(x[0], x[1]) }},
	{"Mul/self", shapes(sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Mul(x[0], x[0]) }},
	{"Mul/persample", shapes(sh(2, 3, 4), sh(2, 1, 4)), func(tp *Tape, x []*Var) *Var { return tp.Mul(x[0], x[1]) }},
	{"Mul/scalar[1]", shapes(sh(1), sh(2, 3)), func(tp *Tape, x []*Var) *Var { return tp.Mul(x[0], x[1]) }},
	{"Div/rows", func(rng *rand.Rand) []*Var {
		return []*Var{uniformVar(rng, -2, 2, 3, 4), awayFromZero(rng, 0.5, 2, 3, 1)}
	}, func(tp *Tape, x []*Var) *Var { return tp.Div(x[0], x[1]) }},
	{"Div/same", func(rng *rand.Rand) []*Var {
		return []*Var{uniformVar(rng, -2, 2, 2, 3), awayFromZero(rng, 0.5, 2, 2, 3)}
	}, func(tp *Tape, x []*Var) *Var { return tp.Div(x[0], x[1]) }},
	{"Scale", shapes(sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Scale(x[0], -2.5) }},
	{"AddScalar", shapes(sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.AddScalar(x[0], 0.7) }},
	{"Neg", shapes(sh(5)), func(tp *Tape, x []*Var) *Var { return tp.Neg(x[0]) }},

	// Shapes.
	{"Reshape", shapes(sh(2, 6)), func(tp *Tape, x []*Var) *Var { return tp.Tanh(tp.Reshape(x[0], 3, -1)) }},
	{"Permute", shapes(sh(2, 3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Permute(x[0], 2, 0, 1) }},
	{"Transpose", shapes(sh(2, 3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Transpose(x[0]) }},
	{"SplitHeads", shapes(sh(2, 3, 6)), func(tp *Tape, x []*Var) *Var { return tp.SplitHeads(x[0], 3) }},
	{"MergeHeads", shapes(sh(2, 3, 4, 2)), func(tp *Tape, x []*Var) *Var { return tp.MergeHeads(x[0]) }},
	{"Concat", shapes(sh(2, 3, 2), sh(2, 3, 1), sh(2, 3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Concat(x[0], x[1], x[2]) }},
	{"Split", shapes(sh(3, 7)), func(tp *Tape, x []*Var) *Var {
		p := tp.Split(x[0], 2, 4, 1)
		return tp.Concat(tp.Scale(p[2], 3), tp.Tanh(p[1]), p[0])
	}},
	{"Split/unused piece", shapes(sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Split(x[0], 1, 3)[1] }},
	{"Embedding", shapes(sh(5, 3)), func(tp *Tape, x []*Var) *Var { return tp.Embedding(x[0], []int{4, 0, 4, 2, 4}) }},

	// Elementwise functions.
	unaryCase("ReLU", func(r *rand.Rand) *Var { return awayFromZero(r, 1e-2, 2, 4, 5) }, (*Tape).ReLU),
	unaryCase("SiLU", func(r *rand.Rand) *Var { return uniformVar(r, -6, 6, 4, 5) }, (*Tape).SiLU),
	unaryCase("Sigmoid", func(r *rand.Rand) *Var { return uniformVar(r, -8, 8, 4, 5) }, (*Tape).Sigmoid),
	unaryCase("Tanh", func(r *rand.Rand) *Var { return uniformVar(r, -3, 3, 4, 5) }, (*Tape).Tanh),
	unaryCase("GELU", func(r *rand.Rand) *Var { return awayFromZero(r, 1e-2, 5, 4, 5) }, (*Tape).GELU),
	unaryCase("Exp", func(r *rand.Rand) *Var { return uniformVar(r, -3, 3, 4, 5) }, (*Tape).Exp),
	unaryCase("Log", func(r *rand.Rand) *Var { return uniformVar(r, 0.2, 5, 4, 5) }, (*Tape).Log),
	unaryCase("Sqrt", func(r *rand.Rand) *Var { return uniformVar(r, 0.2, 5, 4, 5) }, (*Tape).Sqrt),
	unaryCase("Square", func(r *rand.Rand) *Var { return uniformVar(r, -3, 3, 4, 5) }, (*Tape).Square),
	unaryCase("Erf", func(r *rand.Rand) *Var { return uniformVar(r, -3, 3, 4, 5) }, (*Tape).Erf),
	unaryCase("NormCDF", func(r *rand.Rand) *Var { return uniformVar(r, -4, 4, 4, 5) }, (*Tape).NormCDF),
	unaryCase("NormPDF", func(r *rand.Rand) *Var { return uniformVar(r, -4, 4, 4, 5) }, (*Tape).NormPDF),
	unaryCase("LogNormCDF", func(r *rand.Rand) *Var {
		return fixedVar([]float64{-60, -37, -30, -25, -20.5, -19.5, -10, -5, -1, 0, 0.3, 2, 8}, 13)
	}, (*Tape).LogNormCDF),
	unaryCase("Softplus", func(r *rand.Rand) *Var {
		return fixedVar([]float64{-800, -40, -3, -0.5, 0, 0.5, 3, 40, 800}, 9)
	}, (*Tape).Softplus),

	// Reductions and normalizations.
	{"Sum", shapes(sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Sum(x[0]) }},
	{"Mean", shapes(sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.Mean(x[0]) }},
	{"SumAxis/0", shapes(sh(3, 4, 2)), func(tp *Tape, x []*Var) *Var { return tp.SumAxis(x[0], 0) }},
	{"SumAxis/1", shapes(sh(3, 4, 2)), func(tp *Tape, x []*Var) *Var { return tp.SumAxis(x[0], 1) }},
	{"MeanAxis/-1", shapes(sh(3, 4, 2)), func(tp *Tape, x []*Var) *Var { return tp.MeanAxis(x[0], -1) }},
	unaryCase("Softmax/mixed rows", func(r *rand.Rand) *Var {
		return fixedVar([]float64{
			1000, 999, -1000, 998.5, // huge values: needs the max shift
			1e-3, -2e-3, 5e-4, 0, // tiny spread
			-3, 1, 0.5, 2, // ordinary
		}, 3, 4)
	}, (*Tape).Softmax),
	unaryCase("LogSumExp/mixed rows", func(r *rand.Rand) *Var {
		return fixedVar([]float64{1000, 999, -1000, 998.5, 1e-3, -2e-3, 5e-4, 0, -3, 1, 0.5, 2}, 3, 4)
	}, (*Tape).LogSumExp),
	{"LayerNorm/mixed rows", func(rng *rand.Rand) []*Var {
		x := fixedVar([]float64{
			100, -50, 0.01, 3, 27, // large spread
			1e-2, 2e-2, -1e-2, 0, 5e-3, // small spread, comparable to √eps
			1000.5, 1001, 999, 1000, 1000.25, // large offset
		}, 3, 5)
		return []*Var{x, uniformVar(rng, 0.5, 1.5, 5), uniformVar(rng, -1, 1, 5)}
	}, func(tp *Tape, x []*Var) *Var { return tp.LayerNorm(x[0], x[1], x[2], 1e-5) }},
	{"LayerNorm/random", shapes(sh(2, 3, 6), sh(6), sh(6)), func(tp *Tape, x []*Var) *Var { return tp.LayerNorm(x[0], x[1], x[2], 1e-5) }},
	{"LayerNorm/noaffine", shapes(sh(4, 6)), func(tp *Tape, x []*Var) *Var { return tp.LayerNorm(x[0], nil, nil, 1e-5) }},
	{"Dropout", shapes(sh(4, 6)), func(tp *Tape, x []*Var) *Var { return tp.Dropout(x[0], 0.3, newRng(7)) }},
	{"Dropout/p0", shapes(sh(4, 6)), func(tp *Tape, x []*Var) *Var { return tp.Tanh(tp.Dropout(x[0], 0, nil)) }},
	{"MaskedMSE", shapes(sh(3, 4), sh(3, 4)), func(tp *Tape, x []*Var) *Var {
		return tp.MaskedMSE(x[0], x[1], []float64{1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0})
	}},
	{"MaskedMSE/nomask", shapes(sh(3, 4), sh(3, 4)), func(tp *Tape, x []*Var) *Var { return tp.MaskedMSE(x[0], x[1], nil) }},

	// Linear algebra.
	{"Cholesky", func(rng *rand.Rand) []*Var { return []*Var{spd(rng, 2, 4)} }, func(tp *Tape, x []*Var) *Var { return mustChol(tp, x[0]) }},
	{"Cholesky/1x1", func(rng *rand.Rand) []*Var { return []*Var{spd(rng, 1, 1)} }, func(tp *Tape, x []*Var) *Var { return mustChol(tp, x[0]) }},
	{"TriSolve", func(rng *rand.Rand) []*Var { return []*Var{lowerTri(rng, 2, 4), uniformVar(rng, -1, 1, 2, 4, 3)} },
		func(tp *Tape, x []*Var) *Var { return tp.TriSolve(x[0], x[1], false) }},
	{"TriSolve/trans", func(rng *rand.Rand) []*Var { return []*Var{lowerTri(rng, 2, 4), uniformVar(rng, -1, 1, 2, 4, 3)} },
		func(tp *Tape, x []*Var) *Var { return tp.TriSolve(x[0], x[1], true) }},
	{"CholSolve", func(rng *rand.Rand) []*Var { return []*Var{spd(rng, 1, 5), uniformVar(rng, -1, 1, 1, 5, 2)} },
		func(tp *Tape, x []*Var) *Var { return tp.CholSolve(mustChol(tp, x[0]), x[1]) }},
	{"LogDetChol", func(rng *rand.Rand) []*Var { return []*Var{lowerTri(rng, 3, 4)} },
		func(tp *Tape, x []*Var) *Var { return tp.LogDetChol(x[0]) }},
	{"LogDetSPD", func(rng *rand.Rand) []*Var { return []*Var{spd(rng, 2, 5)} },
		func(tp *Tape, x []*Var) *Var {
			l, err := tp.LogDetSPD(x[0])
			if err != nil {
				panic(err)
			}
			return l
		}},
	{"Diag", shapes(sh(2, 3, 3)), func(tp *Tape, x []*Var) *Var { return tp.Diag(x[0]) }},
	{"Custom", shapes(sh(3)), func(tp *Tape, x []*Var) *Var { // y = x³, a correct custom op
		y := make([]float64, 3)
		for i, v := range x[0].Data {
			y[i] = v * v * v
		}
		return tp.Custom(NewTensor(y, 3), x[:1], func(g []float64, gp [][]float64) {
			for i, v := range x[0].Data {
				gp[0][i] += 3 * v * v * g[i]
			}
		})
	}},
}

func TestOpGradients(t *testing.T) {
	for i, c := range opCases {
		t.Run(c.name, func(t *testing.T) {
			rng := newRng(uint64(100 + i))
			xs := c.inputs(rng)
			// R is drawn once, shaped like the op's output (found with a nil tape).
			outShape := c.op(nil, xs).Shape
			r := uniformVar(rng, -1, 1, outShape...)
			r.needsGrad = false
			f := func(tp *Tape) *Var { return tp.Sum(tp.Mul(c.op(tp, xs), r)) }
			res, err := CheckGradients(f, xs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Checked == 0 {
				t.Fatal("no coordinate checked")
			}
			t.Logf("%d coordinates, max scaled error %.2g", res.Checked, res.MaxErr)
		})
	}
}

func TestAttentionGradients(t *testing.T) {
	for _, c := range []struct {
		name    string
		b, k, h int
		d       int
		drop    float64
	}{
		{"nodrop", 2, 5, 2, 3, 0},
		{"dropout", 2, 4, 3, 2, 0.3},
		{"single token", 3, 1, 2, 2, 0},
		{"big (parallel path)", 16, 20, 8, 8, 0.1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := newRng(21)
			x := uniformVar(rng, -1.5, 1.5, c.b, c.k, 3*c.h*c.d)
			r := uniformVar(rng, -1, 1, c.b, c.k, c.h*c.d)
			r.needsGrad = false
			f := func(tp *Tape) *Var {
				var dr *rand.Rand
				if c.drop > 0 {
					dr = newRng(5)
				}
				return tp.Sum(tp.Mul(tp.Attention(x, c.h, c.drop, dr), r))
			}
			s := &GradCheckSettings{}
			if len(x.Data) > 2000 {
				s.MaxCoords, s.Rand = 200, newRng(3)
			}
			res, err := CheckGradients(f, []*Var{x}, s)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d coordinates, max scaled error %.2g", res.Checked, res.MaxErr)
		})
	}
}

// TestAttentionMatchesComposed: the fused op equals the composition of elementary ops,
// value and gradient, with the same dropout draws (tolerance: rounding only).
func TestAttentionMatchesComposed(t *testing.T) {
	rng := newRng(22)
	ps := NewParams()
	mha := NewMultiHeadAttention(ps, "a", 12, 3, 0.2, rng)
	x := uniformVar(rng, -1, 1, 4, 6, 12)
	r := uniformVar(rng, -1, 1, 4, 6, 12)
	r.needsGrad = false
	run := func(fused bool) (val, grad []float64) {
		ps.ZeroGrad()
		x.Grad = nil
		tp := NewTape()
		var y *Var
		if fused {
			y = mha.Forward(tp, x, newRng(9))
		} else {
			y = mha.ForwardComposed(tp, x, newRng(9))
		}
		tp.Backward(tp.Sum(tp.Mul(y, r)))
		return append([]float64(nil), y.Data...), append(ps.FlattenGrad(nil), x.Grad...)
	}
	v1, g1 := run(true)
	v2, g2 := run(false)
	for i := range v1 {
		if math.Abs(v1[i]-v2[i]) > 1e-13 {
			t.Fatalf("value %d: fused %v, composed %v", i, v1[i], v2[i])
		}
	}
	for i := range g1 {
		if math.Abs(g1[i]-g2[i]) > 1e-12*math.Max(1, math.Abs(g2[i])) {
			t.Fatalf("gradient %d: fused %v, composed %v", i, g1[i], g2[i])
		}
	}
}
