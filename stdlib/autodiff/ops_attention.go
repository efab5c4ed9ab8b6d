package autodiff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// Attention is fused multi-head scaled dot-product self-attention on a packed projection.
// qkv is [B, K, 3C]: along the last axis the query, key and value blocks of width C, each
// made of H heads of width d = C/H (PyTorch's in_proj layout). For every sequence b and
// head h, with Q, K, V the K×d slices,
//
//	P = softmax(Q·Kᵀ/√d) (rows),  P̃ = Dropout(P),  O = P̃·V,
//
// and the result is [B, K, C] with head h in columns h·d…(h+1)·d (heads merged). It equals
// Split → SplitHeads → BatchMatMul → Scale → Softmax → Dropout → BatchMatMul → MergeHeads
// (same dropout draws, in the same [B, H, K, K] order), without the copies, and it spreads
// the (b, h) pairs over up to GOMAXPROCS goroutines; each pair's arithmetic is the same
// however they are split. rng may be nil when dropout is 0. It panics unless the last axis
// is 3·H·d.
func (tp *Tape) Attention(qkv *Var, heads int, dropout float64, rng *rand.Rand) *Var {
	if len(qkv.Shape) != 3 || heads <= 0 || qkv.Shape[2]%(3*heads) != 0 {
		panic(fmt.Sprintf("autodiff: Attention: packed shape %v with %d heads (want [B, K, 3·heads·d])", qkv.Shape, heads))
	}
	if !(dropout >= 0 && dropout < 1) {
		panic(fmt.Sprintf("autodiff: Attention: dropout %v outside [0, 1)", dropout))
	}
	if dropout > 0 && rng == nil {
		panic("autodiff: Attention: nil rng with dropout > 0")
	}
	nb, k, c3 := qkv.Shape[0], qkv.Shape[1], qkv.Shape[2]
	c := c3 / 3
	d := c / heads
	scale := 1 / math.Sqrt(float64(d))
	out := tp.newVarNZ([]int{nb, k, c}, qkv)
	kk := k * k
	jobs := nb * heads
	// P holds the softmax; Pd the dropped-out weights that multiply V (same as P when
	// dropout is 0). Both are kept for the backward pass.
	p := tp.allocNZ(jobs * kk)
	pd := p
	if dropout > 0 {
		pd = tp.allocNZ(jobs * kk)
		dropoutMask(pd, dropout, rng) // mask first, serially, so the draws are fixed
	}
	x := qkv.Data
	forJobs(jobs, 4*k*k*d, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			b, h := j/heads, j%heads
			base := b * k * c3
			q, kv, v := x[base+h*d:], x[base+c+h*d:], x[base+2*c+h*d:]
			pj := p[j*kk : (j+1)*kk]
			gemm(false, true, k, k, d, q, c3, kv, c3, 0, pj, k)
			for r := 0; r < k; r++ {
				softmaxRow(pj[r*k:(r+1)*k], scale)
			}
			pdj := pj
			if dropout > 0 {
				pdj = pd[j*kk : (j+1)*kk]
				for i, m := range pdj {
					pdj[i] = m * pj[i]
				}
			}
			gemm(false, false, k, d, k, pdj, k, v, c3, 0, out.Data[b*k*c+h*d:], c)
		}
	})
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(qkv)
			g := out.Grad
			keepScale := 1 / (1 - dropout)
			var mu sync.Mutex // the arena is not safe for concurrent use
			forJobs(jobs, 4*k*k*d, func(lo, hi int) {
				mu.Lock()
				tmp := tp.allocNZ(kk)
				mu.Unlock()
				for j := lo; j < hi; j++ {
					b, h := j/heads, j%heads
					base := b * k * c3
					q, kv, v := x[base+h*d:], x[base+c+h*d:], x[base+2*c+h*d:]
					gq, gk, gv := gx[base+h*d:], gx[base+c+h*d:], gx[base+2*c+h*d:]
					pj, pdj := p[j*kk:(j+1)*kk], pd[j*kk:(j+1)*kk]
					gO := g[b*k*c+h*d:]
					// dV += P̃ᵀ·dO; dP̃ = dO·Vᵀ.
					gemm(true, false, k, d, k, pdj, k, gO, c, 1, gv, c3)
					gemm(false, true, k, k, d, gO, c, v, c3, 0, tmp, k)
					// Through dropout (P̃ = P⊙mask; P̃ = 0 where dropped, and where P = 0
					// the mask does not matter), then softmax, then the 1/√d scale.
					for r := 0; r < k; r++ {
						pr, dr := pj[r*k:(r+1)*k], tmp[r*k:(r+1)*k]
						if dropout > 0 {
							pdr := pdj[r*k : (r+1)*k]
							for i := range dr {
								if pdr[i] == 0 {
									dr[i] = 0
								} else {
									dr[i] *= keepScale
								}
							}
						}
						dot := 0.0
						for i, v := range pr {
							dot += v * dr[i]
						}
						for i, v := range pr {
							dr[i] = scale * v * (dr[i] - dot)
						}
					}
					// dQ += dS·K; dK += dSᵀ·Q.
					gemm(false, false, k, d, k, tmp, k, kv, c3, 1, gq, c3)
					gemm(true, false, k, d, k, tmp, k, q, c3, 1, gk, c3)
				}
			})
		})
	}
	return out
}

// softmaxRow replaces row by softmax(scale·row), max-subtracted.
func softmaxRow(row []float64, scale float64) {
	m := math.Inf(-1)
	for _, v := range row {
		if v > m {
			m = v
		}
	}
	s := 0.0
	for i, v := range row {
		e := math.Exp(scale * (v - m))
		row[i] = e
		s += e
	}
	inv := 1 / s
	for i := range row {
		row[i] *= inv
	}
}
