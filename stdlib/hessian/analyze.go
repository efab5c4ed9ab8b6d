package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Settings tunes Analyze. Zero fields take PyHessian's defaults (given in brackets); a
// tolerance cannot be set to exactly 0 (use a tiny value to run all iterations).
type Settings struct {
	TopN         int     // eigenvalues by power iteration [1]
	PowerMaxIter int     // power iterations per eigenvalue [100]
	PowerTol     float64 // power-iteration relative tolerance [1e-3]
	TraceMaxIter int     // Hutchinson probes at most [100]
	TraceTol     float64 // Hutchinson relative tolerance [1e-3]
	LanczosIter  int     // Lanczos steps per SLQ run, capped at p [100]
	LanczosRuns  int     // SLQ runs n_v [1]
	Bins         int     // grid points of the smoothed density [10000]
	// NegativeRel sets the threshold below which a node counts as negative: θ < −NegativeRel·
	// max|θ| [1e-3]. Nodes between are numerically zero curvature (flat directions).
	NegativeRel float64
	// NegativeFloor, when positive, lowers the threshold to −max(NegativeRel·max|θ|,
	// NegativeFloor) [0]. At a minimum of L + (wd/2)‖θ‖² the data loss's Hessian has
	// eigenvalues down to −wd in the directions the decay pins; set NegativeFloor to about
	// 1.5·wd so that they do not count as negative curvature.
	NegativeFloor float64
	// NegativeMass is the SLQ weight below the threshold from which negative curvature is
	// "appreciable" [0.01, i.e. about one eigenvalue's worth for p ≈ 100, since each
	// eigenvalue carries 1/p of the weight in expectation].
	NegativeMass float64
}

func (s *Settings) withDefaults() Settings {
	var t Settings
	if s != nil {
		t = *s
	}
	if t.TopN < 0 || t.PowerMaxIter < 0 || t.TraceMaxIter < 0 || t.LanczosIter < 0 || t.LanczosRuns < 0 || t.Bins < 0 ||
		!(t.PowerTol >= 0) || !(t.TraceTol >= 0) || !(t.NegativeRel >= 0) || !(t.NegativeMass >= 0) || !(t.NegativeFloor >= 0) {
		panic(fmt.Sprintf("hessian: invalid Settings %+v", t))
	}
	def := func(x *int, v int) {
		if *x == 0 {
			*x = v
		}
	}
	deff := func(x *float64, v float64) {
		if *x == 0 {
			*x = v
		}
	}
	def(&t.TopN, 1)
	def(&t.PowerMaxIter, 100)
	deff(&t.PowerTol, 1e-3)
	def(&t.TraceMaxIter, 100)
	deff(&t.TraceTol, 1e-3)
	def(&t.LanczosIter, 100)
	def(&t.LanczosRuns, 1)
	def(&t.Bins, 10000)
	deff(&t.NegativeRel, 1e-3)
	deff(&t.NegativeMass, 0.01)
	return t
}

// Report is what §3.2 of the preprint asks of a loss landscape: the top eigenvalue(s), the
// trace, the eigenvalue density and whether negative curvature has appreciable weight.
// Flatness means a small TopEigenvalues[0] and a small Trace.
type Report struct {
	// Params is the dimension p (the number of network parameters).
	Params int
	// TopEigenvalues are the power-iteration estimates (largest |λ| first, signed), with the
	// Hessian-vector products spent on each and whether the tolerance test stopped them.
	TopEigenvalues  []float64
	PowerIterations []int
	PowerConverged  []bool
	// Trace is Hutchinson's estimate, TraceSE its standard error over TraceProbes probes;
	// TraceConverged says whether PyHessian's stopping rule (rather than the cap) ended it.
	Trace          float64
	TraceSE        float64
	TraceProbes    int
	TraceConverged bool
	// Nodes and Weights are the SLQ quadrature, one slice per run (ascending nodes), and
	// LanczosRestarts the breakdowns per run.
	Nodes, Weights  [][]float64
	LanczosRestarts []int
	// Grid and Density are the smoothed spectral density (DensityGenerate) for plotting.
	Grid, Density []float64
	// MinNode and MaxNode are the extreme Ritz values over all runs: MinNode ≥ λ_min and
	// MaxNode ≤ λ_max, and both converge quickly to them.
	MinNode, MaxNode float64
	// NegativeThreshold is −max(NegativeRel·max|θ|, NegativeFloor); NegativeMass the SLQ weight (mean over runs)
	// of nodes below it; AppreciableNegative is NegativeMass ≥ Settings.NegativeMass.
	NegativeThreshold   float64
	NegativeMass        float64
	AppreciableNegative bool
}

// Analyze runs TopEigenvalues, Trace and Density (in that order, all drawing from rng) on
// the operator hvp of dimension p and summarizes them in a Report. With an MLP:
//
//	res, _ := hessian.Fit(ctx, obj, nil, rng)
//	rep, err := hessian.Analyze(obj.HVP(res.Theta), obj.NumParams(), nil, rng)
//
// It panics on invalid settings (negative fields) or as the functions it calls; it returns
// their errors.
func Analyze(hvp HVP, p int, s *Settings, rng *rand.Rand) (*Report, error) {
	set := s.withDefaults()
	checkCommon("Analyze", hvp, p, rng)
	eig, err := TopEigenvalues(hvp, p, min(set.TopN, p), set.PowerMaxIter, set.PowerTol, rng)
	if err != nil {
		return nil, err
	}
	tr, err := Trace(hvp, p, set.TraceMaxIter, set.TraceTol, rng)
	if err != nil {
		return nil, err
	}
	slq, err := Density(hvp, p, set.LanczosIter, set.LanczosRuns, rng)
	if err != nil {
		return nil, err
	}
	rep := &Report{
		Params:          p,
		TopEigenvalues:  eig.Values,
		PowerIterations: eig.Iterations,
		PowerConverged:  eig.Converged,
		Trace:           tr.Mean,
		TraceSE:         tr.SE(),
		TraceProbes:     len(tr.Probes),
		TraceConverged:  tr.Converged,
		Nodes:           slq.Nodes,
		Weights:         slq.Weights,
		LanczosRestarts: slq.Restarts,
		MinNode:         math.Inf(1),
		MaxNode:         math.Inf(-1),
	}
	if math.IsNaN(rep.TraceSE) {
		rep.TraceSE = 0 // one probe: no spread to report; TraceProbes says so
	}
	scale := 0.0
	for _, run := range slq.Nodes {
		for _, th := range run {
			rep.MinNode = math.Min(rep.MinNode, th)
			rep.MaxNode = math.Max(rep.MaxNode, th)
			scale = math.Max(scale, math.Abs(th))
		}
	}
	rep.NegativeThreshold = -math.Max(set.NegativeRel*scale, set.NegativeFloor)
	for r, run := range slq.Nodes {
		for i, th := range run {
			if th < rep.NegativeThreshold {
				rep.NegativeMass += slq.Weights[r][i]
			}
		}
	}
	rep.NegativeMass /= float64(len(slq.Nodes))
	rep.AppreciableNegative = rep.NegativeMass >= set.NegativeMass
	rep.Grid, rep.Density = DensityGenerate(slq.Nodes, slq.Weights, set.Bins)
	return rep, nil
}
