package autodiff

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// NotPositiveDefiniteError reports a Cholesky factorization that failed because the
// (symmetrized) matrix is not numerically positive definite.
type NotPositiveDefiniteError struct {
	Batch int // index of the failing matrix among the leading (batch) dimensions
	N     int // order of the matrix
}

func (e *NotPositiveDefiniteError) Error() string {
	return fmt.Sprintf("autodiff: Cholesky: matrix %d (%d×%d) is not positive definite; add jitter to its diagonal or check its construction", e.Batch, e.N, e.N)
}

func squareDims(x *Var, op string) (batch, n int) {
	r := len(x.Shape)
	if r < 2 || x.Shape[r-1] != x.Shape[r-2] {
		panic(fmt.Sprintf("autodiff: %s needs [..., n, n], have %v", op, x.Shape))
	}
	n = x.Shape[r-1]
	return sizeOf(x.Shape[:r-2]), n
}

// Cholesky returns the lower-triangular L with L·Lᵀ = ½(A + Aᵀ) for each matrix of a
// [..., n, n] (the strict upper part of L is zero). Symmetrizing first makes the gradient
// the symmetric one, so it is correct whichever triangle the caller fills. Its backward
// pass is Murray's (2016): Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹), Φ taking the lower triangle with a
// halved diagonal. It returns a *NotPositiveDefiniteError when a factorization fails.
func (tp *Tape) Cholesky(a *Var) (*Var, error) {
	batch, n := squareDims(a, "Cholesky")
	out := tp.newVar(a.Shape, a)
	nn := n * n
	for b := 0; b < batch; b++ {
		src, l := a.Data[b*nn:(b+1)*nn], out.Data[b*nn:(b+1)*nn]
		for i := 0; i < n; i++ {
			for j := 0; j <= i; j++ {
				l[i*n+j] = 0.5 * (src[i*n+j] + src[j*n+i])
			}
		}
		if _, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: n, Stride: max(n, 1), Data: l}); !ok {
			return nil, &NotPositiveDefiniteError{Batch: b, N: n}
		}
		for i := 0; i < n; i++ {
			clear(l[i*n+i+1 : (i+1)*n])
		}
	}
	if out.needsGrad {
		tp.record(out, func() {
			ga := tp.gradOf(a)
			p, s := tp.alloc(nn), tp.alloc(nn)
			impl := blas64.Implementation()
			for b := 0; b < batch && n > 0; b++ {
				l, lbar := out.Data[b*nn:(b+1)*nn], out.Grad[b*nn:(b+1)*nn]
				// p = tril(L̄); s = Lᵀ·p; p = Φ(s).
				clear(p)
				for i := 0; i < n; i++ {
					copy(p[i*n:i*n+i+1], lbar[i*n:i*n+i+1])
				}
				gemm(true, false, n, n, n, l, n, p, n, 0, s, n)
				clear(p)
				for i := 0; i < n; i++ {
					copy(p[i*n:i*n+i+1], s[i*n:i*n+i+1])
					p[i*n+i] *= 0.5
				}
				// p ← L⁻ᵀ p, then p ← p L⁻¹.
				impl.Dtrsm(blas.Left, blas.Lower, blas.Trans, blas.NonUnit, n, n, 1, l, n, p, n)
				impl.Dtrsm(blas.Right, blas.Lower, blas.NoTrans, blas.NonUnit, n, n, 1, l, n, p, n)
				g := ga[b*nn : (b+1)*nn]
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						g[i*n+j] += 0.5 * (p[i*n+j] + p[j*n+i])
					}
				}
			}
		})
	}
	return out, nil
}

// TriSolve solves L·X = B (trans false) or Lᵀ·X = B (trans true) for X, per batch, where L
// is [..., n, n] lower triangular (its strict upper part is ignored) and B is [..., n, m]
// with the same leading dimensions. A zero on L's diagonal gives Inf/NaN, as in BLAS.
func (tp *Tape) TriSolve(l, b *Var, trans bool) *Var {
	batch, n := squareDims(l, "TriSolve")
	rb := len(b.Shape)
	if rb != len(l.Shape) || !sameShape(b.Shape[:rb-2], l.Shape[:rb-2]) || b.Shape[rb-2] != n {
		panic(fmt.Sprintf("autodiff: TriSolve: L %v and B %v do not match", l.Shape, b.Shape))
	}
	m := b.Shape[rb-1]
	out := tp.newVar(b.Shape, l, b)
	copy(out.Data, b.Data)
	nn, nm := n*n, n*m
	impl := blas64.Implementation()
	for k := 0; k < batch; k++ {
		if n > 0 && m > 0 {
			impl.Dtrsm(blas.Left, blas.Lower, tflag(trans), blas.NonUnit, n, m, 1, l.Data[k*nn:], n, out.Data[k*nm:], m)
		}
	}
	if out.needsGrad {
		tp.record(out, func() {
			gl, gb := tp.gradOf(l), tp.gradOf(b)
			bbar, t := tp.alloc(nm), tp.alloc(nn)
			for k := 0; k < batch; k++ {
				if n == 0 || m == 0 {
					continue
				}
				x := out.Data[k*nm : (k+1)*nm]
				copy(bbar, out.Grad[k*nm:(k+1)*nm])
				// B̄ = L⁻ᵀX̄ (plain) or L⁻¹X̄ (trans).
				impl.Dtrsm(blas.Left, blas.Lower, tflag(!trans), blas.NonUnit, n, m, 1, l.Data[k*nn:], n, bbar, m)
				if gb != nil {
					g := gb[k*nm : (k+1)*nm]
					for i, v := range bbar {
						g[i] += v
					}
				}
				if gl != nil {
					// L̄ = −tril(B̄Xᵀ) (plain) or −tril(XB̄ᵀ) (trans).
					if trans {
						gemm(false, true, n, n, m, x, m, bbar, m, 0, t, n)
					} else {
						gemm(false, true, n, n, m, bbar, m, x, m, 0, t, n)
					}
					g := gl[k*nn : (k+1)*nn]
					for i := 0; i < n; i++ {
						for j := 0; j <= i; j++ {
							g[i*n+j] -= t[i*n+j]
						}
					}
				}
			}
		})
	}
	return out
}

// CholSolve returns A⁻¹B given L = Cholesky(A): two triangular solves.
func (tp *Tape) CholSolve(l, b *Var) *Var {
	return tp.TriSolve(l, tp.TriSolve(l, b, false), true)
}

// LogDetChol returns log|A| = 2·Σ log L_ii for each matrix given its Cholesky factor L
// [..., n, n]; the result has the leading (batch) shape.
func (tp *Tape) LogDetChol(l *Var) *Var {
	batch, n := squareDims(l, "LogDetChol")
	out := tp.newVar(l.Shape[:len(l.Shape)-2], l)
	nn := n * n
	for k := 0; k < batch; k++ {
		s := 0.0
		for i := 0; i < n; i++ {
			s += math.Log(l.Data[k*nn+i*n+i])
		}
		out.Data[k] = 2 * s
	}
	if out.needsGrad {
		tp.record(out, func() {
			gl := tp.gradOf(l)
			for k := 0; k < batch; k++ {
				for i := 0; i < n; i++ {
					j := k*nn + i*n + i
					gl[j] += 2 * out.Grad[k] / l.Data[j]
				}
			}
		})
	}
	return out
}

// LogDetSPD returns log|A| for each symmetric positive definite matrix of a [..., n, n],
// via Cholesky; it returns the Cholesky error when A is not positive definite.
func (tp *Tape) LogDetSPD(a *Var) (*Var, error) {
	l, err := tp.Cholesky(a)
	if err != nil {
		return nil, err
	}
	return tp.LogDetChol(l), nil
}

// Diag returns the diagonals of x [..., n, n] as [..., n].
func (tp *Tape) Diag(x *Var) *Var {
	batch, n := squareDims(x, "Diag")
	var shp [8]int
	oshape := append(append(shp[:0], x.Shape[:len(x.Shape)-2]...), n)
	out := tp.newVar(oshape, x)
	nn := n * n
	for k := 0; k < batch; k++ {
		for i := 0; i < n; i++ {
			out.Data[k*n+i] = x.Data[k*nn+i*n+i]
		}
	}
	if out.needsGrad {
		tp.record(out, func() {
			gx := tp.gradOf(x)
			for k := 0; k < batch; k++ {
				for i := 0; i < n; i++ {
					gx[k*nn+i*n+i] += out.Grad[k*n+i]
				}
			}
		})
	}
	return out
}
