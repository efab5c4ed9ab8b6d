package nodes_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/table"
	"gonum.org/v1/gonum/mat"
)

// TestCompareNode: a compare block lays out the arms of several evaluations as Table 1:
// rows in the given order, a model's cell from the first listed evaluation that has it,
// row_arms overriding arms, and empty cells (NaN) where no evaluation has the model.
func TestCompareNode(t *testing.T) {
	res, err, _ := runStudy(t, `
study { seed = 9 }
dataset "d" {
  source = "data.csv"
  target = "y"
}
meanmodel "a" {}
meanmodel "b" {}
evaluate "one" {
  data    = dataset.d
  models  = [meanmodel.a]
  folds   = 5
  repeats = 2
}
evaluate "two" {
  data    = dataset.d
  models  = [meanmodel.a, meanmodel.b]
  folds   = 3
  repeats = 3
}
compare "t" {
  rows     = { "zeta" = [evaluate.one], "alpha" = [evaluate.two, evaluate.one], "base" = [evaluate.one] }
  order    = ["base", "zeta", "alpha"]
  arms     = ["raw", "B"]
  row_arms = { "base" = ["raw"] }
}`, map[string]string{"data.csv": trendCSV(3)})
	if err != nil {
		t.Fatal(err)
	}
	cmp := res.Values["compare.t"].(*nodes.Comparison)
	tb := cmp.AsTable()
	if got := strings.Join(tb.IDs, "; "); got != "base / raw; zeta / raw; alpha / raw" {
		t.Fatalf("lines %q (arm B exists in no evaluation, so it has no line)", got)
	}
	series := func(addr, model string) cv.Summary {
		for _, s := range res.Values[addr].(*nodes.Evaluation).Result.Series {
			if s.Model == model && s.Arm == "raw" {
				return s.Summary
			}
		}
		t.Fatalf("%s has no raw %s", addr, model)
		return cv.Summary{}
	}
	col := func(name string, i int) float64 { return tb.Col(name).Num[i] }
	one, twoA, twoB := series("evaluate.one", "a"), series("evaluate.two", "a"), series("evaluate.two", "b")
	if col("a_rmse", 0) != one.Mean.RMSE || col("a_r2_sd", 1) != one.SD.R2 || col("a_reps", 0) != 2 {
		t.Errorf("row base/zeta: a from evaluate.one: RMSE %v (want %v), reps %v", col("a_rmse", 0), one.Mean.RMSE, col("a_reps", 0))
	}
	if col("a_rmse", 2) != twoA.Mean.RMSE || col("a_reps", 2) != 3 || col("b_p", 2) != twoB.Mean.P {
		t.Errorf("row alpha: a and b from evaluate.two, the first listed: RMSE %v (want %v), reps %v", col("a_rmse", 2), twoA.Mean.RMSE, col("a_reps", 2))
	}
	if !math.IsNaN(col("b_rmse", 0)) || !math.IsNaN(col("b_reps", 1)) {
		t.Errorf("model b is in no evaluation of rows base and zeta, yet has cells %v, %v", col("b_rmse", 0), col("b_reps", 1))
	}
	text := cmp.Summary()
	if !strings.Contains(text, "a R²") || !strings.Contains(text, "b RMSE") || !strings.Contains(text, "2, 3 repetitions") {
		t.Errorf("summary:\n%s", text)
	}
}

// Bad compare attributes are load errors at their line; an arm no evaluation has fails the
// run.
func TestCompareErrors(t *testing.T) {
	const head = `
dataset "d" {
  source = "data.csv"
  target = "y"
}
meanmodel "a" {}
evaluate "e" {
  data   = dataset.d
  models = [meanmodel.a]
  folds  = 3
}
compare "t" {
  rows = { "x" = [evaluate.e] }
  `
	files := map[string]string{"data.csv": "id,x,y\na,1,1\nb,2,2\nc,3,3\nd,4,5\ne,5,4\nf,6,7\n"}
	for _, c := range []struct{ attrs, want string }{
		{`arms = ["B->mea"]`, `study.hcl:14,10-20: Invalid value for arms: Unknown arm "B->mea"; Did you mean "B->meas"?`},
		{`order = ["x", "y"]`, "order must list every row label once"},
		{`row_arms = { "y" = ["raw"] }`, `row_arms names "y", which is not a label of rows`},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "study.hcl")
		os.WriteFile(path, []byte(head+c.attrs+"\n}\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "data.csv"), []byte(files["data.csv"]), 0o644)
		_, diags := lang.Load(path, lang.Options{Catalog: coreRegistry()})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), c.want) {
			t.Errorf("%s: diagnostics %v, want %q", c.attrs, diags, c.want)
		}
	}
	res, err, _ := runStudy(t, head+`arms = ["shrink"]`+"\n}\n", files)
	if msg := failure(t, res, err); !strings.Contains(msg, "None of the evaluations has any of the arms shrink") {
		t.Errorf("error %q", msg)
	}
}

// An evaluation of several variants gives a line per variant, labelled with it.
func TestCompareVariants(t *testing.T) {
	var data strings.Builder
	data.WriteString("id,x,z,y\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&data, "r%d,%d,%d,%g\n", i, i, i%3, 1+0.5*float64(i))
	}
	res, err, _ := runStudy(t, `
dataset "d" {
  source = "data.csv"
  target = "y"
}
table "t" {
  data = dataset.d
  drop = ["z"]
}
meanmodel "a" {}
evaluate "e" {
  variants = { full = dataset.d, small = table.t }
  models   = [meanmodel.a]
  folds    = 4
}
compare "c" {
  rows = { "row" = [evaluate.e] }
  arms = ["raw"]
}`, map[string]string{"data.csv": data.String()})
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Values["compare.c"].(*nodes.Comparison).AsTable()
	if got := strings.Join(tb.Col("label").Str, "; "); got != "row (full); row (small)" {
		t.Fatalf("labels %q", got)
	}
}

// halfway is a test regularization: targets move halfway to zero.
type halfway struct{ *table.Table }

func (h halfway) TypeName() string               { return "halfway" }
func (h halfway) MarshalBinary() ([]byte, error) { return h.Table.MarshalBinary() }
func (h halfway) Regularizer(*nodes.Context, []string, string) (cv.Regularizer, error) {
	return halfwayReg{}, nil
}

type halfwayReg struct{}
type halfwayFit float64

func (halfwayReg) Fit(context.Context, *mat.Dense, []float64, *rand.Rand) (cv.Regularization, error) {
	return halfwayFit(0), nil
}

func (m halfwayFit) Apply(_ context.Context, _ *mat.Dense, y []float64, _ *rand.Rand) ([]float64, error) {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = (v + float64(m)) / 2
	}
	return out, nil
}

// TestCompareAgainstRaw: for arms scored against measured values, the table carries the
// paired difference to raw (arm − raw, from the per-repetition RMSEs of the same
// evaluation) and the Wilcoxon p of the evaluation's own test; other arms carry none.
func TestCompareAgainstRaw(t *testing.T) {
	reg := coreRegistry()
	reg.RegisterValue("halfway", func(b []byte) (nodes.Value, error) {
		tb, err := table.Decode(b)
		return halfway{tb}, err
	})
	type cfg struct {
		Data lang.Ref `attr:"data,required" accepts:"table"`
	}
	nodes.Register(reg, nodes.Def[cfg]{Name: "halfway", Version: 1, Output: "table",
		Run: func(c *nodes.Context, cf *cfg) (nodes.Value, error) {
			tb, err := c.Table(cf.Data)
			return halfway{tb}, err
		}})
	res, err, _ := runStudyWith(t, reg, `
study { seed = 4 }
dataset "d" {
  source = "data.csv"
  target = "y"
}
halfway "h" { data = dataset.d }
meanmodel "a" {}
evaluate "e" {
  data       = dataset.d
  regularize = halfway.h
  protocols  = ["raw", "A", "B"]
  models     = [meanmodel.a]
  folds      = 5
  repeats    = 6
}
compare "t" {
  rows = { "x" = [evaluate.e] }
  arms = ["raw", "A", "B", "B->meas"]
}`, map[string]string{"data.csv": trendCSV(3)})
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Values["evaluate.e"].(*nodes.Evaluation).Result
	reps := map[string][]cv.Metrics{}
	for _, s := range ev.Series {
		reps[s.Arm] = s.Reps
	}
	cmp := res.Values["compare.t"].(*nodes.Comparison)
	tb := cmp.AsTable()
	for i, id := range tb.IDs {
		arm := tb.Col("arm").Str[i]
		d, p := tb.Col("a_drmse_vs_raw").Num[i], tb.Col("a_p_vs_raw").Num[i]
		if arm == "raw" || arm == "B" {
			if !math.IsNaN(d) || !math.IsNaN(p) {
				t.Errorf("%s: raw and arms scored against transformed targets have no comparison, got %v, %v", id, d, p)
			}
			continue
		}
		want := 0.0
		for r := range reps[arm] {
			want += (reps[arm][r].RMSE - reps["raw"][r].RMSE) / float64(len(reps[arm]))
		}
		// The mean model predicts the training mean, which halfway halves: A is worse than
		// raw in every repetition, so p is the smallest two-sided exact p of 6 pairs, 2/2^6.
		if math.Abs(d-want) > 1e-12 || d <= 0 || (arm == "A" && p != 0.03125) {
			t.Errorf("%s: ΔRMSE %v (want %v), p %v", id, d, want, p)
		}
	}
	if sum := cmp.Summary(); !strings.Contains(sum, "Against raw on the same folds") || !strings.Contains(sum, "  worse than raw: A: a (x); B->meas: a (x)\n") || strings.Contains(sum, "better than raw") {
		t.Errorf("summary:\n%s", sum)
	}
}
