package csdi

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// validLoss is CSDI's validation loss (csdi_icr.md §1.3) for target-only masks on the rows
// of Z (standardized): the ε-loss at every step t = 0..T−1 with fresh noise, averaged.
func validLoss(m *Model, s *diffusion.Schedule, Z *mat.Dense, rng *rand.Rand) float64 {
	n, k := Z.Dims()
	cm := make([]float64, k)
	for j := range cm {
		cm[j] = 1
	}
	for _, j := range m.Noised {
		cm[j] = 0
	}
	mask := make([]float64, n*k)
	tgt := make([]float64, n*k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			mask[i*k+j], tgt[i*k+j] = cm[j], 1-cm[j]
		}
	}
	side := m.net.sideTerms(nil, ad.Const(mask, n, k, 1))
	tab := make([]float64, embDim)
	input := make([]float64, n*k*2)
	eps := make([]float64, n*k)
	var total float64
	for t := 0; t < s.T(); t++ {
		stepTable(tab, t)
		emb := m.net.stepEmbedding(nil, ad.Const(tab, 1, embDim))
		sa, sn := s.SqrtAlphaBar(t), s.SqrtOneMinusAlphaBar(t)
		for i := 0; i < n; i++ {
			for j := 0; j < k; j++ {
				q := i*k + j
				e := rng.NormFloat64()
				x0 := Z.At(i, j)
				eps[q] = e
				input[2*q], input[2*q+1] = cm[j]*x0, (1-cm[j])*(sa*x0+sn*e)
			}
		}
		pred := m.net.forward(nil, ad.Const(input, n, k, 2), side, emb, nil)
		total += (*ad.Tape)(nil).MaskedMSE(pred, ad.Const(eps, n, k), tgt).Value()
	}
	return total / float64(s.T())
}

// TestTrainedModelMatchesGaussianConditional: a small model trained on rows from a known
// Gaussian (csdi_icr.md §4.1) imputes the missing column with the analytic conditional mean
// and variance, is calibrated, approaches the Bayes ε-loss, and its ICR output regresses on
// (y, μ_{u|o}) with the theoretical coefficients (w_{t*}, 1 − w_{t*}) (§2.4, §4.3).
//
// CI-sized settings (§4.3, last paragraph): 1000 training rows, C = 16, 2 layers, 2 heads,
// feed-forward width 32, dropout 0, 2000 Adam steps (lr 1e-3, batch 16) with target-only
// masks, T = 50 quad(1e-4, 0.5); 100 test rows with column 2 missing (conditional variance
// 0.51 in its units, 0.466 standardized), S = 50 samples. Target-only masks reach in 2000
// steps what the default mix-ICR masks reach in 4000 (calibration with FFN 64: validation
// loss 1.014 vs 1.013 × Bayes, mean slope 0.968 vs 0.967); NTEDSL_LONG=1 runs §4.3's full
// settings with mix masks. (One layer fails this test — mean slope 0.63 — as it should: the
// side information, the only column identity, enters each block after its transformer, so a
// single block cannot attend by column; csdi_icr.md §1.4.)
//
// Robust moments: the mean and variance of a row are the median and (IQR/1.349)² of its
// samples, and the MC correction of the median is (π/2)·v̂/S. CSDI's skip outputs pass a
// gate σ(g)·tanh(f), so ε̂ is bounded; a full chain that starts in the far tail of N(0, 1)
// at a step with β = 0.5 is amplified by 1/√α = 1.41 per step faster than the saturated ε̂
// pulls it back, and 2 of the 5000 chains here end beyond |x| = 5 (one at 151). The median,
// which CSDI reports, is immune; sample moments are not. ICR's truncated chains start near
// the data and do not meet this.
//
// Calibrated once (training seed 1; data PCG(11, 12), test PCG(13, 14), validation noise
// PCG(15, 16), samples PCG(17, 18), ICR PCG(19, t*)), observed → tolerance: validation loss
// 1.012 × Bayes → ≤ 1.15 (§4.3's 1.10 widened); MC-corrected RMS of the conditional mean
// 0.222 σ → ≤ 0.30 (§4.3 proposes 0.15 "to be calibrated"; 0.19–0.21 with FFN 64 or 3000
// steps, so the error is the model's, not noise of the check); slope 0.987 → 1 ± 0.15;
// corr 0.967 → ≥ 0.955; variance ratio 1.117 (the exact-ε* sampler gives 0.874) → [0.55,
// 1.30]; PIT KS 0.122 → ≤ 0.15; 90% coverage 0.90 → [0.78, 0.99]; ICR coefficients on
// (y, μ) at t* = 10, 20, 30: (0.848, 0.155), (0.379, 0.620), (0.052, 0.892) against (0.830,
// 0.170), (0.343, 0.657), (0.058, 0.942) → ± 0.1 (§4.3, not widened).
func TestTrainedModelMatchesGaussianConditional(t *testing.T) {
	gaussianCheck(t, gaussianSettings{train: 1000, test: 100, samples: 50, channels: 16, layers: 2, heads: 2, ffn: 32,
		steps: 2000, masks: MasksTarget, widen: 1.5, rmsTol: 0.30})
}

// TestTrainedModelMatchesGaussianConditionalLong is §4.3 at its proposed settings (N_train =
// 4000, C = 32, 3 layers, 4 heads, 8000 steps, mix-ICR masks, 200 test rows, S = 200) with
// its unwidened tolerances. NTEDSL_LONG=1; 8 minutes on a loaded 2-core machine (training
// 1m43s, imputation 2m50s). Observed: validation loss 1.007 × Bayes; conditional mean RMS
// 0.091 σ, slope 0.959, corr 0.991; variance ratio 1.034; PIT KS 0.051; coverage 0.91; ICR
// coefficients (0.841, 0.146), (0.398, 0.572), (0.073, 0.883) against (0.835, 0.165),
// (0.351, 0.649), (0.060, 0.940) at t* = 10, 20, 30. The coefficient on μ falls short of
// 1 − w by 0.02–0.08 at both sizes: the model's conditional mean is slightly shrunk toward
// the marginal mean (imputation slope 0.96), which ICR passes on.
func TestTrainedModelMatchesGaussianConditionalLong(t *testing.T) {
	if os.Getenv("NTEDSL_LONG") == "" {
		t.Skip("set NTEDSL_LONG=1 to run §4.3 at full size")
	}
	gaussianCheck(t, gaussianSettings{train: 4000, test: 200, samples: 200, channels: 32, layers: 3, heads: 4, ffn: 64,
		steps: 8000, masks: MasksMix, widen: 1, rmsTol: 0.15})
}

type gaussianSettings struct {
	train, test, samples           int
	channels, layers, heads, steps int
	ffn                            int
	masks                          string
	widen                          float64 // tolerance factor
	rmsTol                         float64 // conditional mean RMS error (σ units)
}

func gaussianCheck(t *testing.T, gs gaussianSettings) {
	g := newGaussian()
	const u = 2
	nTest, S := gs.test, gs.samples
	Xtr := g.sample(gs.train, rand.New(rand.NewPCG(11, 12)))
	Xte := g.sample(nTest, rand.New(rand.NewPCG(13, 14)))
	s, _ := diffusion.Power(50, 1e-4, 0.5, 0.5)
	cfg := TrainConfig{Arch: Arch{Channels: gs.channels, Layers: gs.layers, Heads: gs.heads, FFN: gs.ffn, Dropout: 0},
		Steps: gs.steps, Batch: 16, LR: 1e-3, WeightDecay: 1e-6, Masks: gs.masks, Conditioning: CondStep}
	t0 := time.Now()
	m, err := Train(context.Background(), Xtr, TrainOptions{Config: cfg, Noised: []int{u}, Schedule: s, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("training: %v, loss %.3f → %.3f", time.Since(t0).Round(time.Millisecond), m.Loss[0], m.FinalLoss())
	mean, s2 := g.conditional(m, u)
	Z := m.standardize(Xte)
	mu := make([]float64, nTest)
	y := make([]float64, nTest)
	for i := range mu {
		mu[i], y[i] = mean(Z.RawRowView(i)), Z.At(i, u)
	}
	sd := math.Sqrt(s2)
	w := gs.widen

	// Bayes excess loss (the least noisy learning check).
	vl := validLoss(m, s, Z, rand.New(rand.NewPCG(15, 16)))
	bayes := s.BayesEpsLoss(s2)
	t.Logf("validation ε-loss %.4f, Bayes %.4f (ratio %.3f)", vl, bayes, vl/bayes)
	if vl > (1+0.1*w)*bayes {
		t.Errorf("validation ε-loss %.4f > %.2f × the Bayes loss %.4f", vl, 1+0.1*w, bayes)
	}

	// Imputation by the full chain.
	t0 = time.Now()
	se, err := m.session(context.Background(), s, Xte, S, nil)
	if err != nil {
		t.Fatal(err)
	}
	smp, err := se.full(s, rand.New(rand.NewPCG(17, 18)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("imputation: %v", time.Since(t0).Round(time.Millisecond))
	mhat := make([]float64, nTest)
	var ss, vsum, covered float64
	pit := make([]float64, nTest)
	for i := range mhat {
		xs := slices.Clone(smp[i*S : (i+1)*S])
		slices.Sort(xs)
		mhat[i] = stat.Quantile(0.5, stat.Empirical, xs, nil)
		iqr := stat.Quantile(0.75, stat.Empirical, xs, nil) - stat.Quantile(0.25, stat.Empirical, xs, nil)
		vv := (iqr / 1.349) * (iqr / 1.349)
		e := (mhat[i] - mu[i]) / sd
		ss += e * e
		vsum += vv
		below := 0
		for _, x := range xs {
			if x < y[i] {
				below++
			}
		}
		pit[i] = (float64(below) + 0.5) / float64(S+1)
		lo, hi := stat.Quantile(0.05, stat.Empirical, xs, nil), stat.Quantile(0.95, stat.Empirical, xs, nil)
		if y[i] >= lo && y[i] <= hi {
			covered++
		}
	}
	n := float64(nTest)
	rms2 := ss/n - math.Pi/2*vsum/n/float64(S)/s2 // MC-corrected
	rms := math.Sqrt(math.Max(rms2, 0))
	slope, _ := linearFit(mu, mhat)
	corr := stat.Correlation(mu, mhat, nil)
	vratio := vsum / n / s2
	oracleV := s.PropagateFull(0, s2).Var / s2
	slices.Sort(pit)
	ks := ksUniform(pit)
	cov := covered / n
	t.Logf("conditional mean: MC-corrected RMS %.3f σ, slope %.3f, corr %.4f", rms, slope, corr)
	t.Logf("variance ratio %.3f (sampler floor with the exact ε*: %.3f); PIT KS %.3f; 90%% coverage %.2f", vratio, oracleV, ks, cov)
	if rms > gs.rmsTol {
		t.Errorf("conditional mean RMS error %.3f σ > %.3f", rms, gs.rmsTol)
	}
	if slope < 1-0.1*w || slope > 1+0.1*w || corr < 1-0.03*w {
		t.Errorf("imputed means vs analytic: slope %.3f (want 1 ± %.2f), corr %.4f (≥ %.3f)", slope, 0.1*w, corr, 1-0.03*w)
	}
	if vratio < 1-0.3*w || vratio > 1+0.2*w {
		t.Errorf("variance ratio %.3f outside [%.2f, %.2f]", vratio, 1-0.3*w, 1+0.2*w)
	}
	if ks > 0.1*w {
		t.Errorf("PIT KS distance %.3f > %.3f", ks, 0.1*w)
	}
	if cov < 0.9-0.08*w || cov > 0.9+0.06*w {
		t.Errorf("90%% interval coverage %.2f outside [%.2f, %.2f]", cov, 0.9-0.08*w, 0.9+0.06*w)
	}

	// ICR: E[ỹ^reg | y, x] = w y + (1−w) μ.
	for _, ts := range []int{10, 20, 30} {
		out, err := m.Regularize(context.Background(), s, Xte, ts, S, rand.New(rand.NewPCG(19, uint64(ts))), nil)
		if err != nil {
			t.Fatal(err)
		}
		reg := make([]float64, nTest)
		for i, v := range out {
			reg[i] = (v - m.Mean[u]) / m.SD[u]
		}
		a, b := regress2(reg, y, mu)
		wt := s.ShrinkWeight(ts, s2)
		t.Logf("ICR t* = %d: coefficients on (y, μ) = (%.3f, %.3f), theory (%.3f, %.3f)", ts, a, b, wt, 1-wt)
		if math.Abs(a-wt) > 0.1 || math.Abs(b-(1-wt)) > 0.1 {
			t.Errorf("ICR t* = %d: coefficients (%.3f, %.3f), want (%.3f, %.3f) ± 0.1", ts, a, b, wt, 1-wt)
		}
	}
}

func linearFit(x, y []float64) (slope, intercept float64) {
	b, a := stat.LinearRegression(x, y, nil, false)
	return a, b
}

// regress2 fits r = a·x1 + b·x2 + c by least squares and returns (a, b).
func regress2(r, x1, x2 []float64) (a, b float64) {
	n := len(r)
	A := mat.NewDense(n, 3, nil)
	for i := 0; i < n; i++ {
		A.Set(i, 0, x1[i])
		A.Set(i, 1, x2[i])
		A.Set(i, 2, 1)
	}
	var coef mat.VecDense
	if err := coef.SolveVec(A, mat.NewVecDense(n, r)); err != nil {
		panic(err)
	}
	return coef.AtVec(0), coef.AtVec(1)
}

// ksUniform is the Kolmogorov–Smirnov distance of sorted values in (0, 1) to U(0, 1).
func ksUniform(sorted []float64) float64 {
	n := float64(len(sorted))
	var d float64
	u := distuv.Uniform{Min: 0, Max: 1}
	for i, v := range sorted {
		c := u.CDF(v)
		d = math.Max(d, math.Max(math.Abs(float64(i+1)/n-c), math.Abs(c-float64(i)/n)))
	}
	return d
}
