package dgp

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// Fused reductions for the layers' largest tensors ([P, dOut·M] and [M, dOut·M]): one pass
// forward and one backward, instead of a squared copy, a reshape and a sum, each with its
// own gradient buffer. They are checked with the rest of the model by finite differences.

// groupSumSq returns out[r, g] = Σ_{j<w} x[r, g·w + j]² for x [R, G·w] (out [R, G]).
func groupSumSq(tp *ad.Tape, x *ad.Var, w int) *ad.Var {
	r, gw := x.Shape[0], x.Shape[1]
	g := gw / w
	out := make([]float64, r*g)
	for i := range r {
		row := x.Data[i*gw : (i+1)*gw]
		for k := range g {
			var s float64
			for _, v := range row[k*w : (k+1)*w] {
				s += v * v
			}
			out[i*g+k] = s
		}
	}
	return tp.Custom(ad.NewTensor(out, r, g), []*ad.Var{x}, func(gOut []float64, gp [][]float64) {
		gx := gp[0]
		if gx == nil {
			return
		}
		for i := range r {
			row, grow := x.Data[i*gw:(i+1)*gw], gx[i*gw:(i+1)*gw]
			for k := range g {
				c := 2 * gOut[i*g+k]
				for j := k * w; j < (k+1)*w; j++ {
					grow[j] += c * row[j]
				}
			}
		}
	})
}

// sumSq returns Σ x² as a scalar.
func sumSq(tp *ad.Tape, x *ad.Var) *ad.Var {
	var s float64
	for _, v := range x.Data {
		s += v * v
	}
	return tp.Custom(ad.NewTensor([]float64{s}), []*ad.Var{x}, func(gOut []float64, gp [][]float64) {
		if gx := gp[0]; gx != nil {
			c := 2 * gOut[0]
			for i, v := range x.Data {
				gx[i] += c * v
			}
		}
	})
}

// logDiagSq returns Σ_{i<m, d<w} log q[i, d·m + i]² for q [m, w·m] holding w square
// blocks side by side: the sum of log|S_d| for S_d = L_d L_dᵀ.
func logDiagSq(tp *ad.Tape, q *ad.Var, m, w int) *ad.Var {
	var s float64
	for i := range m {
		for d := range w {
			v := q.Data[i*w*m+d*m+i]
			s += math.Log(v * v)
		}
	}
	return tp.Custom(ad.NewTensor([]float64{s}), []*ad.Var{q}, func(gOut []float64, gp [][]float64) {
		if gq := gp[0]; gq != nil {
			for i := range m {
				for d := range w {
					k := i*w*m + d*m + i
					gq[k] += 2 * gOut[0] / q.Data[k]
				}
			}
		}
	})
}

// rbf returns K[i, j] = σ²·exp(−½ Σ_q (a_iq − b_jq)²/ℓ_q²) for a [ra, D], b [rb, D]
// (b nil: a with itself), lens [D] and variance [1], from direct differences of the scaled
// inputs (so the diagonal of K(a, a) is exactly σ²). With E = K̄ ⊙ K, row sums r_i and
// column sums c_j of E, the backward pass is
//
//	σ̄² = ΣE/σ²,  ā_i = −(r_i a_i − (E b)_i)/ℓ²,  b̄_j = ((Eᵀa)_j − c_j b_j)/ℓ²,
//	ℓ̄_q = Σ_ij E_ij (a_iq − b_jq)²/ℓ_q³ = (Σ_i r_i a_iq² + Σ_j c_j b_jq² − 2 Σ_i a_iq (E b)_iq)/ℓ_q³,
//
// (elementwise in q; the two input terms add up when b is a), with two matrix products.
func rbf(tp *ad.Tape, a, b, lens, variance *ad.Var) *ad.Var {
	sym := b == nil
	if sym {
		b = a
	}
	ra, d := a.Shape[0], a.Shape[1]
	rb := b.Shape[0]
	if b.Shape[1] != d || len(lens.Data) != d {
		panic(fmt.Sprintf("dgp: rbf: inputs %v and %v with %d lengthscales", a.Shape, b.Shape, len(lens.Data)))
	}
	scaled := func(x []float64, r int) []float64 {
		out := make([]float64, r*d)
		for i := range r {
			for q, l := range lens.Data {
				out[i*d+q] = x[i*d+q] / l
			}
		}
		return out
	}
	as := scaled(a.Data, ra)
	bs := as
	if !sym {
		bs = scaled(b.Data, rb)
	}
	s2 := variance.Data[0]
	k := make([]float64, ra*rb)
	for i := range ra {
		ai := as[i*d : (i+1)*d]
		for j := range rb {
			if sym && j < i {
				k[i*rb+j] = k[j*rb+i]
				continue
			}
			bj := bs[j*d : (j+1)*d]
			bj = bj[:len(ai)]
			var sum float64
			for q, v := range ai {
				t := v - bj[q]
				sum += t * t
			}
			k[i*rb+j] = s2 * math.Exp(-0.5*sum)
		}
	}
	parents := []*ad.Var{a, lens, variance}
	if !sym {
		parents = append(parents, b)
	}
	return tp.Custom(ad.NewTensor(k, ra, rb), parents, func(gOut []float64, gp [][]float64) {
		ga, gl, gv := gp[0], gp[1], gp[2]
		gb := ga // where b's gradient goes: a's own when b is a
		if !sym {
			gb = gp[3]
		}
		e := make([]float64, ra*rb)
		r := make([]float64, ra)
		c := make([]float64, rb)
		var se float64
		for i := range ra {
			for j := range rb {
				v := gOut[i*rb+j] * k[i*rb+j]
				e[i*rb+j] = v
				r[i] += v
				c[j] += v
			}
			se += r[i]
		}
		if gv != nil {
			gv[0] += se / s2
		}
		if ga == nil && gb == nil && gl == nil {
			return
		}
		impl := blas64.Implementation()
		eb := make([]float64, ra*d) // E·b
		impl.Dgemm(blas.NoTrans, blas.NoTrans, ra, d, rb, 1, e, rb, b.Data, d, 0, eb, d)
		var eta []float64 // Eᵀ·a
		if gb != nil {
			eta = make([]float64, rb*d)
			impl.Dgemm(blas.Trans, blas.NoTrans, rb, d, ra, 1, e, rb, a.Data, d, 0, eta, d)
		}
		inv := make([]float64, d)
		for q, l := range lens.Data {
			inv[q] = 1 / (l * l)
		}
		if ga != nil {
			for i := range ra {
				for q := range d {
					ga[i*d+q] -= (r[i]*a.Data[i*d+q] - eb[i*d+q]) * inv[q]
				}
			}
		}
		if gb != nil {
			for j := range rb {
				for q := range d {
					gb[j*d+q] += (eta[j*d+q] - c[j]*b.Data[j*d+q]) * inv[q]
				}
			}
		}
		if gl != nil {
			for q, l := range lens.Data {
				var acc float64
				for i := range ra {
					x := a.Data[i*d+q]
					acc += x * (r[i]*x - 2*eb[i*d+q])
				}
				for j := range rb {
					x := b.Data[j*d+q]
					acc += c[j] * x * x
				}
				gl[q] += acc / (l * l * l)
			}
		}
	})
}
