package nodes_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/runtime"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

// runStudy writes files into a temporary folder, runs the study and returns the result.
func runStudy(t *testing.T, study string, files map[string]string) (*runtime.Result, error, *lang.Study) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "study.hcl")
	os.WriteFile(path, []byte(study), 0o644)
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	st, diags := lang.Load(path, lang.Options{Catalog: reg})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags.Error())
	}
	c, _ := runtime.OpenCache("", reg)
	e := &runtime.Engine{Registry: reg, Cache: c, Jobs: 2}
	res, err := e.Run(context.Background(), st)
	return res, err, st
}

const csvData = `id,formula,alpha,r,phase
c1,Sc2W3O12,-2.2,0.745,orthorhombic
c2,Y2W3O12,-7.0,0.9,orthorhombic
c3,Al2W3O12,1.5,,monoclinic
`

func TestDatasetReadsTypesFilterDeriveAndRoles(t *testing.T) {
	res, err, _ := runStudy(t, `
dataset "d" {
  source  = "data.csv"
  formula = "formula"
  target  = "alpha"
  where   = "phase == 'orthorhombic'"
  derive  = { neg = "-alpha", r2 = "r * r" }
}`, map[string]string{"data.csv": csvData})
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Values["dataset.d"].(*table.Table)
	if strings.Join(tb.IDs, ",") != "c1,c2" || tb.Target != "alpha" || tb.Formula != "formula" {
		t.Fatalf("table: ids %v target %q formula %q", tb.IDs, tb.Target, tb.Formula)
	}
	if got := strings.Join(tb.Names(), ","); got != "formula,alpha,r,phase,neg,r2" {
		t.Fatalf("columns %s", got)
	}
	if tb.Col("neg").Num[1] != 7 || math.Abs(tb.Col("r2").Num[0]-0.745*0.745) > 1e-15 || tb.Col("phase").IsNum() {
		t.Fatalf("values: %v %v", tb.Col("neg").Num, tb.Col("r2").Num)
	}
}

func TestDatasetMissingCellsAreNaN(t *testing.T) {
	res, err, _ := runStudy(t, `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": csvData})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Values["dataset.d"].(*table.Table).Col("r").Num; !math.IsNaN(r[2]) {
		t.Fatalf("empty cell read as %v", r[2])
	}
}

func failure(t *testing.T, res *runtime.Result, err error) string {
	t.Helper()
	if !errors.Is(err, runtime.ErrFailed) || len(res.Failures) == 0 {
		t.Fatalf("expected a failure, got err=%v", err)
	}
	return res.Failures[0].Err.Error()
}

func TestDatasetErrorsNameTheirSource(t *testing.T) {
	cases := []struct {
		name, study string
		files       map[string]string
		want        []string
	}{
		{"missing file", `dataset "d" { source = "nope.csv" }`, nil,
			[]string{"study.hcl:1,", "Data file not found", "nope.csv"}},
		{"non-numeric cell", `
dataset "d" {
  source  = "data.csv"
  columns = { r = "number" }
}`, map[string]string{"data.csv": "id,r\na,1\nb,x1\n"},
			[]string{`data.csv:3: row "b", column "r" (field 2): "x1" is not a number`}},
		{"NaN cell", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,1\nb,NaN\n"},
			[]string{`data.csv:3: row "b", column "r"`, "not a finite number"}},
		{"Inf cell", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,-Inf\n"},
			[]string{`data.csv:2: row "a", column "r"`, "not a finite number"}},
		{"missing target column", `
dataset "d" {
  source = "data.csv"
  target = "alpa"
}`, map[string]string{"data.csv": csvData},
			[]string{"study.hcl:4,", "Unknown target column", `Did you mean "alpha"?`}},
		{"ragged row", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,1,2\n"},
			[]string{"data.csv"}},
		{"duplicate id", `dataset "d" { source = "data.csv" }`, map[string]string{"data.csv": "id,r\na,1\na,2\n"},
			[]string{`data.csv:3: row id "a" repeats the id of line 2`}},
		{"bad where at run time", `
dataset "d" {
  source = "data.csv"
  where  = "phse == 'x'"
}`, map[string]string{"data.csv": csvData},
			[]string{"study.hcl:4,", "unknown name phse"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err, _ := runStudy(t, c.study, c.files)
			msg := failure(t, res, err)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestTableNodeSelectDropTarget(t *testing.T) {
	res, err, _ := runStudy(t, `
dataset "d" { source = "data.csv" }
table "t" {
  data   = dataset.d
  where  = "!isnan(r)"
  derive = { ratio = "alpha / r" }
  drop   = ["phase"]
  target = "ratio"
}
table "s" {
  data   = table.t
  select = ["ratio", "formula"]
}`, map[string]string{"data.csv": csvData})
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Values["table.s"].(*table.Table)
	if strings.Join(tb.Names(), ",") != "ratio,formula" || tb.Target != "ratio" || len(tb.IDs) != 2 {
		t.Fatalf("table.s: %v target %q rows %d", tb.Names(), tb.Target, len(tb.IDs))
	}
}
