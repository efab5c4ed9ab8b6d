package dgp

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// sklearnGP is testdata/uci_sklearn_gp.json: scikit-learn's exact GP on every split.
type sklearnGP map[string]struct {
	RMSE    []float64 `json:"rmse"`
	LL      []float64 `json:"ll"`
	Seconds []float64 `json:"seconds"`
	Splits  map[string]struct {
		Mean   []float64 `json:"mean"`
		SD     []float64 `json:"sd"`
		Kernel string    `json:"kernel"`
		LML    float64   `json:"lml"`
		SF2    float64   `json:"sf2"`
		Lens   []float64 `json:"lengthscales"`
		Noise  float64   `json:"noise"`
	} `json:"splits"`
	Summary struct {
		RMSEMean float64 `json:"rmse_mean"`
		RMSESE   float64 `json:"rmse_se"`
		LLMean   float64 `json:"ll_mean"`
		LLSE     float64 `json:"ll_se"`
	} `json:"summary"`
}

func loadSklearnGP(t testing.TB, file string) sklearnGP {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var g sklearnGP
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// scores returns the test RMSE and mean Gaussian log density of (mean, variance) on y.
func scores(mean, variance, y []float64) (rmse, ll float64) {
	for i, v := range y {
		r := v - mean[i]
		rmse += r * r
		ll += -0.5*math.Log(2*math.Pi*variance[i]) - 0.5*r*r/variance[i]
	}
	n := float64(len(y))
	return math.Sqrt(rmse / n), ll / n
}
