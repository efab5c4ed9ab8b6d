package nodes

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/hashicorp/hcl/v2"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/cv"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// CustomMetric is a metric a study defines in an evaluate block: an expr-lang formula
// evaluated at every held-out prediction and averaged over the predictions of a
// repetition, e.g. the fraction of compounds whose sign of expansion is predicted right,
// "(pred < 0) == (y < 0) ? 1 : 0".
type CustomMetric struct {
	Name, Src string
	// Values[s][r] is the metric of series s (in Result.Series order) in repetition r.
	Values [][]float64
}

// metricEnv is the typed environment of a metric formula: one held-out prediction, its
// evaluation target and its predictive SD (NaN for models without a variance).
func metricEnv() map[string]any { return map[string]any{"pred": 0.0, "y": 0.0, "sd": 0.0} }

// compileMetrics compiles each formula once, in name order.
func compileMetrics(metrics map[string]lang.Expr) ([]string, []*vm.Program, hcl.Diagnostics) {
	names := make([]string, 0, len(metrics))
	for n := range metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	var progs []*vm.Program
	var diags hcl.Diagnostics
	for _, n := range names {
		p, d := lang.CompileExpr(metrics[n], metricEnv(), lang.ExprFloat, "metric "+n)
		diags = append(diags, d...)
		progs = append(progs, p)
	}
	return names, progs, diags
}

// scoreMetrics evaluates the study's metrics on every series and repetition of a result.
func scoreMetrics(res *cv.Result, metrics map[string]lang.Expr) ([]CustomMetric, error) {
	names, progs, diags := compileMetrics(metrics)
	if diags.HasErrors() {
		return nil, Diagnostics(diags)
	}
	out := make([]CustomMetric, len(names))
	env := metricEnv()
	for k, name := range names {
		out[k] = CustomMetric{Name: name, Src: metrics[name].Src, Values: make([][]float64, len(res.Series))}
		for si := range res.Series {
			s := &res.Series[si]
			vals := make([]float64, len(s.Pred))
			for r := range s.Pred {
				sum := 0.0
				for i, p := range s.Pred[r] {
					env["pred"], env["y"], env["sd"] = p, s.Target[r][i], math.NaN()
					if s.Var != nil {
						env["sd"] = math.Sqrt(s.Var[r][i])
					}
					v, err := expr.Run(progs[k], env)
					if err != nil {
						return nil, Diagnostics{lang.ExprDiag(metrics[name], err, "Metric "+name+" failed")}
					}
					sum += v.(float64)
				}
				vals[r] = sum / float64(len(s.Pred[r]))
			}
			out[k].Values[si] = vals
		}
	}
	return out, nil
}

// writeMetricsCSV writes one line per series and metric: mean, SD and SE over repetitions,
// then the value of each repetition.
func writeMetricsCSV(b *bytes.Buffer, res *cv.Result, metrics []CustomMetric) {
	reps := res.Repeats
	b.WriteString("variant,arm,eval,model,metric,mean,sd,se")
	for r := 0; r < reps; r++ {
		fmt.Fprintf(b, ",rep%d", r)
	}
	b.WriteString("\n")
	num := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	for _, m := range metrics {
		for si := range res.Series {
			s := &res.Series[si]
			v := m.Values[si]
			fields := []string{s.Variant, s.Arm, s.Eval, s.Model, m.Name, num(stats.Mean(v)), num(stats.SD(v)), num(stats.SE(v))}
			for _, v := range m.Values[si] {
				fields = append(fields, num(v))
			}
			b.WriteString(strings.Join(fields, ",") + "\n")
		}
	}
}

// metricsSummary lays the metrics out as mean ± SD per variant, arm and model.
func metricsSummary(res *cv.Result, metrics []CustomMetric) string {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	h := []string{"variant", "arm", "eval", "model"}
	for _, m := range metrics {
		h = append(h, m.Name)
	}
	fmt.Fprintln(tw, strings.Join(h, "\t"))
	for si := range res.Series {
		s := &res.Series[si]
		row := []string{s.Variant, s.Arm, s.Eval, s.Model}
		for _, m := range metrics {
			row = append(row, fmt.Sprintf("%.4g ± %.2g", stats.Mean(m.Values[si]), stats.SD(m.Values[si])))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	var defs []string
	for _, m := range metrics {
		defs = append(defs, fmt.Sprintf("%s = mean of %q", m.Name, m.Src))
	}
	fmt.Fprintf(&b, "Study metrics, mean ± SD over repetitions; per repetition: %s over the held-out predictions (pred, y = evaluation target, sd = predictive SD).\n", strings.Join(defs, "; "))
	return b.String()
}
