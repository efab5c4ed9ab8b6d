package stats

import (
	"math"
)

func checkLen(fn string, a, b []float64) {
	if len(a) != len(b) {
		panic("stats: " + fn + ": length mismatch")
	}
	if len(a) == 0 {
		panic("stats: " + fn + ": empty input")
	}
}

// Mean returns the arithmetic mean of x. It panics if x is empty.
func Mean(x []float64) float64 {
	if len(x) == 0 {
		panic("stats: Mean: empty input")
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// sumSqDev returns Σ(x−mean)² with the mean computed first (two-pass, no cancellation).
func sumSqDev(x []float64, mean float64) float64 {
	var s float64
	for _, v := range x {
		d := v - mean
		s += d * d
	}
	return s
}

// PopSD returns the population standard deviation sqrt(Σ(x−x̄)²/n) (numpy's np.std,
// ddof 0). It panics if x is empty.
func PopSD(x []float64) float64 {
	m := Mean(x)
	return math.Sqrt(sumSqDev(x, m) / float64(len(x)))
}

// SD returns the sample standard deviation sqrt(Σ(x−x̄)²/(n−1)) (ddof 1). It is NaN
// for a single value and panics if x is empty.
func SD(x []float64) float64 {
	m := Mean(x)
	if len(x) < 2 {
		return math.NaN()
	}
	return math.Sqrt(sumSqDev(x, m) / float64(len(x)-1))
}

// SE returns the standard error of the mean, SD(x)/√n (scipy.stats.sem).
func SE(x []float64) float64 {
	return SD(x) / math.Sqrt(float64(len(x)))
}

// RMSE returns sqrt((1/n) Σ(pred−y)²). It panics if the lengths differ or are zero.
func RMSE(y, pred []float64) float64 {
	checkLen("RMSE", y, pred)
	var s float64
	for i, v := range y {
		d := pred[i] - v
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}

// MAE returns (1/n) Σ|pred−y|. It panics if the lengths differ or are zero.
func MAE(y, pred []float64) float64 {
	checkLen("MAE", y, pred)
	var s float64
	for i, v := range y {
		s += math.Abs(pred[i] - v)
	}
	return s / float64(len(y))
}

// R2 returns the coefficient of determination 1 − Σ(y−pred)²/Σ(y−ȳ)², as sklearn's
// r2_score. It is not the squared correlation and is negative for predictions worse
// than the mean of y. When y is constant the ratio is undefined and R2 returns NaN
// (sklearn's force_finite default would return 1 or 0 there, which hides a degenerate
// target). It panics if the lengths differ or are zero.
func R2(y, pred []float64) float64 {
	checkLen("R2", y, pred)
	var ssRes float64
	for i, v := range y {
		d := v - pred[i]
		ssRes += d * d
	}
	ssTot := sumSqDev(y, Mean(y))
	if ssTot == 0 {
		return math.NaN()
	}
	return 1 - ssRes/ssTot
}

// LinearFit returns the ordinary-least-squares slope and intercept of y on x
// (y ≈ intercept + slope·x). ICR reports it as the shrinkage factor of regularized on
// measured targets. Both are NaN when x is constant. It panics if the lengths differ or
// are zero.
func LinearFit(x, y []float64) (slope, intercept float64) {
	checkLen("LinearFit", x, y)
	mx, my := Mean(x), Mean(y)
	var sxx, sxy float64
	for i, v := range x {
		dx := v - mx
		sxx += dx * dx
		sxy += dx * (y[i] - my)
	}
	if sxx == 0 {
		return math.NaN(), math.NaN()
	}
	slope = sxy / sxx
	return slope, my - slope*mx
}
