package csdi

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/nodes/knn"
	"github.com/ntedsl/ntedsl/nodes/ridge"
	"github.com/ntedsl/ntedsl/runtime"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

func registry() *nodes.Registry {
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	ridge.Register(reg)
	knn.Register(reg)
	Register(reg)
	return reg
}

// synthCSV is 30 rows with y = 2·x1 − x2 + noise and a text column.
func synthCSV() string {
	rng := rand.New(rand.NewPCG(21, 22))
	var b strings.Builder
	b.WriteString("id,name,x1,x2,y\n")
	for i := 0; i < 30; i++ {
		x1, x2 := rng.NormFloat64(), rng.NormFloat64()
		fmt.Fprintf(&b, "r%02d,n%d,%.6f,%.6f,%.6f\n", i, i, x1, x2, 2*x1-x2+0.5*rng.NormFloat64())
	}
	return b.String()
}

// tiny is a csdi configuration small enough for node tests.
const tiny = `
  channels = 8
  heads    = 2
  layers   = 2
  ffn      = 16
  steps    = 40
  batch    = 8
  samples  = 6
`

type studyRunner struct {
	t     *testing.T
	dir   string
	reg   *nodes.Registry
	cache *runtime.Cache
}

func newStudyRunner(t *testing.T) *studyRunner {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(synthCSV()), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := registry()
	c, err := runtime.OpenCache("", reg)
	if err != nil {
		t.Fatal(err)
	}
	return &studyRunner{t: t, dir: dir, reg: reg, cache: c}
}

// run loads and runs a study with the runner's cache (shared across runs).
func (r *studyRunner) run(src string) (*runtime.Result, error) {
	r.t.Helper()
	path := filepath.Join(r.dir, "study.hcl")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		r.t.Fatal(err)
	}
	st, diags := lang.Load(path, lang.Options{Catalog: r.reg})
	if diags.HasErrors() {
		r.t.Fatalf("load: %s", diags.Error())
	}
	e := &runtime.Engine{Registry: r.reg, Cache: r.cache, Jobs: 2, OutDir: filepath.Join(r.dir, "out")}
	return e.Run(context.Background(), st)
}

const header = `
dataset "d" {
  source = "data.csv"
  target = "y"
}
noise_schedule "q" { beta_end = 0.05 }
`

func TestNodeRegularizesTableAndReusesTraining(t *testing.T) {
	r := newStudyRunner(t)
	study := func(tStar string) string {
		return header + `csdi "icr" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = ` + tStar + tiny + "}\n"
	}
	before := trainings.Load()
	res, err := r.run(study("10"))
	if err != nil {
		t.Fatal(err)
	}
	if n := trainings.Load() - before; n != 1 {
		t.Fatalf("%d trainings for one csdi node", n)
	}
	v, ok := res.Values["csdi.icr"].(*Result)
	if !ok {
		t.Fatalf("csdi value is %T", res.Values["csdi.icr"])
	}
	in := res.Values["dataset.d"].(*table.Table)
	out := v.AsTable()
	if !slices.Equal(in.IDs, out.IDs) || !slices.Equal(in.Names(), out.Names()) || out.Target != "y" {
		t.Fatalf("regularized table changed rows or columns: %v %v", out.IDs, out.Names())
	}
	for _, name := range []string{"name", "x1", "x2"} {
		a, b := in.Col(name), out.Col(name)
		if !slices.Equal(a.Num, b.Num) || !slices.Equal(a.Str, b.Str) {
			t.Fatalf("column %s changed", name)
		}
	}
	changed := 0
	for i, y := range in.Col("y").Num {
		if yr := out.Col("y").Num[i]; yr != y && !math.IsNaN(yr) {
			changed++
		}
	}
	if changed != len(in.IDs) || v.TStar != 10 || v.Curves != nil || v.Noised[0] != "y" {
		t.Fatalf("changed %d of %d targets, t* %d, curves %v", changed, len(in.IDs), v.TStar, v.Curves)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "out", "csdi.icr.csv")); err != nil {
		t.Fatalf("no CSV result: %v", err)
	}
	// The value round-trips through its decoder (the disk cache).
	b, _ := v.MarshalBinary()
	dv, err := r.reg.DecodeValue("icr", b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := dv.MarshalBinary()
	if string(b) != string(b2) {
		t.Fatal("icr value does not round-trip")
	}

	// Another t*: the node runs again, the training is served from the memo.
	before = trainings.Load()
	res, err = r.run(study("20"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status["csdi.icr"] != "ran" || trainings.Load() != before {
		t.Fatalf("status %s, %d new trainings after changing only t_star", res.Status["csdi.icr"], trainings.Load()-before)
	}
	// "auto" selects on the grid and reports the curves.
	res, err = r.run(study(`"auto"`))
	if err != nil {
		t.Fatal(err)
	}
	v = res.Values["csdi.icr"].(*Result)
	if v.Curves == nil || v.TStar%5 != 0 || v.TStar <= 0 || v.TStar >= 45 || trainings.Load() != before {
		t.Fatalf("auto: t* %d, curves %v, %d new trainings", v.TStar, v.Curves != nil, trainings.Load()-before)
	}
	if len(v.Curves.D) != 10 || v.Curves.D[0] > v.Curves.D[9] {
		t.Fatalf("displacement curve %v", v.Curves.D)
	}
	arts, err := v.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{".csv", ".json", "_summary.json", "_curve.csv", "_curve.svg", "_curvature.svg"} {
		if len(arts[suffix]) == 0 {
			t.Errorf("no %s artifact", suffix)
		}
	}
	if !strings.HasPrefix(string(arts["_curve.csv"]), "t,alpha_bar,log_snr,D,") {
		t.Errorf("curve CSV header: %.40s", arts["_curve.csv"])
	}
	if !strings.Contains(v.Summary(), "(auto)") {
		t.Errorf("summary %q", v.Summary())
	}
}

// TestNoiseLevelModelServesEverySchedule: with conditioning = "noise_level" the trained
// model does not depend on the schedule, so csdi nodes over several schedules train once.
func TestNoiseLevelModelServesEverySchedule(t *testing.T) {
	r := newStudyRunner(t)
	before := trainings.Load()
	res, err := r.run(`
dataset "d" {
  source = "data.csv"
  target = "y"
}
noise_schedule "s" {
  for_each = { a = 0.005, b = 0.05 }
  beta_end = each.value
}
noise_schedule "mid" {
  kind  = "midcourse"
  omega = 0.005
}
csdi "icr" {
  for_each     = merge(noise_schedule.s, { mid = noise_schedule.mid })
  data         = dataset.d
  schedule     = each.value
  conditioning = "noise_level"
  t_star       = 12
` + tiny + "}\n")
	if err != nil {
		t.Fatal(err)
	}
	if n := trainings.Load() - before; n != 1 {
		t.Fatalf("%d trainings for three schedules under noise-level conditioning", n)
	}
	a := res.Values[`csdi.icr["a"]`].(*Result).AsTable().Col("y").Num
	b := res.Values[`csdi.icr["b"]`].(*Result).AsTable().Col("y").Num
	if slices.Equal(a, b) {
		t.Fatal("different schedules gave the same regularization")
	}
}

func TestEvaluateProtocols(t *testing.T) {
	r := newStudyRunner(t)
	study := func(models string) string {
		return header + `csdi "icr" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = "auto"
` + tiny + `}
ridge "r" {}
knn "k" {}
evaluate "e" {
  data          = dataset.d
  models        = ` + models + `
  folds         = 3
  repeats       = 2
  regularize    = csdi.icr
  protocols     = ["raw", "A", "B", "rescale", "shrink"]
  shrink_toward = ridge.r
}
`
	}
	before := trainings.Load()
	res, err := r.run(study("[ridge.r]"))
	if err != nil {
		t.Fatal(err)
	}
	// The node's own training, 3 × 2 fold trainings (A) and one on all rows (B, controls).
	if n := trainings.Load() - before; n != 1+6+1 {
		t.Fatalf("%d trainings, want 8", n)
	}
	ev := res.Values["evaluate.e"].(*nodes.Evaluation).Result
	var arms []string
	for _, s := range ev.Series {
		arms = append(arms, s.Arm)
	}
	want := []string{"raw", "A", "A'", "B", "B->meas", "rescale", "rescale->meas", "shrink", "shrink->meas"}
	if !slices.Equal(arms, want) {
		t.Fatalf("arms %v, want %v", arms, want)
	}
	for _, s := range ev.Series {
		if (s.Eval == "measured") != (s.Arm == "raw" || strings.HasSuffix(s.Arm, "meas") || s.Arm == "A") {
			t.Errorf("arm %s is scored against %s targets", s.Arm, s.Eval)
		}
	}
	tstars := 0
	for _, d := range ev.Diagnostics {
		if d.Name == "t_star" {
			tstars++
			if d.Value <= 0 || d.Value >= 45 || math.Mod(d.Value, 5) != 0 {
				t.Errorf("%+v: t* off the grid interior", d)
			}
		}
	}
	if tstars != 7 {
		t.Errorf("%d t* diagnostics, want 7 (6 folds + all rows)", tstars)
	}
	// Adding a model re-runs the evaluation but retrains nothing.
	before = trainings.Load()
	res, err = r.run(study("[ridge.r, knn.k]"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status["evaluate.e"] != "ran" || trainings.Load() != before {
		t.Fatalf("status %s, %d new trainings after adding a model", res.Status["evaluate.e"], trainings.Load()-before)
	}
	ev2 := res.Values["evaluate.e"].(*nodes.Evaluation).Result
	if len(ev2.Series) != 2*len(want) {
		t.Fatalf("%d series with two models", len(ev2.Series))
	}
	// The memoized regularizations are the same: ridge's arms are unchanged bit for bit.
	for i, s := range ev.Series {
		s2 := ev2.Series[2*i]
		if s2.Model != "r" || s2.Arm != s.Arm || s2.Summary.Mean.RMSE != s.Summary.Mean.RMSE {
			t.Fatalf("arm %s of ridge changed when knn was added", s.Arm)
		}
	}
}

// diagsOf loads a study and returns its diagnostics.
func diagsOf(t *testing.T, src string) hcl.Diagnostics {
	t.Helper()
	_, diags := lang.LoadSource("s.hcl", []byte(src), lang.Options{Catalog: registry()})
	return diags
}

func hasDiag(diags hcl.Diagnostics, line int, frags ...string) bool {
	for _, d := range diags {
		if d.Subject == nil || d.Subject.Start.Line != line {
			continue
		}
		ok := true
		for _, f := range frags {
			ok = ok && strings.Contains(d.Summary+" "+d.Detail, f)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestBadAttributes(t *testing.T) {
	diags := diagsOf(t, header+`csdi "a" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = "sometimes"
}
csdi "b" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = "atuo"
}
csdi "c" {
  data     = dataset.d
  schedule = noise_schedule.q
  heads    = 3
}
csdi "d" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = 2.5
  masks    = "rnadom"
}
csdi "e" {
  data     = noise_schedule.q
  schedule = dataset.d
}
`)
	for _, c := range []struct {
		line  int
		frags []string
	}{
		{10, []string{"t_star", `"sometimes"`, `"auto"`}},
		{15, []string{`Did you mean "auto"?`}},
		{20, []string{"heads", "divide"}},
		{25, []string{"2.5", "whole number"}},
		{26, []string{`Did you mean "random"?`}},
		{29, []string{"table"}},
		{30, []string{"schedule"}},
	} {
		if !hasDiag(diags, c.line, c.frags...) {
			t.Errorf("no diagnostic on line %d mentioning %q; got:\n%s", c.line, c.frags, diags.Error())
		}
	}

	// Run-time: an unknown noised column, with a suggestion, at the attribute.
	r := newStudyRunner(t)
	res, err := r.run(header + `csdi "icr" {
  data     = dataset.d
  schedule = noise_schedule.q
  noised   = ["x_1"]
` + tiny + "}\n")
	if err == nil || len(res.Failures) != 1 {
		t.Fatalf("unknown noised column ran: %v", err)
	}
	msg := res.Failures[0].Err.Error()
	if !strings.Contains(msg, `Did you mean "x1"?`) || !strings.Contains(msg, "study.hcl:10") {
		t.Errorf("unknown noised column: %s", msg)
	}
	// t_star beyond the schedule, and evaluate regularizing with a plain table.
	res, _ = r.run(header + `csdi "icr" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = 50
` + tiny + `}
ridge "r" {}
evaluate "e" {
  data       = dataset.d
  models     = [ridge.r]
  folds      = 3
  repeats    = 1
  regularize = dataset.d
}
`)
	got := map[string]string{}
	for _, f := range res.Failures {
		got[f.Addr] = f.Err.Error()
	}
	if !strings.Contains(got["csdi.icr"], "t = 0..49") {
		t.Errorf("t_star = 50: %q", got["csdi.icr"])
	}
	if !strings.Contains(got["evaluate.e"], "regularize takes a block that regularizes targets") {
		t.Errorf("plain table as regularize: %q", got["evaluate.e"])
	}
	// Protocols that need a regularizer or a shrink model.
	diags = diagsOf(t, header+`ridge "r" {}
evaluate "e" {
  data      = dataset.d
  models    = [ridge.r]
  protocols = ["raw", "A", "shrnk"]
}
`)
	if !hasDiag(diags, 11, `Did you mean "shrink"?`) || !hasDiag(diags, 11, "protocol A needs regularize") {
		t.Errorf("protocol diagnostics:\n%s", diags.Error())
	}
}

// TestStudyDeterministicAcrossJobs: the same study gives the same bytes with one worker
// and with three, fresh caches each time (the sampler's chunks and cv's folds write
// index-addressed slots).
func TestStudyDeterministicAcrossJobs(t *testing.T) {
	src := header + `csdi "icr" {
  data     = dataset.d
  schedule = noise_schedule.q
` + tiny + `}
ridge "r" {}
evaluate "e" {
  data       = dataset.d
  models     = [ridge.r]
  folds      = 3
  repeats    = 1
  regularize = csdi.icr
  protocols  = ["A", "B"]
}
`
	var digests []map[string]string
	for _, jobs := range []int{1, 3} {
		r := newStudyRunner(t)
		path := filepath.Join(r.dir, "study.hcl")
		os.WriteFile(path, []byte(src), 0o644)
		st, diags := lang.Load(path, lang.Options{Catalog: r.reg})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		res, err := (&runtime.Engine{Registry: r.reg, Cache: r.cache, Jobs: jobs}).Run(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, res.Digests)
	}
	for _, addr := range []string{"csdi.icr", "evaluate.e"} {
		if digests[0][addr] == "" || digests[0][addr] != digests[1][addr] {
			t.Errorf("%s: digest %s with 1 worker, %s with 3", addr, digests[0][addr], digests[1][addr])
		}
	}
}
