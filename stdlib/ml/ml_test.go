package ml

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestCheckFinite(t *testing.T) {
	X := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	if err := CheckFinite(X, []float64{1, 2, 3}); err != nil {
		t.Fatalf("finite data rejected: %v", err)
	}
	if err := CheckFinite(X, []float64{1, math.NaN(), 3}); err == nil || !strings.Contains(err.Error(), "training target 1 is NaN") {
		t.Errorf("NaN target: %v", err)
	}
	X.Set(2, 1, math.Inf(-1))
	if err := CheckFinite(X, []float64{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "training input row 2, column 1 is -Inf") {
		t.Errorf("-Inf input: %v", err)
	}
}
