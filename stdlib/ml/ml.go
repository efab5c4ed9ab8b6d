// Package ml holds the contract every regressor of ntedsl implements, and the checks its
// implementations share (z-scoring lives in stdlib/stats: Scaler, MeanScale).
//
// A regressor is an unfitted model configuration. Fit receives its training data and an
// explicit random stream, and returns a Predictor; nothing in a fit may depend on global
// state, the wall clock or scheduling order, so that a study gives the same bytes whatever
// the worker count.
package ml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Regressor fits a model to (X, y). X has one row per sample; y has one entry per row.
// Implementations must not modify X or y, and must draw every random number from rng.
// They should return promptly with ctx.Err() when ctx is cancelled.
type Regressor interface {
	Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (Predictor, error)
}

// Predictor is a fitted model.
type Predictor interface {
	// Predict returns the predictive mean for each row of X and, when the model has one,
	// the predictive variance (model + noise) in the units of y; variance is nil otherwise.
	Predict(X *mat.Dense) (mean, variance []float64)
}

// CheckFinite returns an error naming the first training target or input (0-based row and
// column) that is NaN or infinite, for a regressor to return before it fits.
func CheckFinite(X mat.Matrix, y []float64) error {
	_, d := X.Dims()
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("training target %d is %v; remove or impute it before fitting", i, v)
		}
		for j := range d {
			if v := X.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("training input row %d, column %d is %v; remove or impute it before fitting", i, j, v)
			}
		}
	}
	return nil
}
