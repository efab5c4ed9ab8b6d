package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

func checkVariance(fn string, variance []float64) error {
	for i, v := range variance {
		if !(v > 0) || math.IsInf(v, 1) {
			return fmt.Errorf("stats: %s: predictive variance of row %d is %v; it must be positive and finite", fn, i, v)
		}
	}
	return nil
}

// GaussianNLL returns the mean negative log density of y under independent Gaussians
// N(mean_i, variance_i): (1/n) Σ ½log(2π v_i) + (y_i − m_i)²/(2 v_i), in the units of y
// (it is the negative of the mean test log-likelihood the UCI literature reports).
// A variance that is not positive and finite gives NaN and an error naming the row. It
// panics if the lengths differ or are zero.
func GaussianNLL(y, mean, variance []float64) (float64, error) {
	checkLen("GaussianNLL", y, mean)
	checkLen("GaussianNLL", y, variance)
	if err := checkVariance("GaussianNLL", variance); err != nil {
		return math.NaN(), err
	}
	var s float64
	for i, v := range variance {
		d := y[i] - mean[i]
		s += 0.5*math.Log(2*math.Pi*v) + d*d/(2*v)
	}
	return s / float64(len(y)), nil
}

// Coverage returns the fraction of y inside the central interval of probability level
// (e.g. 0.9) of N(mean_i, variance_i): m_i ± z·√v_i with z = Φ⁻¹((1+level)/2), bounds
// included (scipy.stats.norm.interval). A variance that is not positive and finite gives
// NaN and an error. It panics if the lengths differ or are zero, or level is not in (0, 1).
func Coverage(y, mean, variance []float64, level float64) (float64, error) {
	checkLen("Coverage", y, mean)
	checkLen("Coverage", y, variance)
	if !(level > 0 && level < 1) {
		panic("stats: Coverage: level must be in (0, 1)")
	}
	if err := checkVariance("Coverage", variance); err != nil {
		return math.NaN(), err
	}
	z := distuv.UnitNormal.Quantile(0.5 + level/2)
	in := 0
	for i, v := range variance {
		h := z * math.Sqrt(v)
		if y[i] >= mean[i]-h && y[i] <= mean[i]+h {
			in++
		}
	}
	return float64(in) / float64(len(y)), nil
}
