package daggm

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
)

// nodeConfig declares the daggm block; its zero-attribute value is DefaultConfig.
type nodeConfig struct {
	Before     lang.Ref `attr:"before,required" accepts:"table" doc:"The compounds before regularization: the descriptor table with the measured target."`
	After      lang.Ref `attr:"after" accepts:"table" doc:"Optional: the same compounds (same row ids, any order) after regularization, e.g. a csdi node's regularized table. Without it only the before model is trained."`
	Columns    []string `attr:"columns" doc:"The columns the model sees; default every numeric column of before, the target included. after must have them all."`
	Scaling    string   `attr:"scaling" enum:"standard,minmax" doc:"Per-column input scaling with each table's own statistics: standard = (x − mean)/SD (population SD), minmax = (x − min)/(max − min). The relative-distance feature ‖x−x'‖/‖x‖ measures ‖x‖ from the centroid under standard (large for compounds near it) and from the all-minimum corner under minmax. A constant column scales to zeros."`
	Hidden     []int    `attr:"hidden" doc:"Hidden widths (tanh) of the encoder d → hidden… → latent; the decoder mirrors them."`
	Latent     int      `attr:"latent" doc:"Dimension of the compressed representation z_c (the encoder's linear output)."`
	EstHidden  []int    `attr:"estimation_hidden" doc:"Hidden widths (tanh, then dropout) of the estimation network (latent + 2) → … → components."`
	Components int      `attr:"components" doc:"Number K of Gaussian mixture components."`
	Dropout    float64  `attr:"dropout" doc:"Dropout rate in the estimation network during training (off when scoring)."`
	Lambda1    float64  `attr:"lambda1" doc:"Weight λ₁ of the mean sample energy in the loss."`
	Lambda2    float64  `attr:"lambda2" doc:"Weight λ₂ of the covariance-diagonal penalty Σ_k Σ_j 1/Σ_k,jj in the loss."`
	Jitter     float64  `attr:"jitter" doc:"ε added to every covariance diagonal before its Cholesky factorization in the energy."`
	LR         float64  `attr:"lr" doc:"Adam learning rate (full batch). The paper's 1e-4 was for minibatches over far more steps."`
	Steps      int      `attr:"steps" doc:"Full-batch Adam steps (= epochs) per model."`
	Bins       int      `attr:"bins" doc:"Number of equal-width bins of the histograms (shared by before and after)."`
	Top        int      `attr:"top" doc:"How many compounds with the largest energy change the summary lists."`
}

func defaultNodeConfig() nodeConfig {
	d := DefaultConfig()
	return nodeConfig{
		Scaling: d.Scaling, Hidden: d.Hidden, Latent: d.Latent, EstHidden: d.EstHidden, Components: d.K,
		Dropout: d.Dropout, Lambda1: d.Lambda1, Lambda2: d.Lambda2, Jitter: d.Jitter, LR: d.LR, Steps: d.Steps,
		Bins: 12, Top: 8,
	}
}

func (c *nodeConfig) model() Config {
	return Config{
		Arch:    Arch{Hidden: c.Hidden, Latent: c.Latent, EstHidden: c.EstHidden, K: c.Components, Dropout: c.Dropout},
		Weights: Weights{Lambda1: c.Lambda1, Lambda2: c.Lambda2, Jitter: c.Jitter},
		Scaling: c.Scaling, LR: c.LR, Steps: c.Steps,
	}
}

// Validate reports every invalid attribute at once.
func (c *nodeConfig) Validate() error {
	var errs lang.AttrErrors
	add := func(attr, summary, detail string) {
		errs = append(errs, &lang.AttrError{Attr: attr, Summary: summary, Detail: detail})
	}
	for _, h := range c.Hidden {
		if h < 1 {
			add("hidden", fmt.Sprintf("width %d", h), "Every hidden layer needs at least one unit.")
		}
	}
	for _, h := range c.EstHidden {
		if h < 1 {
			add("estimation_hidden", fmt.Sprintf("width %d", h), "Every hidden layer needs at least one unit.")
		}
	}
	if c.Latent < 1 {
		add("latent", fmt.Sprintf("latent = %d", c.Latent), "The compressed representation needs at least one dimension.")
	}
	if c.Components < 1 {
		add("components", fmt.Sprintf("components = %d", c.Components), "A mixture needs at least one component.")
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		add("dropout", fmt.Sprintf("dropout = %v", c.Dropout), "The dropout rate is a probability in [0, 1).")
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"lambda1", c.Lambda1}, {"lambda2", c.Lambda2}, {"jitter", c.Jitter}} {
		if !(p.v >= 0) || math.IsInf(p.v, 0) {
			add(p.name, fmt.Sprintf("%s = %v", p.name, p.v), "It must be a finite number ≥ 0.")
		}
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		add("lr", fmt.Sprintf("lr = %v", c.LR), "The learning rate must be a finite number > 0, e.g. 1e-3.")
	}
	if c.Steps < 1 {
		add("steps", fmt.Sprintf("steps = %d", c.Steps), "Train for at least one step.")
	}
	if c.Bins < 1 {
		add("bins", fmt.Sprintf("bins = %d", c.Bins), "The histograms need at least one bin.")
	}
	if c.Top < 0 {
		add("top", fmt.Sprintf("top = %d", c.Top), "List zero or more compounds.")
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Register adds the daggm block kind.
func Register(r *nodes.Registry) {
	r.RegisterValue("daggm", decodeResult)
	nodes.Register(r, nodes.Def[nodeConfig]{
		Name: "daggm",
		Doc: "Deep Autoencoding Gaussian Mixture Model novelty analysis (Zong et al. 2018; the preprint's Fig. 8): one DAGMM " +
			"is trained on the compounds' table before regularization and one on the table after it, and every compound gets its " +
			"sample energy E(z) (−log density of its latent code under the fitted mixture; low = typical) and its reconstruction " +
			"errors ‖x−x'‖² and ‖x−x'‖/‖x‖, with histograms on shared bins. The after rows are also scored by the before model, " +
			"which compares both tables under one density. Both models start from the same initial weights and dropout masks, so " +
			"an unchanged table gives an unchanged model. Full-batch Adam; the mixture used for scoring is fitted on all rows with dropout off.",
		Version:  1,
		Output:   "daggm",
		Seeded:   true,
		Defaults: defaultNodeConfig(),
		Run:      run,
	})
}

// Side is one trained model and its scores of its own table.
type Side struct {
	Table   string    // address of the table
	Energy  []float64 // E(z) per compound
	SqErr   []float64 // ‖x − x'‖² in scaled units
	RelDist []float64 // ‖x − x'‖/‖x‖
	Cosine  []float64 // x·x'/(‖x‖‖x'‖)
	// Z is [z_c, relative distance, cosine] per compound (N × D, row-major) and Gamma the
	// memberships (N × K, row-major), dropout off.
	Z, Gamma []float64
	// The scoring mixture: weights [K], means [K·D], covariances [K·D·D] row-major.
	Phi, Mu, Sigma []float64
	Shift, Scale   []float64 // the input scaling, per column
	Trace          []float64 // loss J per training step (dropout on)
	// The loss parts on the whole table with dropout off after training.
	J, Recon, MeanEnergy, CovPenalty float64
	// Histogram counts on Result's shared edges.
	EnergyCounts, SqErrCounts, RelDistCounts []int
}

// Result is the value of a daggm node.
type Result struct {
	IDs     []string
	Columns []string
	Scaling string
	K, D    int // mixture components, latent dimension (Latent + 2)
	Steps   int
	Top     int
	Before  *Side
	After   *Side // nil without an after table
	// CrossEnergy and CrossSqErr score the after rows with the before model (nil without
	// an after table): both tables under one density.
	CrossEnergy, CrossSqErr []float64
	CrossEnergyCounts       []int
	// Shared histogram edges (bins + 1 each).
	EnergyEdges, SqErrEdges, RelDistEdges []float64
}

// TypeName implements nodes.Value.
func (r *Result) TypeName() string { return "daggm" }

// resultData is Result without methods, so gob encodes its fields.
type resultData Result

// MarshalBinary implements nodes.Value: gob of a struct without maps is deterministic and
// keeps float64 bits.
func (r *Result) MarshalBinary() ([]byte, error) { return nodes.GobEncode((*resultData)(r)) }

func decodeResult(data []byte) (nodes.Value, error) {
	var r resultData
	err := nodes.GobDecode(data, &r)
	return (*Result)(&r), err
}

// matrix extracts the columns of a table in the given row order; missing values are an
// error naming compound and column.
func matrix(c *nodes.Context, attr string, ref lang.Ref, rows []int, cols []string) (*mat.Dense, error) {
	t, err := c.Table(ref)
	if err != nil {
		return nil, err
	}
	X := mat.NewDense(len(rows), len(cols), nil)
	for j, name := range cols {
		col := t.Col(name)
		switch {
		case col == nil:
			return nil, c.AttrError(attr, "Missing column "+name, fmt.Sprintf("%s has no column %q (columns: %s).", ref.Addr, name, strings.Join(t.Names(), ", ")))
		case !col.IsNum():
			return nil, c.AttrError("columns", "Column "+name+" is not numeric", fmt.Sprintf("The column %q of %s holds text.", name, ref.Addr))
		}
		for i, r := range rows {
			v := col.Num[r]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: compound %q has no value in column %q; drop such rows (where = \"!isnan(%s)\") or leave the column out of columns", ref.Addr, t.IDs[r], name, name)
			}
			X.Set(i, j, v)
		}
	}
	return X, nil
}

func run(c *nodes.Context, cfg *nodeConfig) (nodes.Value, error) {
	before, err := c.Table(cfg.Before)
	if err != nil {
		return nil, err
	}
	n := before.NumRows()
	if n < 2 {
		return nil, c.AttrError("before", "Too few compounds", fmt.Sprintf("%s has %d rows; a mixture model needs at least 2 (and tens to be meaningful).", cfg.Before.Addr, n))
	}
	cols := cfg.Columns
	if len(cols) == 0 {
		for _, col := range before.Cols {
			if col.IsNum() {
				cols = append(cols, col.Name)
			}
		}
		if len(cols) == 0 {
			return nil, c.AttrError("before", "No numeric columns", cfg.Before.Addr+" has no numeric column to model.")
		}
	}
	seen := map[string]bool{}
	for _, name := range cols {
		if seen[name] {
			return nil, c.AttrError("columns", name+" is listed twice", "")
		}
		seen[name] = true
		if before.Col(name) == nil {
			return nil, c.AttrError("columns", "Unknown column "+name, fmt.Sprintf("%s has no column %q (columns: %s).", cfg.Before.Addr, name, strings.Join(before.Names(), ", ")))
		}
	}
	ident := make([]int, n)
	for i := range ident {
		ident[i] = i
	}
	Xb, err := matrix(c, "before", cfg.Before, ident, cols)
	if err != nil {
		return nil, err
	}
	tables := []*mat.Dense{Xb}
	refs := []lang.Ref{cfg.Before}
	if cfg.After.Addr != "" {
		after, err := c.Table(cfg.After)
		if err != nil {
			return nil, err
		}
		rows, err := alignRows(before.IDs, after.IDs)
		if err != nil {
			return nil, c.AttrError("after", "after has different compounds", fmt.Sprintf("%s and %s must hold the same row ids: %v", cfg.Before.Addr, cfg.After.Addr, err))
		}
		Xa, err := matrix(c, "after", cfg.After, rows, cols)
		if err != nil {
			return nil, err
		}
		tables = append(tables, Xa)
		refs = append(refs, cfg.After)
	}
	for j, name := range cols {
		if constant(Xb, j) {
			c.Warn(fmt.Sprintf("column %q is constant in %s: it scales to zeros and carries no information", name, cfg.Before.Addr))
		}
	}

	mc := cfg.model()
	models := make([]*Model, len(tables))
	labels := []string{"before", "after"}
	err = c.Parallel(len(tables), func(i int) error {
		// Both models draw from identically seeded streams (common random numbers): the
		// same initial weights and dropout masks, so identical tables give identical
		// models and every difference between before and after comes from the data.
		m, err := Fit(c, tables[i], mc, c.Rand("fit"))
		if err != nil {
			var re *RowError
			if errors.As(err, &re) {
				return fmt.Errorf("%s: compound %q is the zero vector after %s scaling (every column at its mean or minimum), so its relative reconstruction error is undefined; use the other scaling or drop the compound", refs[i].Addr, before.IDs[re.Row], cfg.Scaling)
			}
			return fmt.Errorf("training the %s model on %s: %w", labels[i], refs[i].Addr, err)
		}
		models[i] = m
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.Progress(len(tables), len(tables))

	res := &Result{IDs: append([]string(nil), before.IDs...), Columns: cols, Scaling: cfg.Scaling, K: cfg.Components,
		D: cfg.Latent + 2, Steps: cfg.Steps, Top: cfg.Top}
	side := func(i int) (*Side, error) {
		m := models[i]
		s, err := m.Score(tables[i])
		if err != nil {
			return nil, err
		}
		return &Side{Table: refs[i].Addr, Energy: s.Energy, SqErr: s.SqErr, RelDist: s.RelDist, Cosine: s.Cosine,
			Z: denseData(s.Z), Gamma: denseData(s.Gamma), Phi: m.GMM.Phi, Mu: m.GMM.Mu, Sigma: m.GMM.Sigma,
			Shift: m.Shift, Scale: m.Scale, Trace: m.Trace,
			J: m.Final.J.Value(), Recon: m.Final.Recon, MeanEnergy: m.Final.Energy, CovPenalty: m.Final.CovPenalty}, nil
	}
	if res.Before, err = side(0); err != nil {
		return nil, err
	}
	if len(tables) == 2 {
		if res.After, err = side(1); err != nil {
			return nil, err
		}
		cross, err := models[0].Score(tables[1])
		if err != nil {
			return nil, fmt.Errorf("scoring %s with the before model: %w", cfg.After.Addr, err)
		}
		res.CrossEnergy, res.CrossSqErr = cross.Energy, cross.SqErr
	}
	res.bin(cfg.Bins)
	return res, nil
}

func constant(X *mat.Dense, j int) bool {
	r, _ := X.Dims()
	for i := 1; i < r; i++ {
		if X.At(i, j) != X.At(0, j) {
			return false
		}
	}
	return true
}

// alignRows returns, for each id of want, its row in have; both must hold the same ids.
func alignRows(want, have []string) ([]int, error) {
	at := make(map[string]int, len(have))
	for i, id := range have {
		at[id] = i
	}
	rows := make([]int, len(want))
	var missing []string
	inWant := make(map[string]bool, len(want))
	for i, id := range want {
		inWant[id] = true
		r, ok := at[id]
		if !ok {
			missing = append(missing, id)
		}
		rows[i] = r
	}
	var extra []string
	for _, id := range have {
		if !inWant[id] {
			extra = append(extra, id)
		}
	}
	if len(missing) > 0 || len(extra) > 0 || len(have) != len(want) {
		return nil, fmt.Errorf("missing from after: %s; only in after: %s", listIDs(missing), listIDs(extra))
	}
	return rows, nil
}

func listIDs(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	if len(ids) > 5 {
		return strings.Join(ids[:5], ", ") + fmt.Sprintf(" and %d more", len(ids)-5)
	}
	return strings.Join(ids, ", ")
}

// bin sets the shared histogram edges and every side's counts.
func (r *Result) bin(bins int) {
	sides := []*Side{r.Before}
	if r.After != nil {
		sides = append(sides, r.After)
	}
	collect := func(f func(*Side) []float64, extra []float64) [][]float64 {
		var out [][]float64
		for _, s := range sides {
			out = append(out, f(s))
		}
		if extra != nil {
			out = append(out, extra)
		}
		return out
	}
	r.EnergyEdges = edges(bins, collect(func(s *Side) []float64 { return s.Energy }, r.CrossEnergy)...)
	r.SqErrEdges = edges(bins, collect(func(s *Side) []float64 { return s.SqErr }, nil)...)
	r.RelDistEdges = edges(bins, collect(func(s *Side) []float64 { return s.RelDist }, nil)...)
	for _, s := range sides {
		s.EnergyCounts = counts(r.EnergyEdges, s.Energy)
		s.SqErrCounts = counts(r.SqErrEdges, s.SqErr)
		s.RelDistCounts = counts(r.RelDistEdges, s.RelDist)
	}
	if r.CrossEnergy != nil {
		r.CrossEnergyCounts = counts(r.EnergyEdges, r.CrossEnergy)
	}
}

// edges returns bins+1 equal-width edges spanning every finite value of the samples
// (a unit-wide range centred on the value when they are all equal).
func edges(bins int, samples ...[]float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range samples {
		for _, v := range s {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	e := make([]float64, bins+1)
	for i := range e {
		e[i] = lo + (hi-lo)*float64(i)/float64(bins)
	}
	e[bins] = hi
	return e
}

// counts bins x on edges: bin i holds edges[i] ≤ v < edges[i+1], the last bin also v = max.
func counts(edges []float64, x []float64) []int {
	bins := len(edges) - 1
	out := make([]int, bins)
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		i := sort.SearchFloat64s(edges, v)
		// SearchFloat64s gives the first edge ≥ v: v on edge i belongs to bin i.
		if i < len(edges) && edges[i] == v {
			if i == bins {
				i--
			}
		} else {
			i--
		}
		out[max(0, min(i, bins-1))]++
	}
	return out
}
