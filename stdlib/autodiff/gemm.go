package autodiff

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The matrix products go through gemm. Small products (and every product on CPUs without
// AVX2/FMA, or with the purego build tag) use gonum's blas64.Gemm. Larger ones use a packed
// 4×8 AVX2/FMA micro-kernel (kernel_amd64.s): op(B) is packed once into 8-column panels,
// each 4-row panel of op(A) is packed as it is used, and row panels are shared among up to
// GOMAXPROCS goroutines. Every element of C is computed by the same sequence of fused
// multiply-adds over l = 0..k−1 whatever the split, so results do not depend on the number
// of cores (they do differ in the last bits from gonum's, which does not fuse).

const (
	kmr, knr = 4, 8
	// fastMinWork is the m·n·k above which the packed kernel beats gonum (measured on the
	// shapes of the CSDI step; packing costs O(mk + nk)).
	fastMinWork = 512
	// parMinWork is the m·n·k above which row panels are spread over goroutines.
	parMinWork = 1 << 19
)

func tflag(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

var packPool = sync.Pool{New: func() any { return new([]float64) }}

func getBuf(n int) *[]float64 {
	p := packPool.Get().(*[]float64)
	if cap(*p) < n {
		*p = make([]float64, n)
	}
	*p = (*p)[:n]
	return p
}

// gemm computes c = op(a)·op(b) + beta·c, beta ∈ {0, 1}, for row-major matrices; op
// transposes when the flag is set. c is m×n with leading dimension ldc, k is the inner size.
func gemm(transA, transB bool, m, n, k int, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if !haveKernel || m*n*k < fastMinWork || k == 0 {
		blas64.Implementation().Dgemm(tflag(transA), tflag(transB), m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
		return
	}
	np := (n + knr - 1) / knr
	bbuf := getBuf(np * knr * k)
	packB(*bbuf, b, ldb, transB, k, n)
	mp := (m + kmr - 1) / kmr
	workers := 1
	if m*n*k >= parMinWork {
		workers = min(threads(), mp)
	}
	if workers <= 1 {
		gemmPanels(0, mp, transA, m, n, k, a, lda, *bbuf, beta, c, ldc)
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			lo, hi := w*mp/workers, (w+1)*mp/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				gemmPanels(lo, hi, transA, m, n, k, a, lda, *bbuf, beta, c, ldc)
			}()
		}
		wg.Wait()
	}
	packPool.Put(bbuf)
}

// packB writes op(B) (k×n) as ⌈n/8⌉ panels of k rows × 8 columns, zero-padded.
func packB(dst, b []float64, ldb int, trans bool, k, n int) {
	np := (n + knr - 1) / knr
	for p := 0; p < np; p++ {
		panel := dst[p*knr*k : (p+1)*knr*k]
		j0 := p * knr
		w := min(knr, n-j0)
		if w < knr {
			clear(panel)
		}
		if !trans {
			for l := 0; l < k; l++ {
				copy(panel[l*knr:l*knr+w], b[l*ldb+j0:l*ldb+j0+w])
			}
		} else {
			for jj := 0; jj < w; jj++ {
				row := b[(j0+jj)*ldb : (j0+jj)*ldb+k]
				for l, v := range row {
					panel[l*knr+jj] = v
				}
			}
		}
	}
}

// gemmPanels computes the row panels [lo, hi) of C.
func gemmPanels(lo, hi int, transA bool, m, n, k int, a []float64, lda int, bp []float64, beta float64, c []float64, ldc int) {
	abuf := getBuf(kmr * k)
	ap := *abuf
	var tile [kmr * knr]float64
	np := (n + knr - 1) / knr
	for ip := lo; ip < hi; ip++ {
		i0 := ip * kmr
		h := min(kmr, m-i0)
		if h < kmr {
			clear(ap)
		}
		packA(ap, a, lda, transA, i0, h, k)
		for p := 0; p < np; p++ {
			j0 := p * knr
			w := min(knr, n-j0)
			if h == kmr && w == knr {
				// Full tile: the kernel writes (or adds) into C directly.
				kern4x8c(k, &ap[0], &bp[p*knr*k], &c[i0*ldc+j0], ldc, beta != 0)
				continue
			}
			kern4x8(k, &ap[0], &bp[p*knr*k], &tile[0])
			for r := 0; r < h; r++ {
				crow := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+w]
				trow := tile[r*knr : r*knr+w]
				if beta == 0 {
					copy(crow, trow)
				} else {
					for j, v := range trow {
						crow[j] += v
					}
				}
			}
		}
	}
	packPool.Put(abuf)
}

// packA writes rows i0…i0+h−1 of op(A) (h ≤ 4) as k columns of 4, zero-padded.
func packA(ap, a []float64, lda int, trans bool, i0, h, k int) {
	if h < kmr {
		clear(ap)
	}
	switch {
	case trans && h == kmr:
		for l := 0; l < k; l++ {
			src := a[l*lda+i0 : l*lda+i0+kmr]
			dst := ap[l*kmr : l*kmr+kmr]
			dst[0], dst[1], dst[2], dst[3] = src[0], src[1], src[2], src[3]
		}
	case trans:
		for l := 0; l < k; l++ {
			copy(ap[l*kmr:l*kmr+h], a[l*lda+i0:l*lda+i0+h])
		}
	case h == kmr:
		r0, r1 := a[i0*lda:i0*lda+k], a[(i0+1)*lda:(i0+1)*lda+k]
		r2, r3 := a[(i0+2)*lda:(i0+2)*lda+k], a[(i0+3)*lda:(i0+3)*lda+k]
		for l := range r0 {
			dst := ap[l*kmr : l*kmr+kmr]
			dst[0], dst[1], dst[2], dst[3] = r0[l], r1[l], r2[l], r3[l]
		}
	default:
		for r := 0; r < h; r++ {
			for l, v := range a[(i0+r)*lda : (i0+r)*lda+k] {
				ap[l*kmr+r] = v
			}
		}
	}
}
