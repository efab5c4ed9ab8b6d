package nodes

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/datasets"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type datasetConfig struct {
	Source  string               `attr:"source,required" doc:"A CSV file with a header row (path relative to the study file), or a built-in data set as builtin:NAME."`
	ID      string               `attr:"id" doc:"Column holding unique row ids. Default: the column named id when there is one, else r1, r2, ... by row."`
	Target  string               `attr:"target" doc:"Numeric column that regressors predict."`
	Formula string               `attr:"formula" doc:"Column holding chemical formulas (read by descriptor)."`
	Columns map[string]string    `attr:"columns" doc:"Column types, \"number\" or \"string\". Undeclared columns are numbers when every non-empty cell parses as one, text otherwise; the target column is always read as numbers, so a stray text cell is reported with its row."`
	Where   lang.Expr            `attr:"where" doc:"expr-lang condition per row, e.g. \"phase == 'orthorhombic'\"; rows where it is false are dropped. Missing numbers are NaN (test with isnan(x))."`
	Derive  map[string]lang.Expr `attr:"derive" doc:"New numeric columns, name = expr-lang expression (evaluated after where)."`
	Select  []string             `attr:"select" doc:"Keep only these columns, in this order."`
	Format  string               `attr:"format" enum:"csv,whitespace" doc:"csv (comma-separated, quoted fields) or whitespace (fields separated by spaces or tabs, as the UCI benchmark files)."`
	Header  bool                 `attr:"header" doc:"The first line names the columns. Without a header, columns are named by names, or c0, c1, ..."`
	Names   []string             `attr:"names" doc:"Column names of a file without header (header = false)."`
}

func (c *datasetConfig) Validate() error {
	for name, ty := range c.Columns {
		if ty != "number" && ty != "string" {
			return &lang.AttrError{Attr: "columns", Summary: fmt.Sprintf("column %q has type %q", name, ty), Detail: fmt.Sprintf("Column types are \"number\" or \"string\"; %q has %q.", name, ty)}
		}
	}
	return nil
}

func registerDataset(r *Registry) {
	Register(r, Def[datasetConfig]{
		Name:     "dataset",
		Doc:      "Reads a table from a CSV file or a built-in data set, with typed columns, a row filter, derived columns and the target and formula roles.",
		Version:  1,
		Output:   "table",
		Defaults: datasetConfig{Format: "csv", Header: true},
		Sources: func(cfg *datasetConfig, studyDir string) map[string]string {
			if datasets.IsBuiltin(cfg.Source) {
				_, info, err := datasets.Open(cfg.Source)
				if err != nil {
					return map[string]string{cfg.Source: "unknown"}
				}
				return map[string]string{cfg.Source: "sha256:" + info.SHA256}
			}
			return map[string]string{cfg.Source: FileDigest(studyPath(studyDir, cfg.Source))}
		},
		Run: func(c *Context, cfg *datasetConfig) (Value, error) {
			data, name, err := readSource(c, cfg.Source)
			if err != nil {
				return nil, err
			}
			t, err := parseCSV(c, data, name, cfg)
			if err != nil {
				return nil, err
			}
			for attr, col := range map[string]string{"formula": cfg.Formula} {
				if col == "" {
					continue
				}
				cc := t.Col(col)
				switch {
				case cc == nil:
					return nil, c.AttrError(attr, "Unknown column "+col, didYouMean(fmt.Sprintf("%s has no column %q.", name, col), col, t.Names()))
				case cc.IsNum():
					return nil, c.AttrError(attr, "Formula column is numeric", fmt.Sprintf("The column %q of %s holds numbers, not formulas.", col, name))
				}
				t.Formula = col
			}
			return transformTable(c, t, cfg.Where, cfg.Derive, cfg.Select, nil, cfg.Target)
		},
	})
}

func readSource(c *Context, src string) ([]byte, string, error) {
	if datasets.IsBuiltin(src) {
		data, _, err := datasets.Open(src)
		if err != nil {
			return nil, "", c.AttrError("source", "Unknown built-in data set", didYouMean(err.Error(), src, datasets.Names()))
		}
		return data, src, nil
	}
	path := studyPath(c.StudyDir, src)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", c.AttrError("source", "Data file not found", fmt.Sprintf("There is no file %s (paths are relative to the study file's folder %s).", path, c.StudyDir))
	}
	if err != nil {
		return nil, "", c.AttrError("source", "Cannot read the data file", err.Error())
	}
	return data, src, nil
}

// studyPath resolves a path written in a study: relative paths are relative to the study
// file's folder.
func studyPath(studyDir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(studyDir, path)
}

// parseCSV reads a CSV with a header into a table. Errors name the file, line and column.
func parseCSV(c *Context, data []byte, name string, cfg *datasetConfig) (*table.Table, error) {
	r := newRecordReader(data, cfg.Format)
	var header []string
	var first []string
	if cfg.Header {
		h, err := r.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: the file is empty; a header row is needed", name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		header = h
	} else {
		rec, err := r.Read()
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		first = rec
		switch {
		case len(cfg.Names) > 0:
			if len(cfg.Names) != len(rec) {
				return nil, c.AttrError("names", "Wrong number of column names", fmt.Sprintf("%s has %d columns, names lists %d.", name, len(rec), len(cfg.Names)))
			}
			header = append([]string{}, cfg.Names...)
		default:
			for i := range rec {
				header = append(header, fmt.Sprintf("c%d", i))
			}
		}
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	if len(header) == 1 && cfg.Format == "csv" {
		for _, sep := range []string{";", "\t", "|"} {
			if strings.Contains(header[0], sep) {
				return nil, c.AttrError("source", "Not a comma-separated file", fmt.Sprintf(
					"The first line of %s is one column, %q: the file looks separated by %q. ntedsl reads comma-separated files "+
						"(format = \"csv\") and files separated by spaces or tabs (format = \"whitespace\"); save it as comma-separated CSV.",
					name, header[0], sep))
			}
		}
	}
	colIdx := map[string]int{}
	for i, h := range header {
		if h == "" {
			return nil, fmt.Errorf("%s:1: column %d has an empty name", name, i+1)
		}
		if j, dup := colIdx[h]; dup {
			return nil, fmt.Errorf("%s:1: columns %d and %d are both named %q", name, j+1, i+1, h)
		}
		colIdx[h] = i
	}
	for col := range cfg.Columns {
		if _, ok := colIdx[col]; !ok {
			return nil, c.AttrError("columns", "Unknown column "+col, didYouMean(fmt.Sprintf("%s has no column %q.", name, col), col, header))
		}
	}
	idCol := cfg.ID
	if idCol == "" {
		if _, ok := colIdx["id"]; ok {
			idCol = "id"
		}
	} else if _, ok := colIdx[idCol]; !ok {
		return nil, c.AttrError("id", "Unknown id column", didYouMean(fmt.Sprintf("%s has no column %q.", name, idCol), idCol, header))
	}
	var records [][]string
	var lines []int
	if first != nil {
		records, lines = append(records, first), append(lines, 1)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			hint := ""
			if cfg.Format == "csv" {
				hint = ` (a comma inside a value needs quotes: "1,5")`
			}
			return nil, fmt.Errorf("%s:%d: data row %d has %d fields, the header has %d%s", name, line, len(records)+1, len(rec), len(header), hint)
		}
		records = append(records, rec)
		lines = append(lines, line)
	}
	t := &table.Table{IDs: make([]string, len(records))}
	seen := map[string]int{}
	for i := range records {
		id := fmt.Sprintf("r%d", i+1)
		if idCol != "" {
			id = strings.TrimSpace(records[i][colIdx[idCol]])
			if id == "" {
				return nil, fmt.Errorf("%s:%d: data row %d has an empty id in column %q", name, lines[i], i+1, idCol)
			}
		}
		if j, dup := seen[id]; dup {
			return nil, fmt.Errorf("%s:%d: row id %q repeats the id of line %d; ids must be unique", name, lines[i], id, lines[j])
		}
		seen[id] = i
		t.IDs[i] = id
	}
	for j, h := range header {
		if h == idCol {
			continue
		}
		ty, declared := cfg.Columns[h]
		// The target must be numeric: read it as a number column, so that a stray text cell
		// is reported with its row rather than turning the whole column into text.
		target := !declared && h == cfg.Target
		if target {
			ty = "number"
		}
		if !declared && !target {
			ty = "number"
			for _, rec := range records {
				if s := strings.TrimSpace(rec[j]); s != "" {
					if _, err := strconv.ParseFloat(s, 64); err != nil {
						ty = "string"
						break
					}
				}
			}
		}
		col := &table.Column{Name: h}
		if ty == "string" {
			col.Str = make([]string, len(records))
			for i, rec := range records {
				col.Str[i] = rec[j]
			}
		} else {
			col.Num = make([]float64, len(records))
			for i, rec := range records {
				s := strings.TrimSpace(rec[j])
				if s == "" {
					col.Num[i] = math.NaN() // missing
					continue
				}
				x, err := strconv.ParseFloat(s, 64)
				switch {
				case err != nil:
					return nil, fmt.Errorf("%s:%d: row %q, column %q (field %d): %q is not a number%s", name, lines[i], t.IDs[i], h, j+1, s, numberHint(declared, target))
				case math.IsNaN(x) || math.IsInf(x, 0):
					return nil, fmt.Errorf("%s:%d: row %q, column %q (field %d): %q is not a finite number; leave the cell empty for a missing value", name, lines[i], t.IDs[i], h, j+1, s)
				}
				col.Num[i] = x
			}
		}
		t.Cols = append(t.Cols, col)
	}
	return t, nil
}

func numberHint(declared, target bool) string {
	switch {
	case declared:
		return " (the study declares it a number column)"
	case target:
		return " (it is the target column, which must be numeric; leave the cell empty for a missing value)"
	}
	return ""
}

// recordReader reads records of a CSV or whitespace-separated file, with line numbers.
type recordReader interface {
	Read() ([]string, error)
	FieldPos(field int) (line, column int)
}

func newRecordReader(data []byte, format string) recordReader {
	if format == "whitespace" {
		return &fieldsReader{lines: strings.Split(string(data), "\n")}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	r.FieldsPerRecord = -1 // ragged rows are reported by parseCSV, with the header's count
	return r
}

// fieldsReader splits lines on runs of blanks, skipping empty lines.
type fieldsReader struct {
	lines []string
	next  int
	line  int
}

func (f *fieldsReader) Read() ([]string, error) {
	for f.next < len(f.lines) {
		l := strings.TrimSpace(f.lines[f.next])
		f.next++
		if l != "" {
			f.line = f.next
			return strings.Fields(l), nil
		}
	}
	return nil, io.EOF
}

func (f *fieldsReader) FieldPos(int) (int, int) { return f.line, 1 }
