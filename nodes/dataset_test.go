package nodes_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/runtime"
	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/table"
	"gonum.org/v1/gonum/mat"
)

// lastWarnings holds the warnings of the last runStudy.
var lastWarnings []string

// meanModel predicts the mean of its training targets: a regressor whose results are
// known by hand.
type meanModel struct{}

type meanPred float64

func (meanModel) Fit(_ context.Context, X *mat.Dense, y []float64, _ *rand.Rand) (ml.Predictor, error) {
	s := 0.0
	for _, v := range y {
		s += v
	}
	return meanPred(s / float64(len(y))), nil
}

func (p meanPred) Predict(X *mat.Dense) ([]float64, []float64) {
	r, _ := X.Dims()
	out := make([]float64, r)
	for i := range out {
		out[i] = float64(p)
	}
	return out, nil
}

// coreRegistry returns the core kinds plus the meanmodel test regressor.
func coreRegistry() *nodes.Registry {
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	nodes.RegisterRegressor(reg, nodes.RegressorDef[struct{}]{Name: "meanmodel", Version: 1, New: func(struct{}) (ml.Regressor, error) { return meanModel{}, nil }})
	return reg
}

// trendCSV is a 30-row table id,x,y with y = offset + 0.5·i + (i mod 4): a trend the mean
// model cannot follow, so its errors differ between folds and repetitions.
func trendCSV(offset float64) string {
	var b strings.Builder
	b.WriteString("id,x,y\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&b, "r%d,%d,%g\n", i, i, offset+0.5*float64(i)+float64(i%4))
	}
	return b.String()
}

// runStudy writes files into a temporary folder, runs the study and returns the result.
func runStudy(t *testing.T, study string, files map[string]string) (*runtime.Result, error, *lang.Study) {
	t.Helper()
	return runStudyWith(t, coreRegistry(), study, files)
}

// runStudyWith is runStudy with a registry holding the core kinds and meanmodel.
func runStudyWith(t *testing.T, reg *nodes.Registry, study string, files map[string]string) (*runtime.Result, error, *lang.Study) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "study.hcl")
	os.WriteFile(path, []byte(study), 0o644)
	st, diags := lang.Load(path, lang.Options{Catalog: reg})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	c, _ := runtime.OpenCache("", reg)
	lastWarnings = nil
	e := &runtime.Engine{Registry: reg, Cache: c, Jobs: 2, Observe: func(ev runtime.Event) {
		if ev.Kind == runtime.Warning {
			lastWarnings = append(lastWarnings, ev.Addr+": "+ev.Message)
		}
	}}
	res, err := e.Run(context.Background(), st)
	return res, err, st
}

const csvData = `id,formula,alpha,r,phase
c1,Sc2W3O12,-2.2,0.745,orthorhombic
c2,Y2W3O12,-7.0,0.9,orthorhombic
c3,Al2W3O12,1.5,,monoclinic
`

func TestDatasetReadsTypesFilterDeriveAndRoles(t *testing.T) {
	res, err, _ := runStudy(t, `
dataset "d" {
  source  = "data.csv"
  formula = "formula"
  target  = "alpha"
  where   = "phase == 'orthorhombic'"
  derive  = { neg = "-alpha", r2 = "r * r" }
}`, map[string]string{"data.csv": csvData})
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Values["dataset.d"].(*table.Table)
	if strings.Join(tb.IDs, ",") != "c1,c2" || tb.Target != "alpha" || tb.Formula != "formula" {
		t.Fatalf("table: ids %v target %q formula %q", tb.IDs, tb.Target, tb.Formula)
	}
	if got := strings.Join(tb.Names(), ","); got != "formula,alpha,r,phase,neg,r2" {
		t.Fatalf("columns %s", got)
	}
	if tb.Col("neg").Num[1] != 7 || math.Abs(tb.Col("r2").Num[0]-0.745*0.745) > 1e-15 || tb.Col("phase").IsNum() {
		t.Fatalf("values: %v %v", tb.Col("neg").Num, tb.Col("r2").Num)
	}
}

func TestDatasetMissingCellsAreNaN(t *testing.T) {
	res, err, _ := runStudy(t, `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": csvData})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Values["dataset.d"].(*table.Table).Col("r").Num; !math.IsNaN(r[2]) {
		t.Fatalf("empty cell read as %v", r[2])
	}
}

func failure(t *testing.T, res *runtime.Result, err error) string {
	t.Helper()
	if !errors.Is(err, runtime.ErrFailed) || len(res.Failures) == 0 {
		t.Fatalf("expected a failure, got err=%v", err)
	}
	return res.Failures[0].Err.Error()
}

func TestDatasetErrorsNameTheirSource(t *testing.T) {
	cases := []struct {
		name, study string
		files       map[string]string
		want        []string
	}{
		{"missing file", `dataset "d" { source = "nope.csv" }`, nil,
			[]string{"study.hcl:1,", "Data file not found", "nope.csv"}},
		{"non-numeric cell", `
dataset "d" {
  source  = "data.csv"
  columns = { r = "number" }
}`, map[string]string{"data.csv": "id,r\na,1\nb,x1\n"},
			[]string{`data.csv:3: row "b", column "r" (field 2): "x1" is not a number`}},
		{"text cell in the target column", `
dataset "d" {
  source = "data.csv"
  target = "alpha"
}`, map[string]string{"data.csv": "id,alpha\na,1\nb,n/a\n"},
			[]string{`data.csv:3: row "b", column "alpha" (field 2): "n/a" is not a number (it is the target column`}},
		{"NaN cell", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,1\nb,NaN\n"},
			[]string{`data.csv:3: row "b", column "r"`, "not a finite number"}},
		{"Inf cell", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,-Inf\n"},
			[]string{`data.csv:2: row "a", column "r"`, "not a finite number"}},
		{"missing target column", `
dataset "d" {
  source = "data.csv"
  target = "alpa"
}`, map[string]string{"data.csv": csvData},
			[]string{"study.hcl:4,", "Unknown target column", `Did you mean "alpha"?`}},
		{"ragged row", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,1\nb,1,5\n"},
			[]string{"data.csv:3: data row 2 has 3 fields, the header has 2"}},
		{"semicolons", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id;r\na;1,5\n"},
			[]string{"study.hcl:1,", "Not a comma-separated file", `the file looks separated by ";"`}},
		{"duplicate id", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,1\na,2\n"},
			[]string{`data.csv:3: row id "a" repeats the id of line 2`}},
		{"bad where at run time", `
dataset "d" {
  source = "data.csv"
  where  = "phse == 'x'"
}`, map[string]string{"data.csv": csvData},
			[]string{"study.hcl:4,", "unknown name phse"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err, _ := runStudy(t, c.study, c.files)
			msg := failure(t, res, err)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestTableNodeSelectDropTarget(t *testing.T) {
	res, err, _ := runStudy(t, `
dataset "d" { source = "data.csv" }
table "t" {
  data   = dataset.d
  where  = "!isnan(r)"
  derive = { ratio = "alpha / r" }
  drop   = ["phase"]
  target = "ratio"
}
table "s" {
  data   = table.t
  select = ["ratio", "formula"]
}`, map[string]string{"data.csv": csvData})
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Values["table.s"].(*table.Table)
	if strings.Join(tb.Names(), ",") != "ratio,formula" || tb.Target != "ratio" || len(tb.IDs) != 2 {
		t.Fatalf("table.s: %v target %q rows %d", tb.Names(), tb.Target, len(tb.IDs))
	}
}

func TestBenchmarkOnFixedSplits(t *testing.T) {
	// y = 2x exactly: a linear model must be exact on every split, and the scores are
	// computed on the test rows the split files name.
	var data strings.Builder
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&data, "%d  %d\n", i, 2*i)
	}
	reg := coreRegistry()
	files := map[string]string{
		"data.txt":          data.String(),
		"index_train_0.txt": "0\n1\n2\n3\n4\n5\n6\n",
		"index_test_0.txt":  "7\n8\n9\n",
		"index_train_1.txt": "3\n4\n5\n6\n7\n8\n9\n",
		"index_test_1.txt":  "0\n1\n2\n",
	}
	res, err, _ := runStudyWith(t, reg, `
dataset "d" {
  source = "data.txt"
  format = "whitespace"
  header = false
  target = "c1"
}
meanmodel "m" {}
benchmark "b" {
  data   = dataset.d
  models = [meanmodel.m]
  splits = "."
  count  = 2
}`, files)
	if err != nil {
		t.Fatal(err)
	}
	b := res.Values["benchmark.b"].(*nodes.BenchmarkResult)
	// The mean model predicts the training mean: split 0 trains on y = 0..12 (mean 6) and
	// tests on 14, 16, 18 → RMSE = sqrt((64+100+144)/3); split 1: mean 12, tests 0, 2, 4.
	want0, want1 := math.Sqrt((64.0+100+144)/3), math.Sqrt((144.0+100+64)/3)
	if math.Abs(b.RMSE[0][0]-want0) > 1e-12 || math.Abs(b.RMSE[0][1]-want1) > 1e-12 {
		t.Fatalf("RMSE %v, want %v %v", b.RMSE[0], want0, want1)
	}
	if b.NTrain[0] != 7 || b.NTest[1] != 3 {
		t.Fatalf("split sizes %v %v", b.NTrain, b.NTest)
	}
	// A bad index is reported with its file.
	files["index_test_1.txt"] = "0\n11\n"
	res, err, _ = runStudyWith(t, reg, `
dataset "d" {
  source = "data.txt"
  format = "whitespace"
  header = false
  target = "c1"
}
meanmodel "m" {}
benchmark "b" {
  data   = dataset.d
  models = [meanmodel.m]
  splits = "."
  count  = 2
}`, files)
	if msg := failure(t, res, err); !strings.Contains(msg, `index_test_1.txt: entry 2 ("11") is not a row number`) {
		t.Fatal(msg)
	}
}

func TestEvaluateAndPredictNodes(t *testing.T) {
	var data strings.Builder
	data.WriteString("id,x,y\n")
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&data, "r%d,%d,%g\n", i, i, 3+0.5*float64(i))
	}
	res, err, _ := runStudy(t, `
study { seed = 9 }
dataset "d" {
  source = "data.csv"
  target = "y"
}
dataset "new" {
  source = "new.csv"
}
meanmodel "m" {}
evaluate "cv" {
  data    = dataset.d
  models  = [meanmodel.m]
  folds   = 5
  repeats = 3
}
predict "p" {
  model = meanmodel.m
  train = dataset.d
  data  = dataset.new
}`, map[string]string{"data.csv": data.String(), "new.csv": "id,x\nq1,100\n"})
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Values["evaluate.cv"].(*nodes.Evaluation).Result
	if len(ev.Series) != 1 || ev.Series[0].Model != "m" || ev.Series[0].Variant != "d" || ev.Repeats != 3 || ev.Folds != 5 {
		t.Fatalf("series %+v", ev.Series)
	}
	// Leave-fold-out mean prediction: every out-of-fold prediction is the mean of the other
	// 24 targets, so the RMSE can be recomputed from the fold assignment.
	y := make([]float64, 30)
	for i := range y {
		y[i] = 3 + 0.5*float64(i)
	}
	for r := 0; r < 3; r++ {
		var sse float64
		for i := range y {
			s, n := 0.0, 0
			for j := range y {
				if ev.FoldOf[r][j] != ev.FoldOf[r][i] {
					s, n = s+y[j], n+1
				}
			}
			d := s/float64(n) - y[i]
			sse += d * d
		}
		if got, want := ev.Series[0].Reps[r].RMSE, math.Sqrt(sse/30); math.Abs(got-want) > 1e-12 {
			t.Fatalf("rep %d RMSE %v, want %v", r, got, want)
		}
	}
	p := res.Values["predict.p"].(*table.Table)
	if p.IDs[0] != "q1" || math.Abs(p.Col("prediction").Num[0]-(3+0.5*14.5)) > 1e-12 {
		t.Fatalf("prediction %v", p.Col("prediction").Num)
	}
}

func TestReportCollectsTablesAndFigures(t *testing.T) {
	var data strings.Builder
	data.WriteString("id,x,y\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&data, "r%d,%d,%d\n", i, i, i%7)
	}
	res, err, _ := runStudy(t, `
dataset "d" {
  source = "data.csv"
  target = "y"
}
meanmodel "m" {}
evaluate "cv" {
  data    = dataset.d
  models  = [meanmodel.m]
  folds   = 4
  repeats = 2
}
noise_schedule "s" {}
report "r" {
  title   = "A <test> report"
  include = [evaluate.cv, noise_schedule.s, dataset.d]
}`, map[string]string{"data.csv": data.String()})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Values["report.r"].(*nodes.Report)
	h := string(r.HTML)
	for _, want := range []string{"<title>A &lt;test&gt; report</title>", "<h2 id=\"evaluate.cv\">", "<svg", "T = 50", "r19"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if !strings.Contains(string(r.Markdown), "![evaluate.cv d_raw](evaluate.cv_d_raw.svg)") {
		t.Errorf("Markdown lacks the figure link:\n%s", r.Markdown)
	}
	// The encoding round-trips.
	b, _ := r.MarshalBinary()
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	back, err := reg.DecodeValue("report", b)
	if err != nil || string(back.(*nodes.Report).HTML) != h {
		t.Fatalf("round trip: %v", err)
	}
}

// TestSourcesDigestTheFilesRead: dataset and benchmark report the content digests of the
// files they read, under the names the study gives them, which the runtime puts in their
// cache keys.
func TestSourcesDigestTheFilesRead(t *testing.T) {
	reg := coreRegistry()
	dir := t.TempDir()
	write := func(name, body string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.csv", "id,x,y\na,1,2\n")
	write("splits/index_train_0.txt", "0\n")
	write("splits/index_test_0.txt", "0\n")
	write("study.hcl", `
dataset "d" {
  source = "a.csv"
  target = "y"
}
dataset "b" { source = "builtin:a2m3o12" }
descriptor "x" { data = dataset.b }
meanmodel "m" {}
benchmark "u" {
  data   = dataset.d
  models = [meanmodel.m]
  splits = "splits"
  count  = 1
}
`)
	st, diags := lang.Load(filepath.Join(dir, "study.hcl"), lang.Options{Catalog: reg})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	sources := func(addr string) map[string]string {
		for _, in := range st.Instances {
			if in.Addr == addr {
				k, _ := reg.Kind(in.Block.Kind.Name)
				return k.Sources(in.Config, st.Dir)
			}
		}
		t.Fatalf("no instance %s", addr)
		return nil
	}
	if got := sources("dataset.d"); len(got) != 1 || got["a.csv"] != nodes.ContentDigest([]byte("id,x,y\na,1,2\n")) {
		t.Fatalf("dataset.d sources %v", got)
	}
	if got := sources("dataset.b"); len(got) != 1 || !strings.HasPrefix(got["builtin:a2m3o12"], "sha256:") {
		t.Fatalf("dataset.b sources %v", got)
	}
	// descriptor keys on the embedded element tables.
	if got := sources("descriptor.x"); len(got) != 3 || !strings.HasPrefix(got["elements:elements.csv"], "sha256:") || !strings.HasPrefix(got["elements:shannon_radii.csv"], "sha256:") {
		t.Fatalf("descriptor.x sources %v", got)
	}
	train := filepath.Join("splits", "index_train_0.txt")
	before := sources("benchmark.u")
	if len(before) != 2 || before[train] != nodes.ContentDigest([]byte("0\n")) {
		t.Fatalf("benchmark.u sources %v", before)
	}
	write("splits/index_train_0.txt", "0\n0\n")
	if after := sources("benchmark.u"); after[train] == before[train] {
		t.Fatal("editing a split file did not change its digest")
	}
	os.Remove(filepath.Join(dir, "a.csv"))
	if got := sources("dataset.d"); got["a.csv"] != "missing" {
		t.Fatalf("a missing file: %v", got)
	}
}
