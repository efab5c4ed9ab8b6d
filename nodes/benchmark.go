package nodes

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/stats"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type benchmarkConfig struct {
	Data     lang.Ref   `attr:"data,required" accepts:"table" doc:"The whole data set; its target column is predicted."`
	Models   []lang.Ref `attr:"models,required" accepts:"model" key:"addr" doc:"The regressors to benchmark."`
	Splits   string     `attr:"splits,required" doc:"Folder (relative to the study) holding the fixed splits as index_train_K.txt and index_test_K.txt: one 0-based row number of data per line, as in the standard UCI benchmark."`
	Count    int        `attr:"count" doc:"Number of splits K = 0..count−1 to run."`
	Features []string   `attr:"features" doc:"Feature columns; default every numeric column except the target."`
}

// BenchmarkResult holds the test scores of fixed train/test splits.
type BenchmarkResult struct {
	Models []string
	Splits int
	// RMSE[m][k] and LL[m][k]: test RMSE and mean test log-likelihood (NaN when the model
	// has no predictive variance) of model m on split k.
	RMSE, LL [][]float64
	NTrain   []int
	NTest    []int
}

// TypeName implements Value.
func (b *BenchmarkResult) TypeName() string { return "benchmark" }

// benchmarkData is BenchmarkResult without methods, so gob encodes its fields instead of
// calling MarshalBinary again.
type benchmarkData BenchmarkResult

// MarshalBinary implements Value (gob: no maps, deterministic, float bits kept).
func (b *BenchmarkResult) MarshalBinary() ([]byte, error) { return GobEncode((*benchmarkData)(b)) }

func decodeBenchmark(data []byte) (Value, error) {
	var b benchmarkData
	err := GobDecode(data, &b)
	return (*BenchmarkResult)(&b), err
}

func meanSE(x []float64) (float64, float64) {
	if len(x) < 2 {
		return stats.Mean(x), math.NaN()
	}
	return stats.Mean(x), stats.SE(x)
}

// Summary gives mean ± standard error over splits per model.
func (b *BenchmarkResult) Summary() string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "model\tsplits\ttest RMSE\ttest LL")
	for m, name := range b.Models {
		r, rse := meanSE(b.RMSE[m])
		l, lse := meanSE(b.LL[m])
		ll := "—"
		if !math.IsNaN(l) {
			ll = fmt.Sprintf("%.3f ± %.3f", l, lse)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f ± %.3f\t%s\n", name, b.Splits, r, rse, ll)
	}
	tw.Flush()
	buf.WriteString("± is the standard error over splits (SD/√splits), as in the published UCI tables.\n")
	return buf.String()
}

// Artifacts writes per-split scores and the summary.
func (b *BenchmarkResult) Artifacts() (map[string][]byte, error) {
	t := &table.Table{}
	var model []string
	var split, rmse, ll, ntr, nte []float64
	for m, name := range b.Models {
		for k := 0; k < b.Splits; k++ {
			t.IDs = append(t.IDs, fmt.Sprintf("%s/%d", name, k))
			model = append(model, name)
			split = append(split, float64(k))
			rmse = append(rmse, b.RMSE[m][k])
			ll = append(ll, b.LL[m][k])
			ntr = append(ntr, float64(b.NTrain[k]))
			nte = append(nte, float64(b.NTest[k]))
		}
	}
	t.Cols = []*table.Column{{Name: "model", Str: model}, {Name: "split", Num: split}, {Name: "rmse", Num: rmse}, {Name: "test_ll", Num: ll}, {Name: "n_train", Num: ntr}, {Name: "n_test", Num: nte}}
	return map[string][]byte{".csv": t.CSV(), ".txt": []byte(b.Summary())}, nil
}

func registerBenchmark(r *Registry) {
	r.RegisterValue("benchmark", decodeBenchmark)
	Register(r, Def[benchmarkConfig]{
		Name: "benchmark",
		Doc: "Fits regressors on fixed train/test splits (the standard UCI regression benchmark's index files) and reports " +
			"test RMSE and mean test log-likelihood per split, with mean ± standard error over splits.",
		Version:  1,
		Output:   "benchmark",
		Seeded:   true,
		Defaults: benchmarkConfig{Count: 20},
		Sources: func(cfg *benchmarkConfig, studyDir string) map[string]string {
			out := map[string]string{}
			for k := 0; k < cfg.Count; k++ {
				for _, f := range splitFiles(cfg.Splits, k) {
					out[f] = FileDigest(studyPath(studyDir, f))
				}
			}
			return out
		},
		Run: runBenchmark,
	})
}

// splitFiles names split k's training and test index files, as the study locates them.
func splitFiles(dir string, k int) [2]string {
	return [2]string{
		filepath.Join(dir, fmt.Sprintf("index_train_%d.txt", k)),
		filepath.Join(dir, fmt.Sprintf("index_test_%d.txt", k)),
	}
}

func readIndexFile(path string, n int) ([]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, f := range strings.Fields(string(data)) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v != math.Trunc(v) || v < 0 || int(v) >= n {
			return nil, fmt.Errorf("%s: entry %d (%q) is not a row number between 0 and %d", path, i+1, f, n-1)
		}
		out = append(out, int(v))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no rows", path)
	}
	return out, nil
}

func runBenchmark(c *Context, cfg *benchmarkConfig) (Value, error) {
	models, err := c.Models(cfg.Models)
	if err != nil {
		return nil, err
	}
	t, err := c.Table(cfg.Data)
	if err != nil {
		return nil, err
	}
	X, y, _, err := learningData(c, cfg.Data, t, cfg.Features, true)
	if err != nil {
		return nil, err
	}
	n := len(y)
	trains, tests := make([][]int, cfg.Count), make([][]int, cfg.Count)
	for k := 0; k < cfg.Count; k++ {
		files := splitFiles(cfg.Splits, k)
		if trains[k], err = readIndexFile(studyPath(c.StudyDir, files[0]), n); err == nil {
			tests[k], err = readIndexFile(studyPath(c.StudyDir, files[1]), n)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil, c.AttrError("splits", "Split file missing", err.Error())
		}
		if err != nil {
			return nil, err
		}
	}
	res := &BenchmarkResult{Splits: cfg.Count, NTrain: make([]int, cfg.Count), NTest: make([]int, cfg.Count)}
	for m := range models {
		res.Models = append(res.Models, modelLabel(cfg.Models[m].Addr))
		res.RMSE = append(res.RMSE, make([]float64, cfg.Count))
		res.LL = append(res.LL, make([]float64, cfg.Count))
	}
	for k := range trains {
		res.NTrain[k], res.NTest[k] = len(trains[k]), len(tests[k])
	}
	total := len(models) * cfg.Count
	done := 0
	progress := make(chan struct{}, total)
	err = c.Parallel(total, func(i int) error {
		m, k := i/cfg.Count, i%cfg.Count
		Xtr, ytr := rowsOf(X, y, trains[k])
		Xte, yte := rowsOf(X, y, tests[k])
		p, err := models[m].Regressor.Fit(c, Xtr, ytr, c.Rand("fit", res.Models[m], strconv.Itoa(k)))
		if err != nil {
			return fmt.Errorf("%s on split %d: %w", cfg.Models[m].Addr, k, err)
		}
		mean, variance := p.Predict(Xte)
		res.RMSE[m][k] = stats.RMSE(yte, mean)
		res.LL[m][k] = math.NaN()
		if variance != nil {
			nll, err := stats.GaussianNLL(yte, mean, variance)
			if err != nil {
				return fmt.Errorf("%s on split %d: %w", cfg.Models[m].Addr, k, err)
			}
			res.LL[m][k] = -nll
		}
		progress <- struct{}{}
		return nil
	})
	close(progress)
	for range progress {
		done++
	}
	c.Progress(done, total)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func rowsOf(X *mat.Dense, y []float64, rows []int) (*mat.Dense, []float64) {
	_, d := X.Dims()
	out := mat.NewDense(len(rows), d, nil)
	ys := make([]float64, len(rows))
	for i, r := range rows {
		out.SetRow(i, X.RawRowView(r))
		ys[i] = y[r]
	}
	return out, ys
}
