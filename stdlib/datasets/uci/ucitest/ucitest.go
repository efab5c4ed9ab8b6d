// Package ucitest gives tests the repository's copy of the UCI regression benchmark
// (testdata/uci at the module root), failing the test on any read error.
package ucitest

import (
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/datasets/uci"
)

// Dir returns the module's testdata/uci folder, found by walking up from the working
// directory (a package's tests run in its own folder) to the folder holding go.mod.
func Dir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "uci")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("ucitest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads the named set, e.g. "bostonHousing".
func Load(tb testing.TB, name string) *uci.Set {
	tb.Helper()
	s, err := uci.Load(filepath.Join(Dir(tb), name))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Split returns the training and test inputs and targets of split k of s.
func Split(tb testing.TB, s *uci.Set, k int) (Xtr *mat.Dense, ytr []float64, Xte *mat.Dense, yte []float64) {
	tb.Helper()
	Xtr, ytr, Xte, yte, err := s.Split(k)
	if err != nil {
		tb.Fatal(err)
	}
	return Xtr, ytr, Xte, yte
}
