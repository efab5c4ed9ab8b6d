package daggm

import (
	"context"
	"encoding/csv"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// loadArrhythmia reads ODDS Arrhythmia (452 × 274, label 1 = outlier; testdata/README.md).
func loadArrhythmia(t testing.TB) (*mat.Dense, []bool) {
	f, err := os.Open("testdata/arrhythmia.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	recs = recs[1:]
	d := len(recs[0]) - 1
	X := mat.NewDense(len(recs), d, nil)
	y := make([]bool, len(recs))
	for i, r := range recs {
		for j := 0; j < d; j++ {
			v, err := strconv.ParseFloat(r[j], 64)
			if err != nil {
				t.Fatal(err)
			}
			X.Set(i, j, v)
		}
		y[i] = r[d] == "1" || r[d] == "1.0"
	}
	return X, y
}

// arrhythmiaConfig is the paper's Arrhythmia network [recalled — verify]: FC(274,10,tanh)-
// FC(10,2) with a mirror decoder, estimation FC(4,10,tanh)-Dropout(0.5)-FC(10,2,softmax),
// λ₁ = 0.1, λ₂ = 0.005; trained full batch here (see NOTES.md).
func arrhythmiaConfig(steps int, scaling string) Config {
	cfg := DefaultConfig()
	cfg.Steps = steps
	cfg.Scaling = scaling
	return cfg
}

// arrhythmiaF1 runs the DAGMM protocol of Zong et al. (2018, §4.3) once: a random half of
// the rows is the training half, of which only the normal rows are trained on; the other
// half is the test set. The threshold is the energy quantile at 1 − ratio (ratio = 0.15,
// the data's anomaly ratio) of the energies of the training rows and test rows together,
// as danieltan07/dagmm does; a test row is flagged when its energy exceeds it. It returns
// the F1 of the anomaly class, and also the F1 with the threshold taken on the test
// energies alone.
func arrhythmiaF1(t testing.TB, X *mat.Dense, y []bool, steps int, scaling string, seed uint64) (f1Combined, f1Test float64) {
	rng := rand.New(rand.NewPCG(seed, 0xa77))
	n, d := X.Dims()
	perm := rng.Perm(n)
	var train, test []int
	for i, r := range perm {
		if i < n/2 {
			if !y[r] {
				train = append(train, r)
			}
		} else {
			test = append(test, r)
		}
	}
	rows := func(idx []int) *mat.Dense {
		m := mat.NewDense(len(idx), d, nil)
		for i, r := range idx {
			m.SetRow(i, X.RawRowView(r))
		}
		return m
	}
	m, err := Fit(context.Background(), rows(train), arrhythmiaConfig(steps, scaling), rng)
	if err != nil {
		t.Fatal(err)
	}
	str, err := m.Score(rows(train))
	if err != nil {
		t.Fatal(err)
	}
	ste, err := m.Score(rows(test))
	if err != nil {
		t.Fatal(err)
	}
	f1 := func(thr float64) float64 {
		var tp, fp, fn float64
		for i, r := range test {
			flag := ste.Energy[i] > thr
			switch {
			case flag && y[r]:
				tp++
			case flag:
				fp++
			case y[r]:
				fn++
			}
		}
		if tp == 0 {
			return 0
		}
		p, rc := tp/(tp+fp), tp/(tp+fn)
		return 2 * p * rc / (p + rc)
	}
	all := append(append([]float64(nil), str.Energy...), ste.Energy...)
	return f1(quantile(all, 0.85)), f1(quantile(ste.Energy, 0.85))
}

// quantile is numpy.percentile's default (linear interpolation between order statistics).
func quantile(x []float64, q float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	h := q * float64(len(s)-1)
	lo := int(h)
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// TestArrhythmiaF1 is the end-to-end check against the published DAGMM F1 on Arrhythmia,
// 0.4983 (published.md: from a secondary table, approximate), with the paper's network
// and the protocol of arrhythmiaF1. Inputs are min-max scaled: with z-scoring, the
// relative-distance feature ranks anomalies below normal rows and the F1 falls to
// 0.1–0.3, near chance (NOTES.md has the measurements). CI runs one seed with 1000 steps;
// NTEDSL_LONG=1 runs ten seeds with the default 3000 steps under both scalings and logs
// the numbers.
//
// The band [0.30, 0.70] is calibrated as follows: a detector that flags 15 % of the test
// rows at random has F1 ≈ 0.15 (precision = recall = the anomaly share); the published
// F1 of the methods in the DAGMM paper's Arrhythmia table lies in 0.37–0.50; over ten
// seeds with 3000 steps this implementation gives F1 0.460 ± 0.074 (SD; about 33 anomalies
// per test half), and the CI configuration (seed 1, 1000 steps) 0.405. ±0.2 around the
// published 0.50 is ~2 SD below this mean, still twice the chance level, and wide enough
// for the last-bit differences of a machine without AVX2/FMA (different weights after
// training, so a different F1 within the seed-to-seed spread).
func TestArrhythmiaF1(t *testing.T) {
	X, y := loadArrhythmia(t)
	if n, d := X.Dims(); n != 452 || d != 274 {
		t.Fatalf("arrhythmia is %d × %d, want 452 × 274", n, d)
	}
	out := 0
	for _, v := range y {
		if v {
			out++
		}
	}
	if out != 66 { // ODDS: 66 outliers (14.60 %)
		t.Fatalf("%d outliers, want 66", out)
	}
	if os.Getenv("NTEDSL_LONG") == "" {
		f1, f1t := arrhythmiaF1(t, X, y, 1000, ScaleMinMax, 1)
		t.Logf("seed 1, 1000 steps, min-max: F1 %.4f (threshold on train+test energies), %.4f (on test energies)", f1, f1t)
		if f1 < 0.30 || f1 > 0.70 {
			t.Fatalf("Arrhythmia F1 %.4f outside [0.30, 0.70] around the published 0.4983", f1)
		}
		return
	}
	const seeds = 10
	steps := DefaultConfig().Steps
	for _, sc := range []string{ScaleMinMax, ScaleStandard} {
		var f1s, f1ts []float64
		for seed := uint64(1); seed <= seeds; seed++ {
			f1, f1t := arrhythmiaF1(t, X, y, steps, sc, seed)
			t.Logf("%s, seed %d: F1 %.4f (threshold on train+test), %.4f (on test)", sc, seed, f1, f1t)
			f1s, f1ts = append(f1s, f1), append(f1ts, f1t)
		}
		m, sd := stat.MeanStdDev(f1s, nil)
		mt, sdt := stat.MeanStdDev(f1ts, nil)
		t.Logf("%s, %d steps, %d seeds: F1 %.4f ± %.4f (SD), %.4f ± %.4f with the test-only threshold", sc, steps, seeds, m, sd, mt, sdt)
		if sc == ScaleMinMax && (m < 0.35 || m > 0.65) {
			t.Errorf("mean Arrhythmia F1 %.4f outside [0.35, 0.65]", m)
		}
	}
}
