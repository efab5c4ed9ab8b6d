// Package knn is the k-nearest-neighbours regressor of ntedsl: a nonparametric baseline
// and the local-average target of the ICR "cheap shrinkage" control.
//
// It is sklearn's KNeighborsRegressor (1.2.1) on inputs z-scored with the training rows'
// mean and population SD (a constant column gets scale 1), i.e.
// make_pipeline(StandardScaler(), KNeighborsRegressor(k, weights)), with Euclidean
// distance. A prediction is the mean of the k nearest training targets ("uniform") or
// their 1/distance-weighted mean ("distance"); when a query coincides with training rows
// (distance 0), those rows alone are averaged, as sklearn does. Neighbours at equal
// distance are taken in training-row order, so predictions never depend on sort
// internals (sklearn leaves that order unspecified).
package knn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// Config is a kNN model's configuration.
type Config struct {
	// K is the number of neighbours (sklearn's n_neighbors, default 5).
	K int `attr:"k" doc:"Number of neighbours."`
	// Weights is "uniform" (default) or "distance".
	Weights string `attr:"weights" enum:"uniform,distance" doc:"uniform: plain mean of the neighbours; distance: weighted by 1/distance."`
	// Standardize z-scores the inputs on the training rows (default true); false uses
	// raw Euclidean distance.
	Standardize bool `attr:"standardize" doc:"z-score the inputs on the training rows (Euclidean distance on z-scores)."`
}

// DefaultConfig returns k = 5, uniform weights, z-scored inputs (sklearn's defaults
// after a StandardScaler).
func DefaultConfig() Config { return Config{K: 5, Weights: "uniform", Standardize: true} }

// Validate reports a configuration that cannot be fitted.
func (c Config) Validate() error {
	if c.K < 1 {
		return fmt.Errorf("knn: k = %d; it must be at least 1", c.K)
	}
	if c.Weights != "uniform" && c.Weights != "distance" {
		return fmt.Errorf("knn: weights = %q; use \"uniform\" or \"distance\"", c.Weights)
	}
	return nil
}

// New returns an unfitted kNN regressor.
func New(c Config) (ml.Regressor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return regressor{c}, nil
}

type regressor struct{ c Config }

// Model is a fitted kNN model (the scaled training set). It implements ml.Predictor.
type Model struct {
	c      Config
	scaler stats.Scaler
	z      *mat.Dense // z-scored training inputs
	y      []float64
}

// Fit stores the z-scored training set. It is deterministic and ignores rng. It fails if
// there are fewer training rows than k.
func (r regressor) Fit(ctx context.Context, X *mat.Dense, y []float64, _ *rand.Rand) (ml.Predictor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, p := X.Dims()
	if len(y) != n {
		return nil, fmt.Errorf("knn: %d targets for %d rows", len(y), n)
	}
	if n < r.c.K {
		return nil, fmt.Errorf("knn: k = %d neighbours requested but only %d training rows; lower k", r.c.K, n)
	}
	s := stats.FitScaler(X, nil)
	if !r.c.Standardize {
		for j := range s.Scale {
			s.Mean[j], s.Scale[j] = 0, 1
		}
	}
	z := mat.NewDense(n, p, nil)
	s.Transform(z, X)
	for i := 0; i < n; i++ {
		for _, v := range z.RawRowView(i) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, errors.New("knn: the inputs contain NaN or Inf")
			}
		}
	}
	return &Model{c: r.c, scaler: s, z: z, y: append([]float64(nil), y...)}, nil
}

type neighbour struct {
	d2  float64
	row int
}

// Predict returns the kNN prediction for each row of X; kNN has no predictive
// variance, so variance is nil. It panics if X's column count differs from the fit.
func (m *Model) Predict(X *mat.Dense) (mean, variance []float64) {
	n, p := X.Dims()
	nt, pt := m.z.Dims()
	if p != pt {
		panic(fmt.Sprintf("knn: Predict with %d columns, fitted on %d", p, pt))
	}
	mean = make([]float64, n)
	q := make([]float64, p)
	nb := make([]neighbour, nt)
	for i := range mean {
		m.scaler.TransformRow(q, X.RawRowView(i))
		for t := range nb {
			var d2 float64
			for j, v := range m.z.RawRowView(t) {
				d := q[j] - v
				d2 += d * d
			}
			nb[t] = neighbour{d2, t}
		}
		// Order by distance, then training row: ties resolve deterministically.
		slices.SortFunc(nb, func(a, b neighbour) int {
			return cmp.Or(cmp.Compare(a.d2, b.d2), cmp.Compare(a.row, b.row))
		})
		mean[i] = m.combine(nb[:m.c.K])
	}
	return mean, nil
}

func (m *Model) combine(nb []neighbour) float64 {
	if m.c.Weights == "uniform" {
		var s float64
		for _, v := range nb {
			s += m.y[v.row]
		}
		return s / float64(len(nb))
	}
	if nb[0].d2 == 0 { // exact matches take all the weight, averaged uniformly
		var s float64
		k := 0
		for _, v := range nb {
			if v.d2 == 0 {
				s += m.y[v.row]
				k++
			}
		}
		return s / float64(k)
	}
	var s, w float64
	for _, v := range nb {
		wt := 1 / math.Sqrt(v.d2)
		s += wt * m.y[v.row]
		w += wt
	}
	return s / w
}
