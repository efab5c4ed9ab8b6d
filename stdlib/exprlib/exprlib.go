// Package exprlib is the function library of the expr-lang programs in study files (derive
// columns, row filters, noise-schedule formulas): the math a scientist expects beyond
// expr-lang's built-ins (abs, ceil, floor, round, max, min are already there).
package exprlib

import (
	"math"

	"github.com/expr-lang/expr"
)

// unary lists the one-argument float functions, by name.
var unary = map[string]func(float64) float64{
	"sqrt":  math.Sqrt,
	"exp":   math.Exp,
	"log":   math.Log,
	"log10": math.Log10,
	"log2":  math.Log2,
	"sin":   math.Sin,
	"cos":   math.Cos,
	"tan":   math.Tan,
	"tanh":  math.Tanh,
	"erf":   math.Erf,
	"cbrt":  math.Cbrt,
}

// Names lists the functions this package adds, for documentation.
func Names() []string {
	out := []string{"pow", "isnan"}
	for k := range unary {
		out = append(out, k)
	}
	return out
}

// Options returns the expr.Option values that install the library. Options are built once
// per call; compile with them and share the resulting program across goroutines.
func Options() []expr.Option {
	var opts []expr.Option
	for name, f := range unary {
		f := f
		opts = append(opts, expr.Function(name, func(params ...any) (any, error) {
			return f(params[0].(float64)), nil
		}, new(func(float64) float64)))
	}
	opts = append(opts,
		expr.Function("pow", func(params ...any) (any, error) {
			return math.Pow(params[0].(float64), params[1].(float64)), nil
		}, new(func(float64, float64) float64)),
		expr.Function("isnan", func(params ...any) (any, error) {
			return math.IsNaN(params[0].(float64)), nil
		}, new(func(float64) bool)),
	)
	return opts
}
