package autodiff

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
)

// TestGemmMatchesGonum checks the packed kernel path of gemm against gonum's Dgemm on
// shapes with ragged edges (m, n not multiples of 4, 8), all transpose combinations,
// strided operands and both beta values. Tolerance: the two differ only by rounding
// (fused vs separate multiply-add, summation order is the same sequence over l), so
// 1e-13·(1+|c|)·k bounds the difference.
func TestGemmMatchesGonum(t *testing.T) {
	rng := newRng(11)
	for _, s := range [][3]int{{37, 29, 23}, {320, 128, 64}, {64, 320, 128}, {5, 9, 300}, {130, 7, 66}, {1, 200, 41}} {
		m, n, k := s[0], s[1], s[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float64{0, 1} {
					name := fmt.Sprintf("%dx%dx%d/tA=%t/tB=%t/beta=%g", m, n, k, tA, tB, beta)
					ar, ac := m, k
					if tA {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB {
						br, bc = n, k
					}
					lda, ldb, ldc := ac+3, bc+1, n+2 // strided
					a := uniformVar(rng, -1, 1, ar*lda).Data
					b := uniformVar(rng, -1, 1, br*ldb).Data
					c0 := uniformVar(rng, -1, 1, m*ldc).Data
					got := append([]float64(nil), c0...)
					want := append([]float64(nil), c0...)
					gemm(tA, tB, m, n, k, a, lda, b, ldb, beta, got, ldc)
					blas64.Implementation().Dgemm(tflag(tA), tflag(tB), m, n, k, 1, a, lda, b, ldb, beta, want, ldc)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							g, w := got[i*ldc+j], want[i*ldc+j]
							if j >= n {
								if g != c0[i*ldc+j] {
									t.Fatalf("%s: wrote outside C at (%d,%d)", name, i, j)
								}
								continue
							}
							if math.Abs(g-w) > 1e-13*float64(k)*(1+math.Abs(w)) {
								t.Fatalf("%s: C[%d,%d] = %v, gonum %v", name, i, j, g, w)
							}
						}
					}
				}
			}
		}
	}
}

func benchGemm(b *testing.B, fast bool, tA, tB bool, m, n, k int) {
	rng := newRng(1)
	a := uniformVar(rng, -1, 1, m*k).Data
	bb := uniformVar(rng, -1, 1, k*n).Data
	c := make([]float64, m*n)
	lda, ldb := k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	for b.Loop() {
		if fast {
			gemm(tA, tB, m, n, k, a, lda, bb, ldb, 0, c, n)
		} else {
			blas64.Implementation().Dgemm(tflag(tA), tflag(tB), m, n, k, 1, a, lda, bb, ldb, 0, c, n)
		}
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGemm compares the packed kernel with gonum at the Linear shapes
// [320×64]·[64×128]ᵀ (forward), its dX and dW products.
func BenchmarkGemm(b *testing.B) {
	for _, fast := range []bool{true, false} {
		name := "kernel"
		if !fast {
			name = "gonum"
		}
		b.Run(name+"/fwd", func(b *testing.B) { benchGemm(b, fast, false, true, 320, 128, 64) })
		b.Run(name+"/dX", func(b *testing.B) { benchGemm(b, fast, false, false, 320, 64, 128) })
		b.Run(name+"/dW", func(b *testing.B) { benchGemm(b, fast, true, false, 128, 64, 320) })
	}
}
