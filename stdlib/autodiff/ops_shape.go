package autodiff

import "fmt"

// Reshape returns x viewed with a new shape of the same size; one dimension may be −1 and
// is then inferred. The value shares x's Data (no copy). It panics on a size mismatch.
func (tp *Tape) Reshape(x *Var, shape ...int) *Var {
	var shp [8]int
	s := append(shp[:0], shape...)
	infer, n := -1, 1
	for i, d := range s {
		if d == -1 {
			if infer >= 0 {
				panic("autodiff: Reshape: more than one −1 dimension")
			}
			infer = i
			continue
		}
		n *= d
	}
	if infer >= 0 && n > 0 {
		s[infer] = len(x.Data) / n
		n *= s[infer]
	}
	if n != len(x.Data) {
		panic(fmt.Sprintf("autodiff: Reshape: cannot view %v as %v", x.Shape, shape))
	}
	out := tp.view(x, s)
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

// Permute returns x with its axes reordered: axis i of the result is axis perm[i] of x.
// SplitHeads and MergeHeads are the attention special cases. It panics unless perm is a
// permutation of 0..rank−1.
func (tp *Tape) Permute(x *Var, perm ...int) *Var {
	r := len(x.Shape)
	if len(perm) != r || r > 8 {
		panic(fmt.Sprintf("autodiff: Permute: permutation %v for shape %v", perm, x.Shape))
	}
	var seen [8]bool
	var oshape, xst, st [8]int
	s := 1
	for i := r - 1; i >= 0; i-- {
		xst[i] = s
		s *= x.Shape[i]
	}
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			panic(fmt.Sprintf("autodiff: Permute: %v is not a permutation", perm))
		}
		seen[p] = true
		oshape[i] = x.Shape[p]
		st[i] = xst[p]
	}
	out := tp.newVarNZ(oshape[:r], x)
	permuteCopy(out.Data, x.Data, oshape[:r], st[:r], false)
	if out.needsGrad {
		tp.record(out, func() {
			permuteCopy(out.Grad, tp.gradOf(x), oshape[:r], st[:r], true)
		})
	}
	return out
}

// permuteCopy walks the output in row-major order; st gives, per output axis, the stride
// in the source. Forward: out[o] = src[s]. Backward (add): src[s] += out[o].
func permuteCopy(out, src []float64, shape, st []int, back bool) {
	r := len(shape)
	if len(out) == 0 {
		return
	}
	if r == 0 {
		if back {
			src[0] += out[0]
		} else {
			out[0] = src[0]
		}
		return
	}
	n, is := shape[r-1], st[r-1]
	var idx [8]int
	off := 0
	for o := 0; o < len(out); o += n {
		row := out[o : o+n]
		if back {
			for i, v := range row {
				src[off+i*is] += v
			}
		} else {
			for i := range row {
				row[i] = src[off+i*is]
			}
		}
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			off += st[d]
			if idx[d] < shape[d] {
				break
			}
			off -= st[d] * idx[d]
			idx[d] = 0
		}
	}
}

// Transpose swaps the last two axes of x (rank ≥ 2).
func (tp *Tape) Transpose(x *Var) *Var {
	r := len(x.Shape)
	if r < 2 {
		panic("autodiff: Transpose needs rank ≥ 2")
	}
	var p [8]int
	for i := range r {
		p[i] = i
	}
	p[r-2], p[r-1] = r-1, r-2
	return tp.Permute(x, p[:r]...)
}

// SplitHeads turns x [B, K, H·d] into [B, H, K, d] (multi-head attention layout).
func (tp *Tape) SplitHeads(x *Var, heads int) *Var {
	if len(x.Shape) != 3 || heads <= 0 || x.Shape[2]%heads != 0 {
		panic(fmt.Sprintf("autodiff: SplitHeads: shape %v with %d heads", x.Shape, heads))
	}
	b, k, c := x.Shape[0], x.Shape[1], x.Shape[2]
	return tp.Permute(tp.Reshape(x, b, k, heads, c/heads), 0, 2, 1, 3)
}

// MergeHeads turns x [B, H, K, d] into [B, K, H·d], the inverse of SplitHeads.
func (tp *Tape) MergeHeads(x *Var) *Var {
	if len(x.Shape) != 4 {
		panic(fmt.Sprintf("autodiff: MergeHeads: shape %v is not [B, H, K, d]", x.Shape))
	}
	b, h, k, d := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	return tp.Reshape(tp.Permute(x, 0, 2, 1, 3), b, k, h*d)
}

// Concat joins xs along the last axis; all leading dimensions must agree.
func (tp *Tape) Concat(xs ...*Var) *Var {
	if len(xs) == 0 {
		panic("autodiff: Concat of nothing")
	}
	lead := xs[0].Shape[:len(xs[0].Shape)-1]
	total := 0
	for _, x := range xs {
		if len(x.Shape) != len(lead)+1 || !sameShape(x.Shape[:len(lead)], lead) {
			panic(fmt.Sprintf("autodiff: Concat: shape %v does not match %v", x.Shape, xs[0].Shape))
		}
		total += x.Shape[len(lead)]
	}
	var shp [8]int
	oshape := append(append(shp[:0], lead...), total)
	out := tp.newVarNZ(oshape, xs...)
	rows := sizeOf(lead)
	off := 0
	for _, x := range xs {
		w := x.Shape[len(lead)]
		for r := 0; r < rows; r++ {
			copy(out.Data[r*total+off:r*total+off+w], x.Data[r*w:(r+1)*w])
		}
		off += w
	}
	if out.needsGrad {
		parts := append([]*Var(nil), xs...)
		tp.record(out, func() {
			off := 0
			for _, x := range parts {
				w := x.Shape[len(x.Shape)-1]
				if gx := tp.gradOf(x); gx != nil {
					for r := 0; r < rows; r++ {
						src := out.Grad[r*total+off : r*total+off+w]
						dst := gx[r*w : (r+1)*w]
						for i, g := range src {
							dst[i] += g
						}
					}
				}
				off += w
			}
		})
	}
	return out
}

// Split cuts x along the last axis into pieces of the given widths, which must sum to the
// last dimension (gate/filter, residual/skip, packed Q/K/V).
func (tp *Tape) Split(x *Var, sizes ...int) []*Var {
	r := len(x.Shape)
	if r == 0 {
		panic("autodiff: Split of a scalar")
	}
	total, sum := x.Shape[r-1], 0
	for _, s := range sizes {
		sum += s
	}
	if sum != total {
		panic(fmt.Sprintf("autodiff: Split: sizes %v do not sum to %d", sizes, total))
	}
	rows := sizeOf(x.Shape[:r-1])
	outs := make([]*Var, len(sizes))
	off := 0
	var shp [8]int
	for j, w := range sizes {
		oshape := append(append(shp[:0], x.Shape[:r-1]...), w)
		out := tp.newVarNZ(oshape, x)
		for i := 0; i < rows; i++ {
			copy(out.Data[i*w:(i+1)*w], x.Data[i*total+off:i*total+off+w])
		}
		if out.needsGrad {
			o := off
			tp.record(out, func() {
				gx := tp.gradOf(x)
				for i := 0; i < rows; i++ {
					dst := gx[i*total+o : i*total+o+w]
					for k, g := range out.Grad[i*w : (i+1)*w] {
						dst[k] += g
					}
				}
			})
		}
		outs[j] = out
		off += w
	}
	return outs
}

// Embedding gathers rows of table [V, D]: the result is [len(idx), D] with row i equal to
// table[idx[i]]. The backward pass scatter-adds into the table's gradient. idx must not
// change before Backward. It panics on an index outside [0, V).
func (tp *Tape) Embedding(table *Var, idx []int) *Var {
	if len(table.Shape) != 2 {
		panic(fmt.Sprintf("autodiff: Embedding: table shape %v is not [V, D]", table.Shape))
	}
	v, d := table.Shape[0], table.Shape[1]
	out := tp.newVarNZ([]int{len(idx), d}, table)
	for i, k := range idx {
		if k < 0 || k >= v {
			panic(fmt.Sprintf("autodiff: Embedding: index %d outside [0, %d)", k, v))
		}
		copy(out.Data[i*d:(i+1)*d], table.Data[k*d:(k+1)*d])
	}
	if out.needsGrad {
		tp.record(out, func() {
			gt := tp.gradOf(table)
			for i, k := range idx {
				dst := gt[k*d : (k+1)*d]
				for j, g := range out.Grad[i*d : (i+1)*d] {
					dst[j] += g
				}
			}
		})
	}
	return out
}
