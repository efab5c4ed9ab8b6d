// Package table is ntedsl's tabular value: rows with string ids, ordered named columns that
// are either numeric (float64, NaN = missing) or text, and two roles a study assigns — the
// target column a regressor learns and the formula column descriptors are computed from.
// A Table is immutable once built: nodes derive new tables instead of editing one, which is
// what lets the runtime cache and share them between concurrent nodes.
package table

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Column is a named column; exactly one of Num and Str is non-nil.
type Column struct {
	Name string
	Num  []float64
	Str  []string
}

// IsNum reports whether the column is numeric.
func (c *Column) IsNum() bool { return c.Num != nil }

// Table is a set of rows with ids and ordered columns.
type Table struct {
	IDs     []string
	Cols    []*Column
	Target  string // role: the column regressors predict ("" for none)
	Formula string // role: the column holding chemical formulas ("" for none)
}

// TypeName is the value type of tables in the study graph.
func (t *Table) TypeName() string { return "table" }

// AsTable returns t itself: a table is tabular.
func (t *Table) AsTable() *Table { return t }

// NumRows returns the number of rows.
func (t *Table) NumRows() int { return len(t.IDs) }

// Col returns the named column, or nil.
func (t *Table) Col(name string) *Column {
	for _, c := range t.Cols {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Names returns the column names in order.
func (t *Table) Names() []string {
	out := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		out[i] = c.Name
	}
	return out
}

// Validate checks the structural invariants: column lengths, unique names and ids, roles
// naming existing columns of the right type.
func (t *Table) Validate() error {
	n := len(t.IDs)
	seen := map[string]bool{}
	for _, c := range t.Cols {
		if seen[c.Name] {
			return fmt.Errorf("duplicate column %q", c.Name)
		}
		seen[c.Name] = true
		if (c.Num == nil) == (c.Str == nil) {
			return fmt.Errorf("column %q must be either numeric or text", c.Name)
		}
		if len(c.Num)+len(c.Str) != n {
			return fmt.Errorf("column %q has %d values for %d rows", c.Name, len(c.Num)+len(c.Str), n)
		}
	}
	ids := map[string]bool{}
	for _, id := range t.IDs {
		if ids[id] {
			return fmt.Errorf("duplicate row id %q", id)
		}
		ids[id] = true
	}
	if t.Target != "" {
		c := t.Col(t.Target)
		if c == nil || !c.IsNum() {
			return fmt.Errorf("target column %q is not a numeric column of the table", t.Target)
		}
	}
	if t.Formula != "" {
		c := t.Col(t.Formula)
		if c == nil || c.IsNum() {
			return fmt.Errorf("formula column %q is not a text column of the table", t.Formula)
		}
	}
	return nil
}

// Select returns a table with the given rows (indices into t), in that order.
func (t *Table) Select(rows []int) *Table {
	out := &Table{IDs: make([]string, len(rows)), Target: t.Target, Formula: t.Formula}
	for i, r := range rows {
		out.IDs[i] = t.IDs[r]
	}
	for _, c := range t.Cols {
		nc := &Column{Name: c.Name}
		if c.IsNum() {
			nc.Num = make([]float64, len(rows))
			for i, r := range rows {
				nc.Num[i] = c.Num[r]
			}
		} else {
			nc.Str = make([]string, len(rows))
			for i, r := range rows {
				nc.Str[i] = c.Str[r]
			}
		}
		out.Cols = append(out.Cols, nc)
	}
	return out
}

// Features returns the numeric columns other than the target, in order: the default
// regressor inputs of a table.
func (t *Table) Features() []string {
	var out []string
	for _, c := range t.Cols {
		if c.IsNum() && c.Name != t.Target {
			out = append(out, c.Name)
		}
	}
	return out
}

const magic = "ntedsl-table/1\n"

// MarshalBinary encodes the table deterministically: equal tables give equal bytes, and
// floats are stored by their bits, so decoding gives back exactly the same values.
func (t *Table) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(magic)
	putStr := func(s string) {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	putUint := func(u uint64) { b.Write(binary.AppendUvarint(nil, u)) }
	putStr(t.Target)
	putStr(t.Formula)
	putUint(uint64(len(t.IDs)))
	for _, id := range t.IDs {
		putStr(id)
	}
	putUint(uint64(len(t.Cols)))
	var buf [8]byte
	for _, c := range t.Cols {
		putStr(c.Name)
		if c.IsNum() {
			b.WriteByte('n')
			for _, x := range c.Num {
				binary.LittleEndian.PutUint64(buf[:], math.Float64bits(x))
				b.Write(buf[:])
			}
		} else {
			b.WriteByte('s')
			for _, s := range c.Str {
				putStr(s)
			}
		}
	}
	return b.Bytes(), nil
}

var errCorrupt = errors.New("table: corrupt encoding")

// Decode is the inverse of MarshalBinary.
func Decode(data []byte) (*Table, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, errCorrupt
	}
	p := data[len(magic):]
	getUint := func() (uint64, error) {
		u, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, errCorrupt
		}
		p = p[n:]
		return u, nil
	}
	getStr := func() (string, error) {
		n, err := getUint()
		if err != nil || n > uint64(len(p)) {
			return "", errCorrupt
		}
		s := string(p[:n])
		p = p[n:]
		return s, nil
	}
	t := &Table{}
	var err error
	if t.Target, err = getStr(); err != nil {
		return nil, err
	}
	if t.Formula, err = getStr(); err != nil {
		return nil, err
	}
	nrows, err := getUint()
	if err != nil || nrows > uint64(len(p)) {
		return nil, errCorrupt
	}
	t.IDs = make([]string, nrows)
	for i := range t.IDs {
		if t.IDs[i], err = getStr(); err != nil {
			return nil, err
		}
	}
	ncols, err := getUint()
	if err != nil || ncols > uint64(len(p)) {
		return nil, errCorrupt
	}
	for j := uint64(0); j < ncols; j++ {
		c := &Column{}
		if c.Name, err = getStr(); err != nil {
			return nil, err
		}
		if len(p) < 1 {
			return nil, errCorrupt
		}
		kind := p[0]
		p = p[1:]
		switch kind {
		case 'n':
			if uint64(len(p)) < 8*nrows {
				return nil, errCorrupt
			}
			c.Num = make([]float64, nrows)
			for i := range c.Num {
				c.Num[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
			}
			p = p[8*nrows:]
		case 's':
			c.Str = make([]string, nrows)
			for i := range c.Str {
				if c.Str[i], err = getStr(); err != nil {
					return nil, err
				}
			}
		default:
			return nil, errCorrupt
		}
		t.Cols = append(t.Cols, c)
	}
	if len(p) != 0 {
		return nil, errCorrupt
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("table: decoded table is invalid: %w", err)
	}
	return t, nil
}

// FormatFloat writes x in the shortest form that parses back to the same float64; missing
// values (NaN) are written as an empty cell.
func FormatFloat(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// CSV renders the table with an "id" column first.
func (t *Table) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	header := append([]string{"id"}, t.Names()...)
	_ = w.Write(header)
	rec := make([]string, len(header))
	for i, id := range t.IDs {
		rec[0] = id
		for j, c := range t.Cols {
			if c.IsNum() {
				rec[j+1] = FormatFloat(c.Num[i])
			} else {
				rec[j+1] = c.Str[i]
			}
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

// JSON renders the table as {"target":…, "formula":…, "columns":[…], "rows":[{…}]} with
// numbers in shortest round-trip form and missing values as null.
func (t *Table) JSON() []byte {
	var b bytes.Buffer
	b.WriteString("{")
	fmt.Fprintf(&b, "\"target\":%s,\"formula\":%s,\"columns\":", jstr(t.Target), jstr(t.Formula))
	cols := make([]map[string]string, len(t.Cols))
	for i, c := range t.Cols {
		ty := "string"
		if c.IsNum() {
			ty = "number"
		}
		cols[i] = map[string]string{"name": c.Name, "type": ty}
	}
	cb, _ := json.Marshal(cols)
	b.Write(cb)
	b.WriteString(",\"rows\":[")
	for i, id := range t.IDs {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{\"id\":" + jstr(id))
		for _, c := range t.Cols {
			b.WriteString("," + jstr(c.Name) + ":")
			if c.IsNum() {
				if math.IsNaN(c.Num[i]) || math.IsInf(c.Num[i], 0) {
					b.WriteString("null")
				} else {
					b.WriteString(FormatFloat(c.Num[i]))
				}
			} else {
				b.WriteString(jstr(c.Str[i]))
			}
		}
		b.WriteString("}")
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

func jstr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Artifacts writes the table as CSV and JSON result files.
func (t *Table) Artifacts() (map[string][]byte, error) {
	return map[string][]byte{".csv": t.CSV(), ".json": t.JSON()}, nil
}
