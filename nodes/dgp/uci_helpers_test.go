package dgp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// uciDir is the repository's copy of the standard UCI splits (see testdata/uci/README.md).
const uciDir = "../../testdata/uci"

type uciSet struct {
	name     string
	rows     [][]float64
	features []int
	target   int
}

func readNumbers(t testing.TB, path string) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		row := make([]float64, len(fields))
		for i, s := range fields {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			row[i] = v
		}
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readIndices(t testing.TB, path string) []int {
	t.Helper()
	var out []int
	for _, r := range readNumbers(t, path) {
		for _, v := range r {
			out = append(out, int(v))
		}
	}
	return out
}

func loadUCI(t testing.TB, name string) *uciSet {
	t.Helper()
	dir := filepath.Join(uciDir, name)
	s := &uciSet{name: name, rows: readNumbers(t, filepath.Join(dir, "data.txt"))}
	s.features = readIndices(t, filepath.Join(dir, "index_features.txt"))
	s.target = readIndices(t, filepath.Join(dir, "index_target.txt"))[0]
	return s
}

// split returns the training and test data of split k.
func (s *uciSet) split(t testing.TB, k int) (Xtr *mat.Dense, ytr []float64, Xte *mat.Dense, yte []float64) {
	t.Helper()
	dir := filepath.Join(uciDir, s.name)
	pick := func(idx []int) (*mat.Dense, []float64) {
		x := mat.NewDense(len(idx), len(s.features), nil)
		y := make([]float64, len(idx))
		for i, r := range idx {
			for j, c := range s.features {
				x.Set(i, j, s.rows[r][c])
			}
			y[i] = s.rows[r][s.target]
		}
		return x, y
	}
	Xtr, ytr = pick(readIndices(t, filepath.Join(dir, fmt.Sprintf("index_train_%d.txt", k))))
	Xte, yte = pick(readIndices(t, filepath.Join(dir, fmt.Sprintf("index_test_%d.txt", k))))
	return
}

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
