package dgp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/datasets/uci"
	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// standardized returns the training inputs and targets z-scored as Fit does, and the
// z-scoring.
func standardized(x *mat.Dense, y []float64) (xs, ys []float64, sx stats.Scaler, yMean, ySD float64) {
	n, d := x.Dims()
	sx = stats.FitScaler(x, nil)
	yMean, ySD = stats.MeanScale(y)
	xs = make([]float64, n*d)
	ys = make([]float64, n)
	for i := range n {
		for j := range d {
			xs[i*d+j] = (x.At(i, j) - sx.Mean[j]) / sx.Scale[j]
		}
		ys[i] = (y[i] - yMean) / ySD
	}
	return
}

// TestUCIExactGPIdentity (models.md §3.3 item 6, first part; item 1 on real data with ARD):
// a one-layer DGP with Z = X (M = N), scikit-learn's fitted hyperparameters (ARD
// lengthscales, signal variance, noise) and the optimal q(u) predicts exactly what
// scikit-learn 1.2.1's exact GP predicts, and its ELBO is sklearn's log marginal
// likelihood: this checks the ARD kernel, the z-scoring, the predictive variance
// (including noise) and the un-scaling against an independent implementation. Jitter
// j = 1e-10 on K_ZZ, where sklearn adds α = 1e-10 to K + σ²I. To first order the jitter
// shifts the ELBO from the LML by the trace term N·j/(2σ²) plus the effect of a noise
// changed by j + α, at most N·(j + α)/(2σ²): the LML tolerance is 1e-6 + 1.5·N·j/σ² (3e-6
// on Boston; 3e-4 on Yacht, whose fitted noise is 1e-4 and whose observed gaps, 9.5e-5 and
// 1.4e-4, are this term). Means must agree to 1e-6 of the target SD and SDs to 1e-5
// relative, allowing for the conditioning of K_ZZ at Z = X (lengthscales up to 1e5 leave
// near-duplicate rows).
func TestUCIExactGPIdentity(t *testing.T) {
	ref := loadSklearnGP(t, "uci_sklearn_gp.json")
	for _, name := range []string{"bostonHousing", "yacht"} {
		s := ucitest.Load(t, name)
		for _, k := range []int{0, 1} {
			g := ref[name].Splits[fmt.Sprint(k)]
			xtr, ytr, xte, _ := ucitest.Split(t, s, k)
			n, d := xtr.Dims()
			xs, ys, sx, yMean, ySD := standardized(xtr, ytr)
			md := &model{jitter: 1e-10, sampleJitter: sampleJitter, ps: ad.NewParams()}
			l := newLayer(md.ps, "layer0", xs, n, d, 1, g.SF2, 1)
			for q, v := range g.Lens {
				l.rawLen.Data[q] = softplusInv(v)
			}
			md.layers = []*layer{l}
			md.rawNoise = md.ps.Add("noise", ad.NewVar([]float64{softplusInv(g.Noise - noiseFloor)}, 1))
			md.prepare()
			optimalQARD(t, md, xs, ys, g.SF2, g.Lens, g.Noise)
			elbo := elboOf(t, md, xs, ys, 1, nil)
			p := wrap(t, md, d, 1)
			p.xs, p.yMean, p.ySD = sx, yMean, ySD
			mean, variance := p.Predict(xte)
			var dm, ds float64
			for i := range mean {
				dm = math.Max(dm, math.Abs(mean[i]-g.Mean[i])/ySD)
				ds = math.Max(ds, math.Abs(math.Sqrt(variance[i])/g.SD[i]-1))
			}
			t.Logf("%s split %d (N = M = %d): ELBO %.8f, sklearn LML %.8f; max |Δmean|/SD(y) %.2g, max |SD/SD_sklearn − 1| %.2g", name, k, n, elbo, g.LML, dm, ds)
			tol := 1e-6 + 1.5*float64(n)*md.jitter/g.Noise
			if math.Abs(elbo-g.LML) > tol || dm > 1e-6 || ds > 1e-5 {
				t.Errorf("%s split %d: the one-layer DGP at sklearn's hyperparameters is not sklearn's exact GP (ELBO %.8f vs LML %.8f, mean diff %.2g SD, SD ratio diff %.2g)", name, k, elbo, g.LML, dm, ds)
			}
		}
	}
}

// optimalQARD is optimalQ for an ARD kernel: it sets the lengthscales temporarily through
// an isotropic helper per dimension by scaling the inputs.
func optimalQARD(t testing.TB, md *model, x, y []float64, sf2 float64, lens []float64, noise float64) {
	t.Helper()
	l := md.layers[0]
	d := l.dIn
	scale := func(a []float64) []float64 {
		out := make([]float64, len(a))
		for i, v := range a {
			out[i] = v / lens[i%d]
		}
		return out
	}
	// The RBF with lengthscales ℓ on x is the isotropic RBF with ℓ = 1 on x/ℓ.
	z := l.z.Data
	l.z.Data = scale(z)
	optimalQ(t, md, scale(x), y, 1, sf2, noise)
	l.z.Data = z
}

// uciFit fits cfg on the first sub training rows of split k (all when sub = 0) and returns
// the test RMSE and mean log density (of the predictive mixture) in the units of y.
func uciFit(t testing.TB, s *uci.Set, k, sub int, cfg Config) (rmse, ll, r2 float64, p *Predictor) {
	t.Helper()
	xtr, ytr, xte, yte := ucitest.Split(t, s, k)
	if sub > 0 {
		xtr = mat.DenseCopyOf(xtr.Slice(0, sub, 0, len(s.Features)))
		ytr = ytr[:sub]
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := r.Fit(context.Background(), xtr, ytr, rand.New(rand.NewPCG(uint64(k), 7)))
	if err != nil {
		t.Fatal(err)
	}
	p = pr.(*Predictor)
	mean, _ := p.Predict(xte)
	for i, v := range p.LogDensity(xte, yte) {
		ll += v / float64(len(yte))
		rmse += (mean[i] - yte[i]) * (mean[i] - yte[i]) / float64(len(yte))
	}
	rmse = math.Sqrt(rmse)
	_, sd := stat.PopMeanStdDev(yte, nil)
	return rmse, ll, 1 - rmse*rmse/(sd*sd), p
}

// TestUCIOneLayerTrained (models.md §3.3 item 6): trained from the reference initialisation
// with the default optimizer settings (Adam 0.01, 1000 steps), a one-layer DGP with M = N
// lands near scikit-learn's exact GP on splits 0 and 1 of Boston and Concrete. To keep
// M = N cheap the training rows are cut to the first 60 of each split, and sklearn is fitted
// on the same rows (testdata/gen_uci_sub.py). The check is one-sided, test RMSE ≤ 1.2 ×
// sklearn's and mean log density ≥ sklearn's − 0.25: both fit the same model, but Adam on
// the ELBO (Z learned too) and L-BFGS on the marginal likelihood stop at different
// hyperparameters, and on 60 rows sklearn's type-II maximum likelihood overfits (several
// lengthscales at 1e4–1e5, an overconfident LL of −8.3 on Boston split 1), so the DGP is
// often the better of the two on test. Observed: RMSE ratios 0.81–1.14, LL differences
// ≥ −0.14.
func TestUCIOneLayerTrained(t *testing.T) {
	ref := loadSklearnGP(t, "uci_sklearn_gp_sub60.json")
	cfg := DefaultConfig()
	cfg.Layers = 1
	for _, name := range []string{"bostonHousing", "concrete"} {
		s := ucitest.Load(t, name)
		g := ref[name]
		for _, k := range []int{0, 1} {
			rmse, ll, _, p := uciFit(t, s, k, 60, cfg)
			tr := p.Trace()
			t.Logf("%s split %d, 60 rows: RMSE %.3f, LL %.3f; sklearn %.3f, %.3f; final ELBO %.2f, sklearn LML %.2f", name, k, rmse, ll, g.RMSE[k], g.LL[k], tr[len(tr)-1], g.Splits[fmt.Sprint(k)].LML)
			if rmse > 1.2*g.RMSE[k] || ll < g.LL[k]-0.25 {
				t.Errorf("%s split %d: one-layer DGP RMSE %.3f, LL %.3f; exact GP %.3f, %.3f", name, k, rmse, ll, g.RMSE[k], g.LL[k])
			}
		}
	}
}

// TestUCITwoLayerBand (models.md §3.3 item 6): the default two-layer DGP on splits 0 and 1 of
// Boston and Concrete (training rows cut to the first 60, sklearn fitted on the same rows)
// stays within a band of the exact GP: test RMSE ≤ 1.6 × sklearn's, mean log density ≥
// sklearn's − 0.5, and R² ≥ 0.4. The band is wide because 1000 Adam steps do not converge a
// two-layer DGP (the reference demo runs 10 000; observed here: RMSE ratios 1.04–1.45, the
// largest on Concrete, whose ELBO is still rising) and the inner layers add sampling noise. A
// broken model (mean prediction, exploding variance) lands outside it: R² ≈ 0 and RMSE ≈
// SD(y), 2.1 (Concrete) to 2.6 (Boston) × the exact GP's.
func TestUCITwoLayerBand(t *testing.T) {
	ref := loadSklearnGP(t, "uci_sklearn_gp_sub60.json")
	for _, name := range []string{"bostonHousing", "concrete"} {
		s := ucitest.Load(t, name)
		g := ref[name]
		for _, k := range []int{0, 1} {
			rmse, ll, r2, _ := uciFit(t, s, k, 60, DefaultConfig())
			t.Logf("%s split %d, 60 rows: RMSE %.3f, LL %.3f, R² %.3f; sklearn %.3f, %.3f", name, k, rmse, ll, r2, g.RMSE[k], g.LL[k])
			if rmse > 1.6*g.RMSE[k] || ll < g.LL[k]-0.5 || r2 < 0.4 {
				t.Errorf("%s split %d: two-layer DGP RMSE %.3f, LL %.3f, R² %.3f; exact GP %.3f, %.3f", name, k, rmse, ll, r2, g.RMSE[k], g.LL[k])
			}
		}
	}
}

// TestUCILong (NTEDSL_LONG=1): the default one- and two-layer DGPs on all 20 standard
// splits of Yacht, Boston, Energy and Concrete (NTEDSL_DGP_SETS=comma list to choose),
// with the exact GP's mean ± s.e. next to them (NOTES.md has the numbers). A 1000-step DGP
// is not expected to match the exact GP on the low-noise sets (Yacht, Energy), so the test
// only fails for a broken model: a mean test RMSE above half the mean SD of the test
// targets (a constant prediction scores about 1).
func TestUCILong(t *testing.T) {
	if os.Getenv("NTEDSL_LONG") != "1" {
		t.Skip("set NTEDSL_LONG=1 for the 20-split UCI comparison")
	}
	ref := loadSklearnGP(t, "uci_sklearn_gp.json")
	sets := []string{"yacht", "bostonHousing", "energy", "concrete"}
	if v := os.Getenv("NTEDSL_DGP_SETS"); v != "" {
		sets = strings.Split(v, ",")
	}
	for _, name := range sets {
		s := ucitest.Load(t, name)
		g := ref[name]
		for _, layers := range []int{1, 2} {
			cfg := DefaultConfig()
			cfg.Layers = layers
			var rm, lm []float64
			var sdy float64
			for k := range 20 {
				rmse, ll, r2, _ := uciFit(t, s, k, 0, cfg)
				rm = append(rm, rmse)
				lm = append(lm, ll)
				sdy += rmse / math.Sqrt(1-r2) / 20
				t.Logf("%s L=%d split %d: RMSE %.3f LL %.3f (sklearn %.3f %.3f)", name, layers, k, rmse, ll, g.RMSE[k], g.LL[k])
			}
			mr, sr := stat.MeanStdDev(rm, nil)
			ml, sl := stat.MeanStdDev(lm, nil)
			t.Logf("%s L=%d: test RMSE %.3f ± %.3f, test LL %.3f ± %.3f (mean ± s.e., 20 splits); exact GP %.3f ± %.3f, %.3f ± %.3f",
				name, layers, mr, sr/math.Sqrt(20), ml, sl/math.Sqrt(20), g.Summary.RMSEMean, g.Summary.RMSESE, g.Summary.LLMean, g.Summary.LLSE)
			if mr > 0.5*sdy {
				t.Errorf("%s L=%d: mean RMSE %.3f is more than half the test targets' SD %.3f", name, layers, mr, sdy)
			}
		}
	}
}
