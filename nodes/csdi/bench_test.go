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
	"sync"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/runtime"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// Benchmarks on the built-in data: builtin:a2m3o12 through the default descriptor block
// (oxygen-deficient formulas allowed, compounds with a missing element property dropped):
// 50 rows × 64 numeric columns including the target, the size the nte_icr study regularizes.
// The machine may be shared: every benchmark also reports the process CPU time per op.

var builtin struct {
	once sync.Once
	X    *mat.Dense
	cols []string
	err  error
}

// builtinMatrix returns the descriptor table of the built-in data as the model matrix
// (every numeric column; the target last).
func builtinMatrix(b *testing.B) (*mat.Dense, []string) {
	builtin.once.Do(func() {
		dir := b.TempDir()
		path := filepath.Join(dir, "s.hcl")
		os.WriteFile(path, []byte(`
dataset "nte" {
  source  = "builtin:a2m3o12"
  formula = "formula"
  target  = "alpha_l_1e6_per_K"
}
descriptor "atomic" {
  data              = dataset.nte
  oxygen_deficiency = true
  missing           = "drop_row"
}
`), 0o644)
		reg := registry()
		st, diags := lang.Load(path, lang.Options{Catalog: reg})
		if diags.HasErrors() {
			builtin.err = diags
			return
		}
		c, _ := runtime.OpenCache("", reg)
		res, err := (&runtime.Engine{Registry: reg, Cache: c, Jobs: 1}).Run(context.Background(), st)
		if err != nil {
			builtin.err = err
			return
		}
		tb := res.Values["descriptor.atomic"].(nodes.Tabular).AsTable()
		cols := append(tb.Features(), tb.Target)
		X := mat.NewDense(tb.NumRows(), len(cols), nil)
		for j, name := range cols {
			for i, v := range tb.Col(name).Num {
				X.Set(i, j, v)
			}
		}
		builtin.X, builtin.cols = X, cols
	})
	if builtin.err != nil {
		b.Fatal(builtin.err)
	}
	return builtin.X, builtin.cols
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(cpuTime()-c0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

func benchSchedule() *diffusion.Schedule {
	s, _ := diffusion.Power(50, 1e-4, 0.05, 0.5)
	return s
}

// BenchmarkTrainStep: training steps of the default model (C = 16, 2 layers, 2 heads,
// FFN 64, batch 16) on the built-in table; one op is one Adam step.
func BenchmarkTrainStep(b *testing.B) {
	X, cols := builtinMatrix(b)
	cfg := DefaultTrainConfig()
	b.Logf("built-in table: %d rows × %d columns", X.RawMatrix().Rows, len(cols))
	cfg.Steps = b.N
	c0 := cpuTime()
	b.ResetTimer()
	if _, err := Train(context.Background(), X, TrainOptions{Config: cfg, Noised: []int{len(cols) - 1}, Schedule: benchSchedule(), Seed: 1}); err != nil {
		b.Fatal(err)
	}
	reportCPU(b, c0)
}

// BenchmarkTrainStepCSDI is the same with CSDI's configuration (64 channels, 4 layers, 8
// heads); the authors' PyTorch code takes 58.8 ms per step at batch 16 on 84 × 21, and
// CSDI's modules 151 ms (float32) at this table's K = 64 (testdata/bench_torch.py csdi).
func BenchmarkTrainStepCSDI(b *testing.B) {
	X, cols := builtinMatrix(b)
	cfg := DefaultTrainConfig()
	cfg.Arch = Arch{Channels: 64, Layers: 4, Heads: 8, FFN: 64, Dropout: 0.1}
	cfg.Steps = b.N
	c0 := cpuTime()
	b.ResetTimer()
	if _, err := Train(context.Background(), X, TrainOptions{Config: cfg, Noised: []int{len(cols) - 1}, Schedule: benchSchedule(), Seed: 1}); err != nil {
		b.Fatal(err)
	}
	reportCPU(b, c0)
}

// sampleBench times one network evaluation of the sampler (one reverse step) over every
// row × 16 samples, serially, and reports sequences and tokens per second.
func sampleBench(b *testing.B, a Arch, reference bool) {
	X, cols := builtinMatrix(b)
	cfg := DefaultTrainConfig()
	cfg.Arch, cfg.Steps = a, 2
	s := benchSchedule()
	m, err := Train(context.Background(), X, TrainOptions{Config: cfg, Noised: []int{len(cols) - 1}, Schedule: s, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m.reference = reference
	const S = 16
	se, err := m.session(context.Background(), s, X, S, nil)
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float64, se.layout.Len())
	dst := make([]float64, len(x))
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	c0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := se.eps(dst, x, 10); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, c0)
	seq := float64(se.layout.Rows * S)
	b.ReportMetric(seq*float64(b.N)/b.Elapsed().Seconds(), "seq/s")
	b.ReportMetric(seq*float64(len(cols))*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkSampleStep: the fast ICR denoiser, default model.
func BenchmarkSampleStep(b *testing.B) { sampleBench(b, DefaultTrainConfig().Arch, false) }

// BenchmarkSampleStepReference: the plain forward pass on every token, default model.
func BenchmarkSampleStepReference(b *testing.B) { sampleBench(b, DefaultTrainConfig().Arch, true) }

// BenchmarkSampleStepCSDI: the fast denoiser with CSDI's configuration.
func BenchmarkSampleStepCSDI(b *testing.B) {
	sampleBench(b, Arch{Channels: 64, Layers: 4, Heads: 8, FFN: 64, Dropout: 0.1}, false)
}

// BenchmarkTrainAndICR: what one csdi node does on the built-in table with the default
// settings — one training and ICR of every row for one schedule (quad to 0.05, T = 50)
// with t_star = "auto" (one-step sweep over the step-5 grid, then ICR at t*), on two
// workers. The goal is under 30 s on 2 cores.
func BenchmarkTrainAndICR(b *testing.B) { trainAndICR(b, SelectOneStep) }

// BenchmarkTrainAndICRSampler is the same with t_star_method = "sampler": the ICR chains
// from every grid step, whose outputs at t* are the result.
func BenchmarkTrainAndICRSampler(b *testing.B) { trainAndICR(b, SelectSampler) }

func trainAndICR(b *testing.B, method string) {
	X, cols := builtinMatrix(b)
	d := defaultNodeConfig()
	d.SelectMethod = method
	cfg, icr := d.train(), d.icr()
	s := benchSchedule()
	run := Runner(workers2)
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		m, err := Train(context.Background(), X, TrainOptions{Config: cfg, Noised: []int{len(cols) - 1}, Schedule: s, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		sw, err := m.SelectTStar(context.Background(), s, X, Grid(s.T(), icr.GridStep), icr.SelectMethod, icr.SelectSamples, rand.New(rand.NewPCG(1, 2)), run)
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if sw.RegAt(sw.Selection.TStar) == nil {
			if _, err := m.Regularize(context.Background(), s, X, sw.Selection.TStar, icr.Samples, rand.New(rand.NewPCG(3, 4)), run); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("%s: training %v, t* sweep %v, ICR at t* = %d %v", method, t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), sw.Selection.TStar, time.Since(t2).Round(time.Millisecond))
	}
	reportCPU(b, c0)
}

// workers2 runs tasks on two goroutines.
func workers2(n int, task func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				errs[i] = task(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// subsetColumns is a 14-descriptor subset of the built-in table (site means of four
// element properties, the radius spread on both sites and two whole-compound means) for
// the csdi model's columns; the target is added.
var subsetColumns = []string{
	"A_shannon_radius_mean", "A_pauling_en_mean", "A_work_function_mean", "A_zeff_clementi_mean",
	"M_shannon_radius_mean", "M_pauling_en_mean", "M_work_function_mean", "M_zeff_clementi_mean",
	"A_shannon_radius_range", "A_shannon_radius_std", "M_shannon_radius_range", "M_shannon_radius_std",
	"all_shannon_radius_mean", "all_pauling_en_mean",
}

// BenchmarkStudyRepetition runs one repetition of the nte_icr evaluation end to end with the
// engine on 2 workers: the built-in table, csdi with noise-level conditioning and the
// default settings for 1 or 2 schedules (quad to 0.05 and 0.01), and evaluate with
// protocols raw and A, 10 folds, ridge as the regressor (the study's boost, pbp and DGP fits
// come on top). The whole study is about 10 × (the one-schedule time + 3 × the extra time of
// a schedule) plus its regressors.
func BenchmarkStudyRepetition(b *testing.B) {
	quoted := make([]string, len(subsetColumns))
	for i, c := range subsetColumns {
		quoted[i] = `"` + c + `"`
	}
	for _, cols := range []struct{ name, attr string }{
		{"K=15", "columns = [" + strings.Join(quoted, ", ") + "]"},
		{"K=64", ""},
	} {
		for _, nsched := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/schedules=%d", cols.name, nsched), func(b *testing.B) {
				scheds := `{ b005 = 0.05 }`
				if nsched == 2 {
					scheds = `{ b005 = 0.05, b001 = 0.01 }`
				}
				study := `
dataset "nte" {
  source  = "builtin:a2m3o12"
  formula = "formula"
  target  = "alpha_l_1e6_per_K"
}
descriptor "atomic" {
  data              = dataset.nte
  oxygen_deficiency = true
  missing           = "drop_row"
}
noise_schedule "beta" {
  for_each = ` + scheds + `
  beta_end = each.value
}
csdi "icr" {
  for_each     = noise_schedule.beta
  data         = descriptor.atomic
  schedule     = each.value
  conditioning = "noise_level"
  ` + cols.attr + `
}
ridge "r" {}
evaluate "icr" {
  for_each   = csdi.icr
  data       = descriptor.atomic
  models     = [ridge.r]
  repeats    = 1
  regularize = each.value
}
`
				c0 := cpuTime()
				for i := 0; i < b.N; i++ {
					dir := b.TempDir()
					path := filepath.Join(dir, "s.hcl")
					os.WriteFile(path, []byte(study), 0o644)
					reg := registry()
					st, diags := lang.Load(path, lang.Options{Catalog: reg})
					if diags.HasErrors() {
						b.Fatal(diags)
					}
					c, _ := runtime.OpenCache("", reg)
					if _, err := (&runtime.Engine{Registry: reg, Cache: c, Jobs: 2}).Run(context.Background(), st); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, c0)
			})
		}
	}
}

// BenchmarkInputHessian times the input-Hessian diagnostic (InputHessian) as nte_icr runs it:
// the built-in table's 14-descriptor subset (p = 14 conditioning columns, 393 stencil points),
// one compound, 4 chains, truncation steps 20 and 40 (one op), a model trained 200 steps. It reports sequence-steps per
// second: perturbed copies × chains × Σ(t+1) network evaluations of one sequence.
func BenchmarkInputHessian(b *testing.B) {
	X, cols := builtinMatrix(b)
	var idx []int
	for _, name := range append(append([]string(nil), subsetColumns...), cols[len(cols)-1]) {
		idx = append(idx, slices.Index(cols, name))
	}
	n, _ := X.Dims()
	Z := mat.NewDense(n, len(idx), nil)
	for i := 0; i < n; i++ {
		for j, c := range idx {
			Z.Set(i, j, X.At(i, c))
		}
	}
	cfg := DefaultTrainConfig()
	cfg.Steps, cfg.Conditioning = 200, CondNoiseLevel
	m, err := Train(context.Background(), Z, TrainOptions{Config: cfg, Noised: []int{len(idx) - 1}, Schedule: benchSchedule(), Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	grid := []int{20, 40}
	const samples = 4
	c0 := cpuTime()
	b.ResetTimer()
	var points int
	for i := 0; i < b.N; i++ {
		h, err := m.InputHessian(context.Background(), benchSchedule(), Z, []int{0}, grid, samples, 0.05, rand.New(rand.NewPCG(1, 2)), Runner(workers2))
		if err != nil {
			b.Fatal(err)
		}
		points = len(h.Hess[0][0])
	}
	reportCPU(b, c0)
	p := int(math.Sqrt(float64(points)))
	seqSteps := float64((2*p*p+1)*samples*(21+41)) * float64(b.N)
	b.ReportMetric(seqSteps/b.Elapsed().Seconds(), "seq-steps/s")
}
