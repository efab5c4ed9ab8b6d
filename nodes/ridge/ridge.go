// Package ridge is the ridge-regression regressor of ntedsl: the README's example of a
// plug-in model and the cheap linear baseline and shrinkage control of the ICR studies.
//
// The model is sklearn's Ridge (1.2.1) with fit_intercept=True: it minimizes
// ‖y − b − Zw‖² + α‖w‖², with the intercept b unpenalized. With Standardize (the default),
// Z is X z-scored with the training rows' mean and population SD (a constant column gets
// scale 1), i.e. sklearn's make_pipeline(StandardScaler(), Ridge(alpha)), so α means the
// same thing whatever units the descriptors carry. With Standardize false, Z is X centred
// only, i.e. Ridge(alpha) on the raw inputs. The solution uses the SVD of the centred
// design, as sklearn's "svd" solver does: w = V·diag(s/(s²+α))·Uᵀ(y − ȳ), dropping singular
// values ≤ 1e-15, so α = 0 gives the minimum-norm least-squares fit instead of failing.
package ridge

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// Config is a ridge model's configuration.
type Config struct {
	// Alpha is the L2 penalty α ≥ 0 on the coefficients (sklearn's alpha, default 1).
	Alpha float64 `attr:"alpha" doc:"L2 penalty α ≥ 0 on the coefficients (sklearn alpha); 0 is ordinary least squares."`
	// Standardize z-scores the inputs on the training rows before fitting (default true).
	Standardize bool `attr:"standardize" doc:"z-score the inputs on the training rows before fitting."`
}

// DefaultConfig returns α = 1 on z-scored inputs.
func DefaultConfig() Config { return Config{Alpha: 1, Standardize: true} }

// Validate reports a configuration that cannot be fitted.
func (c Config) Validate() error {
	if !(c.Alpha >= 0) || math.IsInf(c.Alpha, 1) {
		return fmt.Errorf("ridge: alpha = %v; it must be a finite number ≥ 0 (0 is ordinary least squares)", c.Alpha)
	}
	return nil
}

// New returns an unfitted ridge regressor.
func New(c Config) (ml.Regressor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return regressor{c}, nil
}

type regressor struct{ c Config }

// Model is a fitted ridge model. It implements ml.Predictor.
type Model struct {
	scaler    stats.Scaler // Scale is all ones when the inputs are only centred
	coef      []float64    // in the space of the scaled inputs
	intercept float64      // ȳ: the scaled inputs have mean zero on the training rows
	// standardized records Config.Standardize, for Coefficients.
	standardized bool
}

// Fit solves the ridge problem on (X, y). It is deterministic and ignores rng.
func (r regressor) Fit(ctx context.Context, X *mat.Dense, y []float64, _ *rand.Rand) (ml.Predictor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, p := X.Dims()
	if len(y) != n {
		return nil, fmt.Errorf("ridge: %d targets for %d rows", len(y), n)
	}
	if n == 0 {
		return nil, errors.New("ridge: no training rows")
	}
	s := stats.FitScaler(X, nil)
	if !r.c.Standardize {
		for j := range s.Scale {
			s.Scale[j] = 1
		}
	}
	ybar := stats.Mean(y)
	m := &Model{scaler: s, coef: make([]float64, p), intercept: ybar, standardized: r.c.Standardize}
	if p == 0 {
		return m, nil
	}
	Z := mat.NewDense(n, p, nil)
	s.Transform(Z, X)
	var svd mat.SVD
	if !svd.Factorize(Z, mat.SVDThin) {
		return nil, errors.New("ridge: the SVD of the inputs did not converge (are there NaN or Inf values?)")
	}
	var U, V mat.Dense
	svd.UTo(&U)
	svd.VTo(&V)
	sv := svd.Values(nil)
	yc := mat.NewVecDense(n, nil)
	for i, v := range y {
		yc.SetVec(i, v-ybar)
	}
	var uty mat.VecDense
	uty.MulVec(U.T(), yc)
	for k, sk := range sv {
		if sk <= 1e-15 { // sklearn's (and scipy pinv's) cutoff
			continue
		}
		d := sk / (sk*sk + r.c.Alpha) * uty.AtVec(k)
		for j := 0; j < p; j++ {
			m.coef[j] += V.At(j, k) * d
		}
	}
	for _, w := range m.coef {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, errors.New("ridge: the coefficients are not finite (NaN or Inf in the inputs or targets?)")
		}
	}
	return m, nil
}

// Predict returns ŷ = ȳ + Σ_j w_j·z_j for each row of X; ridge has no predictive
// variance, so variance is nil. It panics if X's column count differs from the fit.
func (m *Model) Predict(X *mat.Dense) (mean, variance []float64) {
	n, p := X.Dims()
	if p != len(m.coef) {
		panic(fmt.Sprintf("ridge: Predict with %d columns, fitted on %d", p, len(m.coef)))
	}
	mean = make([]float64, n)
	z := make([]float64, p)
	for i := range mean {
		m.scaler.TransformRow(z, X.RawRowView(i))
		v := m.intercept
		for j, w := range m.coef {
			v += w * z[j]
		}
		mean[i] = v
	}
	return mean, nil
}

// Coefficients returns the coefficients and intercept in the space the model was fitted
// in (z-scored inputs when standardizing), sklearn's Ridge coef_ and intercept_.
func (m *Model) Coefficients() (coef []float64, intercept float64) {
	coef = append([]float64(nil), m.coef...)
	intercept = m.intercept
	if !m.standardized { // sklearn's Ridge saw uncentred X: b = ȳ − Σ w_j·x̄_j
		for j, w := range m.coef {
			intercept -= w * m.scaler.Mean[j]
		}
	}
	return coef, intercept
}
