package stats

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// ErrConstant is returned (wrapped) when a correlation is requested for an input whose
// values are all equal: the correlation is undefined.
var ErrConstant = errors.New("input is constant, so the correlation is undefined")

// ConstantError says which argument of a correlation was constant.
type ConstantError struct {
	Arg string // "x" or "y"
}

func (e *ConstantError) Error() string {
	return "stats: " + e.Arg + " is constant, so the correlation is undefined"
}

// Unwrap lets errors.Is(err, ErrConstant) match.
func (e *ConstantError) Unwrap() error { return ErrConstant }

// Pearson returns the Pearson correlation r of x and y, clamped to [−1, 1], and the
// two-sided p-value of H0: ρ = 0 under bivariate normality, as scipy 1.10.1's pearsonr.
//
// If x or y is constant, r and p are NaN and the error is a *ConstantError. For n = 2,
// r = ±1 and p = 1 (scipy's convention: two points always lie on a line). It panics if
// the lengths differ or n < 2.
func Pearson(x, y []float64) (r, p float64, err error) {
	checkLen("Pearson", x, y)
	n := len(x)
	if n < 2 {
		panic("stats: Pearson: need at least 2 points")
	}
	if isConstant(x) {
		return math.NaN(), math.NaN(), &ConstantError{Arg: "x"}
	}
	if isConstant(y) {
		return math.NaN(), math.NaN(), &ConstantError{Arg: "y"}
	}
	if n == 2 {
		return sign(x[1]-x[0]) * sign(y[1]-y[0]), 1, nil
	}
	mx, my := Mean(x), Mean(y)
	var sxx, syy, sxy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	if sxx == 0 || syy == 0 {
		// Values differ yet centre to zero spread only through underflow.
		arg := "x"
		if sxx != 0 {
			arg = "y"
		}
		return math.NaN(), math.NaN(), &ConstantError{Arg: arg}
	}
	// sqrt(sxx·syy) rather than sqrt(sxx)·sqrt(syy): identical vectors then give r = 1
	// exactly (a perfect predictor must score p = 0). Fall back to the split form only if
	// the product over- or underflows.
	den := math.Sqrt(sxx * syy)
	if math.IsInf(den, 0) || den == 0 {
		den = math.Sqrt(sxx) * math.Sqrt(syy)
	}
	r = sxy / den
	r = math.Max(-1, math.Min(1, r))
	return r, PearsonP(r, n), nil
}

// PearsonP returns the two-sided p-value of a Pearson correlation r from n pairs.
//
// Under H0, r ~ Beta(n/2−1, n/2−1) on [−1, 1]; equivalently the t statistic with
// df = n−2 gives p = I_{df/(df+t²)}(df/2, 1/2), and df/(df+t²) = 1−r². The regularized
// incomplete beta is evaluated directly at 1−r² = (1−|r|)(1+|r|) (exact for |r| ≥ ½), never
// as 1 − CDF, so p keeps full relative accuracy down to the smallest normal floats; only
// where p > ½ is it taken as the complement 1 − I_{r²}(½, df/2), which is accurate there.
// |r| = 1 gives 0; n = 2 gives 1 (scipy). It panics if n < 2 or r is outside [−1, 1];
// NaN r gives NaN.
func PearsonP(r float64, n int) float64 {
	if n < 2 {
		panic("stats: PearsonP: need n >= 2")
	}
	if math.IsNaN(r) {
		return math.NaN()
	}
	if r < -1 || r > 1 {
		panic("stats: PearsonP: r outside [-1, 1]")
	}
	if n == 2 {
		return 1
	}
	a := math.Abs(r)
	df := float64(n - 2)
	// For small |r|, 1−r² rounds and the tail I_{1−r²}(df/2, ½) loses the information
	// in r; there p > ½ and its complement I_{r²}(½, df/2) is accurate.
	if q := mathext.RegIncBeta(0.5, df/2, a*a); q < 0.5 {
		return 1 - q
	}
	return mathext.RegIncBeta(df/2, 0.5, (1-a)*(1+a))
}

func isConstant(x []float64) bool {
	for _, v := range x[1:] {
		if v != x[0] {
			return false
		}
	}
	return true
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
