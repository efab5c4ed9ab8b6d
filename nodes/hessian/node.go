// Package hessian is the `hessian` node kind: the loss-landscape analysis of the diffusion
// truncation step (preprint §3.2, methods/models.md §6). For every truncation step t on a
// grid, the measured targets are regularized at t by a csdi block's trained model, a small
// MLP regressor is fitted to them, and the Hessian of its mean-squared-error loss at the
// trained weights is summarized: top eigenvalue, trace and spectral density (PyHessian's
// algorithms, stdlib/hessian). A flatter landscape (smaller λ_max and trace) at larger t is
// what the preprint reads as a better-conditioned problem; the rescale-only control — the
// targets shrunk toward their mean by the same factor, with no model — tells how much of
// that is the mere shrinkage of the targets' scale.
//
// With input_rows > 0 it also computes the input-Hessian diagnostic of csdi_icr.md §2.5(b):
// the Hessian of the expected ICR displacement with respect to a compound's descriptors,
// by central finite differences through the diffusion model with common random numbers
// (csdi.Model.InputHessian), summarized by its largest |eigenvalue| per grid step.
package hessian

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"text/tabwriter"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/nodes/csdi"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
	hess "github.com/ntedsl/ntedsl/stdlib/hessian"
	"github.com/ntedsl/ntedsl/stdlib/plot"
	"github.com/ntedsl/ntedsl/stdlib/stats"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type config struct {
	Source       lang.Ref `attr:"source,required" accepts:"table" doc:"The csdi block whose truncation step is analysed (its trained model is reused from the cache)."`
	Data         lang.Ref `attr:"data,required" accepts:"table" doc:"The table that csdi block was given (its measured targets and descriptors)."`
	Grid         int      `attr:"grid" doc:"Truncation steps analysed: 0, grid, 2·grid, … < T, plus the block's t*."`
	Samples      int      `attr:"samples" doc:"Reverse chains per row whose lower median is the regularized value."`
	Hidden       []int    `attr:"hidden" doc:"Hidden layer widths of the MLP regressor."`
	Activation   string   `attr:"activation" enum:"tanh,relu" doc:"Hidden activation of the MLP."`
	WeightDecay  float64  `attr:"weight_decay" doc:"L2 penalty of the fit, which gives a few dozen rows a well-defined minimum; negative eigenvalues down to −weight_decay are its artifact and are not counted as negative curvature."`
	Seeds        int      `attr:"seeds" doc:"MLP initializations per step; seed s starts from the same weights at every t (paired)."`
	Control      bool     `attr:"control" doc:"Also analyse the rescale-only control: y′ = ȳ + c_t(y − ȳ), c_t = SD(y_reg(t))/SD(y)."`
	InputRows    int      `attr:"input_rows" doc:"Rows (spread evenly over the table) for the input-Hessian diagnostic: the Hessian of the expected ICR displacement with respect to the row's descriptors (central differences through the diffusion model, common random numbers) at every grid step, its largest |eigenvalue| averaged over the rows, and the largest t before that curvature exceeds twice its t = 0 level. 0 skips it. Each grid step costs (2p² + 1)·input_rows·input_samples chains for p descriptors."`
	InputStep    float64  `attr:"input_step" doc:"Finite-difference step of the input Hessian, in SDs of each descriptor."`
	InputSamples int      `attr:"input_samples" doc:"Chains per perturbed row of the input Hessian; their mean is differentiated."`
}

func (c *config) Validate() error {
	var errs lang.AttrErrors
	if c.Grid < 1 {
		errs = append(errs, &lang.AttrError{Attr: "grid", Summary: fmt.Sprintf("grid = %d", c.Grid), Detail: "The grid step must be at least 1."})
	}
	if c.Samples < 1 {
		errs = append(errs, &lang.AttrError{Attr: "samples", Summary: fmt.Sprintf("samples = %d", c.Samples), Detail: "At least one reverse chain per row is needed."})
	}
	if c.Seeds < 1 {
		errs = append(errs, &lang.AttrError{Attr: "seeds", Summary: fmt.Sprintf("seeds = %d", c.Seeds), Detail: "At least one MLP initialization is needed."})
	}
	if len(c.Hidden) == 0 || slices.ContainsFunc(c.Hidden, func(h int) bool { return h < 1 }) {
		errs = append(errs, &lang.AttrError{Attr: "hidden", Summary: "hidden layers must be positive widths", Detail: "Give at least one hidden layer, e.g. hidden = [8]."})
	}
	if c.InputRows < 0 {
		errs = append(errs, &lang.AttrError{Attr: "input_rows", Summary: fmt.Sprintf("input_rows = %d", c.InputRows), Detail: "A number of rows ≥ 0 (0 skips the input Hessian)."})
	}
	if !(c.InputStep > 0) || c.InputStep > 1 {
		errs = append(errs, &lang.AttrError{Attr: "input_step", Summary: fmt.Sprintf("input_step = %v", c.InputStep), Detail: "The finite-difference step is a fraction of a descriptor's SD, 0 < step ≤ 1 (0.05 is usual)."})
	}
	if c.InputSamples < 1 {
		errs = append(errs, &lang.AttrError{Attr: "input_samples", Summary: fmt.Sprintf("input_samples = %d", c.InputSamples), Detail: "At least one chain per perturbed row is needed."})
	}
	if !(c.WeightDecay >= 0) {
		errs = append(errs, &lang.AttrError{Attr: "weight_decay", Summary: fmt.Sprintf("weight_decay = %v", c.WeightDecay), Detail: "The weight decay is a number ≥ 0."})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Row is the analysis of one fit.
type Row struct {
	Arm       string // "icr" or "rescale"
	T         int    // truncation step
	Seed      int
	Scale     float64 // SD of the fitted targets over SD of the measured ones
	Loss      float64 // final training loss (data part)
	GradNorm  float64
	LambdaMax float64 // top eigenvalue (largest |λ|, signed)
	Trace     float64
	TraceSE   float64
	NegMass   float64 // SLQ weight of appreciably negative eigenvalues
	Converged bool    // the fit reached its gradient tolerance
}

// Result is the value of a hessian node.
type Result struct {
	Source   string
	TStar    int
	Params   int
	Grid     []int
	AlphaBar []float64 // ᾱ_t per grid step
	Rows     []Row
	// Density per arm, grid step and seed 0: the smoothed spectral density.
	DensityGrid, Density [][]float64
	DensityLabel         []string
	// Input is the input-Hessian diagnostic (nil unless input_rows > 0); InputIDs name its
	// rows.
	Input    *csdi.InputHessians
	InputIDs []string
}

// inputFactor is §2.5(b)'s threshold: curvature up to twice its t = 0 level.
const inputFactor = 2

type wire Result

// TypeName implements nodes.Value.
func (r *Result) TypeName() string { return "hessian" }

// MarshalBinary implements nodes.Value (gob, no maps: deterministic; floats keep bits).
func (r *Result) MarshalBinary() ([]byte, error) { return nodes.GobEncode((*wire)(r)) }

func decode(data []byte) (nodes.Value, error) {
	var w wire
	err := nodes.GobDecode(data, &w)
	return (*Result)(&w), err
}

// median of the rows of one arm and step, by field.
func (r *Result) stat(arm string, t int, get func(Row) float64) (med, lo, hi float64) {
	var xs []float64
	for _, row := range r.Rows {
		if row.Arm == arm && row.T == t {
			xs = append(xs, get(row))
		}
	}
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	sort.Float64s(xs)
	return stats.LowerMedian(xs), xs[0], xs[len(xs)-1]
}

func (r *Result) arms() []string {
	arms := []string{"icr"}
	for _, row := range r.Rows {
		if row.Arm == "rescale" {
			return append(arms, "rescale")
		}
	}
	return arms
}

// Summary gives, per arm and step, the medians over seeds.
func (r *Result) Summary() string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "arm\tt\tᾱ_t\ttarget SD ratio\tλ_max\ttrace\tneg. mass\t")
	for _, arm := range r.arms() {
		for g, t := range r.Grid {
			lm, _, _ := r.stat(arm, t, func(x Row) float64 { return x.LambdaMax })
			tr, _, _ := r.stat(arm, t, func(x Row) float64 { return x.Trace })
			nm, _, _ := r.stat(arm, t, func(x Row) float64 { return x.NegMass })
			sc, _, _ := r.stat(arm, t, func(x Row) float64 { return x.Scale })
			mark := ""
			if t == r.TStar {
				mark = " (t*)"
			}
			fmt.Fprintf(tw, "%s\t%d%s\t%.4f\t%.3f\t%.4g\t%.4g\t%.3f\t\n", arm, t, mark, r.AlphaBar[g], sc, lm, tr, nm)
		}
	}
	tw.Flush()
	fmt.Fprintf(&b, "Medians over seeds of an MLP with %d parameters fitted at each truncation step t of %s (t = 0: no regularization).\n", r.Params, r.Source)
	b.WriteString("rescale: the targets shrunk toward their mean by the same factor, no model — the flattening due to scale alone.\n")
	if in := r.Input; in != nil {
		fmt.Fprintf(&b, "\nInput Hessian of the ICR displacement w.r.t. the descriptors (%d rows, step %g SD, standardized units):\n", len(in.Rows), in.Step)
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "t\tmean max |λ|\tmin\tmax\t")
		curv := in.Curvature()
		for g, t := range in.Grid {
			lo, hi := slices.Min(in.MaxAbsEig[g]), slices.Max(in.MaxAbsEig[g])
			fmt.Fprintf(tw, "%d\t%.4g\t%.4g\t%.4g\t\n", t, curv[g], lo, hi)
		}
		tw.Flush()
		suggested := in.Suggest(inputFactor)
		fmt.Fprintf(&b, "Largest t before the curvature exceeds %d× its t = %d level: %d (t* of %s: %d).\n", inputFactor, in.Grid[0], suggested, r.Source, r.TStar)
		if suggested == in.Grid[0] && in.Grid[0] == 0 {
			b.WriteString("At t = 0 ICR hardly moves the values (1 − ᾱ_0 is tiny), so that level is near zero and the rule cannot pass t = 0; read the curve: how fast the displacement's dependence on the descriptors bends as t grows.\n")
		}
	}
	return b.String()
}

// Artifacts writes every fit as CSV, the summary, and figures of λ_max and the trace
// against t (medians, min–max bars) and of the spectral densities.
func (r *Result) Artifacts() (map[string][]byte, error) {
	t := &table.Table{}
	var arm []string
	cols := map[string][]float64{}
	names := []string{"t", "seed", "alpha_bar", "scale", "loss", "grad_norm", "lambda_max", "trace", "trace_se", "neg_mass", "converged"}
	for i, row := range r.Rows {
		t.IDs = append(t.IDs, strconv.Itoa(i))
		arm = append(arm, row.Arm)
		g := slices.Index(r.Grid, row.T)
		conv := 0.0
		if row.Converged {
			conv = 1
		}
		for _, n := range names {
			v := map[string]float64{"t": float64(row.T), "seed": float64(row.Seed), "alpha_bar": r.AlphaBar[g], "scale": row.Scale,
				"loss": row.Loss, "grad_norm": row.GradNorm, "lambda_max": row.LambdaMax, "trace": row.Trace, "trace_se": row.TraceSE,
				"neg_mass": row.NegMass, "converged": conv}[n]
			cols[n] = append(cols[n], v)
		}
	}
	t.Cols = append(t.Cols, &table.Column{Name: "arm", Str: arm})
	for _, n := range names {
		t.Cols = append(t.Cols, &table.Column{Name: n, Num: cols[n]})
	}
	out := map[string][]byte{".csv": t.CSV(), ".txt": []byte(r.Summary())}
	for _, metric := range []struct {
		name, label string
		get         func(Row) float64
	}{{"lambda_max", "top Hessian eigenvalue λ_max", func(x Row) float64 { return x.LambdaMax }}, {"trace", "Hessian trace", func(x Row) float64 { return x.Trace }}} {
		ch := &plot.Chart{Title: fmt.Sprintf("%s vs truncation step (t* = %d)", metric.label, r.TStar), XLabel: "truncation step t", YLabel: metric.label}
		for _, a := range r.arms() {
			s := plot.Series{Name: a}
			for _, tt := range r.Grid {
				m, lo, hi := r.stat(a, tt, metric.get)
				s.X, s.Y, s.ErrLow, s.ErrHigh = append(s.X, float64(tt)), append(s.Y, m), append(s.ErrLow, lo), append(s.ErrHigh, hi)
			}
			ch.Series = append(ch.Series, s)
		}
		out["_"+metric.name+".svg"] = ch.SVG()
	}
	if in := r.Input; in != nil {
		var csv bytes.Buffer
		csv.WriteString("t,row,id,max_abs_eig,grad_norm\n")
		ch := &plot.Chart{Title: fmt.Sprintf("input Hessian of the ICR displacement (suggested t = %d)", in.Suggest(inputFactor)), XLabel: "truncation step t", YLabel: "mean over rows of max |λ|"}
		curv := in.Curvature()
		s := plot.Series{Name: fmt.Sprintf("%d rows (min–max)", len(in.Rows))}
		for g, t := range in.Grid {
			for k, row := range in.Rows {
				fmt.Fprintf(&csv, "%d,%d,%s,%s,%s\n", t, row, r.InputIDs[k], table.FormatFloat(in.MaxAbsEig[g][k]), table.FormatFloat(math.Sqrt(floats.Dot(in.Grad[g][k], in.Grad[g][k]))))
			}
			s.X, s.Y = append(s.X, float64(t)), append(s.Y, curv[g])
			s.ErrLow, s.ErrHigh = append(s.ErrLow, slices.Min(in.MaxAbsEig[g])), append(s.ErrHigh, slices.Max(in.MaxAbsEig[g]))
		}
		ch.Series = append(ch.Series, s)
		out["_input.csv"] = csv.Bytes()
		out["_input.svg"] = ch.SVG()
	}
	if len(r.Density) > 0 {
		ch := &plot.Chart{Title: "Hessian eigenvalue density (seed 0)", XLabel: "eigenvalue", YLabel: "density (log scale)", LogY: true}
		for i := range r.Density {
			d := make([]float64, len(r.Density[i]))
			for k, v := range r.Density[i] {
				d[k] = v + 1e-7 // PyHessian plots density + 1e-7 on a log axis
			}
			ch.Series = append(ch.Series, plot.Series{Name: r.DensityLabel[i], X: r.DensityGrid[i], Y: d})
		}
		out["_density.svg"] = ch.SVG()
	}
	return out, nil
}

// Register adds the hessian kind.
func Register(r *nodes.Registry) {
	r.RegisterValue("hessian", decode)
	nodes.Register(r, nodes.Def[config]{
		Name: "hessian",
		Doc: "Hessian analysis of the diffusion truncation step: for each step t of a grid, the targets regularized at t by a " +
			"csdi block's model, a small MLP regressor fitted to them (L-BFGS), and the top eigenvalue, trace (Hutchinson) and " +
			"spectral density (stochastic Lanczos quadrature) of its loss Hessian at the trained weights, exact Hessian-vector " +
			"products by Pearlmutter's R-operator; with the rescale-only control. Optionally (input_rows) the input Hessian: " +
			"the curvature of the expected ICR displacement in a compound's descriptors.",
		Version:  1,
		Output:   "hessian",
		Seeded:   true,
		Defaults: config{Grid: 5, Samples: 16, Hidden: []int{8}, Activation: "tanh", WeightDecay: 1e-3, Seeds: 5, Control: true, InputStep: 0.05, InputSamples: 8},
		Run:      run,
	})
}

func run(c *nodes.Context, cfg *config) (nodes.Value, error) {
	src, ok := c.Input(cfg.Source).(*csdi.Result)
	if !ok {
		return nil, c.AttrError("source", "Not a csdi block", fmt.Sprintf("%s is not a csdi block; the analysis needs a trained diffusion model.", cfg.Source.Addr))
	}
	data, err := c.Table(cfg.Data)
	if err != nil {
		return nil, err
	}
	T := len(src.Betas)
	grid := csdi.Grid(T, cfg.Grid)
	if !slices.Contains(grid, src.TStar) {
		grid = append(grid, src.TStar)
		slices.Sort(grid)
	}
	X, y, reg, err := src.TruncationSweep(c, data, grid, cfg.Samples)
	if err != nil {
		return nil, c.AttrError("data", "Cannot redo the regularization", err.Error())
	}
	// z-score X once; scale every target vector by the measured targets' mean and SD, so the
	// landscapes of all steps are in the same units and the shrinkage is not hidden.
	n, d := X.Dims()
	Xz := mat.NewDense(n, d, nil)
	for j := 0; j < d; j++ {
		col := mat.Col(nil, j, X)
		m, sd := stats.Mean(col), stats.PopSD(col)
		if sd == 0 {
			sd = 1
		}
		for i := range col {
			Xz.Set(i, j, (col[i]-m)/sd)
		}
	}
	my, sy := stats.Mean(y), stats.PopSD(y)
	scaled := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = (x - my) / sy
		}
		return out
	}
	act := hess.Tanh
	if cfg.Activation == "relu" {
		act = hess.ReLU
	}
	net := hess.MLP{Sizes: append(append([]int{d}, cfg.Hidden...), 1), Act: act}
	arms := []string{"icr"}
	if cfg.Control {
		arms = append(arms, "rescale")
	}
	type task struct {
		arm        string
		g, seed    int
		target     []float64
		scaleRatio float64
	}
	var tasks []task
	for _, arm := range arms {
		for g := range grid {
			target := reg[g]
			ratio := stats.PopSD(target) / sy
			if arm == "rescale" {
				target = make([]float64, n)
				for i := range y {
					target[i] = my + ratio*(y[i]-my)
				}
			}
			for s := 0; s < cfg.Seeds; s++ {
				tasks = append(tasks, task{arm, g, s, scaled(target), ratio})
			}
		}
	}
	sched, err := diffusion.New(src.Betas)
	if err != nil {
		return nil, err
	}
	res := &Result{Source: cfg.Source.Addr, TStar: src.TStar, Params: net.NumParams(), Grid: grid, Rows: make([]Row, len(tasks))}
	for _, t := range grid {
		res.AlphaBar = append(res.AlphaBar, sched.AlphaBar(t))
	}
	reports := make([]*hess.Report, len(tasks))
	settings := &hess.Settings{NegativeFloor: 1.5 * cfg.WeightDecay}
	err = c.Parallel(len(tasks), func(i int) error {
		tk := tasks[i]
		obj := hess.NewObjective(net, Xz, tk.target)
		// Seed s starts from the same weights at every step: the comparison over t is paired.
		fit, err := hess.Fit(c, obj, &hess.TrainSettings{WeightDecay: cfg.WeightDecay}, c.Rand("mlp", strconv.Itoa(tk.seed)))
		if err != nil {
			return err
		}
		rep, err := hess.Analyze(obj.HVP(fit.Theta), obj.NumParams(), settings, c.Rand("analyze", tk.arm, strconv.Itoa(grid[tk.g]), strconv.Itoa(tk.seed)))
		if err != nil {
			return err
		}
		reports[i] = rep
		res.Rows[i] = Row{Arm: tk.arm, T: grid[tk.g], Seed: tk.seed, Scale: tk.scaleRatio, Loss: fit.Loss, GradNorm: fit.GradNorm,
			LambdaMax: rep.TopEigenvalues[0], Trace: rep.Trace, TraceSE: rep.TraceSE, NegMass: rep.NegativeMass, Converged: fit.Status == "GradientThreshold"}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if cfg.InputRows > 0 {
		rows := make([]int, min(cfg.InputRows, n))
		for k := range rows {
			rows[k] = k * n / len(rows)
		}
		in, err := src.InputHessian(c, data, rows, grid, cfg.InputSamples, cfg.InputStep)
		if err != nil {
			return nil, c.AttrError("input_rows", "Cannot compute the input Hessian", err.Error())
		}
		res.Input = in
		for _, i := range rows {
			res.InputIDs = append(res.InputIDs, data.IDs[i])
		}
	}
	// Densities of seed 0 at t = 0, t* and the last step, per arm.
	for i, tk := range tasks {
		t := grid[tk.g]
		if tk.seed == 0 && (t == 0 || t == src.TStar || tk.g == len(grid)-1) && !(tk.arm == "rescale" && t == 0) {
			res.DensityGrid = append(res.DensityGrid, reports[i].Grid)
			res.Density = append(res.Density, reports[i].Density)
			res.DensityLabel = append(res.DensityLabel, fmt.Sprintf("%s t=%d", tk.arm, t))
		}
	}
	return res, nil
}
