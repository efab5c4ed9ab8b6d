package uci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadBostonSplit(t *testing.T) {
	s, err := Load(filepath.Join("..", "..", "..", "testdata", "uci", "bostonHousing"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Data) != 506 || len(s.Features) != 13 || s.Target != 13 {
		t.Fatalf("Boston: %d rows, %d features, target %d; want 506, 13, 13", len(s.Data), len(s.Features), s.Target)
	}
	train, test, err := s.SplitRows(0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, r := range append(append([]int{}, train...), test...) {
		if seen[r] {
			t.Fatalf("row %d in split 0 twice", r)
		}
		seen[r] = true
	}
	if len(seen) != 506 || len(test) != 51 {
		t.Fatalf("split 0 covers %d rows with %d test rows; want 506 and 51", len(seen), len(test))
	}
	Xtr, ytr, Xte, yte, err := s.Split(0)
	if err != nil {
		t.Fatal(err)
	}
	if r, c := Xtr.Dims(); r != 455 || c != 13 || len(ytr) != 455 || len(yte) != 51 {
		t.Fatalf("split 0: X %d×%d, %d train and %d test targets", r, c, len(ytr), len(yte))
	}
	// First training row of split 0 is data row train[0]: its first feature and target.
	if Xtr.At(0, 0) != s.Data[train[0]][s.Features[0]] || ytr[0] != s.Data[train[0]][13] || Xte.At(50, 12) != s.Data[test[50]][12] {
		t.Fatal("rows picked out of order")
	}
}

func TestLoadErrors(t *testing.T) {
	write := func(dir, name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, data, features, target, want string
	}{
		{"bad number", "1 2\n3 x\n", "0", "1", "data.txt:2: field 2: \"x\" is not a number"},
		{"ragged", "1 2\n3\n", "0", "1", "data.txt: row 2 has 1 fields, row 1 has 2"},
		{"index out of range", "1 2\n3 4\n", "0 2", "1", "index_features.txt: entry 2, 2, is not an index below 2"},
		{"two targets", "1 2\n3 4\n", "0", "0\n1", "want one target column, found 2"},
		{"empty", "\n", "0", "1", "data.txt: no data"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		write(dir, "data.txt", c.data)
		write(dir, "index_features.txt", c.features)
		write(dir, "index_target.txt", c.target)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("an empty folder loaded")
	}
}
