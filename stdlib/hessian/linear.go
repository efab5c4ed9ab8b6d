package hessian

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// LeastSquaresHVP returns the exact Hessian-vector product of the linear least-squares loss
// L(w, b) = (1/n)·‖Xw + b − y‖², that is H = (2/n)·X̃ᵀX̃ with X̃ = [X, 1] (the bias last), of
// dimension p = d + 1. H is constant: it depends on neither y nor (w, b). X is copied. The
// product costs two passes over X. It panics if X has no rows.
func LeastSquaresHVP(X mat.Matrix) HVP {
	n, d := X.Dims()
	if n == 0 {
		panic("hessian: LeastSquaresHVP: X has no rows")
	}
	x := mat.DenseCopyOf(X)
	u := make([]float64, n)
	p := d + 1
	scale := 2 / float64(n)
	return func(dst, v []float64) {
		if len(dst) != p || len(v) != p {
			panic(fmt.Sprintf("hessian: LeastSquaresHVP: len(dst) = %d, len(v) = %d, want %d", len(dst), len(v), p))
		}
		for i := range n {
			s := v[d]
			for j, xij := range x.RawRowView(i) {
				s += xij * v[j]
			}
			u[i] = s
		}
		clear(dst)
		for i := range n {
			ui := scale * u[i]
			for j, xij := range x.RawRowView(i) {
				dst[j] += xij * ui
			}
			dst[d] += ui
		}
	}
}
