//go:build !amd64 || purego

package autodiff

const haveKernel = false

func kern4x8(k int, a, b, c *float64) { panic("autodiff: no gemm kernel on this platform") }

func kern4x8c(k int, a, b, c *float64, ldc int, add bool) {
	panic("autodiff: no gemm kernel on this platform")
}
