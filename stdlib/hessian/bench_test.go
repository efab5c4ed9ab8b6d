package hessian

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// data84 extends the §8 formula to d columns (84 rows, z-scored): the size of the NTE data
// set with about 20 descriptors.
func data84(d int) (*mat.Dense, []float64) {
	const n = 84
	X := mat.NewDense(n, d, nil)
	y := make([]float64, n)
	for i := range n {
		for j := range d {
			X.Set(i, j, math.Sin(0.37*float64(i+1)*float64(j+1)+0.5*float64(j))+0.01*float64(i+1)/float64(j+1))
		}
		y[i] = 3*X.At(i, 0) - 2*X.At(i, 1)*X.At(i, 1) + X.At(i, 2)*X.At(i, 3) + 0.1*math.Cos(float64(i)) + 5
	}
	zscore(X, y)
	return X, y
}

func benchObjective(h int) (*Objective, []float64) {
	X, y := data84(20)
	obj := NewObjective(MLP{Sizes: []int{20, h, 1}, Act: Tanh}, X, y)
	theta := make([]float64, obj.NumParams())
	obj.Net().Init(theta, rand.New(rand.NewPCG(1, 1)))
	return obj, theta
}

// One Hessian-vector product of a 20-h-1 tanh MLP on 84 rows.
func BenchmarkMLPHVP(b *testing.B) {
	for _, h := range []int{8, 16, 32} {
		obj, theta := benchObjective(h)
		hvp := obj.HVP(theta)
		p := len(theta)
		v := randVec(p, rand.New(rand.NewPCG(2, 2)))
		dst := make([]float64, p)
		b.Run(fmt.Sprintf("h=%d,p=%d", h, p), func(b *testing.B) {
			for b.Loop() {
				hvp(dst, v)
			}
		})
	}
}

// One gradient, for comparison with the Hessian-vector product.
func BenchmarkMLPGrad(b *testing.B) {
	obj, theta := benchObjective(16)
	g := make([]float64, len(theta))
	for b.Loop() {
		obj.Grad(g, theta)
	}
}

// A full Analyze with PyHessian's defaults (top 1, trace, SLQ 100 steps, 10 000-point
// density) of a 20-16-1 tanh MLP (p = 353) on 84 rows.
func BenchmarkAnalyze(b *testing.B) {
	obj, theta := benchObjective(16)
	hvp := obj.HVP(theta)
	for b.Loop() {
		if _, err := Analyze(hvp, len(theta), nil, rand.New(rand.NewPCG(3, 3))); err != nil {
			b.Fatal(err)
		}
	}
}

// One L-BFGS fit (weight decay 1e-3) of a 20-h-1 tanh MLP on 84 rows.
func BenchmarkFit(b *testing.B) {
	for _, h := range []int{8, 16} {
		obj, _ := benchObjective(h)
		b.Run(fmt.Sprintf("h=%d", h), func(b *testing.B) {
			var res TrainResult
			for b.Loop() {
				var err error
				res, err = Fit(context.Background(), obj, &TrainSettings{WeightDecay: 1e-3}, rand.New(rand.NewPCG(4, 4)))
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Iterations), "iters")
		})
	}
}

// The operationalization proposed for the hessian node, on synthetic ICR-like targets:
// y = f(x) + N(0, 0.5²) on the 84 × 20 rows, "regularized" as y_w = w·y + (1 − w)·f(x) (the
// analytic effect of ICR with a perfect model, csdi_icr.md §2.4), every arm scaled by the raw
// y's mean and SD; a 20-8-1 tanh MLP fitted by L-BFGS (weight decay 1e-3) from 5 seeds, and
// the medians of λ_max and the trace reported. The control "rescale" shrinks y toward its
// mean to the same SD instead, which is what a pure scale effect would give. Run with
//
//	go test -run XXX -bench ShrinkageSweep -benchtime 1x ./stdlib/hessian
func BenchmarkShrinkageSweep(b *testing.B) {
	X, f := data84(20)
	rng := rand.New(rand.NewPCG(42, 42))
	y := make([]float64, len(f))
	for i := range f {
		y[i] = f[i] + 0.5*rng.NormFloat64()
	}
	m, s := meanSD(y)
	const wd = 1e-3
	for _, w := range []float64{1, 0.6, 0.2} {
		icr := make([]float64, len(y))
		for i := range y {
			icr[i] = (w*y[i] + (1-w)*f[i] - m) / s
		}
		mi, si := meanSD(icr)
		rescale := make([]float64, len(y))
		for i := range y {
			rescale[i] = mi + si*(y[i]-m)/s
		}
		for _, arm := range []struct {
			name string
			y    []float64
		}{{"icr", icr}, {"rescale", rescale}} {
			b.Run(fmt.Sprintf("w=%.1f/%s", w, arm.name), func(b *testing.B) {
				obj := NewObjective(MLP{Sizes: []int{20, 8, 1}, Act: Tanh}, X, arm.y)
				var lmax, trace []float64
				for b.Loop() {
					lmax, trace = lmax[:0], trace[:0]
					for seed := uint64(1); seed <= 5; seed++ {
						res, err := Fit(context.Background(), obj, &TrainSettings{WeightDecay: wd}, rand.New(rand.NewPCG(seed, 7)))
						if err != nil {
							b.Fatal(err)
						}
						rep, err := Analyze(obj.HVP(res.Theta), obj.NumParams(), &Settings{NegativeFloor: 1.5 * wd}, rand.New(rand.NewPCG(seed, 8)))
						if err != nil {
							b.Fatal(err)
						}
						lmax = append(lmax, rep.TopEigenvalues[0])
						trace = append(trace, rep.Trace)
					}
				}
				b.ReportMetric(median(lmax), "λmax")
				b.ReportMetric(median(trace), "trace")
			})
		}
	}
}

func median(x []float64) float64 {
	c := sortedCopy(x)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return 0.5 * (c[len(c)/2-1] + c[len(c)/2])
}
