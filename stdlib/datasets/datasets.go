package datasets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"github.com/ntedsl/ntedsl/stdlib/suggest"
	"slices"
	"strings"
)

//go:embed data/a2m3o12_cte.csv data/README.md
var dataFS embed.FS

// Prefix marks a built-in data set in a study's source attribute.
const Prefix = "builtin:"

// Info describes a built-in data set.
type Info struct {
	Name          string   // e.g. "builtin:a2m3o12"
	File          string   // the embedded file's name, e.g. "a2m3o12_cte.csv"
	Title         string   // one line
	Rows          int      // data rows (header excluded)
	Columns       []string // header, in file order
	IDColumn      string   // unique row id ("id")
	FormulaColumn string   // chemical formula as written by the source ("formula")
	TargetColumn  string   // the measured quantity ("alpha_l_1e6_per_K")
	SourceColumn  string   // the literature source of each row ("source")
	SHA256        string   // hex digest of the bytes Open returns
	Provenance    string   // data/README.md: origin, columns and caveats
}

type entry struct {
	file, title, id, formula, target, source string
}

var registry = map[string]entry{
	"a2m3o12": {
		file:    "a2m3o12_cte.csv",
		title:   "Linear thermal-expansion coefficients (1e-6/K) of A2M3O12-family ceramics, one row per literature measurement",
		id:      "id",
		formula: "formula",
		target:  "alpha_l_1e6_per_K",
		source:  "source",
	},
}

// Names returns the names of the built-in data sets, with the "builtin:" prefix, sorted.
func Names() []string {
	var out []string
	for k := range registry {
		out = append(out, Prefix+k)
	}
	slices.Sort(out)
	return out
}

// IsBuiltin reports whether a study's source names a built-in data set (starts with
// "builtin:").
func IsBuiltin(source string) bool { return strings.HasPrefix(source, Prefix) }

// Open returns the bytes (CSV with a header row) and the description of the built-in data
// set name, e.g. "builtin:a2m3o12". The bytes are the caller's to keep. An unknown name is
// an error that lists the known ones.
func Open(name string) ([]byte, Info, error) {
	key, ok := strings.CutPrefix(name, Prefix)
	e, found := registry[key]
	if !ok || !found {
		msg := fmt.Sprintf("unknown built-in data set %q", name)
		if s := closest(name); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, Info{}, fmt.Errorf("%s; built-in data sets: %s", msg, strings.Join(Names(), ", "))
	}
	b, err := dataFS.ReadFile("data/" + e.file)
	if err != nil {
		panic("datasets: embedded file missing: " + err.Error())
	}
	readme, err := dataFS.ReadFile("data/README.md")
	if err != nil {
		panic("datasets: embedded README missing: " + err.Error())
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) < 1 {
		panic(fmt.Sprintf("datasets: embedded %s is not valid CSV: %v", e.file, err))
	}
	sum := sha256.Sum256(b)
	return b, Info{
		Name: Prefix + key, File: e.file, Title: e.title,
		Rows: len(rows) - 1, Columns: rows[0],
		IDColumn: e.id, FormulaColumn: e.formula, TargetColumn: e.target, SourceColumn: e.source,
		SHA256: hex.EncodeToString(sum[:]), Provenance: string(readme),
	}, nil
}

// closest returns the known name nearest to name (case-insensitive, at most three edits),
// or "".
func closest(name string) string {
	best, bd := "", 4
	for _, n := range Names() {
		for _, cand := range []string{n, strings.TrimPrefix(n, Prefix)} {
			if d := suggest.Distance(strings.ToLower(name), cand); d < bd {
				best, bd = n, d
			}
		}
	}
	return best
}
