package csdi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"gonum.org/v1/gonum/mat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// Runner executes task(0) … task(n−1), possibly concurrently (cv.Runner, the engine's
// worker budget). Results never depend on it: work is split into fixed chunks that write
// their own slots. nil means serial.
type Runner func(n int, task func(i int) error) error

func serial(n int, task func(i int) error) error {
	for i := 0; i < n; i++ {
		if err := task(i); err != nil {
			return err
		}
	}
	return nil
}

// predictor sets dst [nb·K] to ε̂ for the network input [nb, K, 2] at step t of the run's
// schedule, for sequences that all share the run's conditional mask. tp is a scratch
// inference tape owned by the caller. The network's reference forward pass is one
// implementation (Model.predictor); tests plug in the analytic Bayes-optimal predictor.
type predictor func(dst, input []float64, nb, t int, tp *ad.Tape)

// denoiser computes ε̂ at the noised columns for the states x of rows [lo, hi) of a session
// (all their samples, laid out [row][sample][dim] as the session's Layout, starting at row
// lo) at step t. w is the calling worker's scratch space.
type denoiser interface {
	eps(dst, x []float64, lo, hi, t int, w *worker)
}

// worker is the scratch space of one goroutine of a session: an inference tape and a bump
// allocator, both rewound for every chunk.
type worker struct {
	tp  *ad.Tape
	buf []float64
	off int
}

func (w *worker) reset() { w.tp.Reset(); w.off = 0 }

// alloc returns n zeroed float64s valid until the next reset.
func (w *worker) alloc(n int) []float64 {
	if w.off+n > len(w.buf) {
		w.buf = make([]float64, max(2*len(w.buf), w.off+n))
		w.off = 0
	}
	s := w.buf[w.off : w.off+n : w.off+n]
	w.off += n
	clear(s)
	return s
}

// inputDenoiser builds the network input of each sequence (channel 0: M_c⊙x̃_i, the row's
// conditioning values, 0 at the noised columns; channel 1: the state at the noised
// columns, 0 elsewhere; csdi_icr.md §2.3 step 3) and reads ε̂ back at the noised columns.
type inputDenoiser struct {
	se   *session
	pred predictor
}

func (d inputDenoiser) eps(dst, x []float64, lo, hi, t int, w *worker) {
	se := d.se
	l := se.layout
	_, k := se.z.Dims()
	nb := (hi - lo) * l.Samples
	input := w.alloc(nb * k * 2)
	out := w.alloc(nb * k)
	for q := 0; q < nb; q++ {
		row := se.z.RawRowView(lo + q/l.Samples)
		in := input[q*k*2 : (q+1)*k*2]
		for j, v := range row {
			in[2*j] = se.cond[j] * v
		}
		for dd, j := range se.noised {
			in[2*j+1] = x[q*l.Dim+dd]
		}
	}
	d.pred(out, input, nb, t, w.tp)
	for q := 0; q < nb; q++ {
		for dd, j := range se.noised {
			dst[q*l.Dim+dd] = out[q*k+j]
		}
	}
}

// ScheduleError reports a schedule a model cannot denoise: another schedule than it was
// trained on (step conditioning), or steps outside its trained noise range.
type ScheduleError struct{ Msg string }

func (e *ScheduleError) Error() string { return e.Msg }

// CheckSchedule reports whether the model can run steps 0..maxStep of s: under step
// conditioning s must be the schedule it was trained on; under noise-level conditioning
// every ℓ_t, t ≤ maxStep, must lie within the trained range (with a margin of 0.05).
func (m *Model) CheckSchedule(s *diffusion.Schedule, maxStep int) error {
	if m.Config.Conditioning == CondStep {
		b := s.Betas(nil)
		same := len(b) == len(m.Betas)
		for i := 0; same && i < len(b); i++ {
			same = math.Float64bits(b[i]) == math.Float64bits(m.Betas[i])
		}
		if !same {
			return &ScheduleError{"the model was trained with step conditioning on another noise schedule; retrain it on this one or use conditioning = \"noise_level\""}
		}
		return nil
	}
	lo, hi := m.Config.NoiseRange[0], m.Config.NoiseRange[1]
	const margin = 0.05
	if l := s.LogSNR(0); l > hi+margin {
		return &ScheduleError{fmt.Sprintf("step 0 of the schedule has log-SNR %.3g, above the trained noise range [%g, %g]; raise noise_range's upper end to at least %.3g", l, lo, hi, math.Ceil(l*10)/10)}
	}
	if l := s.LogSNR(maxStep); l < lo-margin {
		return &ScheduleError{fmt.Sprintf("step %d of the schedule has log-SNR %.3g, below the trained noise range [%g, %g]; lower noise_range's lower end to %.3g or use a smaller t_star", maxStep, l, lo, hi, math.Floor(l*10)/10)}
	}
	return nil
}

// predictor returns the network's predictor for schedule s (checked by the caller) and the
// conditional mask shared by every sequence of a run. The side terms and the diffusion
// embeddings of every step are computed once.
func (m *Model) predictor(s *diffusion.Schedule, mask []float64) predictor {
	k := m.K()
	side := m.net.sideTerms(nil, ad.Const(mask, 1, k, 1))
	embs := make([]*ad.Var, s.T())
	tab := make([]float64, embDim)
	for t := range embs {
		if m.Config.Conditioning == CondStep {
			stepTable(tab, t)
		} else {
			noiseTable(tab, s.LogSNR(t))
		}
		embs[t] = m.net.stepEmbedding(nil, ad.Const(tab, 1, embDim))
	}
	return func(dst, input []float64, nb, t int, tp *ad.Tape) {
		out := m.net.forward(tp, ad.Const(input, nb, k, 2), side, embs[t], nil)
		copy(dst, out.Data)
	}
}

// chunkTokens fixes the work unit of the sampler: each task evaluates about this many
// tokens (rows × samples × columns; at least one row). The split depends only on the data
// and the number of samples, never on the number of workers, so results are the same for
// any worker count.
const chunkTokens = 2048

// session is a set of ICR runs over fixed rows: the rows (standardized), the noised columns,
// the number of samples and the denoiser.
type session struct {
	ctx    context.Context
	z      *mat.Dense // standardized rows, model column order
	noised []int
	layout diffusion.Layout
	den    denoiser
	run    Runner
	cond   []float64 // conditional mask [K]: 0 at noised columns

	mu      sync.Mutex
	workers []*worker
}

func newSession(ctx context.Context, z *mat.Dense, noised []int, samples int, run Runner) *session {
	n, k := z.Dims()
	if run == nil {
		run = serial
	}
	cond := make([]float64, k)
	for j := range cond {
		cond[j] = 1
	}
	for _, j := range noised {
		cond[j] = 0
	}
	return &session{ctx: ctx, z: z, noised: noised, run: run, cond: cond,
		layout: diffusion.Layout{Rows: n, Samples: samples, Dim: len(noised)}}
}

// nominal returns the rows' standardized values of the noised columns, [row][dim].
func (se *session) nominal() []float64 {
	l := se.layout
	y := make([]float64, l.RowLen())
	for i := 0; i < l.Rows; i++ {
		for d, j := range se.noised {
			y[i*l.Dim+d] = se.z.At(i, j)
		}
	}
	return y
}

func (se *session) worker() *worker {
	se.mu.Lock()
	defer se.mu.Unlock()
	if n := len(se.workers); n > 0 {
		w := se.workers[n-1]
		se.workers = se.workers[:n-1]
		return w
	}
	return &worker{tp: ad.NewInferenceTape()}
}

func (se *session) release(w *worker) {
	se.mu.Lock()
	se.workers = append(se.workers, w)
	se.mu.Unlock()
}

// eps is the diffusion.EpsFunc of the session: it splits the rows into fixed chunks and
// runs the denoiser on each through the session's Runner.
func (se *session) eps(dst, x []float64, t int) error {
	if err := se.ctx.Err(); err != nil {
		return err
	}
	l := se.layout
	_, k := se.z.Dims()
	per := max(1, chunkTokens/(k*l.Samples))
	chunks := (l.Rows + per - 1) / per
	seq := l.Samples * l.Dim // state values per row
	return se.run(chunks, func(c int) error {
		if err := se.ctx.Err(); err != nil {
			return err
		}
		lo, hi := c*per, min(l.Rows, (c+1)*per)
		w := se.worker()
		defer se.release(w)
		w.reset()
		se.den.eps(dst[lo*seq:hi*seq], x[lo*seq:hi*seq], lo, hi, t, w)
		return nil
	})
}

// truncated runs ICR from tStar (csdi_icr.md §2.3 step 3) and returns the lower medians over
// samples of the denoised values, standardized, [row][dim].
func (se *session) truncated(s *diffusion.Schedule, tStar int, rng *rand.Rand) ([]float64, error) {
	l := se.layout
	noise := diffusion.NewCommonNoise(l, s.T(), diffusion.ForwardPath, rng)
	out := make([]float64, l.Len())
	if err := s.Truncated(out, nil, se.nominal(), tStar, noise, se.eps); err != nil {
		return nil, err
	}
	med := make([]float64, l.RowLen())
	diffusion.LowerMedian(med, out, l)
	return med, nil
}

// full runs CSDI's standard imputation chain (csdi_icr.md §1.5: x_{T−1} ~ N(0, I), steps
// T−1..0) for the noised columns and returns every sample, standardized, laid out
// [row][sample][dim]. ICR uses the truncated chain; this is the plain imputation the
// Gaussian ground-truth test checks the trained network with.
func (se *session) full(s *diffusion.Schedule, rng *rand.Rand) ([]float64, error) {
	noise := diffusion.NewCommonNoise(se.layout, s.T(), diffusion.ForwardPath, rng)
	out := make([]float64, se.layout.Len())
	if err := s.Full(out, noise, se.eps); err != nil {
		return nil, err
	}
	return out, nil
}

// sweep runs ICR for every t* of grid with common random numbers and selects t* from the
// displacement curve (csdi_icr.md §2.5).
func (se *session) sweep(s *diffusion.Schedule, grid []int, rng *rand.Rand) (*Sweep, error) {
	noise := diffusion.NewCommonNoise(se.layout, s.T(), diffusion.ForwardPath, rng)
	y := se.nominal()
	reg, noised, err := s.Sweep(grid, y, noise, se.eps)
	if err != nil {
		return nil, err
	}
	sel, err := diffusion.Select(s, grid, y, reg, noised, diffusion.SelectOptions{})
	if err != nil {
		return nil, err
	}
	return &Sweep{Selection: sel, Reg: reg, Nominal: y}, nil
}

// sweepOneStep is sweep with the one-step denoised estimate in place of the ICR chains: at
// each grid step t the noised values x_t (on the same forward-noising paths as sweep's
// starts) are denoised in one step, x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (Tweedie: the model's
// E[x_0 | x_t]), and their lower median over samples stands for ỹ^reg(t). For a Gaussian
// posterior E[x̂_0 | y] = w_t·y + (1−w_t)·m, the same as the ICR chain's mean (csdi_icr.md
// §2.4), so D(t) and its curvature agree in expectation; the cost is one network pass per
// grid step instead of t+1. Its outputs are not ICR outputs.
func (se *session) sweepOneStep(s *diffusion.Schedule, grid []int, rng *rand.Rand) (*Sweep, error) {
	l := se.layout
	noise := diffusion.NewCommonNoise(l, s.T(), diffusion.ForwardPath, rng)
	y := se.nominal()
	reg := make([][]float64, len(grid))
	noised := make([][]float64, len(grid))
	x := make([]float64, l.Len())
	e := make([]float64, l.Len())
	for g, t := range grid {
		noise.StartEps(e, s, t)
		a, b := s.SqrtAlphaBar(t), s.SqrtOneMinusAlphaBar(t)
		for q := range x {
			x[q] = a*y[(q/(l.Samples*l.Dim))*l.Dim+q%l.Dim] + b*e[q]
		}
		noised[g] = make([]float64, l.RowLen())
		diffusion.LowerMedian(noised[g], x, l)
		if err := se.eps(e, x, t); err != nil {
			return nil, err
		}
		for q := range x {
			x[q] = (x[q] - b*e[q]) / a
		}
		reg[g] = make([]float64, l.RowLen())
		diffusion.LowerMedian(reg[g], x, l)
	}
	sel, err := diffusion.Select(s, grid, y, reg, noised, diffusion.SelectOptions{})
	if err != nil {
		return nil, err
	}
	return &Sweep{Selection: sel, Reg: reg, Nominal: y, OneStep: true}, nil
}

// Sweep is the result of a truncation sweep on standardized values: the selection with its
// curves, the ICR outputs per grid point and the nominal values, all [row][dim].
type Sweep struct {
	Selection *diffusion.Selection
	Reg       [][]float64
	Nominal   []float64
	// OneStep marks a one-step sweep, whose Reg are one-step estimates, not ICR outputs.
	OneStep bool
}

// RegAt returns the sweep's ICR outputs at grid step t, or nil if t is not on the grid or
// the sweep was one-step.
func (sw *Sweep) RegAt(t int) []float64 {
	if sw.OneStep {
		return nil
	}
	for g, x := range sw.Selection.Grid {
		if x == t {
			return sw.Reg[g]
		}
	}
	return nil
}

// Grid returns the truncation grid 0, h, 2h, … ≤ T−1 of a sweep; it panics for h < 1.
func Grid(T, h int) []int {
	if h < 1 {
		panic("csdi: Grid: step < 1")
	}
	var g []int
	for t := 0; t < T; t += h {
		g = append(g, t)
	}
	return g
}

// destandardize maps standardized values of the noised columns ([row][dim]) to raw units.
func (m *Model) destandardize(z []float64) []float64 {
	d := len(m.Noised)
	out := make([]float64, len(z))
	for i, v := range z {
		j := m.Noised[i%d]
		out[i] = m.Mean[j] + m.SD[j]*v
	}
	return out
}

func (m *Model) session(ctx context.Context, s *diffusion.Schedule, X *mat.Dense, samples int, run Runner) (*session, error) {
	if _, k := X.Dims(); k != m.K() {
		panic(fmt.Sprintf("csdi: %d columns given to a model of %d", k, m.K()))
	}
	if samples < 1 {
		panic("csdi: samples < 1")
	}
	if err := checkFinite(X, m.Columns); err != nil {
		return nil, err
	}
	return m.sessionZ(ctx, s, m.standardize(X), samples, run), nil
}

// sessionZ is session on rows already standardized.
func (m *Model) sessionZ(ctx context.Context, s *diffusion.Schedule, z *mat.Dense, samples int, run Runner) *session {
	se := newSession(ctx, z, m.Noised, samples, run)
	switch {
	case m.oracle != nil:
		se.den = inputDenoiser{se, m.oracle(s, se.cond)}
	case m.reference:
		se.den = inputDenoiser{se, m.predictor(s, se.cond)}
	default:
		se.den = m.fastDenoiser(se, s)
	}
	return se
}

// Regularize runs ICR on the rows of X (raw units, the model's columns): it noises the
// noised columns of each row to step tStar of s, denoises them conditioned on the other
// columns with samples reverse chains, and returns the lower median per row and noised
// column in raw units, laid out [row][dim] (csdi_icr.md §2.3 step 3). rng draws the common
// random numbers. It returns a *ScheduleError if the model cannot run s up to tStar, a
// *DataError for non-finite data, and ctx.Err() when cancelled; it panics for tStar outside
// [0, T−1], samples < 1 or X with the wrong number of columns.
func (m *Model) Regularize(ctx context.Context, s *diffusion.Schedule, X *mat.Dense, tStar, samples int, rng *rand.Rand, run Runner) ([]float64, error) {
	if tStar < 0 || tStar >= s.T() {
		panic(fmt.Sprintf("csdi: Regularize: t* = %d outside [0, %d]", tStar, s.T()-1))
	}
	if err := m.CheckSchedule(s, tStar); err != nil {
		return nil, err
	}
	se, err := m.session(ctx, s, X, samples, run)
	if err != nil {
		return nil, err
	}
	z, err := se.truncated(s, tStar, rng)
	if err != nil {
		return nil, err
	}
	return m.destandardize(z), nil
}

// Selection methods of SelectTStar.
const (
	// SelectSampler runs the ICR chains from every grid step (csdi_icr.md §2.5).
	SelectSampler = "sampler"
	// SelectOneStep uses one-step denoised estimates (session.sweepOneStep).
	SelectOneStep = "one_step"
)

// SelectTStar runs the truncation sweep over grid on the rows of X (the rows t* may be chosen
// on: a fold's training rows) and selects t* as the argmax of the second difference of the
// displacement curve (csdi_icr.md §2.5, diffusion.Select), with the ICR chains (method
// SelectSampler) or one-step estimates (SelectOneStep). Everything in the result is in
// standardized units. Errors as Regularize.
func (m *Model) SelectTStar(ctx context.Context, s *diffusion.Schedule, X *mat.Dense, grid []int, method string, samples int, rng *rand.Rand, run Runner) (*Sweep, error) {
	if len(grid) < 3 {
		return nil, fmt.Errorf("the t* grid needs at least 3 steps; the schedule has %d steps", s.T())
	}
	if err := m.CheckSchedule(s, grid[len(grid)-1]); err != nil {
		return nil, err
	}
	se, err := m.session(ctx, s, X, samples, run)
	if err != nil {
		return nil, err
	}
	switch method {
	case SelectSampler:
		return se.sweep(s, grid, rng)
	case SelectOneStep:
		return se.sweepOneStep(s, grid, rng)
	}
	panic("csdi: unknown t* selection method " + method)
}
