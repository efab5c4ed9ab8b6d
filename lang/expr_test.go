package lang

import (
	"strconv"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/hashicorp/hcl/v2"
)

// exprEnv is the typed environment of a per-row program: numeric and text columns.
var exprEnv = map[string]any{"a": 1.5, "b": -2.0, "phase": "orthorhombic"}

// FuzzCompileExpr: no source string makes compiling or running a per-row program panic,
// and a compile error always points inside the string it came from.
func FuzzCompileExpr(f *testing.F) {
	for _, s := range []string{
		"a / b", "sqrt(a) + pow(b, 2)", "phase == 'orthorhombic' && !isnan(a)", "a + * b",
		"log(-a)", "1/0", `"é" + phase`, "[1, 2][5]", "a ? b : 1", "erf(a) > 0.5 || b < 0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		// The string as it sits in a study file: derive = { r = "<src>" } at line 3.
		lit := strconv.Quote(src)
		start := hcl.Pos{Line: 3, Column: 17, Byte: 40}
		end := hcl.Pos{Line: 3, Column: 17 + len(lit), Byte: 40 + len(lit)}
		e := Expr{Src: src, Range: hcl.Range{Filename: "study.hcl", Start: start, End: end}}
		for _, want := range []ExprResult{ExprAny, ExprFloat, ExprBool} {
			p, diags := CompileExpr(e, exprEnv, want, "expression")
			if diags.HasErrors() {
				for _, d := range diags {
					if d.Subject == nil || d.Subject.Start.Byte < start.Byte || d.Subject.End.Byte > end.Byte || d.Subject.Start.Byte > d.Subject.End.Byte {
						t.Fatalf("diagnostic of %q at %v, outside the string %v–%v", src, d.Subject, start, end)
					}
				}
				continue
			}
			_, _ = expr.Run(p, exprEnv) // run-time errors are fine; panics are not
		}
	})
}
