package csdi

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// ICRConfig is how a trained model regularizes: the truncation step (or its selection) and
// the number of samples. Its JSON encoding is part of the memo keys of selections and
// regularized values.
type ICRConfig struct {
	// TStar is the truncation step; -1 selects it on the fitting rows (t* = "auto").
	TStar int `json:"t_star"`
	// GridStep is the step of the selection grid 0, h, 2h, … ≤ T−1.
	GridStep int `json:"grid_step"`
	// Samples is the number of reverse chains per row whose lower median is the output.
	Samples int `json:"samples"`
	// SelectSamples is the number of chains per row of the selection sweep. When it equals
	// Samples and the method is SelectSampler, the sweep's outputs at the selected t* are the
	// fitting rows' regularized values (no second run).
	SelectSamples int `json:"select_samples"`
	// SelectMethod is SelectSampler or SelectOneStep.
	SelectMethod string `json:"select_method"`
}

// Memo is Context.Memo: it serves a sub-computation from the cache or computes and stores it.
type Memo func(key []byte, compute func() (nodes.Value, error)) (nodes.Value, error)

func noMemo(_ []byte, compute func() (nodes.Value, error)) (nodes.Value, error) { return compute() }

// Regularizer is CSDI input consistency regularization as a cv.Regularizer: Fit trains a
// model on the rows it is given (standardizing on them) and, for t* = auto, selects t* on
// them; Apply regularizes the targets of any rows. The model columns are the selected
// columns of X followed by the target, which is the noised column.
type Regularizer struct {
	Train    TrainConfig
	ICR      ICRConfig
	Schedule *diffusion.Schedule
	// Columns are the indices of X's columns the model conditions on, in model order; Names
	// names them followed by the target.
	Columns []int
	Names   []string
	// Memo memoizes trainings, selections and regularized values (nil: none).
	Memo Memo
	// Run spreads the sampler's chunks over workers (nil: serial).
	Run Runner
}

// fitting is a fitted Regularizer.
type fitting struct {
	r      *Regularizer
	model  *Model
	key    []byte // the model's memo key
	rows   *mat.Dense
	tStar  int
	curves *Curves
	reg    []float64 // the sweep's standardized outputs at t* for rows (nil unless reusable)
}

// modelMatrix returns the model's columns of (X, y).
func (r *Regularizer) modelMatrix(X *mat.Dense, y []float64) *mat.Dense {
	n, _ := X.Dims()
	k := len(r.Columns) + 1
	M := mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		row := M.RawRowView(i)
		for c, j := range r.Columns {
			row[c] = X.At(i, j)
		}
		row[k-1] = y[i]
	}
	return M
}

// hashMatrix returns the SHA-256 of M's dimensions and values' bits.
func hashMatrix(M *mat.Dense) []byte {
	h := sha256.New()
	n, k := M.Dims()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
	binary.LittleEndian.PutUint64(b[:], uint64(k))
	h.Write(b[:])
	for i := 0; i < n; i++ {
		for _, v := range M.RawRowView(i) {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	return h.Sum(nil)
}

// ModelKey is the memo key of a training: the configuration, the seed, the data (content
// and column names), the noised columns and, under step conditioning only, the schedule's
// β's. Under noise-level conditioning the schedule is not part of it, so one trained model
// serves every schedule.
func ModelKey(cfg TrainConfig, seed uint64, M *mat.Dense, names []string, noised []int, s *diffusion.Schedule) []byte {
	var betas []float64
	if cfg.Conditioning == CondStep {
		betas = s.Betas(nil)
	}
	key := struct {
		Schema string      `json:"schema"`
		Config TrainConfig `json:"config"`
		Seed   uint64      `json:"seed"`
		Data   string      `json:"data"`
		Names  []string    `json:"names"`
		Noised []int       `json:"noised"`
		Betas  []uint64    `json:"betas"`
	}{"csdi-model/1", cfg, seed, fmt.Sprintf("%x", hashMatrix(M)), names, noised, floatBits(betas)}
	if cfg.Conditioning != CondNoiseLevel {
		key.Config.NoiseRange = [2]float64{}
	}
	b, _ := json.Marshal(key)
	return b
}

func floatBits(xs []float64) []uint64 {
	out := make([]uint64, len(xs))
	for i, x := range xs {
		out[i] = math.Float64bits(x)
	}
	return out
}

// trainMemo trains (or fetches) the model of key.
func trainMemo(ctx context.Context, memo Memo, key []byte, M *mat.Dense, opt TrainOptions) (*Model, error) {
	if memo == nil {
		memo = noMemo
	}
	v, err := memo(key, func() (nodes.Value, error) {
		m, err := Train(ctx, M, opt)
		if err != nil {
			return nil, err
		}
		return ModelValue{m}, nil
	})
	if err != nil {
		return nil, err
	}
	mv, ok := v.(ModelValue)
	if !ok {
		return nil, fmt.Errorf("csdi: memoized model has type %T", v)
	}
	return mv.Model, nil
}

// subKey derives the memo key of a computation from a model key and what else it
// depends on.
func subKey(kind string, modelKey []byte, parts ...any) []byte {
	b, _ := json.Marshal(append([]any{kind, string(modelKey)}, parts...))
	return b
}

// Fit implements cv.Regularizer. It draws the training seed and then the selection's random
// numbers from rng.
func (r *Regularizer) Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (cv.Regularization, error) {
	M := r.modelMatrix(X, y)
	seed := rng.Uint64()
	noised := []int{len(r.Columns)}
	key := ModelKey(r.Train, seed, M, r.Names, noised, r.Schedule)
	m, err := trainMemo(ctx, r.Memo, key, M, TrainOptions{Config: r.Train, Columns: r.Names, Noised: noised, Schedule: r.Schedule, Seed: seed})
	if err != nil {
		return nil, err
	}
	f := &fitting{r: r, model: m, key: key, rows: M, tStar: r.ICR.TStar}
	if r.ICR.TStar >= 0 {
		if r.ICR.TStar >= r.Schedule.T() {
			return nil, fmt.Errorf("t* = %d is not a step of the %d-step schedule", r.ICR.TStar, r.Schedule.T())
		}
		if err := m.CheckSchedule(r.Schedule, r.ICR.TStar); err != nil {
			return nil, err
		}
		return f, nil
	}
	sv, err := selectMemo(ctx, r.Memo, key, m, r.Schedule, M, r.ICR, rng.Uint64(), r.Run)
	if err != nil {
		return nil, err
	}
	f.tStar, f.curves = sv.Curves.TStar, sv.Curves
	f.reg = sv.Reg // nil unless reusable (sampler sweep with as many samples)
	return f, nil
}

// selectMemo runs (or fetches) the t* selection of model m on the rows M.
func selectMemo(ctx context.Context, memo Memo, modelKey []byte, m *Model, s *diffusion.Schedule, M *mat.Dense, icr ICRConfig, seed uint64, run Runner) (*sweepValue, error) {
	if memo == nil {
		memo = noMemo
	}
	key := subKey("csdi-select/1", modelKey, floatBits(s.Betas(nil)), fmt.Sprintf("%x", hashMatrix(M)), icr.GridStep, icr.SelectMethod, icr.SelectSamples, seed)
	v, err := memo(key, func() (nodes.Value, error) {
		sw, err := m.SelectTStar(ctx, s, M, Grid(s.T(), icr.GridStep), icr.SelectMethod, icr.SelectSamples, seeded(seed, "select"), run)
		if err != nil {
			return nil, err
		}
		sv := &sweepValue{Curves: curvesOf(sw.Selection)}
		if icr.SelectSamples == icr.Samples {
			sv.Reg = sw.RegAt(sw.Selection.TStar) // nil for a one-step sweep
		}
		return sv, nil
	})
	if err != nil {
		return nil, err
	}
	sv, ok := v.(*sweepValue)
	if !ok {
		return nil, fmt.Errorf("csdi: memoized selection has type %T", v)
	}
	return sv, nil
}

// Apply implements cv.Regularization: it regularizes the targets y of the rows X. For the
// very rows the selection ran on (bit for bit), with as many selection samples as samples,
// it returns the selection's outputs at t*: one more draw of the same law would only cost
// time.
func (f *fitting) Apply(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) ([]float64, error) {
	M := f.r.modelMatrix(X, y)
	if f.reg != nil && mat.Equal(M, f.rows) {
		return f.model.destandardize(f.reg), nil
	}
	memo := f.r.Memo
	if memo == nil {
		memo = noMemo
	}
	seed := rng.Uint64()
	icr := f.r.ICR
	key := subKey("csdi-apply/1", f.key, floatBits(f.r.Schedule.Betas(nil)), fmt.Sprintf("%x", hashMatrix(M)), f.tStar, icr.Samples, seed)
	v, err := memo(key, func() (nodes.Value, error) {
		out, err := f.model.Regularize(ctx, f.r.Schedule, M, f.tStar, icr.Samples, seeded(seed, "apply"), f.r.Run)
		if err != nil {
			return nil, err
		}
		return &valuesValue{X: out}, nil
	})
	if err != nil {
		return nil, err
	}
	vv, ok := v.(*valuesValue)
	if !ok || len(vv.X) != len(y) {
		return nil, fmt.Errorf("csdi: memoized regularization does not fit the rows")
	}
	return vv.X, nil
}

// Diagnostics implements cv.Diagnoser: t*, ᾱ_{t*}, the final training loss and, for a
// selected t*, the displacement D(t*) on the fitting rows (standardized units).
func (f *fitting) Diagnostics() []cv.Diagnostic {
	d := []cv.Diagnostic{
		{Name: "t_star", Value: float64(f.tStar)},
		{Name: "alpha_bar", Value: f.r.Schedule.AlphaBar(f.tStar)},
		{Name: "train_loss", Value: f.model.FinalLoss()},
	}
	if f.curves != nil {
		d = append(d, cv.Diagnostic{Name: "displacement", Value: f.curves.at(f.tStar)})
	}
	return d
}
