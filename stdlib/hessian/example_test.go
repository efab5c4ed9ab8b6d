package hessian_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ntedsl/ntedsl/stdlib/hessian"
	"gonum.org/v1/gonum/mat"
)

// Fit a small tanh MLP by L-BFGS and analyse the loss landscape at its trained weights.
func Example() {
	const n, d = 84, 5
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range d {
			X.Set(i, j, math.Sin(0.37*float64(i+1)*float64(j+1)+0.5*float64(j)))
		}
		y[i] = X.At(i, 0) - X.At(i, 1)*X.At(i, 2) // X and y are already of unit scale
	}
	const wd = 1e-3
	obj := hessian.NewObjective(hessian.MLP{Sizes: []int{d, 8, 1}, Act: hessian.Tanh}, X, y)
	rng := rand.New(rand.NewPCG(1, 2))
	fit, err := hessian.Fit(context.Background(), obj, &hessian.TrainSettings{WeightDecay: wd}, rng)
	if err != nil {
		panic(err)
	}
	rep, err := hessian.Analyze(obj.HVP(fit.Theta), obj.NumParams(), &hessian.Settings{NegativeFloor: 1.5 * wd}, rng)
	if err != nil {
		panic(err)
	}
	fmt.Println("parameters:", rep.Params)
	fmt.Println("stationary:", fit.GradNorm < 1e-5)
	fmt.Println("positive top eigenvalue:", rep.TopEigenvalues[0] > 0)
	fmt.Println("appreciable negative curvature:", rep.AppreciableNegative)
	// Output:
	// parameters: 57
	// stationary: true
	// positive top eigenvalue: true
	// appreciable negative curvature: false
}
