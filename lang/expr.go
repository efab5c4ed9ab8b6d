package lang

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/hashicorp/hcl/v2"
	"github.com/ntedsl/ntedsl/stdlib/exprlib"
)

// ExprResult is the type an expr-lang program must produce.
type ExprResult int

const (
	ExprAny ExprResult = iota
	ExprFloat
	ExprBool
)

// maxExprNodes bounds the size of a per-row program; a study's expressions are short.
const maxExprNodes = 10000

// CompileExpr compiles e once against a typed environment (a map from name to a value of
// the name's type, or a struct), with the ntedsl function library. A compile error becomes
// a diagnostic at the position of the offending token inside the HCL string. The program is
// read-only and may be run concurrently.
func CompileExpr(e Expr, env any, want ExprResult, what string) (*vm.Program, hcl.Diagnostics) {
	opts := append([]expr.Option{expr.Env(env), expr.MaxNodes(maxExprNodes)}, exprlib.Options()...)
	switch want {
	case ExprFloat:
		opts = append(opts, expr.AsFloat64())
	case ExprBool:
		opts = append(opts, expr.AsBool())
	}
	p, err := expr.Compile(e.Src, opts...)
	if err == nil {
		return p, nil
	}
	return nil, hcl.Diagnostics{ExprDiag(e, err, "Invalid "+what)}
}

// ExprDiag converts an expr-lang error (compile- or run-time) into a diagnostic located
// inside the string literal e.
func ExprDiag(e Expr, err error, summary string) *hcl.Diagnostic {
	subj := e.Range
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
		subj = exprSubRange(e, fe.From, fe.To)
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf("%s in the expression %q.", msg, e.Src),
		Subject:  &subj,
	}
}

// exprSubRange maps rune offsets [from, to) of the expression source to a range in the
// study file. It is exact for single-line strings without escape sequences (the usual
// case) and falls back to the whole string otherwise.
func exprSubRange(e Expr, from, to int) hcl.Range {
	r := e.Range
	if r.Start.Line != r.End.Line || r.End.Byte-r.Start.Byte != len(e.Src)+2 {
		return r
	}
	if to <= from {
		to = from + 1
	}
	byteAt := func(runes int) int {
		b := 0
		for i := 0; i < runes && b < len(e.Src); i++ {
			_, n := utf8.DecodeRuneInString(e.Src[b:])
			b += n
		}
		return b
	}
	bf, bt := byteAt(from), byteAt(to)
	rf, rt := utf8.RuneCountInString(e.Src[:bf]), utf8.RuneCountInString(e.Src[:bt])
	start := hcl.Pos{Line: r.Start.Line, Column: r.Start.Column + 1 + rf, Byte: r.Start.Byte + 1 + bf}
	end := hcl.Pos{Line: r.Start.Line, Column: r.Start.Column + 1 + rt, Byte: r.Start.Byte + 1 + bt}
	return hcl.Range{Filename: r.Filename, Start: start, End: end}
}
