package autodiff

import "fmt"

// matmulBack adds the gradients of C = op(A)·op(B) into gA and gB (either may be nil).
// A is stored with leading dimension lda (k or m), B with ldb.
func matmulBack(gA, gB, a, b, gC []float64, transA, transB bool, m, n, k, lda, ldb int) {
	if gA != nil {
		if !transA { // dA[m×k] += dC·op(B)ᵀ
			gemm(false, !transB, m, k, n, gC, n, b, ldb, 1, gA, lda)
		} else { // dA[k×m] += op(B)·dCᵀ
			gemm(transB, true, k, m, n, b, ldb, gC, n, 1, gA, lda)
		}
	}
	if gB != nil {
		if !transB { // dB[k×n] += op(A)ᵀ·dC
			gemm(!transA, false, k, n, m, a, lda, gC, n, 1, gB, ldb)
		} else { // dB[n×k] += dCᵀ·op(A)
			gemm(true, transA, n, k, m, gC, n, a, lda, 1, gB, ldb)
		}
	}
}

func matDims(s []int, trans bool) (rows, cols int) {
	r, c := s[len(s)-2], s[len(s)-1]
	if trans {
		return c, r
	}
	return r, c
}

// MatMul returns op(a)·op(b) for 2-D a and b, where op transposes when the flag is set.
// It panics unless both are 2-D with matching inner dimensions.
func (tp *Tape) MatMul(a, b *Var, transA, transB bool) *Var {
	if len(a.Shape) != 2 || len(b.Shape) != 2 {
		panic(fmt.Sprintf("autodiff: MatMul needs 2-D operands, have %v and %v", a.Shape, b.Shape))
	}
	return tp.BatchMatMul(a, b, transA, transB)
}

// BatchMatMul returns op(a[i])·op(b[i]) for every batch index i: a is [..., ra, ca] and b
// is [..., rb, cb] with identical leading (batch) dimensions; the result is [..., m, n].
// This is attention's QKᵀ (transB) and P·V. It panics on mismatched shapes.
func (tp *Tape) BatchMatMul(a, b *Var, transA, transB bool) *Var {
	ra, rb := len(a.Shape), len(b.Shape)
	if ra < 2 || ra != rb || !sameShape(a.Shape[:ra-2], b.Shape[:rb-2]) {
		panic(fmt.Sprintf("autodiff: BatchMatMul: incompatible shapes %v and %v", a.Shape, b.Shape))
	}
	m, k := matDims(a.Shape, transA)
	k2, n := matDims(b.Shape, transB)
	if k != k2 {
		panic(fmt.Sprintf("autodiff: BatchMatMul: inner dimensions differ: %v (trans %t) and %v (trans %t)", a.Shape, transA, b.Shape, transB))
	}
	var shp [8]int
	oshape := append(shp[:0], a.Shape[:ra-2]...)
	oshape = append(oshape, m, n)
	out := tp.newVarNZ(oshape, a, b)
	batch := sizeOf(a.Shape[:ra-2])
	lda, ldb := a.Shape[ra-1], b.Shape[rb-1]
	sa, sb, sc := m*k, k*n, m*n
	for i := 0; i < batch; i++ {
		gemm(transA, transB, m, n, k, a.Data[i*sa:], lda, b.Data[i*sb:], ldb, 0, out.Data[i*sc:], n)
	}
	if out.needsGrad {
		tp.record(out, func() {
			gA, gB := tp.gradOf(a), tp.gradOf(b)
			for i := 0; i < batch; i++ {
				var ga, gb []float64
				if gA != nil {
					ga = gA[i*sa:]
				}
				if gB != nil {
					gb = gB[i*sb:]
				}
				matmulBack(ga, gb, a.Data[i*sa:], b.Data[i*sb:], out.Grad[i*sc:], transA, transB, m, n, k, lda, ldb)
			}
		})
	}
	return out
}

// Linear returns x·wᵀ + b, applied to the last axis of x: x is [..., in], w is [out, in]
// and b is [out] or nil; the result is [..., out]. This is PyTorch's nn.Linear and, on
// channels-last data, a 1×1 convolution. It panics on mismatched shapes.
func (tp *Tape) Linear(x, w, b *Var) *Var {
	if len(x.Shape) == 0 || len(w.Shape) != 2 || w.Shape[1] != x.Shape[len(x.Shape)-1] {
		panic(fmt.Sprintf("autodiff: Linear: x %v does not match weight %v (want [out, in])", x.Shape, w.Shape))
	}
	in, no := w.Shape[1], w.Shape[0]
	if b != nil && (len(b.Data) != no) {
		panic(fmt.Sprintf("autodiff: Linear: bias %v does not match weight %v", b.Shape, w.Shape))
	}
	var shp [8]int
	oshape := append(shp[:0], x.Shape[:len(x.Shape)-1]...)
	oshape = append(oshape, no)
	out := tp.newVarNZ(oshape, x, w, b)
	rows := len(x.Data) / max(in, 1)
	if in == 0 {
		rows = sizeOf(x.Shape[:len(x.Shape)-1])
	}
	y := out.Data
	if b != nil {
		for r := 0; r < rows; r++ {
			copy(y[r*no:(r+1)*no], b.Data)
		}
		gemm(false, true, rows, no, in, x.Data, in, w.Data, in, 1, y, no)
	} else {
		gemm(false, true, rows, no, in, x.Data, in, w.Data, in, 0, y, no)
	}
	if out.needsGrad {
		tp.record(out, func() {
			g := out.Grad
			if gx := tp.gradOf(x); gx != nil {
				gemm(false, false, rows, in, no, g, no, w.Data, in, 1, gx, in)
			}
			if gw := tp.gradOf(w); gw != nil {
				gemm(true, false, no, in, rows, g, no, x.Data, in, 1, gw, in)
			}
			if b != nil {
				if gb := tp.gradOf(b); gb != nil {
					for r := 0; r < rows; r++ {
						row := g[r*no : (r+1)*no]
						for j, v := range row {
							gb[j] += v
						}
					}
				}
			}
		})
	}
	return out
}
