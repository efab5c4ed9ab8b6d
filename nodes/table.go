package nodes

import (
	"fmt"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type tableConfig struct {
	Data   lang.Ref             `attr:"data,required" accepts:"table" doc:"The table to transform."`
	Where  lang.Expr            `attr:"where" doc:"expr-lang condition per row; rows where it is false are dropped. Columns are variables (numbers are float64, missing = NaN; test with isnan(x))."`
	Derive map[string]lang.Expr `attr:"derive" doc:"New numeric columns, name = expr-lang expression over the existing columns (evaluated after where)."`
	Select []string             `attr:"select" doc:"Keep only these columns, in this order (applied last)."`
	Drop   []string             `attr:"drop" doc:"Remove these columns (applied last)."`
	Target string               `attr:"target" doc:"Make this numeric column the target that regressors predict."`
}

func registerTable(r *Registry) {
	Register(r, Def[tableConfig]{
		Name:    "table",
		Doc:     "Transforms a table: filters rows (where), adds computed columns (derive), keeps or drops columns, and sets the target column.",
		Version: 1,
		Output:  "table",
		Run: func(c *Context, cfg *tableConfig) (Value, error) {
			t, err := c.Table(cfg.Data)
			if err != nil {
				return nil, err
			}
			return transformTable(c, t, cfg.Where, cfg.Derive, cfg.Select, cfg.Drop, cfg.Target)
		},
	})
}

// transformTable applies the shared row and column operations of dataset and table nodes.
func transformTable(c *Context, t *table.Table, where lang.Expr, derive map[string]lang.Expr, sel, drop []string, target string) (*table.Table, error) {
	t, err := filterRows(t, where)
	if err != nil {
		return nil, err
	}
	if t, err = deriveColumns(t, derive); err != nil {
		return nil, err
	}
	if target != "" {
		col := t.Col(target)
		switch {
		case col == nil:
			return nil, c.AttrError("target", "Unknown target column", didYouMean(fmt.Sprintf("The table has no column %q.", target), target, t.Names()))
		case !col.IsNum():
			return nil, c.AttrError("target", "Target column is not numeric", fmt.Sprintf("The column %q holds text; a target must be numeric.", target))
		}
		cp := *t
		cp.Target = target
		t = &cp
	}
	if len(drop) > 0 {
		gone := map[string]bool{}
		for _, d := range drop {
			if t.Col(d) == nil {
				return nil, c.AttrError("drop", "Unknown column "+d, didYouMean(fmt.Sprintf("The table has no column %q.", d), d, t.Names()))
			}
			gone[d] = true
		}
		var keep []string
		for _, n := range t.Names() {
			if !gone[n] {
				keep = append(keep, n)
			}
		}
		if t, err = selectColumns(c, "drop", t, keep); err != nil {
			return nil, err
		}
	}
	if t, err = selectColumns(c, "select", t, sel); err != nil {
		return nil, err
	}
	if len(t.IDs) == 0 {
		c.Warn("the table has no rows left")
	}
	return t, t.Validate()
}
