package hessian

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// HVP is a symmetric linear operator of dimension p, normally a Hessian: it writes H·v into
// dst. len(dst) = len(v) = p; dst and v never alias. It must not modify v and must not keep
// either slice.
type HVP func(dst, v []float64)

// Shift returns the operator v ↦ Hv + c·v, e.g. the Hessian of a loss with the weight
// decay (c/2)·‖θ‖² added.
func Shift(hvp HVP, c float64) HVP {
	return func(dst, v []float64) {
		hvp(dst, v)
		floats.AddScaled(dst, c, v)
	}
}

// pyEps is the constant PyHessian adds to norms and denominators: normalize(v) =
// v/(‖v‖ + 1e-6), and the relative-change tests divide by |previous| + 1e-6.
const pyEps = 1e-6

// normalizePy scales v to v/(‖v‖ + 1e-6), PyHessian's `normalization`. The result has norm
// slightly below 1 (by a relative 1e-6/‖v‖); power iteration copies this quirk.
func normalizePy(v []float64) {
	s := math.Sqrt(floats.Dot(v, v)) + pyEps
	for i := range v {
		v[i] /= s
	}
}

// orthogonalize removes from w its components along the unit vectors of basis, one after the
// other (modified Gram–Schmidt, the order of PyHessian's `orthnormal`).
func orthogonalize(w []float64, basis [][]float64) {
	for _, b := range basis {
		floats.AddScaled(w, -floats.Dot(w, b), b)
	}
}

func gaussian(dst []float64, rng *rand.Rand) {
	for i := range dst {
		dst[i] = rng.NormFloat64()
	}
}

// rademacher fills dst with independent ±1 entries.
func rademacher(dst []float64, rng *rand.Rand) {
	for i := range dst {
		if rng.Uint64()&1 == 0 {
			dst[i] = -1
		} else {
			dst[i] = 1
		}
	}
}

// applyChecked applies hvp and returns an error when the product is not finite: a diverged
// model or a loss that overflows, which the caller can act on.
func applyChecked(hvp HVP, dst, v []float64) error {
	clear(dst)
	hvp(dst, v)
	for _, x := range dst {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("hessian: the Hessian-vector product is not finite (NaN or ±Inf); check the weights and the data for overflow")
		}
	}
	return nil
}

func checkCommon(fn string, hvp HVP, p int, rng *rand.Rand) {
	if hvp == nil {
		panic("hessian: " + fn + ": nil operator")
	}
	if p < 1 {
		panic(fmt.Sprintf("hessian: %s: dimension p = %d < 1", fn, p))
	}
	if rng == nil {
		panic("hessian: " + fn + ": nil *rand.Rand")
	}
}

// Eigen holds the result of TopEigenvalues. Entry k belongs to the k-th eigenvalue found.
type Eigen struct {
	// Values are the eigenvalue estimates, in the order found (decreasing |λ| when the power
	// iterations converged). A dominant negative eigenvalue is reported as negative.
	Values []float64
	// Vectors are the corresponding unit-norm (to 1e-6) eigenvector estimates.
	Vectors [][]float64
	// Iterations counts the Hessian-vector products spent on each eigenvalue.
	Iterations []int
	// Converged reports whether the tolerance test stopped the iteration before maxIter.
	Converged []bool
}

// TopEigenvalues estimates the n eigenvalues of largest magnitude of the operator hvp of
// dimension p by power iteration with deflation, exactly as PyHessian's
// hessian.eigenvalues(maxIter, tol, top_n) (defaults 100, 1e-3, 1), with normalize(v) =
// v/(‖v‖ + 1e-6). For each k:
//
//  1. v ~ N(0, I) from rng, normalized;
//  2. up to maxIter times: orthogonalize v against the eigenvectors already found and
//     normalize; λ_tmp = vᵀHv; v = normalize(Hv); from the second iteration on, stop when
//     |λ − λ_tmp|/(|λ| + 1e-6) < tol, otherwise λ = λ_tmp (the first iteration sets λ = λ_tmp);
//  3. store λ and v.
//
// On a stop, the stored λ is therefore the previous iterate's estimate, not λ_tmp. Power
// iteration converges to the largest |λ|, so a dominant negative eigenvalue is returned as
// negative; convergence is slow when |λ_k| and |λ_{k+1}| are close, and tol bounds the
// change between iterates, not the error. The eigenvector stored is normalize(Hv) of the last
// iteration (not re-orthogonalized), as in PyHessian.
//
// It panics if hvp or rng is nil, p < 1, n < 1, n > p, maxIter < 1 or tol is negative or NaN.
// It returns an error if a Hessian-vector product is not finite.
func TopEigenvalues(hvp HVP, p, n, maxIter int, tol float64, rng *rand.Rand) (Eigen, error) {
	checkCommon("TopEigenvalues", hvp, p, rng)
	if n < 1 || n > p {
		panic(fmt.Sprintf("hessian: TopEigenvalues: n = %d outside [1, p = %d]", n, p))
	}
	if maxIter < 1 {
		panic(fmt.Sprintf("hessian: TopEigenvalues: maxIter = %d < 1", maxIter))
	}
	if !(tol >= 0) {
		panic(fmt.Sprintf("hessian: TopEigenvalues: tol = %v is negative or NaN", tol))
	}
	var res Eigen
	hv := make([]float64, p)
	for range n {
		v := make([]float64, p)
		gaussian(v, rng)
		normalizePy(v)
		var lambda float64
		iters, converged := 0, false
		for i := range maxIter {
			orthogonalize(v, res.Vectors)
			normalizePy(v)
			if err := applyChecked(hvp, hv, v); err != nil {
				return Eigen{}, err
			}
			iters++
			tmp := floats.Dot(hv, v)
			copy(v, hv)
			normalizePy(v)
			if i == 0 {
				lambda = tmp
				continue
			}
			if math.Abs(lambda-tmp)/(math.Abs(lambda)+pyEps) < tol {
				converged = true
				break
			}
			lambda = tmp
		}
		res.Values = append(res.Values, lambda)
		res.Vectors = append(res.Vectors, v)
		res.Iterations = append(res.Iterations, iters)
		res.Converged = append(res.Converged, converged)
	}
	return res, nil
}

// TraceResult holds Hutchinson's estimate of tr(H).
type TraceResult struct {
	// Mean is the trace estimate, the mean of Probes.
	Mean float64
	// Probes are the values vᵀHv of the Rademacher probes, in order. Their variance is
	// 2·Σ_{i≠j} H_ij².
	Probes []float64
	// Converged reports whether the tolerance test stopped the estimator before maxIter.
	Converged bool
}

// SE is the standard error of Mean, sd(Probes)/√m with the m−1 sample standard deviation;
// NaN for fewer than two probes.
func (t TraceResult) SE() float64 {
	m := len(t.Probes)
	if m < 2 {
		return math.NaN()
	}
	mean := floats.Sum(t.Probes) / float64(m)
	var ss float64
	for _, x := range t.Probes {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(m-1) / float64(m))
}

// Trace estimates tr(H) of the operator hvp of dimension p with Hutchinson's estimator,
// exactly as PyHessian's hessian.trace(maxIter, tol) (defaults 100, 1e-3): for up to maxIter
// Rademacher probes v (independent ±1 entries from rng), append vᵀHv to the list, and stop as
// soon as |mean(list) − previous mean|/(|previous mean| + 1e-6) < tol, the previous mean
// starting at 0. The estimate is the mean of the list. The rule stops on a small change of
// the running mean, so the number of probes is random and can be small: report SE with it.
//
// It panics if hvp or rng is nil, p < 1, maxIter < 1 or tol is negative or NaN. It returns
// an error if a Hessian-vector product is not finite.
func Trace(hvp HVP, p, maxIter int, tol float64, rng *rand.Rand) (TraceResult, error) {
	checkCommon("Trace", hvp, p, rng)
	if maxIter < 1 {
		panic(fmt.Sprintf("hessian: Trace: maxIter = %d < 1", maxIter))
	}
	if !(tol >= 0) {
		panic(fmt.Sprintf("hessian: Trace: tol = %v is negative or NaN", tol))
	}
	v := make([]float64, p)
	hv := make([]float64, p)
	var res TraceResult
	var sum, prev float64
	for range maxIter {
		rademacher(v, rng)
		if err := applyChecked(hvp, hv, v); err != nil {
			return TraceResult{}, err
		}
		q := floats.Dot(hv, v)
		res.Probes = append(res.Probes, q)
		sum += q
		mean := sum / float64(len(res.Probes))
		res.Mean = mean
		if math.Abs(mean-prev)/(math.Abs(prev)+pyEps) < tol {
			res.Converged = true
			break
		}
		prev = mean
	}
	return res, nil
}

// SLQ holds a stochastic Lanczos quadrature of the spectral density: for each run r, the
// nodes θ_ri (Ritz values, ascending) and weights τ_ri² (summing to 1), so that
// Σ_i τ_ri² f(θ_ri) ≈ (1/p)·tr f(H) in expectation, exactly for polynomials f of degree
// below 2·steps when the Lanczos run did not restart.
type SLQ struct {
	Nodes   [][]float64
	Weights [][]float64
	// Restarts counts, per run, the Lanczos breakdowns (β ≈ 0) that restarted the
	// iteration from a fresh random direction.
	Restarts []int
}

// breakdownRel is the β below which (relative to the largest |α| or β seen in the run) the
// Krylov space counts as exhausted and Lanczos restarts. Below it, w is rounding noise, and a
// fresh random direction is cleaner; the choice barely matters because the coupling it drops
// is at most 1e-10·‖T‖.
const breakdownRel = 1e-10

// Density computes the stochastic Lanczos quadrature of the spectrum of the operator hvp of
// dimension p, as PyHessian's hessian.density(iter, n_v) (defaults 100, 1): for each of nv
// runs, a Rademacher start vector (from rng), min(iter, p) Lanczos steps with full
// reorthogonalization against all previous Lanczos vectors, the tridiagonal T of the α's and
// β's, and its eigendecomposition (mat.EigenSym); nodes are the eigenvalues θ_i of T and
// weights τ_i² the squared first components of its unit eigenvectors.
//
// It departs from the reference in three documented ways, each removing an artifact:
//   - the steps are capped at min(iter, p): past p steps the Krylov space is exhausted and the
//     reference fills T from rounding noise normalized by (0 + 1e-6);
//   - Lanczos vectors are normalized exactly (v/‖v‖), not by ‖v‖ + 1e-6, which would bias
//     every α by a relative 2e-6/‖w‖; and they are orthogonalized twice ("twice is
//     enough"), so that T = QᵀHQ to rounding even for p ≤ iter;
//   - a breakdown is β ≤ 1e-10·(largest |α| or β so far) instead of β = 0 exactly (which
//     rounding never produces); as in the reference, β is then set to 0 in T and Lanczos
//     restarts from a Gaussian vector orthogonalized against all previous ones. The restarted
//     block's nodes are eigenvalues of H with zero weight.
//
// It panics if hvp or rng is nil, p < 1, iter < 1 or nv < 1. It returns an error if a
// Hessian-vector product is not finite or the eigendecomposition of T fails.
func Density(hvp HVP, p, iter, nv int, rng *rand.Rand) (SLQ, error) {
	checkCommon("Density", hvp, p, rng)
	if iter < 1 {
		panic(fmt.Sprintf("hessian: Density: iter = %d < 1", iter))
	}
	if nv < 1 {
		panic(fmt.Sprintf("hessian: Density: nv = %d < 1", nv))
	}
	var res SLQ
	v0 := make([]float64, p)
	for range nv {
		rademacher(v0, rng)
		nodes, weights, restarts, err := lanczos(hvp, v0, min(iter, p), rng)
		if err != nil {
			return SLQ{}, err
		}
		res.Nodes = append(res.Nodes, nodes)
		res.Weights = append(res.Weights, weights)
		res.Restarts = append(res.Restarts, restarts)
	}
	return res, nil
}

// lanczos runs m ≤ len(v0) Lanczos steps with full reorthogonalization from v0 (not
// modified, nonzero) and returns the Gauss quadrature nodes (ascending) and weights.
func lanczos(hvp HVP, v0 []float64, m int, rng *rand.Rand) (nodes, weights []float64, restarts int, err error) {
	p := len(v0)
	if m < 1 || m > p {
		panic(fmt.Sprintf("hessian: lanczos: m = %d outside [1, %d]", m, p))
	}
	basis := make([][]float64, 0, m)
	alpha := make([]float64, 0, m)
	beta := make([]float64, 0, m)
	unit := func(w []float64) bool {
		// Twice-is-enough Gram–Schmidt, then exact normalization.
		orthogonalize(w, basis)
		orthogonalize(w, basis)
		s := math.Sqrt(floats.Dot(w, w))
		if s == 0 {
			return false
		}
		floats.Scale(1/s, w)
		return true
	}
	v := append([]float64(nil), v0...)
	if !unit(v) {
		panic("hessian: lanczos: zero start vector")
	}
	w := make([]float64, p)
	scale := 0.0
	for i := range m {
		if i > 0 {
			b := math.Sqrt(floats.Dot(w, w))
			v = make([]float64, p)
			copy(v, w)
			ok := b > breakdownRel*scale && unit(v)
			if !ok {
				// The Krylov space of the start vector is (numerically) invariant: restart
				// in its orthogonal complement, which is nonempty since i < m ≤ p.
				b = 0
				restarts++
				for tries := 0; !ok; tries++ {
					if tries == 100 {
						return nil, nil, 0, errors.New("hessian: Lanczos could not find a direction orthogonal to the previous ones")
					}
					gaussian(v, rng)
					ok = unit(v)
				}
			}
			beta = append(beta, b)
			scale = math.Max(scale, b)
		}
		basis = append(basis, v)
		if err := applyChecked(hvp, w, v); err != nil {
			return nil, nil, 0, err
		}
		a := floats.Dot(w, v)
		alpha = append(alpha, a)
		scale = math.Max(scale, math.Abs(a))
		floats.AddScaled(w, -a, v)
		if i > 0 {
			floats.AddScaled(w, -beta[i-1], basis[i-1])
		}
	}
	t := mat.NewSymDense(m, nil)
	for i := range m {
		t.SetSym(i, i, alpha[i])
		if i+1 < m {
			t.SetSym(i, i+1, beta[i])
		}
	}
	var es mat.EigenSym
	if !es.Factorize(t, true) {
		return nil, nil, 0, errors.New("hessian: the eigendecomposition of the Lanczos matrix failed to converge")
	}
	nodes = es.Values(nil)
	var q mat.Dense
	es.VectorsTo(&q)
	weights = make([]float64, m)
	for k := range m {
		weights[k] = q.At(0, k) * q.At(0, k)
	}
	return nodes, weights, restarts, nil
}

// DensityGenerate smooths stochastic Lanczos quadrature nodes and weights (one slice per
// run, as in SLQ) into a density on a grid, as PyHessian's density_plot.density_generate
// with its defaults (sigma_squared = 1e-5, overhead = 0.01):
//
//   - the grid has bins points evenly spaced (numpy.linspace) from the mean over runs of the
//     smallest node − 0.01 to the mean over runs of the largest node + 0.01;
//   - each node is a Gaussian of VARIANCE s = 1e-5·max(1, grid span) (the reference calls it
//     sigma); density(t) = mean over runs of Σ_i τ_i² N(t; θ_i, s);
//   - the density is renormalized so that Σ density·Δt = 1.
//
// The kernel is narrow (sd ≥ 0.0032) and fixed in absolute units, so it resolves structure
// only on spectra wider than about 0.01; plot log10(density + 1e-7) as the reference does.
//
// It panics if bins < 2, if there are no runs, if a run is empty or if nodes and weights
// differ in shape.
func DensityGenerate(nodes, weights [][]float64, bins int) (grid, density []float64) {
	if bins < 2 {
		panic(fmt.Sprintf("hessian: DensityGenerate: bins = %d < 2", bins))
	}
	if len(nodes) == 0 || len(nodes) != len(weights) {
		panic(fmt.Sprintf("hessian: DensityGenerate: %d runs of nodes, %d of weights", len(nodes), len(weights)))
	}
	var lo, hi float64
	for r := range nodes {
		if len(nodes[r]) == 0 || len(nodes[r]) != len(weights[r]) {
			panic(fmt.Sprintf("hessian: DensityGenerate: run %d has %d nodes and %d weights", r, len(nodes[r]), len(weights[r])))
		}
		lo += floats.Min(nodes[r])
		hi += floats.Max(nodes[r])
	}
	runs := float64(len(nodes))
	lo = lo/runs - 0.01
	hi = hi/runs + 0.01
	grid = make([]float64, bins)
	// numpy.linspace: start + i·step, with the end point set exactly.
	step := (hi - lo) / float64(bins-1)
	for j := range grid {
		grid[j] = lo + float64(j)*step
	}
	grid[bins-1] = hi
	s := 1e-5 * math.Max(1, hi-lo)
	c := 1 / math.Sqrt(2*math.Pi*s)
	density = make([]float64, bins)
	// exp(−x) is exactly 0 in float64 for x > 745.2, so only grid points within
	// √(2·s·746) of a node can receive anything: skipping the rest changes no bit.
	reach := math.Sqrt(2 * s * 746)
	for r := range nodes {
		for i, th := range nodes[r] {
			wt := weights[r][i]
			j0 := max(0, int(math.Floor((th-reach-lo)/step))-1)
			j1 := min(bins-1, int(math.Ceil((th+reach-lo)/step))+1)
			for j := j0; j <= j1; j++ {
				d := th - grid[j]
				density[j] += wt * c * math.Exp(-d*d/(2*s))
			}
		}
	}
	norm := floats.Sum(density) / runs * (grid[1] - grid[0])
	for j := range density {
		density[j] /= runs * norm
	}
	return grid, density
}
