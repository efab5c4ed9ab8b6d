package exprlib

import (
	"math"
	"testing"

	"github.com/expr-lang/expr"
)

func TestFunctions(t *testing.T) {
	env := map[string]any{"x": 2.0, "m": math.NaN()}
	cases := map[string]float64{
		"sqrt(x)":      math.Sqrt2,
		"log(exp(x))":  2,
		"pow(x, 10)":   1024,
		"log10(100.0)": 2,
		"erf(0.0)":     0,
		"tanh(0.0)":    0,
		"cbrt(27.0)":   3,
	}
	for src, want := range cases {
		p, err := expr.Compile(src, append([]expr.Option{expr.Env(env), expr.AsFloat64()}, Options()...)...)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		got, err := expr.Run(p, env)
		if err != nil || math.Abs(got.(float64)-want) > 1e-12 {
			t.Errorf("%s = %v (%v), want %v", src, got, err, want)
		}
	}
	p, _ := expr.Compile("isnan(m) && !isnan(x)", append([]expr.Option{expr.Env(env), expr.AsBool()}, Options()...)...)
	if got, _ := expr.Run(p, env); got != true {
		t.Error("isnan")
	}
	if _, err := expr.Compile(`sqrt("a")`, append([]expr.Option{expr.Env(env)}, Options()...)...); err == nil {
		t.Error("sqrt of a string compiled")
	}
}
