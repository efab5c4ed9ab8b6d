package csdi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
	"github.com/ntedsl/ntedsl/stdlib/plot"
	"github.com/ntedsl/ntedsl/stdlib/stats"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

// TStar is the t_star attribute: a diffusion step, or "auto" (selected from the
// displacement curve). It implements lang.AttrDecoder.
type TStar struct {
	Auto bool
	Step int
}

// DecodeAttr implements lang.AttrDecoder.
func (t *TStar) DecodeAttr(v cty.Value) error {
	const want = `t_star is a diffusion step, a whole number 0 ≤ t* < T (e.g. t_star = 10), or "auto" to choose it from the displacement curve`
	if v.IsNull() || !v.IsKnown() {
		return errors.New(want)
	}
	switch v.Type() {
	case cty.String:
		s := v.AsString()
		if strings.EqualFold(strings.TrimSpace(s), "auto") {
			*t = TStar{Auto: true}
			return nil
		}
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n >= 0 {
			*t = TStar{Step: n}
			return nil
		}
		msg := fmt.Sprintf("%q is not a step: %s.", s, want)
		if lang.Suggest(s, []string{"auto"}) != "" {
			msg = `Did you mean "auto"? ` + msg
		}
		return errors.New(msg)
	case cty.Number:
		bf := v.AsBigFloat()
		n, acc := bf.Int64()
		if acc != big.Exact || !bf.IsInt() || n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("%s is not a step: %s", bf.Text('g', 10), want)
		}
		*t = TStar{Step: int(n)}
		return nil
	}
	return fmt.Errorf("got a %s: %s", v.Type().FriendlyName(), want)
}

// TypeName implements lang.AttrDecoder.
func (TStar) TypeName() string { return `integer or "auto"` }

// String is the attribute's HCL text (its default in the reference).
func (t TStar) String() string {
	if t.Auto {
		return `"auto"`
	}
	return strconv.Itoa(t.Step)
}

// MarshalJSON is the attribute's canonical form in cache keys.
func (t TStar) MarshalJSON() ([]byte, error) {
	if t.Auto {
		return []byte(`"auto"`), nil
	}
	return []byte(strconv.Itoa(t.Step)), nil
}

type nodeConfig struct {
	Data          lang.Ref  `attr:"data,required" accepts:"table" doc:"The table to regularize (e.g. descriptor.atomic)."`
	Schedule      lang.Ref  `attr:"schedule,required" accepts:"schedule" doc:"The noise schedule (a noise_schedule block)."`
	Noised        []string  `attr:"noised" doc:"Columns to regularize (noised to t* and denoised conditioned on the others); default the table's target."`
	Columns       []string  `attr:"columns" doc:"Columns the diffusion model sees, conditioning and noised (noised ones are added if missing); default every numeric column. The cost grows with their number (attention is quadratic in it)."`
	TStar         TStar     `attr:"t_star" doc:"Truncation step t*: a step 0 ≤ t* < T, or \"auto\": the argmax of the second difference of the displacement curve D(t) on the rows (the preprint's \"Hessian of the displacement\")."`
	Samples       int       `attr:"samples" doc:"Reverse chains per row; the regularized value is their lower median (CSDI uses 100)."`
	GridStep      int       `attr:"t_star_grid" doc:"Step h of the grid 0, h, 2h, … on which t_star = \"auto\" evaluates D(t); h = 1 is noisy at a few dozen rows."`
	SelectMethod  string    `attr:"t_star_method" enum:"sampler,one_step" doc:"How t_star = \"auto\" computes D(t): sampler runs the ICR chains from every grid step (t+1 network passes each); one_step denoises the noised values in one step, x̂₀ = (x_t − √(1−ᾱ)ε̂)/√ᾱ (one pass per grid step; the same curve in expectation when the posterior is Gaussian), for cross-validation at scale."`
	SelectSamples int       `attr:"select_samples" doc:"Chains per row of the t* sweep; 0 means samples (then a sampler sweep's outputs at t* are the result, no second run)."`
	Channels      int       `attr:"channels" doc:"Channels C of the network (CSDI: 64)."`
	Layers        int       `attr:"layers" doc:"Residual blocks (CSDI: 4)."`
	Heads         int       `attr:"heads" doc:"Attention heads of the feature transformer; must divide channels (CSDI: 8)."`
	FFN           int       `attr:"ffn" doc:"Feed-forward width of the transformer layers (CSDI: 64)."`
	Dropout       float64   `attr:"dropout" doc:"Dropout of the transformer layers during training (CSDI: 0.1)."`
	Steps         int       `attr:"steps" doc:"Adam steps of training; the learning rate drops ×0.1 at 75% and 90% of them."`
	Batch         int       `attr:"batch" doc:"Rows per training batch (CSDI: 16)."`
	LR            float64   `attr:"lr" doc:"Adam learning rate (CSDI: 0.001)."`
	WeightDecay   float64   `attr:"weight_decay" doc:"L2 weight decay added to the gradient, as torch.optim.Adam (CSDI: 1e-6)."`
	Masks         string    `attr:"masks" enum:"mix,random,target" doc:"Training masks: mix (half target-only, half CSDI-random), random (CSDI), target (the noised columns only)."`
	Conditioning  string    `attr:"conditioning" enum:"step,noise_level" doc:"step: the network sees the step index (CSDI); noise_level: it sees log(ᾱ/(1−ᾱ)) and trains on noise levels across noise_range, so one trained model serves every schedule (the model is then cached independently of the schedule)."`
	NoiseRange    []float64 `attr:"noise_range" doc:"Log-SNR range [lo, hi] trained on with conditioning = \"noise_level\"; every step the regularization runs must fall inside it."`
}

// DefaultConfig returns the defaults of a csdi block; see the package documentation for why.
func defaultNodeConfig() nodeConfig {
	d := DefaultTrainConfig()
	return nodeConfig{
		TStar: TStar{Auto: true}, Samples: 16, GridStep: 5, SelectMethod: SelectSampler,
		Channels: d.Channels, Layers: d.Layers, Heads: d.Heads, FFN: d.FFN, Dropout: d.Dropout,
		Steps: d.Steps, Batch: d.Batch, LR: d.LR, WeightDecay: d.WeightDecay,
		Masks: d.Masks, Conditioning: d.Conditioning, NoiseRange: d.NoiseRange[:],
	}
}

// DefaultTrainConfig is the default training configuration of the csdi node.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{
		Arch:  Arch{Channels: 16, Layers: 2, Heads: 2, FFN: 64, Dropout: 0.1},
		Steps: 800, Batch: 16, LR: 1e-3, WeightDecay: 1e-6,
		Masks: MasksMix, Conditioning: CondStep, NoiseRange: [2]float64{-3, 10},
	}
}

func (c *nodeConfig) train() TrainConfig {
	t := TrainConfig{
		Arch:  Arch{Channels: c.Channels, Layers: c.Layers, Heads: c.Heads, FFN: c.FFN, Dropout: c.Dropout},
		Steps: c.Steps, Batch: c.Batch, LR: c.LR, WeightDecay: c.WeightDecay,
		Masks: c.Masks, Conditioning: c.Conditioning,
	}
	if len(c.NoiseRange) == 2 {
		t.NoiseRange = [2]float64{c.NoiseRange[0], c.NoiseRange[1]}
	}
	return t
}

func (c *nodeConfig) icr() ICRConfig {
	ic := ICRConfig{TStar: c.TStar.Step, GridStep: c.GridStep, Samples: c.Samples, SelectSamples: c.SelectSamples, SelectMethod: c.SelectMethod}
	if c.TStar.Auto {
		ic.TStar = -1
	}
	if ic.SelectSamples == 0 {
		ic.SelectSamples = c.Samples
	}
	if !c.TStar.Auto { // not used: normalized so that it does not enter keys
		ic.GridStep, ic.SelectSamples, ic.SelectMethod = 0, 0, ""
	}
	return ic
}

// Validate implements lang.Validator.
func (c *nodeConfig) Validate() error {
	var errs lang.AttrErrors
	add := func(attr, summary, detail string) {
		errs = append(errs, &lang.AttrError{Attr: attr, Summary: summary, Detail: detail})
	}
	pos := func(attr string, v int) {
		if v < 1 {
			add(attr, fmt.Sprintf("%s = %d", attr, v), fmt.Sprintf("%s must be a positive whole number.", attr))
		}
	}
	pos("samples", c.Samples)
	pos("t_star_grid", c.GridStep)
	pos("channels", c.Channels)
	pos("layers", c.Layers)
	pos("heads", c.Heads)
	pos("ffn", c.FFN)
	pos("steps", c.Steps)
	pos("batch", c.Batch)
	if c.SelectSamples < 0 {
		add("select_samples", fmt.Sprintf("select_samples = %d", c.SelectSamples), "select_samples is a number of chains (0: as many as samples).")
	}
	if c.Heads > 0 && c.Channels > 0 && c.Channels%c.Heads != 0 {
		add("heads", fmt.Sprintf("%d heads do not divide %d channels", c.Heads, c.Channels), "Each attention head takes channels/heads of the channels: choose heads dividing channels (e.g. channels = 16, heads = 2).")
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		add("dropout", fmt.Sprintf("dropout = %v", c.Dropout), "dropout is a probability in [0, 1).")
	}
	if !(c.LR > 0) {
		add("lr", fmt.Sprintf("lr = %v", c.LR), "The learning rate must be positive.")
	}
	if !(c.WeightDecay >= 0) {
		add("weight_decay", fmt.Sprintf("weight_decay = %v", c.WeightDecay), "weight_decay must be non-negative.")
	}
	if len(c.NoiseRange) != 2 || !(c.NoiseRange[0] < c.NoiseRange[1]) {
		add("noise_range", "noise_range must be [lo, hi] with lo < hi", "The log-SNR range trained on with conditioning = \"noise_level\", e.g. [-3, 10]: log(ᾱ/(1−ᾱ)) of the noisiest and the least noisy step used.")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Result is the value of a csdi node: the regularized table (the noised columns replaced by
// their ICR values, everything else unchanged) with how it was made — the model columns,
// the training and ICR configuration and the schedule, from which evaluate rebuilds the
// regularizer inside its folds — and the diagnostics for the report.
type Result struct {
	Table    *table.Table
	Columns  []string // model columns, in model order
	Noised   []string
	Train    TrainConfig
	ICR      ICRConfig
	Betas    []float64
	TStar    int
	AlphaBar float64
	Curves   *Curves // the selection's curves (t_star = "auto"), else nil
	// Per noised column: the OLS slope and intercept of the regularized on the measured
	// values (the shrinkage factor) and the mean absolute change, in the column's units.
	Slope, Intercept, MeanAbsDelta []float64
	Loss                           []float64 // training loss per segment of training
}

// TypeName implements nodes.Value.
func (r *Result) TypeName() string { return "icr" }

// AsTable implements nodes.Tabular: downstream nodes take the regularized table.
func (r *Result) AsTable() *table.Table { return r.Table }

// resultWire is Result without its table, which is stored by its own encoding (gob would
// otherwise call the table's MarshalBinary through the pointer).
type resultWire struct {
	Table                          []byte
	Columns, Noised                []string
	Train                          TrainConfig
	ICR                            ICRConfig
	Betas                          []float64
	TStar                          int
	AlphaBar                       float64
	Curves                         *Curves
	Slope, Intercept, MeanAbsDelta []float64
	Loss                           []float64
}

// MarshalBinary implements nodes.Value (gob: deterministic, no maps; floats keep bits).
func (r *Result) MarshalBinary() ([]byte, error) {
	tb, err := r.Table.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return nodes.GobEncode(&resultWire{tb, r.Columns, r.Noised, r.Train, r.ICR, r.Betas, r.TStar, r.AlphaBar, r.Curves, r.Slope, r.Intercept, r.MeanAbsDelta, r.Loss})
}

func decodeResult(b []byte) (nodes.Value, error) {
	var w resultWire
	if err := nodes.GobDecode(b, &w); err != nil {
		return nil, err
	}
	t, err := table.Decode(w.Table)
	if err != nil {
		return nil, err
	}
	return &Result{t, w.Columns, w.Noised, w.Train, w.ICR, w.Betas, w.TStar, w.AlphaBar, w.Curves, w.Slope, w.Intercept, w.MeanAbsDelta, w.Loss}, nil
}

// Summary implements nodes.Summarizer.
func (r *Result) Summary() string {
	var b strings.Builder
	how := "given"
	if r.Curves != nil {
		how = "auto"
	}
	fmt.Fprintf(&b, "t* = %d (%s), ᾱ_t* = %.4f, %d rows", r.TStar, how, r.AlphaBar, r.Table.NumRows())
	for i, n := range r.Noised {
		fmt.Fprintf(&b, "; %s: shrinkage slope %.3f, mean |Δ| %.4g", n, r.Slope[i], r.MeanAbsDelta[i])
	}
	return b.String()
}

// Artifacts implements nodes.Artifacter: the regularized table (CSV, JSON), a summary
// (JSON), and for t_star = "auto" the displacement curve (CSV) with figures of D(t) and of
// its second difference.
func (r *Result) Artifacts() (map[string][]byte, error) {
	out := map[string][]byte{".csv": r.Table.CSV(), ".json": r.Table.JSON()}
	sum := map[string]any{
		"t_star": r.TStar, "t_star_auto": r.Curves != nil, "alpha_bar": r.AlphaBar,
		"rows": r.Table.NumRows(), "columns": r.Columns, "noised": r.Noised,
		"train": r.Train, "icr": r.ICR, "train_loss": r.Loss,
	}
	per := map[string]any{}
	for i, n := range r.Noised {
		per[n] = map[string]float64{"slope": r.Slope[i], "intercept": r.Intercept[i], "mean_abs_delta": r.MeanAbsDelta[i]}
	}
	sum["per_column"] = per
	sj, err := json.MarshalIndent(jsonSafe(sum), "", "  ")
	if err != nil {
		return nil, err
	}
	out["_summary.json"] = append(sj, '\n')
	if c := r.Curves; c != nil {
		var b bytes.Buffer
		b.WriteString("t,alpha_bar,log_snr,D,D_noised,H,H_log_snr\n")
		s, err := diffusion.New(r.Betas)
		if err != nil {
			return nil, err
		}
		x := make([]float64, len(c.Grid))
		for g, t := range c.Grid {
			x[g] = float64(t)
			dn := math.NaN()
			if c.DNoised != nil {
				dn = c.DNoised[g]
			}
			fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s,%s\n", t, table.FormatFloat(s.AlphaBar(t)), table.FormatFloat(c.LogSNR[g]),
				table.FormatFloat(c.D[g]), table.FormatFloat(dn), table.FormatFloat(c.H[g]), table.FormatFloat(c.HLogSNR[g]))
		}
		out["_curve.csv"] = b.Bytes()
		mark := func(y []float64) plot.Series {
			return plot.Series{Name: fmt.Sprintf("t* = %d", c.TStar), X: []float64{float64(c.TStar)}, Y: []float64{y[indexOf(c.Grid, c.TStar)]}, Points: true}
		}
		series := []plot.Series{{Name: "D(t): denoised − nominal", X: x, Y: c.D}}
		if c.DNoised != nil {
			series = append(series, plot.Series{Name: "denoised − noised", X: x, Y: c.DNoised, Dash: true})
		}
		series = append(series, mark(c.D))
		d := &plot.Chart{Title: "ICR displacement (standardized units)", XLabel: "truncation step t", YLabel: "mean squared displacement", Series: series}
		out["_curve.svg"] = d.SVG()
		zero := 0.0
		h := &plot.Chart{Title: "second difference of D over t", XLabel: "truncation step t", YLabel: "H(t)", HLine: &zero,
			Series: []plot.Series{{Name: "H(t)", X: x, Y: c.H}, mark(c.H)}}
		out["_curvature.svg"] = h.SVG()
	}
	return out, nil
}

func indexOf(xs []int, v int) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return 0
}

// jsonSafe replaces non-finite floats (which JSON cannot hold) by nil, recursively.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case []float64:
		out := make([]any, len(x))
		for i, f := range x {
			out[i] = jsonSafe(f)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	case map[string]float64:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	}
	return v
}

// Regularizer implements nodes.RegularizerSource: the same regularization (training
// configuration, schedule, t* rule, samples) as a cv.Regularizer for evaluate, on the
// evaluate table's columns. The model conditions on this node's conditioning columns, which
// must be features of the evaluation, and noises the evaluation's target, which must be
// this node's only noised column. Trainings, selections and regularized values are
// memoized through c.Memo, keyed by configuration and the fold's data, so re-running an
// evaluation does not retrain.
func (r *Result) Regularizer(c *nodes.Context, features []string, target string) (cv.Regularizer, error) {
	if len(r.Noised) != 1 || r.Noised[0] != target {
		return nil, fmt.Errorf("the csdi block regularizes %s, but evaluate can only regularize the target %q of its data: set noised = [%q] in the csdi block", strings.Join(quote(r.Noised), ", "), target, target)
	}
	idx := map[string]int{}
	for j, f := range features {
		idx[f] = j
	}
	reg := &Regularizer{Train: r.Train, ICR: r.ICR, Memo: c.Memo, Run: Runner(c.Parallel)}
	for _, col := range r.Columns {
		if col == target {
			continue
		}
		j, ok := idx[col]
		if !ok {
			return nil, fmt.Errorf("the csdi block's model conditions on %q, which is not a feature of the evaluation (its features: %s); evaluate the table the csdi block was trained on, or set columns in the csdi block", col, strings.Join(features, ", "))
		}
		reg.Columns = append(reg.Columns, j)
		reg.Names = append(reg.Names, col)
	}
	reg.Names = append(reg.Names, target)
	s, err := diffusion.New(r.Betas)
	if err != nil {
		return nil, err
	}
	reg.Schedule = s
	return reg, nil
}

func quote(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Quote(x)
	}
	return out
}

// Register adds the csdi block kind and the value types of its results and memoized
// sub-results to r.
func Register(r *nodes.Registry) {
	r.RegisterValue("icr", decodeResult)
	r.RegisterValue(modelType, decodeModelValue)
	r.RegisterValue(sweepType, decodeSweepValue)
	r.RegisterValue(valuesType, decodeValuesValue)
	nodes.Register(r, nodes.Def[nodeConfig]{
		Name: "csdi",
		Doc: "Input consistency regularization with a CSDI diffusion model (Tashiro et al. 2021, tabular layout: one " +
			"token per column, feature transformer, gated residual blocks): trains the model on the table's rows with " +
			"random and target-only conditional masks, then noises the noised columns of every row to step t* of the " +
			"schedule and denoises them conditioned on the other columns (DDPM sampler, lower median over samples). " +
			"The value is the table with the noised columns replaced; evaluate (regularize = csdi.NAME) redoes the " +
			"regularization inside each training fold. The trained model is cached on its own, so changing only " +
			"t_star, samples or the evaluation does not retrain; its seed comes from the study seed, so csdi blocks " +
			"with the same data and training settings share it (with conditioning = \"noise_level\", across schedules).",
		Version:  1,
		Output:   "table",
		Seeded:   true,
		Defaults: defaultNodeConfig(),
		Run:      run,
	})
}

func run(c *nodes.Context, cfg *nodeConfig) (nodes.Value, error) {
	tb, err := c.Table(cfg.Data)
	if err != nil {
		return nil, err
	}
	sv, ok := c.Input(cfg.Schedule).(*nodes.ScheduleValue)
	if !ok {
		return nil, c.AttrError("schedule", "Not a noise schedule", fmt.Sprintf("%s does not produce a noise schedule.", cfg.Schedule.Addr))
	}
	s := sv.Schedule
	noised := cfg.Noised
	if len(noised) == 0 {
		if tb.Target == "" {
			return nil, c.AttrError("noised", "No column to regularize", fmt.Sprintf("%s has no target column: set noised = [\"COLUMN\"] here, or a target in its dataset or table block.", cfg.Data.Addr))
		}
		noised = []string{tb.Target}
	}
	numeric := func(attr, name string) error {
		col := tb.Col(name)
		if col == nil {
			detail := fmt.Sprintf("%s has no column %q.", cfg.Data.Addr, name)
			if sug := lang.Suggest(name, tb.Names()); sug != "" {
				detail += fmt.Sprintf(" Did you mean %q?", sug)
			}
			return c.AttrError(attr, "Unknown column "+name, detail)
		}
		if !col.IsNum() {
			return c.AttrError(attr, "Column "+name+" is not numeric", fmt.Sprintf("The column %q of %s holds text; the diffusion model takes numeric columns only.", name, cfg.Data.Addr))
		}
		return nil
	}
	seen := map[string]bool{}
	for _, n := range noised {
		if err := numeric("noised", n); err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, c.AttrError("noised", n+" is listed twice", "")
		}
		seen[n] = true
	}
	columns := cfg.Columns
	if len(columns) == 0 {
		for _, col := range tb.Cols {
			if col.IsNum() {
				columns = append(columns, col.Name)
			}
		}
	}
	inModel := map[string]bool{}
	var model []string
	for _, n := range columns {
		if err := numeric("columns", n); err != nil {
			return nil, err
		}
		if !inModel[n] {
			inModel[n] = true
			model = append(model, n)
		}
	}
	for _, n := range noised {
		if !inModel[n] {
			model = append(model, n)
			inModel[n] = true
		}
	}
	if len(model) <= len(noised) {
		return nil, c.AttrError("columns", "Nothing to condition on", fmt.Sprintf("The model would see only the noised columns %s; ICR denoises them conditioned on other columns.", strings.Join(quote(noised), ", ")))
	}
	var noisedIdx []int
	for j, n := range model {
		if seen[n] {
			noisedIdx = append(noisedIdx, j)
		}
	}
	n := tb.NumRows()
	M := mat.NewDense(n, len(model), nil)
	for j, name := range model {
		for i, v := range tb.Col(name).Num {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: row %q has no value in column %q; drop such rows (where = \"!isnan(%s)\") or leave the column out of the model (columns = [...] in %s)", cfg.Data.Addr, tb.IDs[i], name, name, c.Addr)
			}
			M.Set(i, j, v)
		}
	}
	if n < 2 {
		return nil, fmt.Errorf("%s has %d rows; the diffusion model needs at least 2", cfg.Data.Addr, n)
	}
	tc, ic := cfg.train(), cfg.icr()
	T := s.T()
	if !cfg.TStar.Auto && cfg.TStar.Step >= T {
		return nil, c.AttrError("t_star", fmt.Sprintf("t_star = %d is not a step of the schedule", cfg.TStar.Step), fmt.Sprintf("%s has T = %d steps, t = 0..%d.", cfg.Schedule.Addr, T, T-1))
	}
	if cfg.TStar.Auto && len(Grid(T, ic.GridStep)) < 3 {
		return nil, c.AttrError("t_star_grid", fmt.Sprintf("t_star_grid = %d leaves fewer than 3 grid steps", ic.GridStep), fmt.Sprintf("The curvature of D(t) needs at least 3 steps of 0, h, 2h, … < T = %d.", T))
	}
	maxStep := ic.TStar
	if cfg.TStar.Auto {
		g := Grid(T, ic.GridStep)
		maxStep = g[len(g)-1]
	}
	// The training seed comes from the study seed, not the instance: csdi blocks with the
	// same data and training settings share one trained model (with noise-level
	// conditioning, whatever their schedules).
	trainSeed := nodes.DeriveSeed(c.StudySeed, "csdi/train")
	key := ModelKey(tc, trainSeed, M, model, noisedIdx, s)
	m, err := trainMemo(c, c.Memo, key, M, TrainOptions{Config: tc, Columns: model, Noised: noisedIdx, Schedule: s, Seed: trainSeed, Progress: c.Progress})
	if err != nil {
		return nil, err
	}
	if err := m.CheckSchedule(s, maxStep); err != nil {
		return nil, c.AttrError("noise_range", "The schedule leaves the trained noise range", err.Error())
	}
	run := Runner(c.Parallel)
	res := &Result{Columns: model, Noised: noised, Train: tc, ICR: ic, Betas: s.Betas(nil), Loss: m.Loss}
	var reg []float64
	if cfg.TStar.Auto {
		sw, err := m.SelectTStar(c, s, M, Grid(T, ic.GridStep), ic.SelectMethod, ic.SelectSamples, c.Rand("select"), run)
		if err != nil {
			return nil, err
		}
		res.TStar, res.Curves = sw.Selection.TStar, curvesOf(sw.Selection)
		if r := sw.RegAt(res.TStar); r != nil && ic.SelectSamples == ic.Samples {
			reg = m.destandardize(r)
		}
	} else {
		res.TStar = ic.TStar
	}
	if reg == nil {
		if reg, err = m.Regularize(c, s, M, res.TStar, ic.Samples, c.Rand("icr"), run); err != nil {
			return nil, err
		}
	}
	res.AlphaBar = s.AlphaBar(res.TStar)
	out := &table.Table{IDs: tb.IDs, Target: tb.Target, Formula: tb.Formula}
	d := len(noisedIdx)
	for _, col := range tb.Cols {
		if !seen[col.Name] {
			out.Cols = append(out.Cols, col)
			continue
		}
		di := indexOf(noisedIdx, indexOfString(model, col.Name))
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = reg[i*d+di]
		}
		out.Cols = append(out.Cols, &table.Column{Name: col.Name, Num: vals})
	}
	for _, name := range noised {
		meas, got := tb.Col(name).Num, out.Col(name).Num
		slope, icpt := stats.LinearFit(meas, got)
		res.Slope, res.Intercept = append(res.Slope, slope), append(res.Intercept, icpt)
		res.MeanAbsDelta = append(res.MeanAbsDelta, stats.MAE(meas, got))
	}
	res.Table = out
	return res, out.Validate()
}

func indexOfString(xs []string, v string) int {
	for i, x := range xs {
		if x == v {
			return i
		}
	}
	return -1
}

// TruncationSweep regularizes the noised column of every row of data — the table this csdi
// block was given — at each step of grid, with the block's own trained model (served from
// the cache, not retrained) and common random numbers across steps: the material of the
// Hessian analysis of the truncation step. It returns the conditioning columns X (the
// model's columns other than the noised one), the measured values y, and per grid step the
// regularized values, in the column's units.
func (r *Result) TruncationSweep(c *nodes.Context, data *table.Table, grid []int, samples int) (X *mat.Dense, y []float64, reg [][]float64, err error) {
	m, M, s, err := r.model(c, data, grid)
	if err != nil {
		return nil, nil, nil, err
	}
	sw, err := m.SelectTStar(c, s, M, grid, SelectSampler, samples, c.Rand("truncation sweep"), Runner(c.Parallel))
	if err != nil {
		return nil, nil, nil, err
	}
	for g := range grid {
		reg = append(reg, m.destandardize(sw.Reg[g]))
	}
	n, u := len(data.IDs), m.Noised[0]
	X = mat.NewDense(n, len(r.Columns)-1, nil)
	for j, k := 0, 0; j < len(r.Columns); j++ {
		if j != u {
			col := make([]float64, n)
			for i := 0; i < n; i++ {
				col[i] = M.At(i, j)
			}
			X.SetCol(k, col)
			k++
		}
	}
	y = data.Col(r.Noised[0]).Num
	return X, y, reg, nil
}

// InputHessian runs the input-Hessian diagnostic (csdi_icr.md §2.5(b), Model.InputHessian)
// on the given rows of data — the table this csdi block was given — with the block's own
// trained model, at each step of grid.
func (r *Result) InputHessian(c *nodes.Context, data *table.Table, rows, grid []int, samples int, step float64) (*InputHessians, error) {
	m, M, s, err := r.model(c, data, grid)
	if err != nil {
		return nil, err
	}
	return m.InputHessian(c, s, M, rows, grid, samples, step, c.Rand("input hessian"), Runner(c.Parallel))
}

// model checks that data is the table this block regularized and returns the block's
// trained model (from the cache), the model's columns of data and the schedule, checked up
// to the last step of grid. The block must noise one column.
func (r *Result) model(c *nodes.Context, data *table.Table, grid []int) (*Model, *mat.Dense, *diffusion.Schedule, error) {
	if len(r.Noised) != 1 {
		return nil, nil, nil, fmt.Errorf("the csdi block regularizes %d columns; the truncation analysis takes one", len(r.Noised))
	}
	if len(data.IDs) != len(r.Table.IDs) {
		return nil, nil, nil, fmt.Errorf("the data table has %d rows, the csdi block regularized %d: give the table the csdi block was trained on", len(data.IDs), len(r.Table.IDs))
	}
	for i, id := range data.IDs {
		if r.Table.IDs[i] != id {
			return nil, nil, nil, fmt.Errorf("row %d of the data table is %q, but %q in the csdi block's table: give the table the csdi block was trained on", i, id, r.Table.IDs[i])
		}
	}
	n := len(data.IDs)
	M := mat.NewDense(n, len(r.Columns), nil)
	var noisedIdx []int
	for j, name := range r.Columns {
		col := data.Col(name)
		if col == nil || !col.IsNum() {
			return nil, nil, nil, fmt.Errorf("the data table has no numeric column %q, which the csdi block's model uses", name)
		}
		M.SetCol(j, col.Num)
		if name == r.Noised[0] {
			noisedIdx = append(noisedIdx, j)
		} else if rc := r.Table.Col(name); rc == nil || !slices.Equal(rc.Num, col.Num) {
			return nil, nil, nil, fmt.Errorf("column %q of the data table differs from the csdi block's: give the table the csdi block was trained on", name)
		}
	}
	s, err := diffusion.New(r.Betas)
	if err != nil {
		return nil, nil, nil, err
	}
	trainSeed := nodes.DeriveSeed(c.StudySeed, "csdi/train")
	key := ModelKey(r.Train, trainSeed, M, r.Columns, noisedIdx, s)
	m, err := trainMemo(c, c.Memo, key, M, TrainOptions{Config: r.Train, Columns: r.Columns, Noised: noisedIdx, Schedule: s, Seed: trainSeed, Progress: c.Progress})
	if err != nil {
		return nil, nil, nil, err
	}
	if err := m.CheckSchedule(s, slices.Max(grid)); err != nil {
		return nil, nil, nil, err
	}
	return m, M, s, nil
}
