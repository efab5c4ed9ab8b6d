package lang

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// A small catalog of test kinds, independent of the nodes package.

type srcCfg struct {
	Path   string   `attr:"path,required" doc:"a path"`
	Rows   int      `attr:"rows"`
	Scale  float64  `attr:"scale"`
	Where  Expr     `attr:"where"`
	Tags   []string `attr:"tags"`
	Method string   `attr:"method" enum:"fast,exact"`
}

type useCfg struct {
	Data   Ref             `attr:"data,required" accepts:"table"`
	Models []Ref           `attr:"models" accepts:"model"`
	Derive map[string]Expr `attr:"derive"`
	Beta   float64         `attr:"beta"`
}

type modelCfg struct {
	Depth int `attr:"depth"`
}

type testCatalog map[string]*KindInfo

func (c testCatalog) Lookup(k string) (*KindInfo, bool) { ki, ok := c[k]; return ki, ok }
func (c testCatalog) Names() []string {
	var out []string
	for k := range c {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var catalog = testCatalog{
	"dataset": {Name: "dataset", Schema: SchemaOf(srcCfg{Rows: 10, Scale: 1, Method: "exact"}), Output: "table"},
	"use":     {Name: "use", Schema: SchemaOf(useCfg{Beta: 0.5}), Output: "table"},
	"boost":   {Name: "boost", Schema: SchemaOf(modelCfg{Depth: 3}), Output: "model"},
}

func load(t *testing.T, src string, opts ...func(*Options)) (*Study, hcl.Diagnostics) {
	t.Helper()
	o := Options{Catalog: catalog}
	for _, f := range opts {
		f(&o)
	}
	return LoadSource("study.hcl", []byte(src), o)
}

func mustLoad(t *testing.T, src string, opts ...func(*Options)) *Study {
	t.Helper()
	st, diags := load(t, src, opts...)
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics: %s", diags.Error())
	}
	return st
}

// wantDiag asserts that diags holds an error with the summary at the given line, and
// whose detail contains every fragment.
func wantDiag(t *testing.T, diags hcl.Diagnostics, summary string, line int, fragments ...string) {
	t.Helper()
	for _, d := range diags {
		if d.Summary != summary || d.Subject == nil || d.Subject.Start.Line != line {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(d.Detail, f) {
				ok = false
			}
		}
		if ok {
			return
		}
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Error()+" | "+d.Detail)
	}
	t.Fatalf("no %q diagnostic on line %d containing %q; got:\n%s", summary, line, fragments, strings.Join(got, "\n"))
}

func TestDecodeWithDefaultsForEachAndReferences(t *testing.T) {
	st := mustLoad(t, `
study {
  name = "demo"
  seed = 20240827
}
variable "betas" {
  default = { b1 = 0.01, b5 = 0.05 }
}
locals {
  base = "data.csv"
}
boost "xgb" { depth = 4 }
boost "small" {}
dataset "d" {
  path  = local.base
  where = "phase == 'orthorhombic'"
  tags  = ["a", "b"]
}
use "u" {
  for_each = var.betas
  data     = dataset.d
  beta     = each.value
  models   = [boost.xgb, boost.small]
  derive   = { r = "a / b" }
}
use "pick" {
  data = use.u["b5"]
}
use "all" {
  for_each = merge(use.u, { extra = use.pick })
  data     = each.value
}
`)
	if st.Name != "demo" || st.Seed != 20240827 {
		t.Fatalf("study: %q %d", st.Name, st.Seed)
	}
	var addrs []string
	for _, in := range st.Instances {
		addrs = append(addrs, in.Addr)
	}
	got := strings.Join(addrs, " ")
	// Dependency order, file order among independent blocks, for_each keys sorted.
	want := `boost.xgb boost.small dataset.d use.u["b1"] use.u["b5"] use.pick use.all["b1"] use.all["b5"] use.all["extra"]`
	if got != want {
		t.Fatalf("instances:\n got %s\nwant %s", got, want)
	}
	d := st.Instances[2].Config.(*srcCfg)
	if d.Path != "data.csv" || d.Rows != 10 || d.Scale != 1 || d.Method != "exact" || d.Where.Src != "phase == 'orthorhombic'" || len(d.Tags) != 2 {
		t.Fatalf("dataset config: %+v", d)
	}
	if d.Where.Range.Start.Line != 16 {
		t.Fatalf("where range: %v", d.Where.Range)
	}
	u := st.Instances[4].Config.(*useCfg)
	if u.Beta != 0.05 || u.Data.Addr != "dataset.d" || len(u.Models) != 2 || u.Models[1].Addr != "boost.small" || u.Derive["r"].Src != "a / b" {
		t.Fatalf("use config: %+v", u)
	}
	if u.Models[0].Range.Start.Line != 23 {
		t.Fatalf("reference range: %v", u.Models[0].Range)
	}
	if refs := st.Instances[8].Refs; len(refs) != 1 || refs[0].Addr != "use.pick" {
		t.Fatalf("use.all[extra] refs: %+v", refs)
	}
	// Defaults are copied, not shared, between instances.
	if st.Instances[0].Config.(*modelCfg).Depth != 4 || st.Instances[1].Config.(*modelCfg).Depth != 3 {
		t.Fatal("boost defaults")
	}
}

func TestVariablesFromFlagsAndFiles(t *testing.T) {
	dir := t.TempDir()
	vf := filepath.Join(dir, "v.hcl")
	os.WriteFile(vf, []byte("rows = 7\nname = \"from-file\"\n"), 0o644)
	src := `
variable "rows" {
  type = number
  default = 3
}
variable "name" { default = "x" }
variable "tags" {
  type    = list(string)
  default = []
}
dataset "d" {
  path = var.name
  rows = var.rows
  tags = var.tags
}
`
	st := mustLoad(t, src, func(o *Options) {
		o.VarFiles = []string{vf}
		o.Vars = []string{"rows=9", `tags=["p", "q"]`}
	})
	c := st.Instances[0].Config.(*srcCfg)
	if c.Rows != 9 || c.Path != "from-file" || strings.Join(c.Tags, ",") != "p,q" {
		t.Fatalf("config %+v", c)
	}
	_, diags := load(t, src, func(o *Options) { o.Vars = []string{"rosw=2", "rows=abc"} })
	if len(diags) != 2 || !strings.Contains(diags[0].Detail, `Did you mean "rows"?`) || !strings.Contains(diags[1].Detail, "not a number") {
		t.Fatalf("diags: %v", diags)
	}
}

func TestDiagnosticsPointAtTheRightLine(t *testing.T) {
	_, diags := load(t, `
dataset "d" {
  path = "x.csv"
  rows = "many"
}
datset "e" {
  path = "y"
}
use "u" {
  data = dataset.dd
}
use "v" {
  data = use.w
}
use "w" {
  data = use.v
}
use "m" {
  data   = dataset.d
  models = [dataset.d]
  derive = { r = "a + * b", ok = "a" }
}
use "x" {
  data = dataset.d
  bta  = 2
}
dataset "f" {
  path = "z"
  method = "fats"
}
use "y" {}
dataset "g" {
  path = var.pth
}
`)
	wantDiag(t, diags, "Incorrect attribute value type", 4, `"rows"`, "integer")
	wantDiag(t, diags, "Unknown block kind", 6, `Did you mean "dataset"?`)
	wantDiag(t, diags, "Reference to undeclared block", 10, `Did you mean "d"?`)
	wantDiag(t, diags, "Dependency cycle", 16, "use.v refers to use.w", "use.w refers to use.v")
	wantDiag(t, diags, "Wrong kind of node", 20, "produces a table")
	wantDiag(t, diags, "Invalid expression", 21, `"a + * b"`)
	wantDiag(t, diags, "Unsupported argument", 25, `Did you mean "beta"?`)
	wantDiag(t, diags, `Invalid value "fats" for method`, 29, `Did you mean "fast"?`)
	wantDiag(t, diags, "Missing required argument", 31, `"data"`)
	wantDiag(t, diags, "Unknown variable", 33)
	for _, d := range diags {
		if d.Summary == "Invalid expression" {
			// The subject is the bad token inside the string, not the whole string.
			if d.Subject.Start.Column != 23 {
				t.Errorf("expression error at column %d, want 23 (the '*')", d.Subject.Start.Column)
			}
		}
	}
}

// TestEveryProblemOfABlockAtOnce: a bad reference or a misspelt argument does not hide the
// other problems of the same block, and a misspelt required argument is reported once.
func TestEveryProblemOfABlockAtOnce(t *testing.T) {
	_, diags := load(t, `
dataset "d" {
  pth  = "a.csv"
  rows = "ten"
}
use "u" {
  data = dataset.dd
  beta = "high"
}
use "ok" {
  data = use.u
  beta = "low"
}
`)
	wantDiag(t, diags, "Unsupported argument", 3, `Did you mean "path"?`)
	wantDiag(t, diags, "Incorrect attribute value type", 4, `"rows"`)
	wantDiag(t, diags, "Reference to undeclared block", 7, `Did you mean "d"?`)
	wantDiag(t, diags, "Incorrect attribute value type", 8, `"beta"`)
	// use.u's instances are known, so its user is checked too.
	wantDiag(t, diags, "Incorrect attribute value type", 12, `"beta"`)
	for _, d := range diags {
		if d.Summary == "Missing required argument" {
			t.Errorf("a misspelt argument also reported as missing: %s", d.Detail)
		}
	}
	if len(diags) != 5 {
		t.Errorf("%d diagnostics, want 5:\n%s", len(diags), diags.Error())
	}
}

// TestForEachMistakeReportedOnce: the instances of a for_each block share their attribute
// expressions, so a type error in one is one diagnostic, not one per instance.
func TestForEachMistakeReportedOnce(t *testing.T) {
	_, diags := load(t, `
boost "b" {
  for_each = { a = 1, b = 2, c = 3 }
  depth    = "deep"
}
`)
	if len(diags) != 1 {
		t.Fatalf("%d diagnostics, want 1:\n%s", len(diags), diags.Error())
	}
	wantDiag(t, diags, "Incorrect attribute value type", 4, `"depth"`)
}

func TestForEachErrors(t *testing.T) {
	_, diags := load(t, `
boost "b" {
  for_each = ["a", "b"]
}
boost "c" {
  depth = each.value
}
`)
	wantDiag(t, diags, "Invalid for_each", 3, "toset")
	wantDiag(t, diags, "each is not available here", 6)
}

func TestCanonicalConfigIgnoresNamesAndFormatting(t *testing.T) {
	a := mustLoad(t, "dataset \"one\" {\n  path = \"p\"\n  rows = 5\n}\nuse \"u\" { data = dataset.one }\n")
	b := mustLoad(t, "# renamed and reformatted\ndataset \"two\" {\n  rows = 5\n\n  path     = \"p\"\n}\nuse \"v\" {\n  data = dataset.two\n}\n")
	digest := func(r Ref) string { return "sha256:same" }
	for i := range a.Instances {
		sa := catalog[a.Instances[i].Block.Kind.Name].Schema
		ca := sa.Canonical(a.Instances[i].Config, digest)
		cb := sa.Canonical(b.Instances[i].Config, digest)
		if string(ca) != string(cb) {
			t.Fatalf("canonical configs differ:\n%s\n%s", ca, cb)
		}
	}
	want := `{"data":"sha256:same","derive":{},"models":[],"beta":0.5}`
	_ = want
	got := string(catalog["use"].Schema.Canonical(a.Instances[1].Config, digest))
	if got != `{"beta":0.5,"data":"sha256:same","derive":{},"models":[]}` {
		t.Fatalf("canonical: %s", got)
	}
}

func TestDiagnosticsRenderWithSource(t *testing.T) {
	st, diags := load(t, "dataset \"d\" {\n  path = \"x\"\n  rowz = 2\n}\n")
	var b strings.Builder
	if err := WriteDiagnostics(&b, st.Files, diags, 200, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"on study.hcl line 3", `3:   rowz = 2`, `Did you mean "rows"?`} {
		if !strings.Contains(out, want) {
			t.Fatalf("rendered diagnostics lack %q:\n%s", want, out)
		}
	}
}

func TestSuggest(t *testing.T) {
	cases := []struct{ name, want string }{
		{"SN", "Sn"}, {"datset", "dataset"}, {"Mo", ""}, {"zzzzzz", ""},
	}
	for _, c := range cases {
		if got := Suggest(c.name, []string{"Sn", "dataset", "Mo", "Mn"}); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
	// A unique prefix: a shortened column name.
	cols := []string{"alpha_l_1e6_per_K", "A_shannon_radius_mean", "A_shannon_radius_std", "formula"}
	for _, c := range []struct{ name, want string }{
		{"alpha_l", "alpha_l_1e6_per_K"}, {"ALPHA", "alpha_l_1e6_per_K"}, {"A_shannon", ""}, {"al", ""}, {"formula", ""},
	} {
		if got := Suggest(c.name, cols); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzLoadSource(f *testing.F) {
	seeds := []string{
		`study { name = "x" }`,
		"dataset \"d\" { path = \"p\" }\nuse \"u\" { data = dataset.d }",
		"use \"u\" {\n for_each = {a = 1}\n data = use.u\n}",
		"locals { a = local.b\n b = local.a }",
		"dataset \"d\" { path = \"p\"\n where = \"a >\" }",
		"variable \"v\" { default = [1] }\nboost \"b\" { depth = var.v[0] }",
		"boost \"b\" { for_each = toset([\"a\"])\n depth = length(each.key) }",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		// Any input gives a study or diagnostics, never a panic.
		st, diags := LoadSource("fuzz.hcl", []byte(src), Options{Catalog: catalog, Vars: []string{"v=[2]"}})
		if st == nil {
			t.Fatal("nil study")
		}
		_ = diags
	})
}
