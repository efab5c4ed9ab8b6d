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
	LR    float64 // Adam learning rate
	Steps int     // full-batch Adam steps (= epochs)
}

// DefaultConfig is the small-table DAGMM of methods/models.md §5.1: d → 10 (tanh) → 2 with a
// mirror decoder, estimation 4 → 10 (tanh) → Dropout 0.5 → K = 2, λ₁ = 0.1, λ₂ = 0.005, and
// full-batch Adam with lr 1e-3 for 3000 steps.
//
// The paper's lr 1e-4 was set for minibatches of 1024 rows over tens of thousands of
// steps; on a 40–80-row table trained full batch, 3000 steps at 1e-4 leave the
// reconstruction term still falling steeply, whereas at 1e-3 J has levelled off well
// before step 3000 (see NOTES.md for the measured curves). Larger rates (1e-2) make the
// dropout-perturbed memberships oscillate.
func DefaultConfig() Config {
	return Config{
		Arch:    Arch{Hidden: []int{10}, Latent: 2, EstHidden: []int{10}, K: 2, Dropout: 0.5},
		Weights: Weights{Lambda1: 0.1, Lambda2: 0.005, Jitter: DefaultJitter},
		LR:      1e-3,
		Steps:   3000,
	}
}

// Model is a trained DAGMM: the network, the training set's standardization, and the
// mixture fitted on the whole training set with dropout off.
type Model struct {
	Net         *Network
	Mean, Scale []float64 // x_std = (x − Mean)/Scale, per column
	GMM         *GMM
	Jitter      float64
	// Trace is J at every training step (dropout on, as optimized).
	Trace []float64
	// Final is the loss with dropout off on the training set after training.
	Final Loss
}

// RowError reports a row that DAGMM cannot score: after standardization it is exactly the
// column means (‖x‖ = 0), so its relative reconstruction distance is undefined.
type RowError struct{ Row int }

func (e *RowError) Error() string {
	return fmt.Sprintf("daggm: row %d equals the column means in every column, so its relative reconstruction error ‖x−x'‖/‖x‖ is undefined", e.Row)
}

// Standardize returns the column means and population standard deviations of X (as
// methods/models.md §7 asks: not stat.StdDev's N−1). A constant column gets scale 1, so it
// standardizes to zeros instead of NaN.
func Standardize(X *mat.Dense) (mean, scale []float64) {
	n, d := X.Dims()
	mean, scale = make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		s := 0.0
		for i := 0; i < n; i++ {
			s += X.At(i, j)
		}
		m := s / float64(n)
		v := 0.0
		for i := 0; i < n; i++ {
			dv := X.At(i, j) - m
			v += dv * dv
		}
		sd := math.Sqrt(v / float64(n))
		if sd == 0 {
			sd = 1
		}
		mean[j], scale[j] = m, sd
	}
	return mean, scale
}

func (m *Model) standardized(X *mat.Dense) (*autodiff.Var, error) {
	n, d := X.Dims()
	if d != len(m.Mean) {
		panic(fmt.Sprintf("daggm: model trained on %d columns, given %d", len(m.Mean), d))
	}
	out := make([]float64, n*d)
	for i := 0; i < n; i++ {
		zero := true
		for j := 0; j < d; j++ {
			v := (X.At(i, j) - m.Mean[j]) / m.Scale[j]
			out[i*d+j] = v
			zero = zero && v == 0
		}
		if zero {
			return nil, &RowError{Row: i}
		}
	}
	return autodiff.Const(out, n, d), nil
}

// Fit trains a DAGMM on the rows of X (standardized on X) with full-batch Adam, then fixes
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
	m.Mean, m.Scale = Standardize(X)
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
	if !(c.LR > 0) || c.Steps < 0 {
		errs = append(errs, fmt.Errorf("lr = %v, steps = %d: lr > 0, steps ≥ 0", c.LR, c.Steps))
	}
	return errors.Join(errs...)
}

// Scores are a trained model's per-row outputs.
type Scores struct {
	Energy  []float64  // E(z) under the training mixture
	SqErr   []float64  // ‖x − x'‖² (standardized units)
	RelDist []float64  // ‖x − x'‖/‖x‖
	Cosine  []float64  // x·x'/(‖x‖‖x'‖)
	Z       *mat.Dense // [z_c, relative distance, cosine]
	Gamma   *mat.Dense // memberships (dropout off)
}

// Score applies the model to the rows of X (standardized with the training statistics),
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
