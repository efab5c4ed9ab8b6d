package daggm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
	"gonum.org/v1/gonum/mat"
)

// Config is everything Fit needs.
type Config struct {
	Arch
	Weights
	Scaling string  // ScaleStandard or ScaleMinMax
	LR      float64 // Adam learning rate
	Steps   int     // full-batch Adam steps (= epochs)
}

// DefaultConfig is the small-table DAGMM of methods/models.md §5.1: d → 10 (tanh) → 2 with a
// mirror decoder, estimation 4 → 10 (tanh) → Dropout 0.5 → K = 2, λ₁ = 0.1, λ₂ = 0.005, and
// full-batch Adam with lr 1e-3 for 3000 steps, min-max input scaling.
//
// Min-max rather than z-scoring, although models.md §5.1 suggests standardized inputs: the
// relative-distance feature ‖x−x'‖/‖x‖ divides by the distance from the origin, which
// z-scoring puts at the centroid, so typical rows get large relative errors. On ODDS
// Arrhythmia with the paper's protocol z-scoring ranks anomalies as more typical than
// normal rows (F1 0.089 ± 0.050 over 10 seeds, below chance), min-max gives F1 0.460 ±
// 0.074 against the published ≈ 0.50 (NOTES.md).
//
// The paper's lr 1e-4 was set for minibatches of up to 1024 rows over tens of thousands of
// steps. On the 44 × 47 A2M3O12 descriptor table trained full batch (NOTES.md), J after
// 3000 steps is ≈ 26 at lr 1e-4 (still falling steeply), ≈ 4.6–5.0 at 1e-3 (8000 steps:
// 3.9–4.1; most of the drop is done by step 2000), while 3e-3 already spikes back up
// (J 5.3 → 13.5) and 1e-2 oscillates with min-max scaling.
func DefaultConfig() Config {
	return Config{
		Arch:    Arch{Hidden: []int{10}, Latent: 2, EstHidden: []int{10}, K: 2, Dropout: 0.5},
		Weights: Weights{Lambda1: 0.1, Lambda2: 0.005, Jitter: DefaultJitter},
		Scaling: ScaleMinMax,
		LR:      1e-3,
		Steps:   3000,
	}
}

// Model is a trained DAGMM: the network, the training set's standardization, and the
// mixture fitted on the whole training set with dropout off.
type Model struct {
	Net          *Network
	Shift, Scale []float64 // scaled x = (x − Shift)/Scale, per column
	GMM          *GMM
	Jitter       float64
	// Trace is J at every training step (dropout on, as optimized).
	Trace []float64
	// Final is the loss with dropout off on the training set after training.
	Final Loss
}

// RowError reports a row that DAGMM cannot score: after scaling it is the zero vector
// (every column at its mean, or at its minimum), so its relative reconstruction distance
// ‖x−x'‖/‖x‖ is undefined.
type RowError struct{ Row int }

func (e *RowError) Error() string {
	return fmt.Sprintf("daggm: row %d is the zero vector after scaling (every column at its mean or minimum), so its relative reconstruction error ‖x−x'‖/‖x‖ is undefined", e.Row)
}

// Scalings of the inputs, applied per column with statistics of the training rows.
const (
	// ScaleStandard is (x − mean)/SD with the population SD (methods/models.md §7; tnakae's
	// StandardScaler). It centres every column, so ‖x‖ is a row's distance from the
	// centroid and the relative-distance feature ‖x−x'‖/‖x‖ is large for rows near it.
	ScaleStandard = "standard"
	// ScaleMinMax is (x − min)/(max − min): training rows lie in [0, 1]^d, ‖x‖ is measured
	// from the all-minimum corner, and no row sits near ‖x‖ = 0 unless it is at every
	// column's minimum. On ODDS Arrhythmia it is what gives the published F1 (NOTES.md).
	ScaleMinMax = "minmax"
)

// Scaling returns per-column shift and scale so that (x − shift)/scale is the scaled input:
// mean and population SD for ScaleStandard, minimum and range for ScaleMinMax. A constant
// column gets scale 1 (it scales to zeros instead of NaN). It panics on an unknown kind.
func Scaling(X *mat.Dense, kind string) (shift, scale []float64) {
	n, d := X.Dims()
	shift, scale = make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		var s0, s1 float64
		switch kind {
		case ScaleStandard:
			m := 0.0
			for i := 0; i < n; i++ {
				m += X.At(i, j)
			}
			m /= float64(n)
			v := 0.0
			for i := 0; i < n; i++ {
				dv := X.At(i, j) - m
				v += dv * dv
			}
			s0, s1 = m, math.Sqrt(v/float64(n))
		case ScaleMinMax:
			lo, hi := math.Inf(1), math.Inf(-1)
			for i := 0; i < n; i++ {
				lo, hi = math.Min(lo, X.At(i, j)), math.Max(hi, X.At(i, j))
			}
			s0, s1 = lo, hi-lo
		default:
			panic(fmt.Sprintf("daggm: unknown scaling %q", kind))
		}
		if s1 == 0 {
			s1 = 1
		}
		shift[j], scale[j] = s0, s1
	}
	return shift, scale
}

func (m *Model) standardized(X *mat.Dense) (*autodiff.Var, error) {
	n, d := X.Dims()
	if d != len(m.Shift) {
		panic(fmt.Sprintf("daggm: model trained on %d columns, given %d", len(m.Shift), d))
	}
	out := make([]float64, n*d)
	for i := 0; i < n; i++ {
		zero := true
		for j := 0; j < d; j++ {
			v := (X.At(i, j) - m.Shift[j]) / m.Scale[j]
			out[i*d+j] = v
			zero = zero && v == 0
		}
		if zero {
			return nil, &RowError{Row: i}
		}
	}
	return autodiff.Const(out, n, d), nil
}

// Fit trains a DAGMM on the rows of X (scaled with X's statistics) with full-batch Adam, then fixes
// the mixture from the whole training set with dropout off. rng initializes the weights
// and then drives dropout; the same rng state gives the same model bit for bit. It panics
// on an invalid cfg (see Config.Check); data-dependent failures (a non-finite input, a row
// at the column means, a collapsed covariance, a diverging loss) are returned as errors.
func Fit(ctx context.Context, X *mat.Dense, cfg Config, rng *rand.Rand) (*Model, error) {
	if err := cfg.Check(); err != nil {
		panic(err)
	}
	n, d := X.Dims()
	if n < 2 {
		return nil, fmt.Errorf("daggm: %d rows: a mixture needs at least 2", n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			if v := X.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("daggm: row %d, column %d is %v", i, j, v)
			}
		}
	}
	m := &Model{Jitter: cfg.Jitter}
	m.Shift, m.Scale = Scaling(X, cfg.Scaling)
	x, err := m.standardized(X)
	if err != nil {
		return nil, err
	}
	m.Net = NewNetwork(d, cfg.Arch, rng)
	ps := m.Net.Params
	opt := autodiff.NewAdam(ps.Vars(), cfg.LR)
	tp := autodiff.NewTape()
	m.Trace = make([]float64, 0, cfg.Steps)
	for step := 0; step < cfg.Steps; step++ {
		if step%100 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tp.Reset()
		ps.ZeroGrad()
		l, err := m.Net.Loss(tp, x, rng, cfg.Weights)
		if err != nil {
			return nil, fmt.Errorf("training step %d: %w", step+1, err)
		}
		j := l.J.Value()
		if math.IsNaN(j) || math.IsInf(j, 0) {
			return nil, fmt.Errorf("daggm: the loss became %v at training step %d; lower the learning rate", j, step+1)
		}
		m.Trace = append(m.Trace, j)
		tp.Backward(l.J)
		opt.Step()
	}
	// The inference mixture: every training row, dropout off (§5.1 "Inference").
	o := m.Net.Forward(nil, x, nil)
	m.GMM = NewGMM(varDense(o.Z), varDense(o.Gamma))
	if m.Final, err = m.Net.Loss(nil, x, nil, cfg.Weights); err != nil {
		return nil, fmt.Errorf("after training: %w", err)
	}
	return m, nil
}

// Check reports an invalid configuration.
func (c Config) Check() error {
	var errs []error
	if c.Latent < 1 {
		errs = append(errs, fmt.Errorf("latent = %d: at least 1", c.Latent))
	}
	if c.K < 1 {
		errs = append(errs, fmt.Errorf("K = %d: at least 1", c.K))
	}
	for _, h := range append(append([]int(nil), c.Hidden...), c.EstHidden...) {
		if h < 1 {
			errs = append(errs, fmt.Errorf("hidden width %d: at least 1", h))
		}
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		errs = append(errs, fmt.Errorf("dropout = %v: in [0, 1)", c.Dropout))
	}
	if !(c.Lambda1 >= 0) || !(c.Lambda2 >= 0) || !(c.Jitter >= 0) {
		errs = append(errs, fmt.Errorf("lambda1 = %v, lambda2 = %v, jitter = %v: none may be negative", c.Lambda1, c.Lambda2, c.Jitter))
	}
	if c.Scaling != ScaleStandard && c.Scaling != ScaleMinMax {
		errs = append(errs, fmt.Errorf("scaling %q: %q or %q", c.Scaling, ScaleStandard, ScaleMinMax))
	}
	if !(c.LR > 0) || c.Steps < 0 {
		errs = append(errs, fmt.Errorf("lr = %v, steps = %d: lr > 0, steps ≥ 0", c.LR, c.Steps))
	}
	return errors.Join(errs...)
}

// Scores are a trained model's per-row outputs.
type Scores struct {
	Energy  []float64  // E(z) under the training mixture
	SqErr   []float64  // ‖x − x'‖² (scaled units)
	RelDist []float64  // ‖x − x'‖/‖x‖
	Cosine  []float64  // x·x'/(‖x‖‖x'‖)
	Z       *mat.Dense // [z_c, relative distance, cosine]
	Gamma   *mat.Dense // memberships (dropout off)
}

// Score applies the model to the rows of X (scaled with the training statistics),
// dropout off. It panics if X has a different number of columns than the training data.
func (m *Model) Score(X *mat.Dense) (*Scores, error) {
	x, err := m.standardized(X)
	if err != nil {
		return nil, err
	}
	o := m.Net.Forward(nil, x, nil)
	z := varDense(o.Z)
	e, err := m.GMM.Energy(nil, z, m.Jitter)
	if err != nil {
		return nil, err
	}
	n := x.Shape[0]
	s := &Scores{Energy: e, SqErr: o.SqErr.Data, RelDist: make([]float64, n), Cosine: make([]float64, n), Z: z, Gamma: varDense(o.Gamma)}
	lat := m.Net.Latent
	for i := 0; i < n; i++ {
		s.RelDist[i], s.Cosine[i] = z.At(i, lat), z.At(i, lat+1)
	}
	return s, nil
}

func varDense(v *autodiff.Var) *mat.Dense {
	return mat.NewDense(v.Shape[0], v.Shape[1], append([]float64(nil), v.Data...))
}
