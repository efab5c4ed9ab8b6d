package materials

import (
	"fmt"
	"slices"
	"strings"
)

// Table is the descriptor table of many compounds: one row per kept compound, one column
// per descriptor, in a fixed order: for each scope, each property, each stat
// (<scope>_<property>_<stat>), then frac_<El> for the union of the kept compounds'
// elements, by atomic number.
type Table struct {
	Columns []string
	Rows    [][]float64 // Rows[i][j]: compound Kept[i], column Columns[j]; never NaN
	// Kept holds the input index of each row.
	Kept []int
	// Assignments holds the site and oxidation-state assignment of each row.
	Assignments []*Assignment
	// Dropped reports what the missing-value policy removed.
	Dropped Dropped
}

// Dropped reports what a missing-value policy removed.
type Dropped struct {
	Rows    []DroppedRow
	Columns []DroppedColumn
}

// DroppedRow is a compound removed by MissingDropRow, with every value it lacks.
type DroppedRow struct {
	Index    int // input index
	Compound string
	Missing  []Missing
}

// DroppedColumn is a column removed by MissingDropColumn, with the compounds and elements
// that lack a value for it.
type DroppedColumn struct {
	Name    string
	Missing []Missing
}

// Empty reports whether nothing was dropped.
func (d Dropped) Empty() bool { return len(d.Rows) == 0 && len(d.Columns) == 0 }

// String summarizes what was dropped, one line per row or column, e.g.
//
//	dropped compound Zr2SP2O12 (nte.csv row 47): no work_function for S (elements.csv has no work_function_eV for S)
//
// Compounds are named by Composition.Name, which includes their Source when the caller set it.
func (d Dropped) String() string {
	var b strings.Builder
	for _, r := range d.Rows {
		fmt.Fprintf(&b, "dropped compound %s: %s\n", r.Compound, missingList(r.Missing))
	}
	for _, c := range d.Columns {
		fmt.Fprintf(&b, "dropped column %s: %s\n", c.Name, missingList(c.Missing))
	}
	return b.String()
}

func missingList(ms []Missing) string {
	var parts []string
	for _, m := range ms {
		s := fmt.Sprintf("no %s for %s (%s)", m.Property, m.Element, m.Reason)
		if !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// DescribeTable computes the descriptors of every composition. Assignment failures
// (*AssignError) and invalid options are errors whatever the policy. Missing values are
// handled by opt.Missing: MissingError returns a *MissingValueError for the first one (in
// row, then column order); MissingDropRow drops the compounds that have any; and
// MissingDropColumn drops the columns that have any. Table.Dropped reports what was
// removed.
func DescribeTable(comps []Composition, opt DescriptorOptions) (*Table, error) {
	p, err := newPlan(opt)
	if err != nil {
		return nil, err
	}
	type row struct {
		a    *Assignment
		vals []Value
	}
	rows := make([]row, len(comps))
	for i, c := range comps {
		a, err := Assign(c, opt.Assign)
		if err != nil {
			return nil, err
		}
		rows[i] = row{a: a, vals: p.vector(a)}
	}
	t := &Table{}
	var names []string
	if len(rows) > 0 {
		for _, v := range rows[0].vals {
			names = append(names, v.Name)
		}
	} else {
		for _, v := range p.vector(&Assignment{}) {
			names = append(names, v.Name)
		}
	}
	keepCol := make([]bool, len(names))
	for j := range keepCol {
		keepCol[j] = true
	}
	keepRow := make([]bool, len(rows))
	policy := opt.Missing
	if policy == "" {
		policy = MissingError
	}
	colMissing := make([][]Missing, len(names))
	for i, r := range rows {
		keepRow[i] = true
		var rowMissing []Missing
		for j, v := range r.vals {
			if !v.Missing {
				continue
			}
			why := v.Why
			if len(why) == 0 { // an empty scope cannot happen after Assign, but say so if it does
				why = []Missing{{Compound: r.a.Compound, Element: "-", Property: v.Name, Reason: "no element in the scope"}}
			}
			switch policy {
			case MissingError:
				return nil, &MissingValueError{Missing: why[0]}
			case MissingDropRow:
				keepRow[i] = false
				rowMissing = append(rowMissing, why...)
			case MissingDropColumn:
				keepCol[j] = false
				colMissing[j] = append(colMissing[j], why...)
			}
		}
		if !keepRow[i] {
			t.Dropped.Rows = append(t.Dropped.Rows, DroppedRow{Index: i, Compound: r.a.Compound, Missing: rowMissing})
		}
	}
	for j, n := range names {
		if !keepCol[j] {
			t.Dropped.Columns = append(t.Dropped.Columns, DroppedColumn{Name: n, Missing: colMissing[j]})
		} else {
			t.Columns = append(t.Columns, n)
		}
	}
	var syms []string
	if opt.Fractions {
		for i, c := range comps {
			if !keepRow[i] {
				continue
			}
			for _, x := range c.Components {
				if !slices.Contains(syms, x.Symbol) {
					syms = append(syms, x.Symbol)
				}
			}
		}
		bySymbolZ(syms)
		for _, s := range syms {
			t.Columns = append(t.Columns, "frac_"+s)
		}
	}
	for i, r := range rows {
		if !keepRow[i] {
			continue
		}
		vals := make([]float64, 0, len(t.Columns))
		for j, v := range r.vals {
			if keepCol[j] {
				vals = append(vals, v.V)
			}
		}
		for _, f := range fractions(comps[i], syms) {
			vals = append(vals, f.V)
		}
		t.Rows = append(t.Rows, vals)
		t.Kept = append(t.Kept, i)
		t.Assignments = append(t.Assignments, r.a)
	}
	return t, nil
}

// Column returns the values of the named column, and false when there is no such column.
func (t *Table) Column(name string) ([]float64, bool) {
	j := slices.Index(t.Columns, name)
	if j < 0 {
		return nil, false
	}
	out := make([]float64, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = r[j]
	}
	return out, true
}
