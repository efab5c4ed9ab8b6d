package pbp

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
)

// fitScore fits the default PBP on (Xtr, ytr) and returns the test RMSE and the mean test
// log-likelihood log N(y | m, v) with the predictive variance, in the original units. It is
// safe to call from any goroutine.
func fitScore(Xtr *mat.Dense, ytr []float64, Xte *mat.Dense, yte []float64, rng *rand.Rand) (rmse, ll float64, err error) {
	reg, err := New(DefaultConfig())
	if err != nil {
		return 0, 0, err
	}
	p, err := reg.Fit(context.Background(), Xtr, ytr, rng)
	if err != nil {
		return 0, 0, err
	}
	m, v := p.Predict(Xte)
	for i, y := range yte {
		r := y - m[i]
		rmse += r * r
		ll += -0.5*math.Log(2*math.Pi*v[i]) - 0.5*r*r/v[i]
	}
	n := float64(len(yte))
	return math.Sqrt(rmse / n), ll / n, nil
}

// splitRNG is the random stream of split k with the given seed.
func splitRNG(seed uint64, k int) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(k))) }

// published holds the PBP figures of Gal & Ghahramani (2016) Table 1, which reproduce
// Hernández-Lobato & Adams (2015) (shared/methods/published.md): mean ± standard error over
// the 20 standard splits, test RMSE and test log-likelihood in original units.
var published = []struct {
	name           string
	rmse, rmseSE   float64
	ll, llSE       float64
	cRMSE, cLL     float64 // the authors' C implementation re-run (published.md)
	cRMSESE, cLLSE float64
}{
	{"bostonHousing", 3.01, 0.18, -2.57, 0.09, 3.001, -2.568, 0.175, 0.086},
	{"concrete", 5.67, 0.09, -3.16, 0.02, 5.698, -3.168, 0.105, 0.022},
	{"energy", 1.80, 0.05, -2.04, 0.02, 1.813, -2.046, 0.047, 0.019},
	{"wine-quality-red", 0.64, 0.01, -0.97, 0.01, 0.634, -0.967, 0.008, 0.014},
	{"yacht", 1.02, 0.05, -1.63, 0.02, 1.015, -1.633, 0.051, 0.016},
}

// ciSplits are the splits TestUCIValidation fits, with the per-split calibration of this
// implementation: the mean over seeds 1–5 and the seed-to-seed SD of test RMSE and LL, from
// `NTEDSL_LONG=1 NTEDSL_PBP_SEEDS=5 go test -run UCIFull` (whose 20-split means agree with the
// published figures for every seed; see TestUCIFullValidation). seedSD is the median over the
// 20 splits of the seed-to-seed SD, a floor for the 5-seed estimate of each split's SD.
var ciSplits = []struct {
	name                   string
	seedSDRMSE, seedSDLL   float64
	split                  [2]int
	rmse, rmseSD, ll, llSD [2]float64
}{
	{"bostonHousing", 0.073, 0.032, [2]int{0, 1}, [2]float64{2.4247, 2.5648}, [2]float64{0.0794, 0.0545}, [2]float64{-2.3057, -2.3641}, [2]float64{0.0272, 0.0209}},
	{"concrete", 0.084, 0.019, [2]int{0, 1}, [2]float64{5.6756, 5.9224}, [2]float64{0.1356, 0.0652}, [2]float64{-3.1588, -3.2127}, [2]float64{0.0276, 0.0135}},
	{"energy", 0.049, 0.025, [2]int{0, 1}, [2]float64{1.5913, 1.7639}, [2]float64{0.0466, 0.0979}, [2]float64{-1.9478, -2.0219}, [2]float64{0.0197, 0.0469}},
	{"wine-quality-red", 0.0026, 0.0043, [2]int{0, 1}, [2]float64{0.6295, 0.6353}, [2]float64{0.0015, 0.0024}, [2]float64{-0.9577, -0.9668}, [2]float64{0.0027, 0.0043}},
	{"yacht", 0.071, 0.037, [2]int{0, 1}, [2]float64{0.8387, 1.0377}, [2]float64{0.0348, 0.0482}, [2]float64{-1.5700, -1.6537}, [2]float64{0.0306, 0.0311}},
}

// TestUCIValidation is the CI-sized UCI check: splits 0 and 1 of each data set, one fit each
// with a seed (7) outside the calibration seeds. Two checks per data set:
//
//   - Against the published PBP (independent): the mean over the two splits must lie within
//     3·SD_split/√2 of the published 20-split mean, where SD_split = s.e.·√20 is the
//     split-to-split spread implied by the published standard error (Boston RMSE ±1.7, LL
//     ±0.85; Wine RMSE ±0.10). This alone catches a network that does not learn (Boston's
//     target SD is 9.2) or a badly wrong variance, but not a subtle bias.
//   - Against this implementation's calibrated per-split distribution: each split's RMSE and
//     LL must lie within 4 seed-to-seed SDs of its 5-seed mean (Boston split 0: RMSE ±0.32,
//     LL ±0.11; Wine: ±0.01, ±0.017). Those means are the ones whose 20-split averages
//     reproduce the published figures, so this is the tight guard: training on unnormalized
//     inputs (Boston RMSE 8.9) or freezing the noise posterior (Boston LL −3.28, Concrete
//     RMSE 6.39) fails it, while a different seed or a different rounding (FMA on arm64) stays
//     inside with probability > 0.999 per value. Dropping the EP prior refinement does not
//     move these figures beyond seed noise (PBP's accuracy hardly depends on it after 40
//     epochs); TestPriorSweepFixture and TestFitSynthetic guard it instead.
func TestUCIValidation(t *testing.T) {
	for _, c := range ciSplits {
		ref := published[0]
		for _, p := range published {
			if p.name == c.name {
				ref = p
			}
		}
		if ref.name != c.name {
			t.Fatalf("no published figures for %s", c.name)
		}
		s := ucitest.Load(t, c.name)
		scores := scoreSplits(t, s, c.split[:], []uint64{7})
		var rMean, lMean float64
		for k := range c.split {
			r, l := scores[k][0].rmse, scores[k][0].ll
			rMean += r / 2
			lMean += l / 2
			rTol := 4 * math.Max(c.rmseSD[k], c.seedSDRMSE)
			lTol := 4 * math.Max(c.llSD[k], c.seedSDLL)
			t.Logf("%s split %d: RMSE %.4f (calibrated %.4f ± %.3f)  LL %.4f (calibrated %.4f ± %.3f)",
				c.name, c.split[k], r, c.rmse[k], rTol, l, c.ll[k], lTol)
			if math.Abs(r-c.rmse[k]) > rTol {
				t.Errorf("%s split %d: test RMSE %.4f outside the calibrated %.4f ± %.3f", c.name, c.split[k], r, c.rmse[k], rTol)
			}
			if math.Abs(l-c.ll[k]) > lTol {
				t.Errorf("%s split %d: test LL %.4f outside the calibrated %.4f ± %.3f", c.name, c.split[k], l, c.ll[k], lTol)
			}
		}
		rTol := 3 * ref.rmseSE * math.Sqrt(20) / math.Sqrt2
		lTol := 3 * ref.llSE * math.Sqrt(20) / math.Sqrt2
		if math.Abs(rMean-ref.rmse) > rTol {
			t.Errorf("%s: mean test RMSE of splits %v is %.3f, outside the published %.2f ± %.2f", c.name, c.split, rMean, ref.rmse, rTol)
		}
		if math.Abs(lMean-ref.ll) > lTol {
			t.Errorf("%s: mean test LL of splits %v is %.3f, outside the published %.2f ± %.2f", c.name, c.split, lMean, ref.ll, lTol)
		}
	}
}
