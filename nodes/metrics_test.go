package nodes_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
)

// TestEvaluateStudyMetrics: a study metric is its formula averaged over the held-out
// predictions of each repetition. |pred − y| must reproduce the built-in MAE and
// (pred − y)² the square of the built-in RMSE, repetition by repetition; the sign metric
// is checked against a count made here from the predictions.
func TestEvaluateStudyMetrics(t *testing.T) {
	res, err, _ := runStudy(t, `
study { seed = 3 }
dataset "d" {
  source = "data.csv"
  target = "y"
}
meanmodel "m" {}
evaluate "e" {
  data    = dataset.d
  models  = [meanmodel.m]
  folds   = 5
  repeats = 4
  metrics = {
    abs_err = "abs(pred - y)"
    sq_err  = "(pred - y) * (pred - y)"
    sign_ok = "(pred < 0) == (y < 0) ? 1 : 0"
    has_sd  = "isnan(sd) ? 0 : 1"
  }
}`, map[string]string{"data.csv": trendCSV(-4)})
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Values["evaluate.e"].(*nodes.Evaluation)
	s := ev.Result.Series[0]
	byName := map[string][]float64{}
	for _, m := range ev.Metrics {
		byName[m.Name] = m.Values[0]
	}
	if len(byName) != 4 {
		t.Fatalf("metrics %v", ev.Metrics)
	}
	for r, m := range s.Reps {
		sign := 0.0
		for i, p := range s.Pred[r] {
			if (p < 0) == (s.Target[r][i] < 0) {
				sign++
			}
		}
		sign /= float64(len(s.Pred[r]))
		if math.Abs(byName["abs_err"][r]-m.MAE) > 1e-12 || math.Abs(byName["sq_err"][r]-m.RMSE*m.RMSE) > 1e-9 ||
			byName["sign_ok"][r] != sign || byName["has_sd"][r] != 0 {
			t.Errorf("rep %d: abs_err %v (MAE %v), sq_err %v (RMSE² %v), sign_ok %v (%v), has_sd %v",
				r, byName["abs_err"][r], m.MAE, byName["sq_err"][r], m.RMSE*m.RMSE, byName["sign_ok"][r], sign, byName["has_sd"][r])
		}
	}
	if sum := ev.Summary(); !strings.Contains(sum, "sign_ok") || !strings.Contains(sum, `sign_ok = mean of "(pred < 0) == (y < 0) ? 1 : 0"`) {
		t.Errorf("summary:\n%s", sum)
	}
	arts, err := ev.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	csv := string(arts["_metrics.csv"])
	if !strings.HasPrefix(csv, "variant,arm,eval,model,metric,mean,sd,se,rep0,rep1,rep2,rep3\n") || strings.Count(csv, "\n") != 5 {
		t.Errorf("_metrics.csv:\n%s", csv)
	}
}

// A metric formula that does not compile is a load error inside its string.
func TestEvaluateMetricErrorsAtLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "study.hcl")
	os.WriteFile(path, []byte(`dataset "d" { source = "data.csv" }
meanmodel "m" {}
evaluate "e" {
  data    = dataset.d
  models  = [meanmodel.m]
  metrics = { bad = "abs(pred - yy)" }
}
`), 0o644)
	_, diags := lang.Load(path, lang.Options{Catalog: coreRegistry()})
	if !diags.HasErrors() {
		t.Fatal("no diagnostic")
	}
	d := diags[0]
	if d.Subject.Start.Line != 6 || d.Subject.Start.Column <= 21 || !strings.Contains(d.Summary, "metric bad") || !strings.Contains(d.Detail, "yy") {
		t.Fatalf("diagnostic %s at %v", diags.Error(), d.Subject)
	}
}
