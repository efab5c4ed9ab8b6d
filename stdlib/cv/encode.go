package cv

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Encoders. Column names are stable API. Floats are written with strconv 'g' and the
// shortest round-trip precision, so parsing a cell gives back the exact float64; CSV
// writes NaN as "NaN" and infinities as "+Inf"/"-Inf" (strconv's spellings), JSON
// writes NaN as null and infinities as the strings "+Inf"/"-Inf".

func ff(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func seriesCols(s *Series) []string {
	return []string{s.Variant, string(s.Protocol), s.Arm, s.Eval, strconv.FormatBool(s.Comparable()), s.Model}
}

var seriesHeader = []string{"variant", "protocol", "arm", "eval", "comparable", "model"}

func writeCSV(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("cv: writing CSV: %w", err)
	}
	return nil
}

// WriteRepsCSV writes one row per (series, repetition): the series columns, rep, every
// metric and the note.
func WriteRepsCSV(w io.Writer, res *Result) error {
	h := append(append([]string{}, seriesHeader...), "rep")
	for _, f := range metricFields {
		h = append(h, f.name)
	}
	rows := [][]string{append(h, "note")}
	for i := range res.Series {
		s := &res.Series[i]
		for r := range s.Reps {
			row := append(seriesCols(s), strconv.Itoa(r))
			for _, f := range metricFields {
				row = append(row, ff(*f.get(&s.Reps[r])))
			}
			rows = append(rows, append(row, s.Reps[r].Note))
		}
	}
	return writeCSV(w, rows)
}

// WriteSummaryCSV writes one row per series: reps, then <metric>_mean, <metric>_sd
// (ddof 1) and <metric>_se (SD/√R) for every metric, then avgpred_<metric> for the
// metrics of the repetition-averaged predictions, and the note.
func WriteSummaryCSV(w io.Writer, res *Result) error {
	h := append(append([]string{}, seriesHeader...), "reps")
	for _, f := range metricFields {
		h = append(h, f.name+"_mean", f.name+"_sd", f.name+"_se")
	}
	for _, f := range metricFields {
		h = append(h, "avgpred_"+f.name)
	}
	rows := [][]string{append(h, "note")}
	for i := range res.Series {
		s := &res.Series[i]
		sm := &s.Summary
		row := append(seriesCols(s), strconv.Itoa(sm.Reps))
		for _, f := range metricFields {
			row = append(row, ff(*f.get(&sm.Mean)), ff(*f.get(&sm.SD)), ff(*f.get(&sm.SE)))
		}
		for _, f := range metricFields {
			row = append(row, ff(*f.get(&sm.AvgPred)))
		}
		rows = append(rows, append(row, sm.Note))
	}
	return writeCSV(w, rows)
}

// WritePredictionsCSV writes the out-of-fold predictions in long form: one row per
// (series, repetition, row) with the fold, the evaluation target, the prediction and its
// variance (NaN when the model gives none).
func WritePredictionsCSV(w io.Writer, res *Result) error {
	rows := [][]string{append(append([]string{}, seriesHeader...), "rep", "row", "fold", "target", "pred", "var")}
	for i := range res.Series {
		s := &res.Series[i]
		for r := range s.Pred {
			for k := range s.Pred[r] {
				v := math.NaN()
				if s.Var != nil {
					v = s.Var[r][k]
				}
				rows = append(rows, append(seriesCols(s), strconv.Itoa(r), strconv.Itoa(k),
					strconv.Itoa(res.FoldOf[r][k]), ff(s.Target[r][k]), ff(s.Pred[r][k]), ff(v)))
			}
		}
	}
	return writeCSV(w, rows)
}

// WriteTestsCSV writes the paired Wilcoxon tests.
func WriteTestsCSV(w io.Writer, res *Result) error {
	rows := [][]string{{"kind", "scores", "a_variant", "a_arm", "a_model", "b_variant", "b_arm", "b_model",
		"comparable", "n", "mean_diff", "median_diff", "statistic", "p", "method", "note"}}
	for _, t := range res.Tests {
		rows = append(rows, []string{t.Kind, t.Scores, t.A.Variant, t.A.Arm, t.A.Model, t.B.Variant, t.B.Arm, t.B.Model,
			strconv.FormatBool(t.Comparable), strconv.Itoa(t.N), ff(t.MeanDiff), ff(t.MedianDiff),
			ff(t.Statistic), ff(t.P), t.Method, t.Note})
	}
	return writeCSV(w, rows)
}

// WriteDiagnosticsCSV writes the regularization diagnostics and control constants.
func WriteDiagnosticsCSV(w io.Writer, res *Result) error {
	rows := [][]string{{"variant", "scope", "rep", "fold", "name", "value"}}
	for _, d := range res.Diagnostics {
		rows = append(rows, []string{d.Variant, d.Scope, strconv.Itoa(d.Rep), strconv.Itoa(d.Fold), d.Name, ff(d.Value)})
	}
	return writeCSV(w, rows)
}

// jf is a float64 that encodes as a JSON number with the shortest round-trip digits.
type jf float64

func (v jf) MarshalJSON() ([]byte, error) {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return []byte(ff(f)), nil
}

func jfs(v []float64) []jf {
	if v == nil {
		return nil
	}
	out := make([]jf, len(v))
	for i, x := range v {
		out[i] = jf(x)
	}
	return out
}

func jgrid(g [][]float64) [][]jf {
	if g == nil {
		return nil
	}
	out := make([][]jf, len(g))
	for i, r := range g {
		out[i] = jfs(r)
	}
	return out
}

// jmetrics is an ordered JSON object of the metric fields.
type jmetrics Metrics

func (m jmetrics) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	mm := Metrics(m)
	for i, f := range metricFields {
		if i > 0 {
			b.WriteByte(',')
		}
		v, _ := jf(*f.get(&mm)).MarshalJSON()
		fmt.Fprintf(&b, "%q:%s", f.name, v)
	}
	note, _ := json.Marshal(m.Note)
	fmt.Fprintf(&b, `,"note":%s}`, note)
	return b.Bytes(), nil
}

type jsummary struct {
	Reps    int      `json:"reps"`
	Mean    jmetrics `json:"mean"`
	SD      jmetrics `json:"sd"`
	SE      jmetrics `json:"se"`
	AvgPred jmetrics `json:"avgpred"`
	Note    string   `json:"note"`
}

type jseries struct {
	Variant    string     `json:"variant"`
	Protocol   string     `json:"protocol"`
	Arm        string     `json:"arm"`
	Eval       string     `json:"eval"`
	Comparable bool       `json:"comparable"`
	Model      string     `json:"model"`
	Summary    jsummary   `json:"summary"`
	Reps       []jmetrics `json:"reps"`
	FoldRMSE   [][]jf     `json:"fold_rmse"`
	Pred       [][]jf     `json:"pred"`
	Var        [][]jf     `json:"var"`
	Target     [][]jf     `json:"target"`
}

type jtest struct {
	Kind       string   `json:"kind"`
	Scores     string   `json:"scores"`
	A          SeriesID `json:"a"`
	B          SeriesID `json:"b"`
	Comparable bool     `json:"comparable"`
	N          int      `json:"n"`
	MeanDiff   jf       `json:"mean_diff"`
	MedianDiff jf       `json:"median_diff"`
	Statistic  jf       `json:"statistic"`
	P          jf       `json:"p"`
	Method     string   `json:"method"`
	Note       string   `json:"note"`
}

type jdiag struct {
	Variant string `json:"variant"`
	Scope   string `json:"scope"`
	Rep     int    `json:"rep"`
	Fold    int    `json:"fold"`
	Name    string `json:"name"`
	Value   jf     `json:"value"`
}

type jresult struct {
	Format      string    `json:"format"`
	N           int       `json:"n"`
	Folds       int       `json:"folds"`
	Repeats     int       `json:"repeats"`
	Seed        uint64    `json:"seed"`
	Level       jf        `json:"level"`
	FoldOf      [][]int   `json:"fold_of"`
	Series      []jseries `json:"series"`
	Tests       []jtest   `json:"tests"`
	Diagnostics []jdiag   `json:"diagnostics"`
}

// WriteJSON writes the whole result as one JSON document (format "ntedsl/cv/v1"), keys
// in a fixed order, with the same names as the CSV columns.
func WriteJSON(w io.Writer, res *Result) error {
	j := jresult{Format: "ntedsl/cv/v1", N: res.N, Folds: res.Folds, Repeats: res.Repeats, Seed: res.Seed,
		Level: jf(res.Level), FoldOf: res.FoldOf, Series: []jseries{}, Tests: []jtest{}, Diagnostics: []jdiag{}}
	for i := range res.Series {
		s := &res.Series[i]
		js := jseries{Variant: s.Variant, Protocol: string(s.Protocol), Arm: s.Arm, Eval: s.Eval,
			Comparable: s.Comparable(), Model: s.Model,
			Summary: jsummary{Reps: s.Summary.Reps, Mean: jmetrics(s.Summary.Mean), SD: jmetrics(s.Summary.SD),
				SE: jmetrics(s.Summary.SE), AvgPred: jmetrics(s.Summary.AvgPred), Note: s.Summary.Note},
			FoldRMSE: jgrid(s.FoldRMSE), Pred: jgrid(s.Pred), Var: jgrid(s.Var), Target: jgrid(s.Target)}
		for _, m := range s.Reps {
			js.Reps = append(js.Reps, jmetrics(m))
		}
		j.Series = append(j.Series, js)
	}
	for _, t := range res.Tests {
		j.Tests = append(j.Tests, jtest{t.Kind, t.Scores, t.A, t.B, t.Comparable, t.N, jf(t.MeanDiff),
			jf(t.MedianDiff), jf(t.Statistic), jf(t.P), t.Method, t.Note})
	}
	for _, d := range res.Diagnostics {
		j.Diagnostics = append(j.Diagnostics, jdiag{d.Variant, d.Scope, d.Rep, d.Fold, d.Name, jf(d.Value)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(j); err != nil {
		return fmt.Errorf("cv: writing JSON: %w", err)
	}
	return nil
}

// TableHeader returns a model's column names in the preprint's Table 1 layout.
func TableHeader(model string) []string {
	return []string{model + " R²", model + " RMSE", model + " p"}
}

// TableCells formats a model's cells in the Table 1 layout: R² ± SD, RMSE ± SD (SD over
// repetitions) and the mean p.
func TableCells(r2, r2SD, rmse, rmseSD, p float64) []string {
	return []string{fmt.Sprintf("%.3f ± %.3f", r2, r2SD), fmt.Sprintf("%.3f ± %.3f", rmse, rmseSD), fmt.Sprintf("%.2e", p)}
}

// WriteTable writes a plain-text table in the layout of the preprint's Table 1: one row
// per (variant, arm), and for each model R² ± SD, RMSE ± SD and the mean of the
// per-repetition p-values, followed by a legend.
func WriteTable(w io.Writer, res *Result) error {
	var models []string
	type rowKey struct{ variant, arm string }
	var keys []rowKey
	cells := map[rowKey]map[string]*Series{}
	evals := map[rowKey]string{}
	for i := range res.Series {
		s := &res.Series[i]
		k := rowKey{s.Variant, s.Arm}
		if cells[k] == nil {
			cells[k] = map[string]*Series{}
			keys = append(keys, k)
			evals[k] = s.Eval
		}
		cells[k][s.Model] = s
		known := false
		for _, m := range models {
			known = known || m == s.Model
		}
		if !known {
			models = append(models, s.Model)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	h := []string{"variant", "arm", "eval"}
	for _, m := range models {
		h = append(h, TableHeader(m)...)
	}
	fmt.Fprintln(tw, strings.Join(h, "\t"))
	for _, k := range keys {
		row := []string{k.variant, k.arm, evals[k]}
		for _, m := range models {
			s := cells[k][m]
			if s == nil {
				row = append(row, "", "", "")
				continue
			}
			mn, sd := &s.Summary.Mean, &s.Summary.SD
			row = append(row, TableCells(mn.R2, sd.R2, mn.RMSE, sd.RMSE, mn.P)...)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("cv: writing table: %w", err)
	}
	_, err := fmt.Fprintf(w, "\n%d-fold CV repeated %d times on %d rows. ± is the SD over repetitions (ddof 1); SE = SD/√%d is in the CSV/JSON.\n"+
		"p is the mean over repetitions of the Pearson p between predictions and evaluation targets.\n"+
		"Only rows with eval = measured are comparable with each other; B scores against regularized targets (the preprint's protocol) and is not comparable with A.\n",
		res.Folds, res.Repeats, res.N, res.Repeats)
	return err
}
