package autodiff

import (
	"fmt"
	"math"
)

// bplan describes a broadcast of a and b to a common shape (NumPy rules: shapes are
// right-aligned and a dimension of 1 stretches). Elements are visited row by row: the
// last output axis is the inner loop, where a and b advance by ia, ib ∈ {0, 1}.
type bplan struct {
	shape        [8]int
	rank         int
	inner        int
	ia, ib       int
	stA, stB     [8]int // per outer axis, 0 where broadcast
	outer        int
	same         bool
	sizeA, sizeB int
}

func newBplan(a, b []int, op string) *bplan {
	p := &bplan{}
	r := max(len(a), len(b))
	if r > len(p.shape) {
		panic(fmt.Sprintf("autodiff: %s: rank %d exceeds %d", op, r, len(p.shape)))
	}
	p.rank = r
	p.sizeA, p.sizeB = sizeOf(a), sizeOf(b)
	var pa, pb [8]int
	for i := 0; i < r; i++ {
		pa[i], pb[i] = 1, 1
	}
	copy(pa[r-len(a):r], a)
	copy(pb[r-len(b):r], b)
	for i := 0; i < r; i++ {
		switch {
		case pa[i] == pb[i]:
			p.shape[i] = pa[i]
		case pa[i] == 1:
			p.shape[i] = pb[i]
		case pb[i] == 1:
			p.shape[i] = pa[i]
		default:
			panic(fmt.Sprintf("autodiff: %s: shapes %v and %v do not broadcast", op, a, b))
		}
	}
	if sameShape(a, b) {
		p.same = true
		p.outer, p.inner, p.ia, p.ib = 1, p.sizeA, 1, 1
		return p
	}
	sa, sb := 1, 1
	for i := r - 1; i >= 0; i-- {
		if pa[i] != 1 {
			p.stA[i] = sa
		}
		if pb[i] != 1 {
			p.stB[i] = sb
		}
		sa *= pa[i]
		sb *= pb[i]
	}
	if r == 0 {
		p.outer, p.inner, p.ia, p.ib = 1, 1, 0, 0
		return p
	}
	p.inner = p.shape[r-1]
	p.ia, p.ib = p.stA[r-1], p.stB[r-1]
	p.outer = sizeOf(p.shape[:r-1])
	return p
}

func (p *bplan) outShape() []int { return p.shape[:p.rank] }

// rows calls fn for every output row with the offsets of its first element in out, a, b.
func (p *bplan) rows(fn func(o, a, b int)) {
	if p.inner == 0 {
		return
	}
	if p.rank <= 1 || p.same {
		fn(0, 0, 0)
		return
	}
	var idx [8]int
	oa, ob := 0, 0
	nd := p.rank - 1
	for r := 0; r < p.outer; r++ {
		fn(r*p.inner, oa, ob)
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			oa += p.stA[d]
			ob += p.stB[d]
			if idx[d] < p.shape[d] {
				break
			}
			oa -= p.stA[d] * idx[d]
			ob -= p.stB[d] * idx[d]
			idx[d] = 0
		}
	}
}

type binKind int

const (
	binAdd binKind = iota
	binSub
	binMul
	binDiv
)

// Add returns a + b with broadcasting (NumPy rules): same shapes, a bias [C] over rows
// [..., C], a per-sample [B,1,C] over [B,K,C], a scalar [] or [1], and so on. It panics
// when the shapes do not broadcast.
func (tp *Tape) Add(a, b *Var) *Var { return tp.binary(a, b, binAdd, "Add") }

// Sub returns a − b with broadcasting as in Add.
func (tp *Tape) Sub(a, b *Var) *Var { return tp.binary(a, b, binSub, "Sub") }

// Mul returns a ⊙ b (elementwise) with broadcasting as in Add.
func (tp *Tape) Mul(a, b *Var) *Var { return tp.binary(a, b, binMul, "Mul") }

// Div returns a ⊘ b (elementwise) with broadcasting as in Add.
func (tp *Tape) Div(a, b *Var) *Var { return tp.binary(a, b, binDiv, "Div") }

func (tp *Tape) binary(a, b *Var, kind binKind, op string) *Var {
	p := newBplan(a.Shape, b.Shape, op)
	out := tp.newVarNZ(p.outShape(), a, b)
	y, ad, bd := out.Data, a.Data, b.Data
	if p.same {
		tp.binarySame(out, a, b, kind)
		return out
	}
	n, ia, ib := p.inner, p.ia, p.ib
	p.rows(func(o, oa, ob int) {
		yr := y[o : o+n]
		switch kind {
		case binAdd:
			for i := range yr {
				yr[i] = ad[oa+i*ia] + bd[ob+i*ib]
			}
		case binSub:
			for i := range yr {
				yr[i] = ad[oa+i*ia] - bd[ob+i*ib]
			}
		case binMul:
			for i := range yr {
				yr[i] = ad[oa+i*ia] * bd[ob+i*ib]
			}
		case binDiv:
			for i := range yr {
				yr[i] = ad[oa+i*ia] / bd[ob+i*ib]
			}
		}
	})
	if out.needsGrad {
		tp.record(out, func() {
			ga, gb, g := tp.gradOf(a), tp.gradOf(b), out.Grad
			p.rows(func(o, oa, ob int) {
				gr := g[o : o+n]
				for i, gi := range gr {
					ja, jb := oa+i*ia, ob+i*ib
					switch kind {
					case binAdd:
						if ga != nil {
							ga[ja] += gi
						}
						if gb != nil {
							gb[jb] += gi
						}
					case binSub:
						if ga != nil {
							ga[ja] += gi
						}
						if gb != nil {
							gb[jb] -= gi
						}
					case binMul:
						if ga != nil {
							ga[ja] += gi * bd[jb]
						}
						if gb != nil {
							gb[jb] += gi * ad[ja]
						}
					case binDiv:
						if ga != nil {
							ga[ja] += gi / bd[jb]
						}
						if gb != nil {
							gb[jb] -= gi * y[o+i] / bd[jb]
						}
					}
				}
			})
		})
	}
	return out
}

// binarySame is binary for operands of the same shape: elementwise, split over goroutines
// for large tensors.
func (tp *Tape) binarySame(out, a, b *Var, kind binKind) {
	y, ad, bd := out.Data, a.Data, b.Data
	parElems(len(y), func(lo, hi int) {
		yr, ar, br := y[lo:hi], ad[lo:hi], bd[lo:hi]
		switch kind {
		case binAdd:
			for i := range yr {
				yr[i] = ar[i] + br[i]
			}
		case binSub:
			for i := range yr {
				yr[i] = ar[i] - br[i]
			}
		case binMul:
			for i := range yr {
				yr[i] = ar[i] * br[i]
			}
		case binDiv:
			for i := range yr {
				yr[i] = ar[i] / br[i]
			}
		}
	})
	if !out.needsGrad {
		return
	}
	tp.record(out, func() {
		ga, gb, g := tp.gradOf(a), tp.gradOf(b), out.Grad
		parElems(len(g), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := g[i]
				switch kind {
				case binAdd:
					if ga != nil {
						ga[i] += gi
					}
					if gb != nil {
						gb[i] += gi
					}
				case binSub:
					if ga != nil {
						ga[i] += gi
					}
					if gb != nil {
						gb[i] -= gi
					}
				case binMul:
					if ga != nil {
						ga[i] += gi * bd[i]
					}
					if gb != nil {
						gb[i] += gi * ad[i]
					}
				case binDiv:
					if ga != nil {
						ga[i] += gi / bd[i]
					}
					if gb != nil {
						gb[i] -= gi * y[i] / bd[i]
					}
				}
			}
		})
	})
}

// Scale returns c·x.
func (tp *Tape) Scale(x *Var, c float64) *Var {
	out := tp.newVarNZ(x.Shape, x)
	xd, y := x.Data, out.Data
	parElems(len(xd), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = c * xd[i]
		}
	})
	if out.needsGrad {
		tp.record(out, func() {
			gx, gy := tp.gradOf(x), out.Grad
			parElems(len(xd), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					gx[i] += c * gy[i]
				}
			})
		})
	}
	return out
}

// AddScalar returns x + c.
func (tp *Tape) AddScalar(x *Var, c float64) *Var {
	out := tp.newVarNZ(x.Shape, x)
	for i, v := range x.Data {
		out.Data[i] = v + c
	}
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			for i, g := range out.Grad {
				gx[i] += g
			}
		})
	}
	return out
}

// Neg returns −x.
func (tp *Tape) Neg(x *Var) *Var { return tp.Scale(x, -1) }

// unary applies f elementwise; df(x, y) is f'(x) given y = f(x).
func (tp *Tape) unary(x *Var, f func(float64) float64, df func(x, y float64) float64) *Var {
	out := tp.newVarNZ(x.Shape, x)
	xd, y := x.Data, out.Data
	parElems(len(xd), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = f(xd[i])
		}
	})
	if out.needsGrad {
		tp.record(out, func() {
			gx, gy := tp.gradOf(x), out.Grad
			parElems(len(xd), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					if g := gy[i]; g != 0 {
						gx[i] += g * df(xd[i], y[i])
					}
				}
			})
		})
	}
	return out
}

const (
	invSqrt2   = 0.70710678118654752440084436210484903928483593768847 // 1/√2
	invSqrt2Pi = 0.39894228040143267793994605993438186847585863116493 // 1/√(2π)
	logSqrt2Pi = 0.91893853320467274178032973640561763986139747363778 // log √(2π)
)

func relu(x float64) float64 {
	if x > 0 {
		return x
	}
	return 0
}
func drelu(x, _ float64) float64 {
	if x > 0 {
		return 1
	}
	return 0
}

// sigmoid is 1/(1+e^{−x}) evaluated without overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
func dsigmoid(_, y float64) float64 { return y * (1 - y) }
func silu(x float64) float64        { return x * sigmoid(x) }
func dsilu(x, _ float64) float64 {
	s := sigmoid(x)
	return s * (1 + x*(1-s))
}
func dtanh(_, y float64) float64 { return 1 - y*y }

// normPDF is φ(x), normCDF is Φ(x) = ½·erfc(−x/√2) (accurate in the lower tail).
func normPDF(x float64) float64 { return invSqrt2Pi * math.Exp(-0.5*x*x) }
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x*invSqrt2) }
func gelu(x float64) float64    { return x * normCDF(x) }
func dgelu(x, _ float64) float64 {
	return normCDF(x) + x*normPDF(x)
}
func dexp(_, y float64) float64    { return y }
func dlog(x, _ float64) float64    { return 1 / x }
func dsqrt(_, y float64) float64   { return 0.5 / y }
func square(x float64) float64     { return x * x }
func dsquare(x, _ float64) float64 { return 2 * x }
func derf(x, _ float64) float64    { return 2 / math.SqrtPi * math.Exp(-x*x) }
func dnormCDF(x, _ float64) float64 {
	return normPDF(x)
}
func dnormPDF(x, y float64) float64 { return -x * y }

// softplus is log(1+eˣ) without overflow or loss of precision for large |x|.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
func dsoftplus(x, _ float64) float64 { return sigmoid(x) }

// logNormCDF is log Φ(x).
//   - x > 0: log1p(−Q(x)) with Q(x) = ½·erfc(x/√2), which keeps the tiny log of a Φ near 1
//     (log Φ(8) = −6.2e-16, where Φ(8) itself rounds to 1 − 2⁻⁵⁰).
//   - −20 < x ≤ 0: log(½·erfc(−x/√2)); erfc keeps full relative precision in its tail.
//   - x ≤ −20: the asymptotic expansion log Φ(x) = log φ(x) − log(−x) + log S(x) with
//     S(x) = 1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸ − 945/x¹⁰ + 10395/x¹² − 135135/x¹⁴, whose
//     first omitted term, 2027025/x¹⁶, is below 3e-15 for |x| ≥ 20.
func logNormCDF(x float64) float64 {
	switch {
	case x > 0:
		return math.Log1p(-0.5 * math.Erfc(x*invSqrt2))
	case x > -20:
		return math.Log(normCDF(x))
	}
	return -0.5*x*x - logSqrt2Pi - math.Log(-x) + math.Log(millsSeries(x))
}

// millsSeries is S(x) above: Φ(x) ≈ φ(x)·S(x)/(−x) for x ≪ 0.
func millsSeries(x float64) float64 {
	z := 1 / (x * x)
	return 1 - z*(1-z*(3-z*(15-z*(105-z*(945-z*(10395-z*135135))))))
}

// dlogNormCDF is (log Φ)'(x) = φ(x)/Φ(x); for x ≤ −20 it is −x/S(x).
func dlogNormCDF(x, _ float64) float64 {
	if x > -20 {
		return normPDF(x) / normCDF(x)
	}
	return -x / millsSeries(x)
}

// ReLU returns max(x, 0). Its derivative at 0 is taken as 0.
func (tp *Tape) ReLU(x *Var) *Var { return tp.unary(x, relu, drelu) }

// Sigmoid returns 1/(1+e^{−x}).
func (tp *Tape) Sigmoid(x *Var) *Var { return tp.unary(x, sigmoid, dsigmoid) }

// SiLU returns x·σ(x).
func (tp *Tape) SiLU(x *Var) *Var { return tp.unary(x, silu, dsilu) }

// Tanh returns tanh(x).
func (tp *Tape) Tanh(x *Var) *Var { return tp.unary(x, math.Tanh, dtanh) }

// GELU returns the exact GELU x·Φ(x) = ½x(1+erf(x/√2)) (PyTorch's default, not the tanh
// approximation).
func (tp *Tape) GELU(x *Var) *Var { return tp.unary(x, gelu, dgelu) }

// Exp returns eˣ.
func (tp *Tape) Exp(x *Var) *Var { return tp.unary(x, math.Exp, dexp) }

// Log returns the natural logarithm of x (NaN/−Inf for x ≤ 0, as math.Log).
func (tp *Tape) Log(x *Var) *Var { return tp.unary(x, math.Log, dlog) }

// Sqrt returns √x.
func (tp *Tape) Sqrt(x *Var) *Var { return tp.unary(x, math.Sqrt, dsqrt) }

// Square returns x².
func (tp *Tape) Square(x *Var) *Var { return tp.unary(x, square, dsquare) }

// Erf returns the error function of x.
func (tp *Tape) Erf(x *Var) *Var { return tp.unary(x, math.Erf, derf) }

// NormCDF returns the standard normal CDF Φ(x).
func (tp *Tape) NormCDF(x *Var) *Var { return tp.unary(x, normCDF, dnormCDF) }

// NormPDF returns the standard normal density φ(x).
func (tp *Tape) NormPDF(x *Var) *Var { return tp.unary(x, normPDF, dnormPDF) }

// LogNormCDF returns log Φ(x), finite and accurate for very negative x (asymptotic series
// below −20), with derivative φ(x)/Φ(x).
func (tp *Tape) LogNormCDF(x *Var) *Var { return tp.unary(x, logNormCDF, dlogNormCDF) }

// Softplus returns log(1+eˣ), computed stably.
func (tp *Tape) Softplus(x *Var) *Var { return tp.unary(x, softplus, dsoftplus) }
