package stats

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// Scaler z-scores columns: z = (x − Mean[j]) / Scale[j].
type Scaler struct {
	Mean  []float64
	Scale []float64 // population SD of the fitted rows; 1 where that SD is 0
}

// FitScaler fits a column-wise z-scoring to the given rows of X (all rows when rows is
// nil), with the population SD (ddof 0) as sklearn's StandardScaler does; a column that
// is constant on those rows gets scale 1, so it maps to 0 rather than NaN. Fit it on
// training rows only: statistics from test rows would leak into the model. It panics if
// rows is empty (but non-nil) or holds an index out of range.
func FitScaler(X mat.Matrix, rows []int) Scaler {
	nr, nc := X.Dims()
	if rows == nil {
		rows = make([]int, nr)
		for i := range rows {
			rows[i] = i
		}
	}
	if len(rows) == 0 {
		panic("stats: FitScaler: no rows")
	}
	s := Scaler{Mean: make([]float64, nc), Scale: make([]float64, nc)}
	col := make([]float64, len(rows))
	for j := 0; j < nc; j++ {
		for k, i := range rows {
			col[k] = X.At(i, j)
		}
		s.Mean[j], s.Scale[j] = MeanScale(col)
	}
	return s
}

// MeanScale returns the mean and the population SD (ddof 0) of x, the SD replaced by 1 when
// it is 0: FitScaler's statistics for one column, e.g. for z-scoring a target.
func MeanScale(x []float64) (mean, scale float64) {
	mean = Mean(x)
	scale = math.Sqrt(sumSqDev(x, mean) / float64(len(x)))
	if scale == 0 {
		scale = 1
	}
	return mean, scale
}

// IdentityScaler returns the Scaler of d columns that leaves them unchanged.
func IdentityScaler(d int) Scaler {
	s := Scaler{Mean: make([]float64, d), Scale: make([]float64, d)}
	for j := range s.Scale {
		s.Scale[j] = 1
	}
	return s
}

// Transform writes the z-scored X into dst. dst must have X's shape (it may be X
// itself); Transform panics otherwise or if X's column count differs from the fit.
func (s Scaler) Transform(dst *mat.Dense, X mat.Matrix) {
	nr, nc := X.Dims()
	if dr, dc := dst.Dims(); dr != nr || dc != nc {
		panic("stats: Scaler.Transform: dst shape differs from X")
	}
	if nc != len(s.Mean) {
		panic("stats: Scaler.Transform: column count differs from the fit")
	}
	for i := 0; i < nr; i++ {
		for j := 0; j < nc; j++ {
			dst.Set(i, j, (X.At(i, j)-s.Mean[j])/s.Scale[j])
		}
	}
}

// TransformRow writes the z-scored row x into dst (which may alias x). It panics if the
// lengths differ from the fit.
func (s Scaler) TransformRow(dst, x []float64) {
	if len(x) != len(s.Mean) || len(dst) != len(x) {
		panic("stats: Scaler.TransformRow: length differs from the fit")
	}
	for j, v := range x {
		dst[j] = (v - s.Mean[j]) / s.Scale[j]
	}
}

// FitScale returns the mean and population SD of x (the SD replaced by 1 when it is 0),
// the z-scoring of a target vector. It panics if x is empty.
func FitScale(x []float64) (mean, scale float64) {
	mean = Mean(x)
	scale = math.Sqrt(sumSqDev(x, mean) / float64(len(x)))
	if scale == 0 {
		scale = 1
	}
	return mean, scale
}
