package nodes_test

import (
	"math"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/nodes"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

func TestDescriptorOnTheBuiltinData(t *testing.T) {
	res, err, _ := runStudy(t, `
dataset "nte" {
  source  = "builtin:a2m3o12"
  formula = "formula"
  target  = "alpha_l_1e6_per_K"
  where   = "phase == 'orthorhombic' && value_derived == 'no'"
}
descriptor "d" {
  data       = dataset.nte
  properties = ["shannon_radius", "pauling_en"]
  stats      = ["mean", "range"]
  scopes     = ["A", "M"]
  fractions  = false
  keep       = ["method_class"]
  derive     = { ratio = "A_shannon_radius_mean / M_shannon_radius_mean" }
}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Values["descriptor.d"].(*table.Table)
	// data/README.md: this filter keeps 25 rows.
	if tb.NumRows() != 25 {
		t.Fatalf("%d rows, want 25", tb.NumRows())
	}
	want := "formula,A_shannon_radius_mean,A_shannon_radius_range,A_pauling_en_mean,A_pauling_en_range,M_shannon_radius_mean,M_shannon_radius_range,M_pauling_en_mean,M_pauling_en_range,method_class,alpha_l_1e6_per_K,ratio"
	if got := strings.Join(tb.Names(), ","); got != want {
		t.Fatalf("columns\n got %s\nwant %s", got, want)
	}
	if tb.Target != "alpha_l_1e6_per_K" || tb.Formula != "formula" {
		t.Fatalf("roles %q %q", tb.Target, tb.Formula)
	}
	// Sc2W3O12 by hand (Shannon 1976): Sc3+ VI 0.745 Å, W6+ IV 0.42 Å.
	for i, f := range tb.Col("formula").Str {
		if f == "Sc2W3O12" || f == "Sc2(WO4)3" {
			if a, m := tb.Col("A_shannon_radius_mean").Num[i], tb.Col("M_shannon_radius_mean").Num[i]; a != 0.745 || m != 0.42 || math.Abs(tb.Col("ratio").Num[i]-0.745/0.42) > 1e-15 {
				t.Fatalf("%s: A %v M %v ratio %v", f, a, m, tb.Col("ratio").Num[i])
			}
		}
	}
}

func TestDescriptorErrorsNameTheRow(t *testing.T) {
	cases := []struct {
		name, csv, extra string
		want             []string
	}{
		{"bad token", "id,formula,y\nq1,Sc2W3O12,1\nq2,Sc2(WO4)3x,2\n", "",
			[]string{`dataset.d row "q2"`, "column 10"}},
		{"unknown element", "id,formula,y\nq1,Sc2W3O12,1\nq2,Xx2W3O12,2\n", "",
			[]string{`dataset.d row "q2"`, "Xx"}},
		{"unbalanceable", "id,formula,y\nq1,Zr2S0.9P2O12-d,1\n", "",
			[]string{"Zr2S0.9P2O12-d", "oxygen_deficiency = true"}},
		{"missing value", "id,formula,y\nq1,Sc2W3O12,1\nq2,Zr2SP2O12,2\n", `properties = ["work_function"]`,
			[]string{"Zr2SP2O12", "work_function", "S"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err, _ := runStudy(t, `
dataset "d" {
  source  = "data.csv"
  formula = "formula"
  target  = "y"
}
descriptor "x" {
  data = dataset.d
  `+c.extra+`
}`, map[string]string{"data.csv": c.csv})
			msg := failure(t, res, err)
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error lacks %q:\n%s", w, msg)
				}
			}
		})
	}
}

func TestDescriptorDropRowReportsWhatItDropped(t *testing.T) {
	res, err, _ := runStudy(t, `
dataset "d" {
  source  = "data.csv"
  formula = "formula"
  target  = "y"
}
descriptor "x" {
  data       = dataset.d
  properties = ["work_function"]
  missing    = "drop_row"
}`, map[string]string{"data.csv": "id,formula,y\nq1,Sc2W3O12,1\nq2,Zr2SP2O12,2\n"})
	if err != nil {
		t.Fatal(err)
	}
	if tb := res.Values["descriptor.x"].(*table.Table); strings.Join(tb.IDs, ",") != "q1" {
		t.Fatalf("rows %v", tb.IDs)
	}
	if len(lastWarnings) != 1 || !strings.Contains(lastWarnings[0], "descriptor.x: dropped compound Zr2SP2O12") || !strings.Contains(lastWarnings[0], "work_function for S") {
		t.Fatalf("warnings %q", lastWarnings)
	}
}

// TestDescriptorOptionsCheckedAtLoad: a misspelt property or stat is a load-time diagnostic
// at its attribute (so `ntedsl validate` reports it), not a run failure.
func TestDescriptorOptionsCheckedAtLoad(t *testing.T) {
	reg := nodes.NewRegistry()
	nodes.RegisterCore(reg)
	src := `dataset "d" { source = "builtin:a2m3o12" }
descriptor "x" {
  data       = dataset.d
  properties = ["shannon_radius", "paulingen"]
}
descriptor "y" {
  data  = dataset.d
  stats = ["mean", "median"]
}
`
	_, diags := lang.LoadSource("study.hcl", []byte(src), lang.Options{Catalog: reg})
	want := map[int]string{
		4: `Invalid value for properties: unknown property "paulingen"`,
		8: `Invalid value for stats: unknown stat "median"`,
	}
	for _, d := range diags {
		if w, ok := want[d.Subject.Start.Line]; ok && d.Summary == w {
			delete(want, d.Subject.Start.Line)
		}
	}
	if len(want) != 0 {
		t.Fatalf("missing diagnostics %v; got:\n%s", want, diags.Error())
	}
}
