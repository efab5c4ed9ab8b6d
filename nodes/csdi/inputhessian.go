package csdi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// InputHessians is the input-Hessian diagnostic of the truncation step (csdi_icr.md §2.5,
// option (b)): for each analysed row i and truncation step t, the gradient and the Hessian
// of f_i(x) = E[ỹ^reg(t) − ỹ_i | x], the expected ICR displacement of the noised column,
// with respect to the row's conditioning columns x around their measured values x̃_i. All
// in the model's standardized units (columns z-scored on the training rows), so entries of
// different descriptors are comparable.
type InputHessians struct {
	Grid []int // truncation steps
	Rows []int // analysed rows of the data
	Step float64
	// Grad[g][r] and Hess[g][r] (row-major p×p) at Grid[g] for Rows[r]; p = conditioning columns.
	Grad, Hess [][][]float64
	// MaxAbsEig[g][r] is the largest |eigenvalue| of Hess[g][r].
	MaxAbsEig [][]float64
}

// Curvature returns the mean over rows of MaxAbsEig per grid step: the §2.5(b) summary.
func (h *InputHessians) Curvature() []float64 {
	out := make([]float64, len(h.Grid))
	for g, row := range h.MaxAbsEig {
		for _, v := range row {
			out[g] += v / float64(len(row))
		}
	}
	return out
}

// Suggest returns §2.5(b)'s choice: the largest grid step up to which the curvature stays
// at or below factor times its level at the first grid step (t = 0 on the usual grid).
func (h *InputHessians) Suggest(factor float64) int {
	c := h.Curvature()
	best := h.Grid[0]
	for g := range c {
		if !(c[g] <= factor*c[0]) {
			break
		}
		best = h.Grid[g]
	}
	return best
}

// stencil is the set of points at which gonum's fd.Hessian with the central formula and a
// given step evaluates a function of p variables: offsets from the origin, each once, in
// the order fd.Hessian first visits them, indexed by their coordinates so that fd.Hessian
// can be replayed on values computed in one batch.
type stencil struct {
	p     int
	step  float64
	pts   [][]float64
	index map[string]int // pointKey → position in pts
}

// newCentralStencil records the points by running fd.Hessian once on a function that
// notes where it is evaluated.
func newCentralStencil(p int, step float64) *stencil {
	st := &stencil{p: p, step: step, index: map[string]int{}}
	fd.Hessian(mat.NewSymDense(p, nil), func(x []float64) float64 {
		k := pointKey(x)
		if _, seen := st.index[k]; !seen {
			st.index[k] = len(st.pts)
			st.pts = append(st.pts, append([]float64(nil), x...))
		}
		return 0
	}, make([]float64, p), st.settings())
	return st
}

func (st *stencil) settings() *fd.Settings {
	return &fd.Settings{Formula: fd.Central, Step: st.step}
}

// at returns vals at the stencil point x; it panics for a point outside the stencil.
func (st *stencil) at(vals []float64, x []float64) float64 {
	q, ok := st.index[pointKey(x)]
	if !ok {
		panic(fmt.Sprintf("csdi: %v is not a point of the stencil", x))
	}
	return vals[q]
}

// hessian replays fd.Hessian on vals, f at each point of pts in order.
func (st *stencil) hessian(vals []float64) *mat.SymDense {
	h := mat.NewSymDense(st.p, nil)
	fd.Hessian(h, func(x []float64) float64 { return st.at(vals, x) }, make([]float64, st.p), st.settings())
	return h
}

// gradient returns the central first derivatives from the axis points ±2·step·e_j (which
// the central Hessian visits on its diagonal).
func (st *stencil) gradient(vals []float64) []float64 {
	g := make([]float64, st.p)
	x := make([]float64, st.p)
	for j := range g {
		x[j] = 2 * st.step
		hi := st.at(vals, x)
		x[j] = -2 * st.step
		lo := st.at(vals, x)
		x[j] = 0
		g[j] = (hi - lo) / (4 * st.step)
	}
	return g
}

// pointKey identifies a point by the bits of its coordinates (−0 and +0 differ, as fd's
// arithmetic is the same in both passes).
func pointKey(x []float64) string {
	var b strings.Builder
	for _, v := range x {
		b.WriteString(strconv.FormatUint(math.Float64bits(v), 36))
		b.WriteByte(',')
	}
	return b.String()
}

// InputHessian computes the §2.5(b) diagnostic on the given rows of X (raw units, the
// model's columns) at every step of grid: each row's conditioning columns are perturbed by
// the central finite-difference stencil (step in standardized units, csdi_icr.md: about
// 0.05 SD), every perturbed copy is regularized with samples ICR chains that share the
// row's random numbers (common random numbers make f smooth in x), and f is the mean over
// the chains of the denoised minus the measured value (the mean, not the lower median: the
// median switches between chains and is not differentiable). The model must noise exactly
// one column. The cost is (2p² + 1)·rows·samples chains of t+1 steps per grid step, which
// is why this is a diagnostic. Errors as Regularize.
func (m *Model) InputHessian(ctx context.Context, s *diffusion.Schedule, X *mat.Dense, rows, grid []int, samples int, step float64, rng *rand.Rand, run Runner) (*InputHessians, error) {
	if len(m.Noised) != 1 {
		return nil, fmt.Errorf("the input Hessian takes a model that noises one column; this one noises %d", len(m.Noised))
	}
	if len(rows) == 0 || len(grid) == 0 {
		return nil, fmt.Errorf("the input Hessian needs at least one row and one truncation step")
	}
	if !(step > 0) {
		return nil, fmt.Errorf("the finite-difference step must be positive, not %v", step)
	}
	if samples < 1 {
		panic("csdi: samples < 1")
	}
	last := 0
	for _, t := range grid {
		if t < 0 || t >= s.T() {
			panic(fmt.Sprintf("csdi: InputHessian: step %d outside [0, %d]", t, s.T()-1))
		}
		last = max(last, t)
	}
	if err := m.CheckSchedule(s, last); err != nil {
		return nil, err
	}
	if err := checkFinite(X, m.Columns); err != nil {
		return nil, err
	}
	u := m.Noised[0]
	var cond []int
	for j := 0; j < m.K(); j++ {
		if j != u {
			cond = append(cond, j)
		}
	}
	p := len(cond)
	st := newCentralStencil(p, step)
	P := len(st.pts)
	z := m.standardize(X)
	Z := mat.NewDense(len(rows)*P, m.K(), nil)
	src := make([]int, len(rows)*P)
	for r, i := range rows {
		for q, off := range st.pts {
			dst := Z.RawRowView(r*P + q)
			copy(dst, z.RawRowView(i))
			for a, j := range cond {
				dst[j] += off[a]
			}
			src[r*P+q] = r
		}
	}
	se := m.sessionZ(ctx, s, Z, samples, run)
	base := diffusion.NewCommonNoise(diffusion.Layout{Rows: len(rows), Samples: samples, Dim: 1}, s.T(), diffusion.ForwardPath, rng)
	noise := base.RepeatRows(src)
	y := se.nominal()
	out := make([]float64, se.layout.Len())
	res := &InputHessians{Grid: grid, Rows: rows, Step: step}
	vals := make([]float64, P)
	for _, t := range grid {
		if err := s.Truncated(out, nil, y, t, noise, se.eps); err != nil {
			return nil, err
		}
		grads, hess, eig := make([][]float64, len(rows)), make([][]float64, len(rows)), make([]float64, len(rows))
		for r := range rows {
			for q := range st.pts {
				row := r*P + q
				var sum float64
				for smp := 0; smp < samples; smp++ {
					sum += out[row*samples+smp]
				}
				vals[q] = sum/float64(samples) - y[row]
			}
			h := st.hessian(vals)
			grads[r] = st.gradient(vals)
			hess[r] = mat.DenseCopyOf(h).RawMatrix().Data
			var es mat.EigenSym
			if !es.Factorize(h, false) {
				return nil, fmt.Errorf("the eigen-decomposition of the input Hessian of row %d at t = %d failed", rows[r], t)
			}
			for _, v := range es.Values(nil) {
				eig[r] = math.Max(eig[r], math.Abs(v))
			}
		}
		res.Grad, res.Hess, res.MaxAbsEig = append(res.Grad, grads), append(res.Hess, hess), append(res.MaxAbsEig, eig)
	}
	return res, nil
}
