package stats

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// MeanScale is numpy's mean and np.std (ddof 0), with a zero SD replaced by 1.
func TestMeanScale(t *testing.T) {
	if m, s := MeanScale([]float64{1, 2, 3, 4}); m != 2.5 || math.Abs(s-math.Sqrt(1.25)) > 1e-15 {
		t.Errorf("MeanScale(1..4) = %v, %v; want 2.5, sqrt(1.25) (population, not sample, SD)", m, s)
	}
	if m, s := MeanScale([]float64{7, 7, 7}); m != 7 || s != 1 {
		t.Errorf("MeanScale of a constant = %v, %v; want 7, 1", m, s)
	}
	X := mat.NewDense(2, 2, []float64{1, -2, 3.5, 4})
	Z := mat.NewDense(2, 2, nil)
	IdentityScaler(2).Transform(Z, X)
	if !mat.Equal(X, Z) {
		t.Errorf("IdentityScaler changed %v into %v", mat.Formatted(X), mat.Formatted(Z))
	}
}
