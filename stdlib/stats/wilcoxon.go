package stats

import (
	"errors"
	"math"
	"sort"
)

// WilcoxonResult is the outcome of a two-sided Wilcoxon signed-rank test.
type WilcoxonResult struct {
	// Statistic is min(R+, R−), the smaller of the rank sums of the positive and the
	// negative differences (scipy's two-sided statistic).
	Statistic float64
	// P is the two-sided p-value.
	P float64
	// Method is "exact" (the null distribution of R+ enumerated) or "approx" (the normal
	// approximation with the tie correction and no continuity correction).
	Method string
	// N is the number of differences ranked: zero differences are dropped in "approx".
	N int
	// Zeros counts the differences that were exactly zero.
	Zeros int
	// Z is the normal deviate (T − μ)/σ of the approximation; NaN for "exact".
	Z float64
}

// ErrAllZero is returned by Wilcoxon when every paired difference is zero.
var ErrAllZero = errors.New("stats: Wilcoxon: every paired difference is zero, so the test is undefined")

// Wilcoxon performs the two-sided Wilcoxon signed-rank test of H0 "the differences
// d = x − y are symmetric about zero", reproducing scipy.stats.wilcoxon 1.10.1 with its
// defaults (zero_method "wilcox", correction False, alternative "two-sided", mode "auto").
// y may be nil, in which case x holds the differences.
//
// scipy 1.10.1's "auto" rule, which this follows exactly:
//   - n ≤ 50 differences (zeros included in the count) and no zero difference: the exact
//     null distribution of R+. Ties do NOT switch to the approximation in 1.10.1: the
//     ranks are averaged and R+ (then possibly a half-integer) is truncated to an integer
//     before the tail sums, as scipy's int(r_plus) does. Later scipy releases use the normal
//     approximation for ties instead; the two can differ slightly for tied data.
//     If R+ equals ⌊n(n+1)/4⌋, the centre of the distribution, p is 1.
//   - otherwise: zero differences are dropped, and z = (T − n(n+1)/4)/σ with
//     σ² = [n(n+1)(2n+1) − ½Σt(t²−1)]/24 over tie groups of size t; p = 2·Φ(−|z|).
//
// The exact tail sums are computed with integer counts, so they are exact where scipy's
// floating-point sums may differ in the last bits. An empty input gives NaN and an error;
// all-zero differences give NaN and ErrAllZero. It panics if y is non-nil with a
// different length from x.
func Wilcoxon(x, y []float64) (WilcoxonResult, error) {
	if y != nil && len(y) != len(x) {
		panic("stats: Wilcoxon: length mismatch")
	}
	nan := WilcoxonResult{Statistic: math.NaN(), P: math.NaN(), Z: math.NaN()}
	if len(x) == 0 {
		return nan, errors.New("stats: Wilcoxon: no pairs")
	}
	d := make([]float64, len(x))
	zeros := 0
	for i, v := range x {
		if y != nil {
			v -= y[i]
		}
		if math.IsNaN(v) {
			return nan, errors.New("stats: Wilcoxon: a difference is NaN")
		}
		d[i] = v
		if v == 0 {
			zeros++
		}
	}
	exact := len(d) <= 50 && zeros == 0
	res := WilcoxonResult{Zeros: zeros, Z: math.NaN()}
	if !exact {
		if zeros == len(d) {
			nan.Zeros = zeros
			return nan, ErrAllZero
		}
		nz := d[:0:0]
		for _, v := range d {
			if v != 0 {
				nz = append(nz, v)
			}
		}
		d = nz
	}
	n := len(d)
	res.N = n
	ranks, tieTerm := absRanks(d)
	var rPlus, rMinus float64
	for i, v := range d {
		if v > 0 {
			rPlus += ranks[i]
		} else if v < 0 {
			rMinus += ranks[i]
		}
	}
	res.Statistic = math.Min(rPlus, rMinus)
	fn := float64(n)
	if exact {
		res.Method = "exact"
		res.P = exactWilcoxonP(n, int(rPlus)) // int() truncates, as scipy's int(r_plus)
		return res, nil
	}
	res.Method = "approx"
	mn := fn * (fn + 1) * 0.25
	se := fn * (fn + 1) * (2*fn + 1)
	se -= 0.5 * tieTerm
	se = math.Sqrt(se / 24)
	res.Z = (res.Statistic - mn) / se
	// 2·Φ(−|z|) without cancellation.
	res.P = math.Erfc(math.Abs(res.Z) / math.Sqrt2)
	return res, nil
}

// absRanks returns the average ranks (1-based) of |d| and Σ t(t²−1) over groups of
// tied |d|.
func absRanks(d []float64) (ranks []float64, tieTerm float64) {
	n := len(d)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return math.Abs(d[idx[a]]) < math.Abs(d[idx[b]]) })
	ranks = make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && math.Abs(d[idx[j]]) == math.Abs(d[idx[i]]) {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			ranks[idx[k]] = avg
		}
		if t := float64(j - i); t > 1 {
			tieTerm += t * (t*t - 1)
		}
		i = j
	}
	return ranks, tieTerm
}

// exactWilcoxonP returns the two-sided exact p-value for R+ = r with n differences:
// 2·min(P(R+ ≤ r), P(R+ ≥ r)) clipped to 1, and 1 at the centre ⌊n(n+1)/4⌋ (scipy).
// Counts of subsets of {1..n} with each rank sum fit in uint64 for n ≤ 50 (≤ 2^50).
func exactWilcoxonP(n, r int) float64 {
	maxSum := n * (n + 1) / 2
	if r == maxSum/2 {
		return 1
	}
	c := make([]uint64, maxSum+1)
	c[0] = 1
	top := 0
	for k := 1; k <= n; k++ {
		top += k
		for s := top; s >= k; s-- {
			c[s] += c[s-k]
		}
	}
	var less, greater uint64
	for s := 0; s <= r && s <= maxSum; s++ {
		less += c[s]
	}
	for s := max(r, 0); s <= maxSum; s++ {
		greater += c[s]
	}
	total := math.Ldexp(1, n)
	p := 2 * float64(min(less, greater)) / total
	return math.Min(p, 1)
}
