package stats

import (
	"math"
	"slices"
)

// Quantile returns the p-quantile of the ascending-sorted sample x with numpy's default
// method ('linear', Hyndman & Fan type 7): with h = (n−1)p, the value interpolated
// between x[⌊h⌋] and x[⌊h⌋+1], using numpy's two-sided lerp so the result is bit-identical
// to numpy.quantile. torch.quantile's default is the same method.
// It panics if x is empty or unsorted or p is outside [0, 1]; a NaN in x gives NaN.
func Quantile(p float64, x []float64) float64 {
	if len(x) == 0 {
		panic("stats: Quantile: empty input")
	}
	if !(p >= 0 && p <= 1) {
		panic("stats: Quantile: p outside [0, 1]")
	}
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	if !slices.IsSorted(x) {
		panic("stats: Quantile: x is not sorted")
	}
	n := len(x)
	h := float64(n-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i >= n-1 {
		return x[n-1]
	}
	a, b := x[i], x[i+1]
	t := h - lo
	diff := b - a
	if t >= 0.5 {
		return b - diff*(1-t)
	}
	return a + diff*t
}

// LowerMedian returns the lower median of x: the ⌊(n−1)/2⌋-th order statistic, which
// is the middle value for odd n and the lower of the two middle values for even n. This
// is torch.median's definition, the one CSDI uses to aggregate its samples, and it equals
// gonum's stat.Quantile(0.5, stat.Empirical, ...). x is not modified. It panics if x is
// empty; a NaN in x gives NaN.
func LowerMedian(x []float64) float64 {
	if len(x) == 0 {
		panic("stats: LowerMedian: empty input")
	}
	s := slices.Clone(x)
	for _, v := range s {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
