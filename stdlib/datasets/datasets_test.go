package datasets

import (
	"bytes"
	"encoding/csv"
	"slices"
	"testing"
)

func TestOpenA2M3O12(t *testing.T) {
	b, info, err := Open("builtin:a2m3o12")
	if err != nil {
		t.Fatal(err)
	}
	// data/README.md: 52 rows, 39 compounds, 14 columns.
	if info.Rows != 52 {
		t.Errorf("Rows = %d, want 52", info.Rows)
	}
	wantCols := []string{"id", "formula", "alpha_l_1e6_per_K", "t_range_K", "method", "transition_K",
		"synthesis_T_C", "synthesis_time_h", "source", "source_locator", "phase", "method_class",
		"value_derived", "possibly_volumetric"}
	if !slices.Equal(info.Columns, wantCols) {
		t.Errorf("Columns = %v", info.Columns)
	}
	// The digest of shared/data/a2m3o12_cte.csv, taken with sha256sum when it was copied.
	if info.SHA256 != "37f7450975086d98193b44287bd6f4f08f9c73fafcd5c8227f521cdb79aa132e" {
		t.Errorf("SHA256 = %s: the embedded file differs from the shared data set", info.SHA256)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	formulas := map[string]bool{}
	for _, r := range rows[1:] {
		formulas[r[col(info.FormulaColumn)]] = true
		// Every row carries its literature source.
		if r[col(info.SourceColumn)] == "" || r[col(info.IDColumn)] == "" || r[col(info.TargetColumn)] == "" {
			t.Errorf("row %s lacks id, target or source", r[0])
		}
	}
	// 41 distinct spellings; README: 39 compounds, since Sc2(WO4)3/Sc2W3O12 and
	// Y2(WO4)3/Y2W3O12 are the same compound written two ways.
	if len(formulas) != 41 {
		t.Errorf("%d distinct formulas, want 41", len(formulas))
	}
	if info.Provenance == "" || info.File != "a2m3o12_cte.csv" || info.Name != "builtin:a2m3o12" {
		t.Errorf("info = %+v", info)
	}
	// The bytes belong to the caller: changing them must not change the next Open.
	b[0] = 'X'
	b2, _, _ := Open("builtin:a2m3o12")
	if b2[0] != 'i' {
		t.Error("Open returned shared bytes")
	}
}

func TestOpenUnknown(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"builtin:a2m3012", `unknown built-in data set "builtin:a2m3012" (did you mean "builtin:a2m3o12"?); built-in data sets: builtin:a2m3o12`},
		{"a2m3o12", `unknown built-in data set "a2m3o12" (did you mean "builtin:a2m3o12"?); built-in data sets: builtin:a2m3o12`},
		{"builtin:uci", `unknown built-in data set "builtin:uci"; built-in data sets: builtin:a2m3o12`},
	} {
		_, _, err := Open(tc.name)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Open(%q) error = %v\nwant %s", tc.name, err, tc.want)
		}
	}
	if !IsBuiltin("builtin:a2m3o12") || IsBuiltin("data/nte.csv") {
		t.Error("IsBuiltin")
	}
	if got := Names(); !slices.Equal(got, []string{"builtin:a2m3o12"}) {
		t.Errorf("Names = %v", got)
	}
}
