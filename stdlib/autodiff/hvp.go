package autodiff

import (
	"fmt"
	"math"
)

// GradFunc writes ∇L(θ) into grad (len(grad) = len(theta)). It must be deterministic and
// must not keep theta.
type GradFunc func(grad, theta []float64)

// HVPSettings tunes HVP. The zero value (or nil) selects Richardson extrapolation with the
// default step.
type HVPSettings struct {
	// Central selects the plain central difference (2 gradient calls) instead of
	// Richardson extrapolation (4 gradient calls).
	Central bool
	// Step is h relative to the scale of θ: the gradient is evaluated at θ ± h·u with
	// u = v/‖v‖ and h = Step·(1 + max|θ_i|). Zero means 1e-3 for Richardson and 1e-5 for
	// Central (near the optimum of the error bounds below for δ ≈ 1e-16·‖∇L‖).
	Step float64
}

// HVP writes the Hessian-vector product H(θ)·v of a loss L into dst (nil allocates) and
// returns it, from gradients only: with u = v/‖v‖ and D(h) = [∇L(θ+hu) − ∇L(θ−hu)]/(2h),
//
//	Central:     Hv ≈ ‖v‖·D(h),                 error ≤ ‖v‖·(h²/6·M₄ + δ/h)
//	Richardson:  Hv ≈ ‖v‖·(4D(h/2) − D(h))/3,   error ≤ ‖v‖·(h⁴/480·M₆ + 3δ/h) + O(h⁶)
//
// where M₄ (M₆) bounds ‖∇⁴L[u,u,u]‖ (‖∇⁶L[u,…,u]‖) on the segment θ ± hu and δ bounds the
// absolute rounding error of one gradient evaluation. Both are exact, up to rounding, for a
// quadratic L. With the default steps and δ ≈ 1e-16·‖∇L‖, the Richardson error is about
// 1e-12·(M₆ + ‖∇L‖)·‖v‖ and the central one about 1e-10·(M₄ + ‖∇L‖)·‖v‖, so Hv is good to
// roughly 10 and 8 significant digits respectively for well-scaled losses. The product is
// linear in v only up to this error.
//
// HVP allocates four vectors of len(theta) and never modifies theta or v.
func HVP(dst []float64, grad GradFunc, theta, v []float64, s *HVPSettings) []float64 {
	n := len(theta)
	if len(v) != n {
		panic(fmt.Sprintf("autodiff: HVP: len(v) = %d, len(theta) = %d", len(v), n))
	}
	dst = sizedDst(dst, n, "HVP")
	var set HVPSettings
	if s != nil {
		set = *s
	}
	nv, scale := 0.0, 0.0
	for i, x := range v {
		nv = math.Hypot(nv, x)
		scale = math.Max(scale, math.Abs(theta[i]))
	}
	if nv == 0 {
		clear(dst)
		return dst
	}
	step := set.Step
	if step == 0 {
		step = 1e-3
		if set.Central {
			step = 1e-5
		}
	}
	h := step * (1 + scale)
	x := make([]float64, n)
	gp := make([]float64, n)
	gm := make([]float64, n)
	// diff sets out = ‖v‖·D(h) using the actual (rounded) displacement along each axis.
	diff := func(out []float64, h float64) {
		for i := range x {
			x[i] = theta[i] + h*v[i]/nv
		}
		grad(gp, x)
		for i := range x {
			x[i] = theta[i] - h*v[i]/nv
		}
		grad(gm, x)
		for i := range out {
			out[i] = nv * (gp[i] - gm[i]) / (2 * h)
		}
	}
	if set.Central {
		diff(dst, h)
		return dst
	}
	diff(dst, h)
	half := make([]float64, n)
	diff(half, h/2)
	for i := range dst {
		dst[i] = (4*half[i] - dst[i]) / 3
	}
	return dst
}
