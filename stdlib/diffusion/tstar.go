package diffusion

import (
	"fmt"
	"math"
)

// SecondDiff sets dst to the 3-point second derivative of f over the abscissa x, which must
// be strictly monotone (increasing or decreasing) but need not be uniform:
//
//	f''(x_j) ≈ 2·[ f_{j+1}/(h₊(h₋+h₊)) − f_j/(h₋h₊) + f_{j−1}/(h₋(h₋+h₊)) ],  h₋ = x_j − x_{j−1}, h₊ = x_{j+1} − x_j,
//
// which is (f_{j+1} − 2f_j + f_{j−1})/h² on a uniform grid of step h. dst[0] and dst[n−1] are
// NaN (no neighbour). It panics if the lengths differ or n < 3.
func SecondDiff(dst, x, f []float64) {
	n := len(f)
	if len(x) != n || len(dst) != n || n < 3 {
		panic("diffusion: SecondDiff: need len(dst) = len(x) = len(f) ≥ 3")
	}
	dst[0], dst[n-1] = math.NaN(), math.NaN()
	for j := 1; j < n-1; j++ {
		hm, hp := x[j]-x[j-1], x[j+1]-x[j]
		dst[j] = 2 * (f[j+1]/(hp*(hm+hp)) - f[j]/(hm*hp) + f[j-1]/(hm*(hm+hp)))
	}
}

// Curvature is the "Hessian" H of the displacement curve D over one abscissa and the
// truncation steps it selects (csdi_icr.md §2.5). Steps are absolute steps t (grid values);
// -1 means "none".
type Curvature struct {
	// Abscissa is the x over which D is differentiated, per grid point: t itself, or log λ_t.
	Abscissa []float64
	// H is the second derivative of D over Abscissa per grid point; NaN at both ends.
	H []float64
	// ArgMax is the grid step with the largest H among interior grid points (so in
	// [1, T−2]): the elbow where the displacement starts to accelerate. Ties go to the
	// smallest t.
	ArgMax int
	// Inflection is the first grid step after ArgMax with H ≤ 0 (the inflection of D), or
	// -1 if H has no sign change after its maximum (or its maximum is not positive).
	Inflection int
	// InflectionAt linearly interpolates H's zero crossing between the grid steps before and
	// at Inflection, in units of t; NaN if Inflection is -1.
	InflectionAt float64
}

// Selection is the result of Select, with every curve for the report.
type Selection struct {
	// Grid is the increasing list of truncation steps t the curves are evaluated on.
	Grid []int
	// LogSNR is log λ_t per grid point.
	LogSNR []float64
	// Delta[g][i] = ỹ_i^reg(t_g) − ỹ_i, the displacement of entry i (denoised minus nominal).
	Delta [][]float64
	// DeltaNoised[g][i] = ỹ_i^reg(t_g) − median_s y_{i,t_g}^{(s)} (denoised minus noised, the
	// preprint's literal wording); nil when no noised medians were given.
	DeltaNoised [][]float64
	// D is the mean over entries of Delta², DNoised that of DeltaNoised² (nil without it).
	D, DNoised []float64
	// Index is the curvature of D over the step index t (divided by h² on a coarser grid);
	// LogSNRCurv is the schedule-agnostic version over log λ_t.
	Index, LogSNRCurv Curvature
	// TStar is the rule t* = Index.ArgMax.
	TStar int
	// Budget is the smallest grid step with √D(t) ≥ C·SD, or -1 if none.
	Budget int
	// C and SD are the budget's parameters as used.
	C, SD float64
}

// SelectOptions configures Select. Zero values mean the defaults.
type SelectOptions struct {
	// C is the displacement budget as a fraction of SD (default 0.1, csdi_icr.md §2.5).
	C float64
	// SD is the target's standard deviation in the units of y (default 1, for standardized
	// targets).
	SD float64
}

// Select computes the displacement curves of a truncation sweep and the t* they select
// (csdi_icr.md §2.5). grid is the strictly increasing list of truncation steps (at least 3,
// within [0, T−1]); y the nominal values ỹ_i (any flat layout, e.g. [row][dim]); reg[g] the
// ICR outputs ỹ^reg(t_g) in the layout of y; noised[g], optional (nil), the medians of the
// noised starting values. Sweep produces reg and noised.
//
// It panics on inconsistent lengths or an invalid grid, and returns an error if the
// displacement is not finite at some grid step (a diverged denoiser).
func Select(s *Schedule, grid []int, y []float64, reg, noised [][]float64, opt SelectOptions) (*Selection, error) {
	ng := len(grid)
	if ng < 3 {
		panic("diffusion: Select: the grid needs at least 3 steps")
	}
	for g, t := range grid {
		if t < 0 || t >= s.T() || (g > 0 && t <= grid[g-1]) {
			panic("diffusion: Select: grid must be strictly increasing within [0, T−1]")
		}
	}
	if len(reg) != ng || (noised != nil && len(noised) != ng) {
		panic("diffusion: Select: one reg (and noised) vector per grid step")
	}
	if opt.C == 0 {
		opt.C = 0.1
	}
	if opt.SD == 0 {
		opt.SD = 1
	}
	sel := &Selection{
		Grid:   append([]int(nil), grid...),
		LogSNR: make([]float64, ng),
		Delta:  make([][]float64, ng),
		D:      make([]float64, ng),
		C:      opt.C,
		SD:     opt.SD,
	}
	if noised != nil {
		sel.DeltaNoised = make([][]float64, ng)
		sel.DNoised = make([]float64, ng)
	}
	n := float64(len(y))
	for g, t := range grid {
		sel.LogSNR[g] = s.LogSNR(t)
		if len(reg[g]) != len(y) || (noised != nil && len(noised[g]) != len(y)) {
			panic("diffusion: Select: reg[g] and noised[g] must have the length of y")
		}
		sel.Delta[g] = make([]float64, len(y))
		var ss float64
		for i, v := range reg[g] {
			d := v - y[i]
			sel.Delta[g][i] = d
			ss += d * d
		}
		sel.D[g] = ss / n
		if math.IsNaN(sel.D[g]) || math.IsInf(sel.D[g], 0) {
			return nil, fmt.Errorf("diffusion: the ICR displacement at t = %d is %g: the denoiser's output is not finite", t, sel.D[g])
		}
		if noised != nil {
			sel.DeltaNoised[g] = make([]float64, len(y))
			ss = 0
			for i, v := range reg[g] {
				d := v - noised[g][i]
				sel.DeltaNoised[g][i] = d
				ss += d * d
			}
			sel.DNoised[g] = ss / n
		}
	}
	idx := make([]float64, ng)
	for g, t := range grid {
		idx[g] = float64(t)
	}
	sel.Index = curvature(grid, idx, sel.D)
	sel.LogSNRCurv = curvature(grid, append([]float64(nil), sel.LogSNR...), sel.D)
	sel.TStar = sel.Index.ArgMax
	sel.Budget = -1
	for g, t := range grid {
		if math.Sqrt(sel.D[g]) >= opt.C*opt.SD {
			sel.Budget = t
			break
		}
	}
	return sel, nil
}

func curvature(grid []int, x, d []float64) Curvature {
	ng := len(grid)
	c := Curvature{Abscissa: x, H: make([]float64, ng), Inflection: -1, InflectionAt: math.NaN()}
	SecondDiff(c.H, x, d)
	best := 1
	for g := 2; g < ng-1; g++ {
		if c.H[g] > c.H[best] {
			best = g
		}
	}
	c.ArgMax = grid[best]
	if !(c.H[best] > 0) {
		return c
	}
	for g := best + 1; g < ng-1; g++ {
		if c.H[g] <= 0 {
			c.Inflection = grid[g]
			h0, h1 := c.H[g-1], c.H[g]
			t0, t1 := float64(grid[g-1]), float64(grid[g])
			c.InflectionAt = t0 + h0/(h0-h1)*(t1-t0)
			break
		}
	}
	return c
}
