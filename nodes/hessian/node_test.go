package hessian

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
	"github.com/ntedsl/ntedsl/nodes/csdi"
	"github.com/ntedsl/ntedsl/runtime"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// study: 30 rows with y = 2·x1 − x2 + noise, a tiny csdi model with t* fixed at 20, and the
// hessian analysis on the grid 0, 10, 20, 30, 40.
const study = `
dataset "d" {
  source = "data.csv"
  target = "y"
}
noise_schedule "q" { beta_end = 0.05 }
csdi "icr" {
  data     = dataset.d
  schedule = noise_schedule.q
  t_star   = 20
  channels = 8
  heads    = 2
  layers   = 2
  ffn      = 16
  steps    = 60
  batch    = 8
  samples  = 6
}
hessian "h" {
  source  = csdi.icr
  data    = dataset.d
  grid    = 10
  samples = 6
  seeds   = 2
  hidden  = [4]
  input_rows    = 3
  input_samples = 4
}
`

func TestHessianNode(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("id,x1,x2,y\n")
	for i := 0; i < 30; i++ {
		x1, x2 := rng.NormFloat64(), rng.NormFloat64()
		fmt.Fprintf(&b, "r%02d,%.6f,%.6f,%.6f\n", i, x1, x2, 2*x1-x2+0.5*rng.NormFloat64())
	}
	os.WriteFile(filepath.Join(dir, "data.csv"), []byte(b.String()), 0o644)
	path := filepath.Join(dir, "study.hcl")
	os.WriteFile(path, []byte(study), 0o644)
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	csdi.Register(reg)
	Register(reg)
	st, diags := lang.Load(path, lang.Options{Catalog: reg})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	cache, _ := runtime.OpenCache("", reg)
	e := &runtime.Engine{Registry: reg, Cache: cache, Jobs: 2}
	res, err := e.Run(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	h := res.Values["hessian.h"].(*Result)
	if fmt.Sprint(h.Grid) != "[0 10 20 30 40]" || h.TStar != 20 {
		t.Fatalf("grid %v t* %d", h.Grid, h.TStar)
	}
	// 2 arms × 5 steps × 2 seeds, a 2-4-1 network: 17 parameters.
	if len(h.Rows) != 20 || h.Params != 17 {
		t.Fatalf("%d rows, %d parameters", len(h.Rows), h.Params)
	}
	// ᾱ_t of the quad schedule to 0.05 (csdi_icr.md A2: ᾱ_49 = 0.409; here at t = 40).
	if math.Abs(h.AlphaBar[0]-(1-1e-4)) > 1e-12 || !(h.AlphaBar[4] < h.AlphaBar[2] && h.AlphaBar[2] < 1) {
		t.Fatalf("ᾱ %v", h.AlphaBar)
	}
	for _, row := range h.Rows {
		if row.LambdaMax <= 0 || row.Trace <= 0 || math.IsNaN(row.Loss) {
			t.Fatalf("row %+v", row)
		}
		// At t = 0 the regularized targets are the measured ones up to β_0 = 1e-4 of noise,
		// so their spread is unchanged; shrinkage then grows with t.
		if row.T == 0 && math.Abs(row.Scale-1) > 0.05 {
			t.Fatalf("target SD ratio at t = 0: %v", row.Scale)
		}
	}
	ratio := func(arm string, tt int) float64 {
		for _, row := range h.Rows {
			if row.Arm == arm && row.T == tt {
				return row.Scale
			}
		}
		return math.NaN()
	}
	if !(ratio("icr", 40) < ratio("icr", 10)) || ratio("rescale", 40) != ratio("icr", 40) {
		t.Fatalf("shrinkage ratios: icr %v→%v, rescale %v", ratio("icr", 10), ratio("icr", 40), ratio("rescale", 40))
	}
	// The analysis is of the regularized table the csdi node produced: its values at t* are
	// the node's output (the same model, common random numbers per step).
	tbl := res.Values["csdi.icr"].(*csdi.Result).AsTable()
	measured := res.Values["dataset.d"].(nodes.Tabular).AsTable().Col("y").Num
	if got := stats.PopSD(tbl.Col("y").Num) / stats.PopSD(measured); math.Abs(got-ratio("icr", 20)) > 0.1 {
		t.Fatalf("spread ratio at t* = 20: analysis %v, csdi node output %v", ratio("icr", 20), got)
	}
	arts, err := h.Artifacts()
	if err != nil || len(arts["_lambda_max.svg"]) == 0 || len(arts["_density.svg"]) == 0 || !strings.Contains(string(arts[".txt"]), "20 (t*)") {
		t.Fatalf("artifacts: %v", err)
	}
	// The input Hessian (csdi_icr.md §2.5(b)) on rows 0, 10, 20 at every grid step, over the
	// two descriptors x1, x2. At t = 0 the displacement is 0.01·ε̂ (β_0 = 1e-4), at t = 40 it
	// is about (1 − w)(m(x) − y) with m ≈ 2·x1 − x2: its sensitivity to the descriptors grows.
	in := h.Input
	if in == nil || fmt.Sprint(in.Grid) != fmt.Sprint(h.Grid) || fmt.Sprint(h.InputIDs) != "[r00 r10 r20]" || len(in.Hess[0][0]) != 4 {
		t.Fatalf("input Hessian %+v, rows %v", in, h.InputIDs)
	}
	gradNorm := func(g int) (s float64) {
		for _, gr := range in.Grad[g] {
			s += math.Hypot(gr[0], gr[1]) / 3
		}
		return s
	}
	for g := range in.Grid {
		for _, v := range in.MaxAbsEig[g] {
			if math.IsNaN(v) || v < 0 {
				t.Fatalf("max |λ| %v at t = %d", v, in.Grid[g])
			}
		}
	}
	t.Logf("input Hessian: curvature %v, gradient norms %.3g → %.3g, suggested t %d", in.Curvature(), gradNorm(0), gradNorm(4), in.Suggest(2))
	if !(gradNorm(4) > 5*gradNorm(0)) {
		t.Errorf("mean |∇f| %.3g at t = 40, %.3g at t = 0: the displacement should depend on the descriptors far more at t = 40", gradNorm(4), gradNorm(0))
	}
	if lines := strings.Count(string(arts["_input.csv"]), "\n"); lines != 1+5*3 || len(arts["_input.svg"]) == 0 || !strings.Contains(string(arts[".txt"]), "Input Hessian") {
		t.Fatalf("input Hessian artifacts: %d CSV lines", lines)
	}
	b2, _ := h.MarshalBinary()
	back, err := decode(b2)
	if err != nil || len(back.(*Result).Rows) != 20 || back.(*Result).Input == nil {
		t.Fatalf("round trip: %v", err)
	}
}
