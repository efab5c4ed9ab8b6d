package nodes

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/table"
	"gonum.org/v1/gonum/mat"
)

// learningData extracts what a regressor learns from a table: the feature matrix (the
// named columns, or every numeric column except the target) and the target. A missing
// value is an error naming the row and column and saying how to filter it out.
func learningData(c *Context, ref lang.Ref, t *table.Table, features []string, needTarget bool) (*mat.Dense, []float64, []string, error) {
	var y []float64
	if needTarget {
		if t.Target == "" {
			return nil, nil, nil, fmt.Errorf("%s has no target column: set target = \"COLUMN\" in its dataset or table block", ref.Addr)
		}
		y = t.Col(t.Target).Num
		for i, v := range y {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, nil, fmt.Errorf("%s: row %q has no value of the target %q; drop such rows with where = \"!isnan(%s)\"", ref.Addr, t.IDs[i], t.Target, t.Target)
			}
		}
	}
	if len(features) == 0 {
		features = t.Features()
	}
	if len(features) == 0 {
		return nil, nil, nil, fmt.Errorf("%s has no numeric feature columns besides the target", ref.Addr)
	}
	n := t.NumRows()
	if n == 0 {
		return nil, nil, nil, fmt.Errorf("%s has no rows", ref.Addr)
	}
	X := mat.NewDense(n, len(features), nil)
	for j, name := range features {
		col := t.Col(name)
		switch {
		case col == nil:
			return nil, nil, nil, c.AttrError("features", "Unknown feature column", didYouMean(fmt.Sprintf("%s has no column %q.", ref.Addr, name), name, t.Names()))
		case !col.IsNum():
			return nil, nil, nil, c.AttrError("features", "Feature column is not numeric", fmt.Sprintf("The column %q of %s holds text.", name, ref.Addr))
		case name == t.Target:
			return nil, nil, nil, c.AttrError("features", "The target is not a feature", fmt.Sprintf("%q is the target of %s; it cannot also be an input.", name, ref.Addr))
		}
		for i, v := range col.Num {
			if math.IsNaN(v) {
				return nil, nil, nil, fmt.Errorf("%s: row %q has no value in feature column %q; drop such rows (where = \"!isnan(%s)\") or leave the column out of the features", ref.Addr, t.IDs[i], name, name)
			}
			X.Set(i, j, v)
		}
	}
	return X, y, features, nil
}

// modelLabel is the short label of a model in results: the block name, with the
// instance key when the block has for_each (`boost.xgb` → `xgb`, `pbp.p["a"]` → `p[a]`).
func modelLabel(addr string) string {
	if _, rest, ok := strings.Cut(addr, "."); ok {
		return strings.NewReplacer(`"`, "").Replace(rest)
	}
	return addr
}

// asErr is errors.As.
func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
