package cv

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"os"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func parseCSV(t *testing.T, b []byte) (header []string, rows [][]string) {
	t.Helper()
	all, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return all[0], all[1:]
}

func col(header []string, name string) int {
	for i, h := range header {
		if h == name {
			return i
		}
	}
	return -1
}

func sameFloat(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

func TestCSVRoundTrip(t *testing.T) {
	res := mustRun(t, bigSpec(nil))
	var b bytes.Buffer
	if err := WriteRepsCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	h, rows := parseCSV(t, b.Bytes())
	if len(rows) != len(res.Series)*res.Repeats {
		t.Fatalf("%d rows", len(rows))
	}
	k := 0
	for i := range res.Series {
		for r := range res.Series[i].Reps {
			m := res.Series[i].Reps[r]
			for _, f := range metricFields {
				v, err := strconv.ParseFloat(rows[k][col(h, f.name)], 64)
				if err != nil || !sameFloat(v, *f.get(&m)) {
					t.Fatalf("row %d %s: %q does not round-trip %v", k, f.name, rows[k][col(h, f.name)], *f.get(&m))
				}
			}
			k++
		}
	}
	b.Reset()
	if err := WriteSummaryCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	h, rows = parseCSV(t, b.Bytes())
	for i, s := range res.Series {
		for _, c := range []struct {
			name string
			want float64
		}{{"rmse_sd", s.Summary.SD.RMSE}, {"r2_se", s.Summary.SE.R2}, {"p_mean", s.Summary.Mean.P}, {"avgpred_p", s.Summary.AvgPred.P}} {
			v, _ := strconv.ParseFloat(rows[i][col(h, c.name)], 64)
			if !sameFloat(v, c.want) {
				t.Fatalf("summary %d %s: %v vs %v", i, c.name, v, c.want)
			}
		}
	}
	b.Reset()
	if err := WritePredictionsCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	_, rows = parseCSV(t, b.Bytes())
	if len(rows) != len(res.Series)*res.Repeats*res.N {
		t.Errorf("%d prediction rows", len(rows))
	}
}

func TestJSONRoundTrip(t *testing.T) {
	res := mustRun(t, bigSpec(nil))
	var b bytes.Buffer
	if err := WriteJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Format string
		Series []struct {
			Arm     string
			Reps    []map[string]any
			Pred    [][]float64
			Var     [][]float64
			Summary struct{ Mean map[string]any }
		}
		FoldOf [][]int `json:"fold_of"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Format != "ntedsl/cv/v1" || len(got.Series) != len(res.Series) {
		t.Fatalf("format %q, %d series", got.Format, len(got.Series))
	}
	for i, s := range res.Series {
		g := got.Series[i]
		for r := range s.Pred {
			for k, v := range s.Pred[r] {
				if g.Pred[r][k] != v {
					t.Fatalf("series %d pred[%d][%d] %v vs %v", i, r, k, g.Pred[r][k], v)
				}
			}
		}
		if mp, ok := g.Summary.Mean["p"].(float64); !ok || mp != s.Summary.Mean.P {
			t.Fatalf("series %d summary p %v vs %v", i, g.Summary.Mean["p"], s.Summary.Mean.P)
		}
		if (s.Var == nil) != (g.Var == nil) {
			t.Fatalf("series %d variance presence differs", i)
		}
		for r, m := range s.Reps {
			for _, f := range metricFields {
				p, present := g.Reps[r][f.name]
				want := *f.get(&m)
				v, isNum := p.(float64)
				if !present || (p == nil) != math.IsNaN(want) || (p != nil && (!isNum || v != want)) {
					t.Fatalf("series %d rep %d %s: %v vs %v", i, r, f.name, p, want)
				}
			}
		}
	}
	for r := range res.FoldOf {
		for i, f := range res.FoldOf[r] {
			if got.FoldOf[r][i] != f {
				t.Fatal("fold_of differs")
			}
		}
	}
}

func TestTableGolden(t *testing.T) {
	res := mustRun(t, bigSpec(nil))
	var b bytes.Buffer
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/table.golden"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("table differs from %s (run with -update after checking):\n%s", path, b.String())
	}
}
