package nodes

import (
	"fmt"
	"math"
	"sort"

	"github.com/expr-lang/expr"
	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

// rowEnv is the typed expr-lang environment of a table's rows: each column by name, as a
// float64 (NaN when missing) or a string, plus `id`.
func rowEnv(t *table.Table) map[string]any {
	env := map[string]any{"id": ""}
	for _, c := range t.Cols {
		if c.IsNum() {
			env[c.Name] = 0.0
		} else {
			env[c.Name] = ""
		}
	}
	return env
}

func fillRow(env map[string]any, t *table.Table, i int) {
	env["id"] = t.IDs[i]
	for _, c := range t.Cols {
		if c.IsNum() {
			env[c.Name] = c.Num[i]
		} else {
			env[c.Name] = c.Str[i]
		}
	}
}

// filterRows keeps the rows for which the expr-lang condition holds. The program is
// compiled once against the table's column types.
func filterRows(t *table.Table, cond lang.Expr) (*table.Table, error) {
	if cond.IsZero() {
		return t, nil
	}
	env := rowEnv(t)
	prog, diags := lang.CompileExpr(cond, env, lang.ExprBool, "row filter")
	if diags.HasErrors() {
		return nil, Diagnostics(diags)
	}
	var keep []int
	for i := range t.IDs {
		fillRow(env, t, i)
		out, err := expr.Run(prog, env)
		if err != nil {
			return nil, Diagnostics{lang.ExprDiag(cond, fmt.Errorf("row %q: %w", t.IDs[i], err), "Row filter failed")}
		}
		if out.(bool) {
			keep = append(keep, i)
		}
	}
	return t.Select(keep), nil
}

// deriveColumns appends one numeric column per expression, in name order; each expression
// sees the table's columns as they were before any derivation. A result that is infinite
// is an error naming the row; NaN is kept as a missing value.
func deriveColumns(t *table.Table, derive map[string]lang.Expr) (*table.Table, error) {
	if len(derive) == 0 {
		return t, nil
	}
	names := make([]string, 0, len(derive))
	for n := range derive {
		names = append(names, n)
	}
	sort.Strings(names)
	env := rowEnv(t)
	out := &table.Table{IDs: t.IDs, Cols: append([]*table.Column{}, t.Cols...), Target: t.Target, Formula: t.Formula}
	var errs Diagnostics
	for _, name := range names {
		e := derive[name]
		if t.Col(name) != nil {
			errs = append(errs, lang.ExprDiag(e, fmt.Errorf("a column named %q already exists", name), "Derived column clashes"))
			continue
		}
		prog, diags := lang.CompileExpr(e, env, lang.ExprFloat, "derived column "+name)
		if diags.HasErrors() {
			errs = append(errs, diags...)
			continue
		}
		col := &table.Column{Name: name, Num: make([]float64, len(t.IDs))}
		for i := range t.IDs {
			fillRow(env, t, i)
			v, err := expr.Run(prog, env)
			if err == nil && math.IsInf(v.(float64), 0) {
				err = fmt.Errorf("the result is infinite")
			}
			if err != nil {
				errs = append(errs, lang.ExprDiag(e, fmt.Errorf("row %q: %w", t.IDs[i], err), "Derived column "+name+" failed"))
				break
			}
			col.Num[i] = v.(float64)
		}
		out.Cols = append(out.Cols, col)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// selectColumns keeps the named columns in the given order (roles are kept when their
// column survives); unknown names are errors with a suggestion.
func selectColumns(c *Context, attr string, t *table.Table, names []string) (*table.Table, error) {
	if len(names) == 0 {
		return t, nil
	}
	out := &table.Table{IDs: t.IDs}
	for _, n := range names {
		col := t.Col(n)
		if col == nil {
			return nil, c.AttrError(attr, "Unknown column "+n, didYouMean(fmt.Sprintf("The table has no column %q.", n), n, t.Names()))
		}
		out.Cols = append(out.Cols, col)
		if n == t.Target {
			out.Target = n
		}
		if n == t.Formula {
			out.Formula = n
		}
	}
	return out, nil
}

func didYouMean(msg, name string, cands []string) string {
	if s := lang.Suggest(name, cands); s != "" {
		return msg + fmt.Sprintf(" Did you mean %q?", s)
	}
	return msg + " Columns: " + fmt.Sprint(cands) + "."
}
