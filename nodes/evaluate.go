package nodes

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/plot"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type evaluateConfig struct {
	Data      lang.Ref             `attr:"data" accepts:"table" doc:"The table to cross-validate (its target column is predicted). Give data or variants."`
	Variants  map[string]lang.Ref  `attr:"variants" accepts:"table" doc:"Several tables with the same rows (e.g. descriptor sets), evaluated on the same folds so comparisons are paired; keys label them."`
	Models    []lang.Ref           `attr:"models,required" accepts:"model" key:"addr" doc:"The regressors to evaluate, e.g. [boost.xgb, pbp.pbp]; labelled by block name."`
	Features  []string             `attr:"features" doc:"Feature columns; default every numeric column except the target."`
	Folds     int                  `attr:"folds" doc:"K of the K-fold split (scikit-learn KFold: the first N mod K folds are one larger)."`
	Repeats   int                  `attr:"repeats" doc:"Repetitions, each with its own permutation of the rows (the preprint used 100)."`
	Interval  float64              `attr:"interval" doc:"Level of the central predictive interval whose coverage is reported for models with a predictive variance."`
	FoldTests bool                 `attr:"fold_tests" doc:"Also run Wilcoxon tests over the repeats × folds per-fold RMSEs."`
	Metrics   map[string]lang.Expr `attr:"metrics" doc:"Study metrics beside the built-in ones, name = expr-lang formula in pred (a held-out prediction), y (its evaluation target) and sd (its predictive SD, NaN without one), averaged over the held-out predictions of each repetition; e.g. { sign_ok = \"(pred < 0) == (y < 0) ? 1 : 0\", ape = \"abs(pred - y) / abs(y)\" }."`
	// Target regularization: the protocols of the ICR study (raw, A, B and the controls).
	Regularize   lang.Ref `attr:"regularize" accepts:"table" doc:"A target regularization to evaluate, e.g. csdi.icr: redone inside the folds (protocol A) or on all rows (B and the controls) with the block's settings. Its table is not used as data."`
	Protocols    []string `attr:"protocols" doc:"Protocols, each reported in its own arms, never mixed: raw (measured targets), A (regularize the training folds' targets; scored against measured targets, and as A' against regularized ones), B (the preprint's: regularize all targets first; scored against regularized targets, not comparable, and as B->meas), rescale (scale-only control through B), shrink (cheap shrinkage toward shrink_toward through B). Default [\"raw\", \"A\"] with regularize, [\"raw\"] without."`
	ShrinkToward lang.Ref `attr:"shrink_toward" accepts:"model" doc:"The cheap model ŷ(x) the shrink control shrinks toward, e.g. ridge.r (its weight is matched to the regularizer's displacement)."`
}

// RegularizerSource is implemented by values that can redo their target regularization on
// the rows cross-validation passes (the csdi node's value): features names the columns of
// the matrix the Regularizer will be given, in order, and target the column of y.
type RegularizerSource interface {
	Regularizer(c *Context, features []string, target string) (cv.Regularizer, error)
}

var protocolNames = []string{string(cv.Raw), string(cv.A), string(cv.B), string(cv.Rescale), string(cv.Shrink)}

// protocols returns the configured protocols, with the default filled in.
func (c *evaluateConfig) protocols() []string {
	if len(c.Protocols) > 0 {
		return c.Protocols
	}
	if c.Regularize.Addr != "" {
		return []string{string(cv.Raw), string(cv.A)}
	}
	return []string{string(cv.Raw)}
}

func (c *evaluateConfig) Validate() error {
	var errs lang.AttrErrors
	if (c.Data.Addr == "") == (len(c.Variants) == 0) {
		errs = append(errs, &lang.AttrError{Attr: "data", Summary: "give either data or variants", Detail: "An evaluate block cross-validates one table (data = ...) or several paired tables (variants = { name = ... }), not both and not neither."})
	}
	if c.Folds < 2 {
		errs = append(errs, &lang.AttrError{Attr: "folds", Summary: fmt.Sprintf("%d folds", c.Folds), Detail: "K-fold cross-validation needs at least 2 folds."})
	}
	if c.Repeats < 1 {
		errs = append(errs, &lang.AttrError{Attr: "repeats", Summary: fmt.Sprintf("%d repeats", c.Repeats), Detail: "At least one repetition is needed."})
	}
	if !(c.Interval > 0 && c.Interval < 1) {
		errs = append(errs, &lang.AttrError{Attr: "interval", Summary: fmt.Sprintf("level %v", c.Interval), Detail: "The interval level is a probability strictly between 0 and 1, e.g. 0.9."})
	}
	seenP := map[string]bool{}
	for _, p := range c.protocols() {
		switch {
		case !slices.Contains(protocolNames, p):
			detail := fmt.Sprintf("The protocols are %s.", strings.Join(protocolNames, ", "))
			if sug := lang.Suggest(p, protocolNames); sug != "" {
				detail = fmt.Sprintf("Did you mean %q? ", sug) + detail
			}
			errs = append(errs, &lang.AttrError{Attr: "protocols", Summary: fmt.Sprintf("unknown protocol %q", p), Detail: detail})
		case seenP[p]:
			errs = append(errs, &lang.AttrError{Attr: "protocols", Summary: p + " is listed twice"})
		case p != string(cv.Raw) && c.Regularize.Addr == "":
			errs = append(errs, &lang.AttrError{Attr: "protocols", Summary: "protocol " + p + " needs regularize", Detail: "Set regularize = csdi.NAME: every protocol but raw evaluates a target regularization."})
		case p == string(cv.Shrink) && c.ShrinkToward.Addr == "":
			errs = append(errs, &lang.AttrError{Attr: "shrink_toward", Summary: "the shrink control needs shrink_toward", Detail: "Set shrink_toward = ridge.NAME (or another cheap model): the control shrinks each target toward its out-of-fold prediction."})
		}
		seenP[p] = true
	}
	seen := map[string]bool{}
	for _, m := range c.Models {
		if seen[m.Addr] {
			errs = append(errs, &lang.AttrError{Attr: "models", Summary: m.Addr + " is listed twice"})
		}
		seen[m.Addr] = true
	}
	// Metric formulas have a fixed environment, so they are checked when the study loads.
	if _, _, diags := compileMetrics(c.Metrics); diags.HasErrors() {
		if len(errs) == 0 {
			return diags // at the offending token inside the string
		}
		for _, d := range diags {
			errs = append(errs, &lang.AttrError{Attr: "metrics", Summary: d.Summary, Detail: d.Detail})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Evaluation is the value of an evaluate node: the cross-validation result and the
// study's own metrics.
type Evaluation struct {
	Result  *cv.Result
	Metrics []CustomMetric
}

// evaluationData is Evaluation without methods, so gob encodes its fields.
type evaluationData Evaluation

func init() {
	gob.Register(cv.Protocol(""))
}

// TypeName implements Value.
func (e *Evaluation) TypeName() string { return "evaluation" }

// MarshalBinary implements Value with gob: the value holds no maps, so the encoding is
// deterministic, and float64 values keep their bits.
func (e *Evaluation) MarshalBinary() ([]byte, error) { return GobEncode((*evaluationData)(e)) }

func decodeEvaluation(data []byte) (Value, error) {
	var d evaluationData
	if err := GobDecode(data, &d); err != nil {
		return nil, err
	}
	return (*Evaluation)(&d), nil
}

// Summary is the preprint's Table 1 layout: variant × model with R² ± SD, RMSE ± SD, p.
func (e *Evaluation) Summary() string {
	var b bytes.Buffer
	if err := cv.WriteTable(&b, e.Result); err != nil {
		return err.Error()
	}
	if len(e.Metrics) > 0 {
		b.WriteString("\n" + metricsSummary(e.Result, e.Metrics))
	}
	return b.String()
}

// Artifacts writes the summary, per-repetition metrics, out-of-fold predictions, paired
// tests and regularization diagnostics as CSV, everything as JSON, and the text table.
func (e *Evaluation) Artifacts() (map[string][]byte, error) {
	out := map[string][]byte{}
	writers := map[string]func(*bytes.Buffer) error{
		".csv":             func(b *bytes.Buffer) error { return cv.WriteSummaryCSV(b, e.Result) },
		"_reps.csv":        func(b *bytes.Buffer) error { return cv.WriteRepsCSV(b, e.Result) },
		"_predictions.csv": func(b *bytes.Buffer) error { return cv.WritePredictionsCSV(b, e.Result) },
		"_tests.csv":       func(b *bytes.Buffer) error { return cv.WriteTestsCSV(b, e.Result) },
		".json":            func(b *bytes.Buffer) error { return cv.WriteJSON(b, e.Result) },
		".txt":             func(b *bytes.Buffer) error { b.WriteString(e.Summary()); return nil },
	}
	if len(e.Metrics) > 0 {
		writers["_metrics.csv"] = func(b *bytes.Buffer) error { writeMetricsCSV(b, e.Result, e.Metrics); return nil }
	}
	for name, svg := range e.figures() {
		out[name] = svg
	}
	if len(e.Result.Diagnostics) > 0 {
		writers["_diagnostics.csv"] = func(b *bytes.Buffer) error { return cv.WriteDiagnosticsCSV(b, e.Result) }
	}
	for suffix, w := range writers {
		var b bytes.Buffer
		if err := w(&b); err != nil {
			return nil, err
		}
		out[suffix] = b.Bytes()
	}
	return out, nil
}

func registerEvaluate(r *Registry) {
	r.RegisterValue("evaluation", decodeEvaluation)
	Register(r, Def[evaluateConfig]{
		Name: "evaluate",
		Doc: "Repeated K-fold cross-validation of regressors on one or more paired tables: per repetition R², RMSE, MAE, " +
			"Pearson r and its p-value (and NLL and interval coverage for models with a predictive variance); means with SD " +
			"and standard error; metrics of the predictions averaged over repetitions; paired Wilcoxon tests. Folds come from " +
			"the study seed, so every evaluate node of a study uses the same folds. With regularize (a csdi block) it evaluates " +
			"the target regularization under the protocols raw, A, B, rescale and shrink, each arm reported on its own with the SD " +
			"of its evaluation targets. metrics adds the study's own per-prediction formulas.",
		Version:     2,
		Output:      "evaluation",
		StudySeeded: true,
		Defaults:    evaluateConfig{Folds: 10, Repeats: 10, Interval: 0.9},
		Run:         runEvaluate,
	})
}

func runEvaluate(c *Context, cfg *evaluateConfig) (Value, error) {
	models, err := c.Models(cfg.Models)
	if err != nil {
		return nil, err
	}
	spec := cv.Spec{
		Folds:     cfg.Folds,
		Repeats:   cfg.Repeats,
		Seed:      DeriveSeed(c.StudySeed, "evaluate/folds"),
		Level:     cfg.Interval,
		FoldTests: cfg.FoldTests,
		Runner:    cv.Runner(c.Parallel),
		Progress:  c.Progress,
	}
	for i, m := range models {
		spec.Models = append(spec.Models, cv.Model{Key: modelLabel(cfg.Models[i].Addr), Regressor: m.Regressor})
	}
	var src RegularizerSource
	if cfg.Regularize.Addr != "" {
		v := c.Input(cfg.Regularize)
		var ok bool
		if src, ok = v.(RegularizerSource); !ok {
			return nil, c.AttrError("regularize", "Not a target regularization", fmt.Sprintf("%s produces a plain %s; regularize takes a block that regularizes targets, such as csdi.NAME.", cfg.Regularize.Addr, v.TypeName()))
		}
	}
	var shrink *ModelSpec
	if cfg.ShrinkToward.Addr != "" {
		ms, err := c.Models([]lang.Ref{cfg.ShrinkToward})
		if err != nil {
			return nil, err
		}
		shrink = ms[0]
	}
	var protos []cv.Protocol
	for _, p := range cfg.protocols() {
		protos = append(protos, cv.Protocol(p))
	}
	variants := cfg.Variants
	if cfg.Data.Addr != "" {
		variants = map[string]lang.Ref{modelLabel(cfg.Data.Addr): cfg.Data}
	}
	keys := make([]string, 0, len(variants))
	for k := range variants {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ids []string
	for _, k := range keys {
		ref := variants[k]
		t, err := c.Table(ref)
		if err != nil {
			return nil, err
		}
		if ids != nil && !sameIDs(ids, t) {
			return nil, c.AttrError("variants", "Variants have different rows", fmt.Sprintf("Paired evaluation needs the same rows in every variant; %s differs from %s.", ref.Addr, variants[keys[0]].Addr))
		}
		ids = t.IDs
		X, y, features, err := learningData(c, ref, t, cfg.Features, true)
		if err != nil {
			return nil, err
		}
		variant := cv.Variant{Key: k, X: X, Y: y, Protocols: protos}
		if src != nil {
			reg, err := src.Regularizer(c, features, t.Target)
			if err != nil {
				return nil, c.AttrError("regularize", "Cannot regularize "+ref.Addr, err.Error())
			}
			variant.Regularizer = reg
		}
		if shrink != nil {
			variant.ShrinkToward = shrink.Regressor
		}
		if t.NumRows() < cfg.Folds {
			return nil, c.AttrError("folds", "More folds than rows", fmt.Sprintf("%s has %d rows, fewer than the %d folds.", ref.Addr, t.NumRows(), cfg.Folds))
		}
		spec.Variants = append(spec.Variants, variant)
	}
	res, err := cv.Run(c, spec)
	if err != nil {
		return nil, err
	}
	metrics, err := scoreMetrics(res, cfg.Metrics)
	if err != nil {
		return nil, err
	}
	return &Evaluation{Result: res, Metrics: metrics}, nil
}

func sameIDs(ids []string, t *table.Table) bool {
	if len(ids) != len(t.IDs) {
		return false
	}
	for i := range ids {
		if ids[i] != t.IDs[i] {
			return false
		}
	}
	return true
}

// figures draws, per variant and arm, the predictions averaged over repetitions against
// the evaluation targets, one series per model: the preprint's predicted-vs-experimental
// plot. Arms scored against regularized targets say so in the title.
func (e *Evaluation) figures() map[string][]byte {
	type key struct{ variant, arm, eval string }
	var order []key
	charts := map[key]*plot.Chart{}
	for i := range e.Result.Series {
		s := &e.Result.Series[i]
		k := key{s.Variant, s.Arm, s.Eval}
		ch, ok := charts[k]
		if !ok {
			ch = &plot.Chart{Title: fmt.Sprintf("%s, arm %s: mean out-of-fold prediction vs %s target", s.Variant, s.Arm, s.Eval),
				XLabel: s.Eval + " target", YLabel: "prediction (mean over repetitions)", Diagonal: true}
			charts[k] = ch
			order = append(order, k)
		}
		n := len(s.Pred[0])
		x, y := make([]float64, n), make([]float64, n)
		for r := range s.Pred {
			for i := 0; i < n; i++ {
				x[i] += s.Target[r][i] / float64(len(s.Pred))
				y[i] += s.Pred[r][i] / float64(len(s.Pred))
			}
		}
		ch.Series = append(ch.Series, plot.Series{Name: s.Model, X: x, Y: y, Points: true})
	}
	out := map[string][]byte{}
	for _, k := range order {
		name := fmt.Sprintf("_%s_%s.svg", k.variant, strings.NewReplacer("'", "prime", "->", "_to_").Replace(k.arm))
		out[name] = charts[k].SVG()
	}
	return out
}
