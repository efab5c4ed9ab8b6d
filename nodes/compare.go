package nodes

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type compareConfig struct {
	Rows    map[string][]lang.Ref `attr:"rows,required" accepts:"evaluation" doc:"Row label → the evaluate blocks that fill the row, e.g. { \"w/o\" = [evaluate.raw], \"β_end 0.05\" = [evaluate.icr[\"b005\"], evaluate.dgp] }. A model's cell comes from the first listed evaluation that has the model in that arm."`
	Arms    []string              `attr:"arms" doc:"Arms shown, one line per row label and arm that any of its evaluations has, in this order: raw, A, A', B, B->meas, rescale, rescale->meas, shrink, shrink->meas."`
	RowArms map[string][]string   `attr:"row_arms" doc:"Arms for particular rows instead of arms, e.g. { \"w/o\" = [\"raw\"] } for a baseline row."`
	Order   []string              `attr:"order" doc:"Row labels in display order (each label of rows once); default: sorted."`
}

func (c *compareConfig) Validate() error {
	var errs lang.AttrErrors
	known := []string{"raw", "A", "A'", "B", "B->meas", "rescale", "rescale->meas", "shrink", "shrink->meas"}
	checkArms := func(attr string, arms []string) {
		for _, a := range arms {
			if !slices.Contains(known, a) {
				detail := "Arms are " + strings.Join(known, ", ") + "."
				if s := lang.Suggest(a, known); s != "" {
					detail = fmt.Sprintf("Did you mean %q? ", s) + detail
				}
				errs = append(errs, &lang.AttrError{Attr: attr, Summary: fmt.Sprintf("Unknown arm %q", a), Detail: detail})
			}
		}
	}
	checkArms("arms", c.Arms)
	for l, arms := range c.RowArms {
		if _, ok := c.Rows[l]; !ok {
			errs = append(errs, &lang.AttrError{Attr: "row_arms", Summary: fmt.Sprintf("row_arms names %q, which is not a label of rows", l)})
		}
		checkArms("row_arms", arms)
	}
	if len(c.Order) > 0 {
		labels := make([]string, 0, len(c.Rows))
		for l := range c.Rows {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		got := append([]string(nil), c.Order...)
		sort.Strings(got)
		if !slices.Equal(got, labels) {
			errs = append(errs, &lang.AttrError{Attr: "order", Summary: "order must list every row label once",
				Detail: fmt.Sprintf("The labels of rows are %s.", strings.Join(labels, ", "))})
		}
	}
	for l, refs := range c.Rows {
		if len(refs) == 0 {
			errs = append(errs, &lang.AttrError{Attr: "rows", Summary: fmt.Sprintf("Row %q has no evaluation", l), Detail: "List at least one evaluate block."})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Comparison is the value of a compare node: the preprint's Table 1 layout over several
// evaluations, one line per row label and arm (and variant, for evaluations of several
// descriptor sets), one column group per model.
type Comparison struct {
	Table *table.Table
}

// TypeName implements Value.
func (c *Comparison) TypeName() string { return "comparison" }

// AsTable implements Tabular.
func (c *Comparison) AsTable() *table.Table { return c.Table }

// MarshalBinary implements Value.
func (c *Comparison) MarshalBinary() ([]byte, error) { return c.Table.MarshalBinary() }

func decodeComparison(b []byte) (Value, error) {
	t, err := table.Decode(b)
	if err != nil {
		return nil, err
	}
	return &Comparison{Table: t}, nil
}

// Artifacts writes the table as CSV and JSON and the text layout.
func (c *Comparison) Artifacts() (map[string][]byte, error) {
	return map[string][]byte{".csv": c.Table.CSV(), ".json": c.Table.JSON(), ".txt": []byte(c.Summary())}, nil
}

// Summary lays the table out as Table 1: R² ± SD, RMSE ± SD and the mean p per model.
func (c *Comparison) Summary() string {
	t := c.Table
	var models []string
	for _, col := range t.Cols {
		if m, ok := strings.CutSuffix(col.Name, "_r2"); ok {
			models = append(models, m)
		}
	}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	h := []string{"", "arm", "eval"}
	for _, m := range models {
		h = append(h, cv.TableHeader(m)...)
	}
	fmt.Fprintln(tw, strings.Join(h, "\t"))
	num := func(name string, i int) float64 { return t.Col(name).Num[i] }
	reps := map[int]bool{}
	for i := range t.IDs {
		row := []string{t.Col("label").Str[i], t.Col("arm").Str[i], t.Col("eval").Str[i]}
		for _, m := range models {
			r := num(m+"_reps", i)
			if math.IsNaN(r) { // the model has no cell on this line
				row = append(row, "", "", "")
				continue
			}
			reps[int(r)] = true
			row = append(row, cv.TableCells(num(m+"_r2", i), num(m+"_r2_sd", i), num(m+"_rmse", i), num(m+"_rmse_sd", i), num(m+"_p", i))...)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	var rs []string
	for r := range reps {
		rs = append(rs, fmt.Sprint(r))
	}
	sort.Strings(rs)
	fmt.Fprintf(&b, "± is the SD over repetitions (%s repetitions; per cell in the CSV's *_reps). p is the mean per-repetition Pearson p.\n", strings.Join(rs, ", "))
	b.WriteString("Only lines with eval = measured are comparable with each other; the others score against transformed targets.\n")
	c.writeAgainstRaw(&b, models)
	return b.String()
}

// writeAgainstRaw lays out the paired comparison of every measured-target arm with raw:
// does the gain survive scoring against the measured values?
func (c *Comparison) writeAgainstRaw(b *bytes.Buffer, models []string) {
	t := c.Table
	var rows [][]string
	for i := range t.IDs {
		row := []string{t.Col("label").Str[i], t.Col("arm").Str[i]}
		has := false
		for _, m := range models {
			d, p := t.Col(m + "_drmse_vs_raw").Num[i], t.Col(m + "_p_vs_raw").Num[i]
			if math.IsNaN(d) {
				row = append(row, "", "")
				continue
			}
			has = true
			row = append(row, fmt.Sprintf("%+.3f", d), fmt.Sprintf("%.3g", p))
		}
		if has {
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("\nAgainst raw on the same folds, scored against the measured values:\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	h := []string{"", "arm"}
	for _, m := range models {
		h = append(h, m+" ΔRMSE", m+" p")
	}
	fmt.Fprintln(tw, strings.Join(h, "\t"))
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	b.WriteString("ΔRMSE is the mean over repetitions of RMSE(arm) − RMSE(raw) (negative: the arm predicts the measured values better); " +
		"p is the two-sided Wilcoxon signed-rank p over the paired repetitions (with R repetitions it cannot fall below 2/2^R).\n")
	// The verdict, per arm, read off the table above.
	var better, worse, none []string
	for _, arm := range []string{"A", "B->meas", "rescale->meas", "shrink->meas"} {
		var up, down []string
		seen := false
		for i := range t.IDs {
			if t.Col("arm").Str[i] != arm {
				continue
			}
			for _, m := range models {
				d, p := t.Col(m + "_drmse_vs_raw").Num[i], t.Col(m + "_p_vs_raw").Num[i]
				if math.IsNaN(d) {
					continue
				}
				seen = true
				cell := m + " (" + t.Col("label").Str[i] + ")"
				switch {
				case p < significance && d < 0:
					up = append(up, cell)
				case p < significance && d > 0:
					down = append(down, cell)
				}
			}
		}
		switch {
		case !seen:
		case len(up) == 0 && len(down) == 0:
			none = append(none, arm)
		default:
			if len(up) > 0 {
				better = append(better, arm+": "+strings.Join(up, ", "))
			}
			if len(down) > 0 {
				worse = append(worse, arm+": "+strings.Join(down, ", "))
			}
		}
	}
	fmt.Fprintf(b, "At p < %g:\n", significance)
	if len(better) > 0 {
		b.WriteString("  better than raw: " + strings.Join(better, "; ") + "\n")
	}
	if len(worse) > 0 {
		b.WriteString("  worse than raw: " + strings.Join(worse, "; ") + "\n")
	}
	if len(none) > 0 {
		b.WriteString("  no difference from raw for any model or row: " + strings.Join(none, ", ") + "\n")
	}
	b.WriteString("(B->meas and the controls' ->meas arms fit their regularizer on all rows, held-out targets included; only A keeps the held-out targets out.)\n")
}

// significance is the level at which the comparison with raw states a difference.
const significance = 0.05

func registerCompare(r *Registry) {
	r.RegisterValue("comparison", decodeComparison)
	Register(r, Def[compareConfig]{
		Name: "compare",
		Doc: "Collects the arms of several evaluations into one table in the preprint's Table 1 layout: a line per row " +
			"label and arm (e.g. w/o, each noise schedule), a column group per model with R² ± SD, RMSE ± SD and p; and, for every arm " +
			"scored against measured values, its paired difference to raw on the same folds (ΔRMSE, arm − raw) with the Wilcoxon p.",
		Version:  2,
		Output:   "table",
		Defaults: compareConfig{Arms: []string{"raw", "A", "B", "B->meas"}},
		Run:      runCompare,
	})
}

func runCompare(c *Context, cfg *compareConfig) (Value, error) {
	labels := cfg.Order
	if len(labels) == 0 {
		for l := range cfg.Rows {
			labels = append(labels, l)
		}
		sort.Strings(labels)
	}
	type line struct {
		label, arm, eval string
		cells            map[string]*cv.Series
		from             map[string]*cv.Result // the evaluation each cell came from
	}
	var lines []line
	var models []string
	for _, l := range labels {
		var evals []*cv.Result
		for _, ref := range cfg.Rows[l] {
			e, ok := c.Input(ref).(*Evaluation)
			if !ok {
				return nil, c.AttrError("rows", "Not an evaluation", fmt.Sprintf("%s (row %q) is not an evaluate block.", ref.Addr, l))
			}
			evals = append(evals, e.Result)
		}
		arms := cfg.Arms
		if a, ok := cfg.RowArms[l]; ok {
			arms = a
		}
		// Evaluations of several variants (descriptor sets) give a line per variant.
		var variants []string
		for _, res := range evals {
			for _, s := range res.Series {
				if !slices.Contains(variants, s.Variant) {
					variants = append(variants, s.Variant)
				}
			}
		}
		for _, arm := range arms {
			for _, v := range variants {
				label := l
				if len(variants) > 1 {
					label = l + " (" + v + ")"
				}
				ln := line{label: label, arm: arm, cells: map[string]*cv.Series{}, from: map[string]*cv.Result{}}
				for _, res := range evals {
					for i := range res.Series {
						s := &res.Series[i]
						if s.Arm != arm || s.Variant != v || ln.cells[s.Model] != nil {
							continue
						}
						ln.cells[s.Model], ln.from[s.Model], ln.eval = s, res, s.Eval
						if !slices.Contains(models, s.Model) {
							models = append(models, s.Model)
						}
					}
				}
				if len(ln.cells) > 0 {
					lines = append(lines, ln)
				}
			}
		}
	}
	if len(lines) == 0 {
		return nil, c.AttrError("arms", "No arm to show", fmt.Sprintf("None of the evaluations has any of the arms %s.", strings.Join(cfg.Arms, ", ")))
	}
	t := &table.Table{}
	str := map[string][]string{}
	num := map[string][]float64{}
	var numCols []string
	for _, m := range models {
		numCols = append(numCols, m+"_r2", m+"_r2_sd", m+"_rmse", m+"_rmse_sd", m+"_rmse_over_sd", m+"_p", m+"_eval_sd", m+"_reps",
			m+"_drmse_vs_raw", m+"_p_vs_raw")
	}
	perModel := len(numCols) / len(models)
	for _, ln := range lines {
		t.IDs = append(t.IDs, ln.label+" / "+ln.arm)
		str["label"] = append(str["label"], ln.label)
		str["arm"] = append(str["arm"], ln.arm)
		str["eval"] = append(str["eval"], ln.eval)
		for mi, m := range models {
			vals := make([]float64, perModel)
			for k := range vals {
				vals[k] = math.NaN() // the model has no cell on this line
			}
			if s := ln.cells[m]; s != nil {
				mn, sd := s.Summary.Mean, s.Summary.SD
				d, p := againstRaw(ln.from[m], s)
				vals = []float64{mn.R2, sd.R2, mn.RMSE, sd.RMSE, mn.RMSEOverSD, mn.P, mn.EvalSD, float64(s.Summary.Reps), d, p}
			}
			for k, v := range vals {
				name := numCols[mi*perModel+k]
				num[name] = append(num[name], v)
			}
		}
	}
	for _, n := range []string{"label", "arm", "eval"} {
		t.Cols = append(t.Cols, &table.Column{Name: n, Str: str[n]})
	}
	for _, n := range numCols {
		t.Cols = append(t.Cols, &table.Column{Name: n, Num: num[n]})
	}
	return &Comparison{Table: t}, t.Validate()
}

// againstRaw returns the mean paired difference of per-repetition RMSEs, arm − raw
// (negative: the arm has the lower error), and the Wilcoxon p of the evaluation's own test
// between the two, for an arm scored against measured targets; NaNs otherwise. The raw
// series is the same model and variant in the same evaluation, so the folds are the same.
func againstRaw(res *cv.Result, s *cv.Series) (float64, float64) {
	if s.Arm == "raw" || !s.Comparable() {
		return math.NaN(), math.NaN()
	}
	raw := cv.SeriesID{Variant: s.Variant, Arm: "raw", Model: s.Model}
	arm := cv.SeriesID{Variant: s.Variant, Arm: s.Arm, Model: s.Model}
	for _, t := range res.Tests {
		if t.Kind != "series" || t.Scores != "rep-rmse" {
			continue
		}
		switch {
		case t.A == raw && t.B == arm:
			return -t.MeanDiff, t.P
		case t.A == arm && t.B == raw:
			return t.MeanDiff, t.P
		}
	}
	return math.NaN(), math.NaN()
}
