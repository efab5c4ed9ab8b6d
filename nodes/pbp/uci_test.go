package pbp

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
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

// split returns the training and test matrices of split k.
func (s *uciSet) split(t testing.TB, k int) (Xtr *mat.Dense, ytr []float64, Xte *mat.Dense, yte []float64) {
	t.Helper()
	dir := filepath.Join(uciDir, s.name)
	pick := func(idx []int) (*mat.Dense, []float64) {
		X := mat.NewDense(len(idx), len(s.features), nil)
		y := make([]float64, len(idx))
		for r, i := range idx {
			for c, j := range s.features {
				X.Set(r, c, s.rows[i][j])
			}
			y[r] = s.rows[i][s.target]
		}
		return X, y
	}
	Xtr, ytr = pick(readIndices(t, filepath.Join(dir, fmt.Sprintf("index_train_%d.txt", k))))
	Xte, yte = pick(readIndices(t, filepath.Join(dir, fmt.Sprintf("index_test_%d.txt", k))))
	return
}

// scoreSplit fits the default PBP on split k and returns test RMSE and mean test log-likelihood
// log N(y | m, v) with the predictive variance, in the original units.
func scoreSplit(t testing.TB, s *uciSet, k int, seed uint64) (rmse, ll float64) {
	t.Helper()
	Xtr, ytr, Xte, yte := s.split(t, k)
	reg, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Fit(context.Background(), Xtr, ytr, rand.New(rand.NewPCG(seed, uint64(k))))
	if err != nil {
		t.Fatal(err)
	}
	m, v := p.Predict(Xte)
	for i, y := range yte {
		r := y - m[i]
		rmse += r * r
		ll += -0.5*math.Log(2*math.Pi*v[i]) - 0.5*r*r/v[i]
	}
	n := float64(len(yte))
	return math.Sqrt(rmse / n), ll / n
}

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
