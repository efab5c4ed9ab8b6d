package daggm

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// DefaultJitter is the ε added to every covariance diagonal before its Cholesky
// factorization in the energy. 1e-6 is tnakae/DAGMM's value: small against the variance of
// any feature the λ₂ penalty lets survive (λ₂/Σ_jj would exceed the whole loss long before
// Σ_jj reaches 1e-6), large enough to keep a nearly singular component factorizable.
// danieltan07's 1e-12 does not protect against rank loss in double precision.
const DefaultJitter = 1e-6

// GMMParams returns the mixture parameters that the memberships gamma [N, K] imply for the
// points z [N, D]: the EM M-step formulas, with N_k = Σ_i γ_ik,
//
//	φ_k = N_k / N,  μ_k = Σ_i γ_ik z_i / N_k,  Σ_k = Σ_i γ_ik (z_i−μ_k)(z_i−μ_k)ᵀ / N_k,
//
// as phi [K], mu [K, D] and sigma [K, D, D] (biased covariances: divided by N_k, not N_k−1).
// It panics if the shapes do not match.
func GMMParams(tp *autodiff.Tape, z, gamma *autodiff.Var) (phi, mu, sigma *autodiff.Var) {
	if len(z.Shape) != 2 || len(gamma.Shape) != 2 || z.Shape[0] != gamma.Shape[0] {
		panic(fmt.Sprintf("daggm: GMMParams: z %v and gamma %v are not [N, D] and [N, K]", z.Shape, gamma.Shape))
	}
	n, k := z.Shape[0], gamma.Shape[1]
	nk := tp.SumAxis(gamma, 0) // [K]
	phi = tp.Scale(nk, 1/float64(n))
	mu = tp.Div(tp.MatMul(gamma, z, true, false), tp.Reshape(nk, k, 1)) // [K, D]
	dev := tp.Permute(centered(tp, z, mu), 1, 0, 2)                     // [K, N, D]
	w := tp.Mul(dev, tp.Reshape(tp.Transpose(gamma), k, n, 1))          // γ_ik (z_i − μ_k)
	sigma = tp.Div(tp.BatchMatMul(w, dev, true, false), tp.Reshape(nk, k, 1, 1))
	return phi, mu, sigma
}

// centered returns z_i − μ_k as [N, K, D].
func centered(tp *autodiff.Tape, z, mu *autodiff.Var) *autodiff.Var {
	n, d, k := z.Shape[0], z.Shape[1], mu.Shape[0]
	return tp.Sub(tp.Reshape(z, n, 1, d), tp.Reshape(mu, 1, k, d))
}

// Energy returns the sample energy E(z_i) = −log Σ_k φ_k N(z_i; μ_k, Σ_k) of each row of
// z [N, D] as [N], given phi [K], mu [K, D] and sigma [K, D, D] (e.g. from GMMParams).
// Each Σ_k + jitter·I is factorized by Cholesky, so the quadratic form is ‖L_k⁻¹(z−μ_k)‖²
// and log|Σ_k| = 2Σ log diag L_k, and the sum over components is an exact log-sum-exp:
// the result stays finite however far z lies from every component. It returns a
// *CovarianceError when a jittered covariance is not positive definite.
func Energy(tp *autodiff.Tape, z, phi, mu, sigma *autodiff.Var, jitter float64) (*autodiff.Var, error) {
	if len(z.Shape) != 2 || len(mu.Shape) != 2 || len(sigma.Shape) != 3 || mu.Shape[1] != z.Shape[1] ||
		len(phi.Data) != mu.Shape[0] || sigma.Shape[0] != mu.Shape[0] || sigma.Shape[1] != z.Shape[1] || sigma.Shape[2] != z.Shape[1] {
		panic(fmt.Sprintf("daggm: Energy: shapes z %v, phi %v, mu %v, sigma %v do not match", z.Shape, phi.Shape, mu.Shape, sigma.Shape))
	}
	if !(jitter >= 0) {
		panic(fmt.Sprintf("daggm: Energy: jitter %v < 0", jitter))
	}
	n, d, k := z.Shape[0], z.Shape[1], mu.Shape[0]
	s := sigma
	if jitter > 0 {
		eye := make([]float64, d*d)
		for j := 0; j < d; j++ {
			eye[j*d+j] = jitter
		}
		s = tp.Add(sigma, autodiff.Const(eye, d, d))
	}
	l, err := tp.Cholesky(s)
	if err != nil {
		var npd *autodiff.NotPositiveDefiniteError
		if errors.As(err, &npd) {
			return nil, &CovarianceError{Component: npd.Batch, Jitter: jitter}
		}
		return nil, err
	}
	dev := tp.Permute(centered(tp, z, mu), 1, 2, 0)              // [K, D, N]
	maha := tp.SumAxis(tp.Square(tp.TriSolve(l, dev, false)), 1) // [K, N]
	// log φ_k − ½ log|Σ_k| − (D/2) log 2π, per component.
	c := tp.AddScalar(tp.Sub(tp.Log(phi), tp.Scale(tp.LogDetChol(l), 0.5)), -0.5*float64(d)*math.Log(2*math.Pi))
	logits := tp.Add(tp.Scale(maha, -0.5), tp.Reshape(c, k, 1))
	return tp.Neg(tp.LogSumExp(tp.Reshape(tp.Transpose(logits), n, k))), nil
}

// CovDiagPenalty returns Σ_k Σ_j 1/Σ_k,jj for sigma [K, D, D]: the term λ₂ weighs in the
// DAGMM loss, which keeps every component from collapsing onto a point along any axis.
func CovDiagPenalty(tp *autodiff.Tape, sigma *autodiff.Var) *autodiff.Var {
	diag := tp.Diag(sigma)
	ones := make([]float64, len(diag.Data))
	for i := range ones {
		ones[i] = 1
	}
	return tp.Sum(tp.Div(autodiff.Const(ones, diag.Shape...), diag))
}

// ReconFeatures returns the reconstruction features of inputs x and reconstructions xr
// (both [N, d]) as feat [N, 2] = [‖x−x'‖/‖x‖, x·x'/(‖x‖‖x'‖)] (relative Euclidean distance
// and cosine similarity, as in the paper — not tnakae's 0.5·(1−cos)) and the squared
// reconstruction errors sq [N] = ‖x−x'‖². A row with x = 0 or x' = 0 gives NaN features.
func ReconFeatures(tp *autodiff.Tape, x, xr *autodiff.Var) (feat, sq *autodiff.Var) {
	if len(x.Shape) != 2 || !slices.Equal(x.Shape, xr.Shape) {
		panic(fmt.Sprintf("daggm: ReconFeatures: x %v and x' %v differ or are not [N, d]", x.Shape, xr.Shape))
	}
	n := x.Shape[0]
	norm := func(v *autodiff.Var) *autodiff.Var { return tp.Sqrt(tp.SumAxis(tp.Square(v), 1)) }
	sq = tp.SumAxis(tp.Square(tp.Sub(x, xr)), 1)
	xn := norm(x)
	rel := tp.Div(tp.Sqrt(sq), xn)
	cos := tp.Div(tp.SumAxis(tp.Mul(x, xr), 1), tp.Mul(xn, norm(xr)))
	return tp.Concat(tp.Reshape(rel, n, 1), tp.Reshape(cos, n, 1)), sq
}

// CovarianceError reports a mixture component whose covariance (plus jitter) is not
// numerically positive definite: the latent points it covers are (nearly) collinear.
type CovarianceError struct {
	Component int
	Jitter    float64
}

func (e *CovarianceError) Error() string {
	return fmt.Sprintf("daggm: the covariance of mixture component %d is not positive definite even with jitter %g on its diagonal: its latent points are (nearly) collinear; raise lambda2 or jitter, or use fewer components", e.Component, e.Jitter)
}

// GMM is a Gaussian mixture with full covariances: K components in D dimensions, stored
// row-major.
type GMM struct {
	K, D  int
	Phi   []float64 // [K] mixture weights
	Mu    []float64 // [K·D], row k is μ_k
	Sigma []float64 // [K·D·D], Σ_k row-major
}

// NewGMM returns the mixture the memberships gamma (N×K, rows summing to 1) imply for the
// points z (N×D), by GMMParams. It panics if the row counts differ.
func NewGMM(z, gamma *mat.Dense) *GMM {
	n, d := z.Dims()
	ng, k := gamma.Dims()
	if n != ng {
		panic(fmt.Sprintf("daggm: NewGMM: %d points but %d membership rows", n, ng))
	}
	phi, mu, sigma := GMMParams(nil, autodiff.Const(denseData(z), n, d), autodiff.Const(denseData(gamma), n, k))
	return &GMM{K: k, D: d, Phi: phi.Data, Mu: mu.Data, Sigma: sigma.Data}
}

// Energy returns E(z_i) for every row of z (N×D) into dst (grown or allocated as needed),
// with jitter on the covariance diagonals as in the package-level Energy.
func (g *GMM) Energy(dst []float64, z *mat.Dense, jitter float64) ([]float64, error) {
	n, d := z.Dims()
	if d != g.D {
		panic(fmt.Sprintf("daggm: GMM.Energy: points have %d columns, the mixture %d", d, g.D))
	}
	e, err := Energy(nil, autodiff.Const(denseData(z), n, d), autodiff.Const(g.Phi, g.K),
		autodiff.Const(g.Mu, g.K, g.D), autodiff.Const(g.Sigma, g.K, g.D, g.D), jitter)
	if err != nil {
		return nil, err
	}
	return append(dst[:0], e.Data...), nil
}

// CovDiagPenalty returns Σ_k Σ_j 1/Σ_k,jj.
func (g *GMM) CovDiagPenalty() float64 {
	return CovDiagPenalty(nil, autodiff.Const(g.Sigma, g.K, g.D, g.D)).Value()
}

// denseData returns the elements of m row by row (a copy when m is a strided view).
func denseData(m *mat.Dense) []float64 {
	r, c := m.Dims()
	raw := m.RawMatrix()
	if raw.Stride == c {
		return raw.Data[:r*c]
	}
	out := make([]float64, 0, r*c)
	for i := 0; i < r; i++ {
		out = append(out, m.RawRowView(i)...)
	}
	return out
}
