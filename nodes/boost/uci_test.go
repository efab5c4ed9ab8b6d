package boost

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci/ucitest"
)

type uciFixture struct {
	Sets map[string][]struct {
		Split    int       `json:"split"`
		PredTest []float64 `json:"pred_test"`
		RMSE     float64   `json:"rmse"`
	} `json:"sets"`
}

func rmse(p, y []float64) float64 {
	var s float64
	for i := range p {
		s += (p[i] - y[i]) * (p[i] - y[i])
	}
	return math.Sqrt(s / float64(len(p)))
}

// TestUCIParityAndPublishedRange fits the preprint's model on all 20 standard splits of
// Boston, Concrete, Energy and Yacht and checks
//
//   - parity: test-set predictions equal xgboost 1.7.4's (testdata/uci_xgb.json) to 1e-4;
//   - the mean test RMSE against published gradient boosting (models.md / published.md).
//
// Published bounds. NGBoost (Duan et al. 2020) Table 3 "Gradient Boosting" is
// scikit-learn's, tuned over learning rate, depth 3–4 and up to 1000 stages on splits of
// the same protocol: Boston 2.46 ± 0.32, Concrete 4.46 ± 0.29, Energy 0.39 ± 0.02,
// Yacht 0.42 ± 0.09. A tuned model is a floor that the fixed 100 × depth-3 × η 0.1 model
// should not beat, so the meaningful bound is the lower one: mean RMSE ≥ published − 2·±
// (a much lower RMSE would mean leakage between train and test rows). It cannot be
// expected to reach the tuned figure from above, so the upper bound is the looser
// PBP figure on the identical shipped splits (Gal & Ghahramani 2016, Table 1: Boston
// 3.01, Concrete 5.67, Energy 1.80, Yacht 1.02): a boosted tree ensemble that loses to a
// one-layer 50-unit BNN on these sets would be broken.
func TestUCIParityAndPublishedRange(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "uci_xgb.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx uciFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	published := map[string]struct{ gb, pm, pbp float64 }{
		"bostonHousing": {2.46, 0.32, 3.01},
		"concrete":      {4.46, 0.29, 5.67},
		"energy":        {0.39, 0.02, 1.80},
		"yacht":         {0.42, 0.09, 1.02},
	}
	for _, name := range []string{"bostonHousing", "concrete", "energy", "yacht"} {
		t.Run(name, func(t *testing.T) {
			s := ucitest.Load(t, name)
			splits := fx.Sets[name]
			if len(splits) != 20 {
				t.Fatalf("fixture has %d splits, want 20", len(splits))
			}
			r, _ := New(DefaultConfig())
			var rm []float64
			var worst, worst32 float64
			for _, sp := range splits {
				Xtr, ytr, Xte, yte := ucitest.Split(t, s, sp.Split)
				m, err := r.(*Regressor).FitModel(context.Background(), Xtr, ytr, nil)
				if err != nil {
					t.Fatal(err)
				}
				p, _ := m.Predict(Xte)
				if len(p) != len(sp.PredTest) {
					t.Fatalf("split %d: %d test rows, fixture %d", sp.Split, len(p), len(sp.PredTest))
				}
				d := maxAbsDiff(p, sp.PredTest)
				worst, worst32 = math.Max(worst, d), math.Max(worst32, maxAbsDiff32(p, sp.PredTest))
				if d > 1e-4 {
					t.Errorf("split %d: predictions differ from xgboost 1.7.4 by up to %g (tolerance 1e-4)", sp.Split, d)
				}
				rm = append(rm, rmse(p, yte))
			}
			mean, se := meanSE(rm)
			pub := published[name]
			t.Logf("max |Δ| vs xgboost %.3g (in float32: %.3g); test RMSE %.3f ± %.3f (s.e., %d splits); tuned GB %.2f ± %.2f, PBP %.2f",
				worst, worst32, mean, se, len(rm), pub.gb, pub.pm, pub.pbp)
			if lo := pub.gb - 2*pub.pm; mean < lo {
				t.Errorf("mean test RMSE %.3f is below the tuned-GB floor %.3f: suspect leakage", mean, lo)
			}
			if mean > pub.pbp {
				t.Errorf("mean test RMSE %.3f is worse than PBP's %.2f on the same splits", mean, pub.pbp)
			}
		})
	}
}

func meanSE(v []float64) (mean, se float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/float64(len(v)-1)) / math.Sqrt(float64(len(v)))
}
