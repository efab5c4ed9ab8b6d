package autodiff_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// Train a 3-16-1 tanh MLP on 8 rows with Adam and predict without a tape.
func Example() {
	rng := rand.New(rand.NewPCG(1, 2))
	xs, ys := make([]float64, 8*3), make([]float64, 8)
	for i := range xs {
		xs[i] = 2*rng.Float64() - 1
	}
	for i := range ys {
		ys[i] = xs[3*i] * xs[3*i+1] // a nonlinear target
	}
	ps := autodiff.NewParams()
	mlp := autodiff.NewMLP(ps, "mlp", []int{3, 16, 1}, (*autodiff.Tape).Tanh, rng)
	x, y := autodiff.Const(xs, 8, 3), autodiff.Const(ys, 8, 1)
	opt := autodiff.NewAdam(ps.Vars(), 0.01)
	tp := autodiff.NewTape()
	var first, last float64
	for step := 0; step < 500; step++ {
		tp.Reset()
		ps.ZeroGrad()
		loss := tp.MaskedMSE(mlp.Forward(tp, x), y, nil)
		if step == 0 {
			first = loss.Value()
		}
		last = loss.Value()
		tp.Backward(loss)
		opt.Step()
	}
	pred := mlp.Forward(nil, x)
	fmt.Println(len(pred.Data), last < first/10)
	// Output: 8 true
}
