package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Sum returns the sum of all elements of x as a scalar (shape []).
func (tp *Tape) Sum(x *Var) *Var {
	out := tp.newVar(nil, x)
	s := 0.0
	for _, v := range x.Data {
		s += v
	}
	out.Data[0] = s
	if out.needsGrad {
		tp.record(out, func() {
			gx, g := tp.gradOf(x), out.Grad[0]
			for i := range gx {
				gx[i] += g
			}
		})
	}
	return out
}

// Mean returns the mean of all elements of x as a scalar (NaN for an empty x).
func (tp *Tape) Mean(x *Var) *Var { return tp.Scale(tp.Sum(x), 1/float64(len(x.Data))) }

// SumAxis sums x over one axis (negative counts from the end), removing that axis.
func (tp *Tape) SumAxis(x *Var, axis int) *Var {
	r := len(x.Shape)
	axis = normAxis(axis, r, "SumAxis")
	outer, n, inner := sizeOf(x.Shape[:axis]), x.Shape[axis], sizeOf(x.Shape[axis+1:])
	var shp [8]int
	oshape := append(append(shp[:0], x.Shape[:axis]...), x.Shape[axis+1:]...)
	out := tp.newVar(oshape, x)
	for o := 0; o < outer; o++ {
		dst := out.Data[o*inner : (o+1)*inner]
		for k := 0; k < n; k++ {
			src := x.Data[(o*n+k)*inner : (o*n+k+1)*inner]
			for i, v := range src {
				dst[i] += v
			}
		}
	}
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			for o := 0; o < outer; o++ {
				g := out.Grad[o*inner : (o+1)*inner]
				for k := 0; k < n; k++ {
					dst := gx[(o*n+k)*inner : (o*n+k+1)*inner]
					for i, v := range g {
						dst[i] += v
					}
				}
			}
		})
	}
	return out
}

// MeanAxis averages x over one axis, removing that axis.
func (tp *Tape) MeanAxis(x *Var, axis int) *Var {
	axis = normAxis(axis, len(x.Shape), "MeanAxis")
	return tp.Scale(tp.SumAxis(x, axis), 1/float64(x.Shape[axis]))
}

func lastDim(x *Var, op string) (rows, n int) {
	if len(x.Shape) == 0 {
		panic(fmt.Sprintf("autodiff: %s of a scalar", op))
	}
	n = x.Shape[len(x.Shape)-1]
	if n == 0 {
		return 0, 0
	}
	return len(x.Data) / n, n
}

// Softmax returns exp(x)/Σexp(x) over the last axis (max-subtracted, so large values are safe).
func (tp *Tape) Softmax(x *Var) *Var {
	rows, n := lastDim(x, "Softmax")
	out := tp.newVarNZ(x.Shape, x)
	parRows(rows, n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr := out.Data[r*n : (r+1)*n]
			copy(yr, x.Data[r*n:(r+1)*n])
			softmaxRow(yr, 1)
		}
	})
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			parRows(rows, n, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					yr, gy, gr := out.Data[r*n:(r+1)*n], out.Grad[r*n:(r+1)*n], gx[r*n:(r+1)*n]
					dot := 0.0
					for i, y := range yr {
						dot += y * gy[i]
					}
					for i, y := range yr {
						gr[i] += y * (gy[i] - dot)
					}
				}
			})
		})
	}
	return out
}

// LogSumExp returns log Σ exp(x) over the last axis, removing it (max-subtracted).
func (tp *Tape) LogSumExp(x *Var) *Var {
	rows, n := lastDim(x, "LogSumExp")
	out := tp.newVar(x.Shape[:len(x.Shape)-1], x)
	for r := 0; r < rows; r++ {
		xr := x.Data[r*n : (r+1)*n]
		m := math.Inf(-1)
		for _, v := range xr {
			if v > m {
				m = v
			}
		}
		if math.IsInf(m, 0) {
			out.Data[r] = m
			continue
		}
		s := 0.0
		for _, v := range xr {
			s += math.Exp(v - m)
		}
		out.Data[r] = m + math.Log(s)
	}
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			for r := 0; r < rows; r++ {
				g, l := out.Grad[r], out.Data[r]
				if g == 0 {
					continue
				}
				xr, gr := x.Data[r*n:(r+1)*n], gx[r*n:(r+1)*n]
				for i, v := range xr {
					gr[i] += g * math.Exp(v-l)
				}
			}
		})
	}
	return out
}

// LayerNorm normalizes each row of x over its last axis C: x̂ = (x−μ)/√(v+eps) with the
// biased variance v, then returns γ⊙x̂ + β. gamma and beta are [C] or nil (no affine
// part). PyTorch's default eps is 1e-5.
func (tp *Tape) LayerNorm(x, gamma, beta *Var, eps float64) *Var {
	rows, n := lastDim(x, "LayerNorm")
	if (gamma != nil && len(gamma.Data) != n) || (beta != nil && len(beta.Data) != n) {
		panic(fmt.Sprintf("autodiff: LayerNorm: affine parameters do not match last axis of %v", x.Shape))
	}
	out := tp.newVarNZ(x.Shape, x, gamma, beta)
	var xhat, rstd []float64
	if out.needsGrad {
		xhat, rstd = tp.allocNZ(len(x.Data)), tp.allocNZ(rows)
	} else {
		xhat = out.Data
	}
	fn := float64(n)
	parRows(rows, n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, hr := x.Data[r*n:(r+1)*n], xhat[r*n:(r+1)*n]
			mu := 0.0
			for _, v := range xr {
				mu += v
			}
			mu /= fn
			va := 0.0
			for _, v := range xr {
				d := v - mu
				va += d * d
			}
			va /= fn
			is := 1 / math.Sqrt(va+eps)
			if rstd != nil {
				rstd[r] = is
			}
			for i, v := range xr {
				hr[i] = (v - mu) * is
			}
			yr := out.Data[r*n : (r+1)*n]
			for i := range yr {
				h := hr[i]
				if gamma != nil {
					h *= gamma.Data[i]
				}
				if beta != nil {
					h += beta.Data[i]
				}
				yr[i] = h
			}
		}
	})
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			var gg, gb []float64
			if gamma != nil {
				gg = tp.gradOf(gamma)
			}
			if beta != nil {
				gb = tp.gradOf(beta)
			}
			// γ and β gradients are sums over rows: one serial pass, fixed order.
			if gg != nil || gb != nil {
				for r := 0; r < rows; r++ {
					gy, hr := out.Grad[r*n:(r+1)*n], xhat[r*n:(r+1)*n]
					for i, g := range gy {
						if gg != nil {
							gg[i] += g * hr[i]
						}
						if gb != nil {
							gb[i] += g
						}
					}
				}
			}
			if gx == nil {
				return
			}
			parRows(rows, n, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					gy, hr := out.Grad[r*n:(r+1)*n], xhat[r*n:(r+1)*n]
					mg, mgh := 0.0, 0.0
					for i, g := range gy {
						if gamma != nil {
							g *= gamma.Data[i]
						}
						mg += g
						mgh += g * hr[i]
					}
					mg /= fn
					mgh /= fn
					is := rstd[r]
					gr := gx[r*n : (r+1)*n]
					for i, g := range gy {
						if gamma != nil {
							g *= gamma.Data[i]
						}
						gr[i] += (g - mg - hr[i]*mgh) * is
					}
				}
			})
		})
	}
	return out
}

// Dropout zeroes each element of x with probability p and scales the survivors by
// 1/(1−p) (inverted dropout, as PyTorch in training mode). The mask is drawn as in
// dropoutMask: each rng.Uint64() gives two elements, in order. p = 0 returns x itself and draws nothing; rng may
// then be nil. It panics unless 0 ≤ p < 1, or if rng is nil with p > 0.
func (tp *Tape) Dropout(x *Var, p float64, rng *rand.Rand) *Var {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("autodiff: Dropout: p = %v outside [0, 1)", p))
	}
	if p == 0 {
		return x
	}
	if rng == nil {
		panic("autodiff: Dropout: nil rng with p > 0")
	}
	out := tp.newVarNZ(x.Shape, x)
	mask := tp.allocNZ(len(x.Data))
	dropoutMask(mask, p, rng)
	for i, v := range x.Data {
		out.Data[i] = v * mask[i]
	}
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			for i, g := range out.Grad {
				gx[i] += g * mask[i]
			}
		})
	}
	return out
}

// MaskedMSE returns Σ M⊙(a−b)² / max(1, ΣM), the CSDI loss: a mean over the entries the
// mask selects (0 with zero gradient when the mask is empty). mask may be nil (all ones,
// giving the plain mean squared error); its values are weights, normally 0 or 1, and it
// takes no gradient. It panics unless a, b (and mask) have the same size.
func (tp *Tape) MaskedMSE(a, b *Var, mask []float64) *Var {
	if len(a.Data) != len(b.Data) || (mask != nil && len(mask) != len(a.Data)) {
		panic(fmt.Sprintf("autodiff: MaskedMSE: sizes differ: %d, %d, mask %d", len(a.Data), len(b.Data), len(mask)))
	}
	out := tp.newVar(nil, a, b)
	cnt, s := float64(len(a.Data)), 0.0
	if mask != nil {
		cnt = 0
		for i, m := range mask {
			cnt += m
			d := a.Data[i] - b.Data[i]
			s += m * d * d
		}
	} else {
		for i, v := range a.Data {
			d := v - b.Data[i]
			s += d * d
		}
	}
	den := math.Max(1, cnt)
	out.Data[0] = s / den
	if out.needsGrad {
		tp.record(out, func() {
			ga, gb := tp.gradOf(a), tp.gradOf(b)
			c := 2 * out.Grad[0] / den
			for i, v := range a.Data {
				d := c * (v - b.Data[i])
				if mask != nil {
					d *= mask[i]
				}
				if ga != nil {
					ga[i] += d
				}
				if gb != nil {
					gb[i] -= d
				}
			}
		})
	}
	return out
}

// dropoutMask fills mask with 0 (dropped) or 1/(1−p) (kept). Element i is kept when its
// 32-bit uniform integer u_i satisfies u_i ≥ ⌈p·2³²⌉, i.e. with probability p rounded to
// a multiple of 2⁻³²; u_{2j} and u_{2j+1} are the high and low halves of the j-th
// rng.Uint64(). Two elements per draw halve the cost of the generator, which otherwise
// dominates dropout.
func dropoutMask(mask []float64, p float64, rng *rand.Rand) {
	thr := uint64(math.Ceil(p * (1 << 32)))
	scale := 1 / (1 - p)
	for i := 0; i < len(mask); i += 2 {
		u := rng.Uint64()
		mask[i] = keep(u>>32, thr, scale)
		if i+1 < len(mask) {
			mask[i+1] = keep(u&0xffffffff, thr, scale)
		}
	}
}

func keep(u, thr uint64, scale float64) float64 {
	if u >= thr {
		return scale
	}
	return 0
}
