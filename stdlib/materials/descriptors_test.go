package materials

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ntedsl/ntedsl/stdlib/elements"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func sq(x float64) float64 { return x * x }

// close compares with a relative tolerance of 1e-12: the hand computations below use the
// same table values, so only float rounding separates them from the code.
func closeTo(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func checkValues(t *testing.T, d *Description, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		v, ok := d.Lookup(name)
		if !ok {
			t.Errorf("%s: no column %s", d.Composition.Formula, name)
			continue
		}
		if v.Missing || !closeTo(v.V, w) {
			t.Errorf("%s: %s = %v (missing %v), want %v", d.Composition.Formula, name, v.V, v.Missing, w)
		}
	}
}

// TestDescriptorsSc2W3O12 checks the descriptors of Sc2W3O12 against a hand computation.
//
// Table values (elements.csv; Shannon 1976 ionic radii at A → VI, M → IV):
//
//	        radius  pauling_en  work_function  zeff_clementi  zeff_slater
//	Sc3+ VI 0.745   1.36        3.5            4.6324         3
//	W6+  IV 0.42    2.36        4.55           9.8544         3.45
//
// A and M hold one element each: mean = its value, range = std = 0.
// "all" (cations Sc 2, W 3): weights 0.4, 0.6; for two values
// std = |p_Sc − p_W|·sqrt(0.4·0.6) = |Δ|·0.48989794855663565.
//
//	radius: mean 0.4·0.745 + 0.6·0.42 = 0.55;   range 0.325; std 0.159216833280906
//	EN:     mean 0.544 + 1.416 = 1.96;         range 1.0;   std 0.489897948556636
//	WF:     mean 1.4 + 2.73 = 4.13;            range 1.05;  std 0.514392845984467
//	Z_cl:   mean 1.85296 + 5.91264 = 7.7656;   range 5.222; std 2.558248087...
//	Z_sl:   mean 1.2 + 2.07 = 3.27;            range 0.45;  std 0.220454076850486
//
// Fractions: 2/17, 3/17, 12/17 of 17 atoms.
func TestDescriptorsSc2W3O12(t *testing.T) {
	d, err := Describe(sc2w3o12, DefaultDescriptorOptions())
	if err != nil {
		t.Fatal(err)
	}
	s := math.Sqrt(0.4 * 0.6)
	checkValues(t, d, map[string]float64{
		"A_shannon_radius_mean": 0.745, "A_shannon_radius_range": 0, "A_shannon_radius_std": 0,
		"A_pauling_en_mean": 1.36, "A_work_function_mean": 3.5, "A_zeff_clementi_mean": 4.6324, "A_zeff_slater_mean": 3,
		"M_shannon_radius_mean": 0.42, "M_pauling_en_mean": 2.36, "M_work_function_mean": 4.55,
		"M_zeff_clementi_mean": 9.8544, "M_zeff_slater_mean": 3.45, "M_pauling_en_std": 0, "M_pauling_en_range": 0,
		"all_shannon_radius_mean": 0.55, "all_shannon_radius_range": 0.325, "all_shannon_radius_std": 0.325 * s,
		"all_pauling_en_mean": 1.96, "all_pauling_en_range": 1.0, "all_pauling_en_std": 1.0 * s,
		"all_work_function_mean": 4.13, "all_work_function_range": 1.05, "all_work_function_std": 1.05 * s,
		"all_zeff_clementi_mean": 7.7656, "all_zeff_clementi_range": 5.222, "all_zeff_clementi_std": 5.222 * s,
		"all_zeff_slater_mean": 3.27, "all_zeff_slater_range": 0.45, "all_zeff_slater_std": 0.45 * s,
		"frac_Sc": 2.0 / 17, "frac_W": 3.0 / 17, "frac_O": 12.0 / 17,
	})
	// The std of two values, written out: 0.325·sqrt(0.24) = 0.1592168332809...
	if v, _ := d.Lookup("all_shannon_radius_std"); math.Abs(v.V-0.159216833280906) > 1e-14 {
		t.Errorf("all_shannon_radius_std = %.15f", v.V)
	}
	// Column order: scope, property, stat, then fractions by atomic number.
	var names []string
	for _, v := range d.Values {
		names = append(names, v.Name)
	}
	if len(names) != 3*5*3+3 || names[0] != "A_shannon_radius_mean" || names[1] != "A_shannon_radius_range" ||
		names[2] != "A_shannon_radius_std" || names[3] != "A_pauling_en_mean" || names[15] != "M_shannon_radius_mean" ||
		!slices.Equal(names[45:], []string{"frac_O", "frac_Sc", "frac_W"}) {
		t.Errorf("columns: %v", names)
	}
}

// TestDescriptorsInHfMgMo3O12 checks a mixed A site against a hand computation.
//
// A site: In 1, Hf 0.5, Mg 0.5 → weights 0.5, 0.25, 0.25.
//
//	        radius (VI)  pauling_en  work_function  zeff_clementi  zeff_slater
//	In3+    0.80         1.78        4.12           8.47           5
//	Hf4+    0.71         1.3         3.9            9.1644         3.15
//	Mg2+    0.72         1.31        3.66           3.3075         2.85
//	Mo6+ IV 0.41         2.16        4.6            6.106          2.95
//
//	A radius: mean 0.40 + 0.1775 + 0.18 = 0.7575; range 0.80 − 0.71 = 0.09;
//	          deviations 0.0425, −0.0475, −0.0375 → variance 0.5·0.00180625 +
//	          0.25·0.00225625 + 0.25·0.00140625 = 0.00181875 → std 0.0426468052...
//	A EN:     mean 0.89 + 0.325 + 0.3275 = 1.5425; range 0.48;
//	          variance 0.5·0.2375² + 0.25·0.2425² + 0.25·0.2325² = 0.05641875 → std 0.2375263...
//	A WF:     mean 2.06 + 0.975 + 0.915 = 3.95; range 0.46;
//	          variance 0.5·0.17² + 0.25·0.05² + 0.25·0.29² = 0.0361 → std 0.19 exactly
//	A Z_cl:   mean 4.235 + 2.2911 + 0.826875 = 7.352975; range 9.1644 − 3.3075 = 5.8569
//	A oxidation state: mean 0.5·3 + 0.25·4 + 0.25·2 = 3 (the A site carries 6+ over 2 atoms)
//
// all (In 1, Hf 0.5, Mg 0.5, Mo 3 of 5 cations → 0.2, 0.1, 0.1, 0.6):
//
//	radius: mean 0.16 + 0.071 + 0.072 + 0.246 = 0.549; range 0.80 − 0.41 = 0.39;
//	        variance 0.2·0.251² + 0.1·0.161² + 0.1·0.171² + 0.6·0.139² = 0.029709 → std 0.17236299...
//	WF:     mean 0.824 + 0.39 + 0.366 + 2.76 = 4.34; range 4.6 − 3.66 = 0.94
func TestDescriptorsInHfMgMo3O12(t *testing.T) {
	opt := DefaultDescriptorOptions()
	opt.Properties = append(opt.Properties, PropOxidationState)
	d, err := Describe(inHfMg, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, d, map[string]float64{
		"A_shannon_radius_mean": 0.7575, "A_shannon_radius_range": 0.09,
		"A_shannon_radius_std": math.Sqrt(0.00181875),
		"A_pauling_en_mean":    1.5425, "A_pauling_en_range": 0.48, "A_pauling_en_std": math.Sqrt(0.05641875),
		"A_work_function_mean": 3.95, "A_work_function_range": 0.46, "A_work_function_std": 0.19,
		"A_zeff_clementi_mean": 7.352975, "A_zeff_clementi_range": 5.8569,
		"A_zeff_slater_mean": 0.5*5 + 0.25*3.15 + 0.25*2.85, "A_zeff_slater_range": 5 - 2.85,
		"A_oxidation_state_mean": 3, "A_oxidation_state_range": 2, "A_oxidation_state_std": math.Sqrt(0.25*1 + 0.25*1),
		"M_shannon_radius_mean": 0.41, "M_shannon_radius_std": 0, "M_oxidation_state_mean": 6,
		"all_shannon_radius_mean": 0.549, "all_shannon_radius_range": 0.39, "all_shannon_radius_std": math.Sqrt(0.029709),
		"all_work_function_mean": 4.34, "all_work_function_range": 0.94,
		"all_oxidation_state_mean": 0.2*3 + 0.1*4 + 0.1*2 + 0.6*6, // = 24/5
		"frac_In":                  1.0 / 17, "frac_Hf": 0.5 / 17, "frac_Mg": 0.5 / 17, "frac_Mo": 3.0 / 17, "frac_O": 12.0 / 17,
	})
	// Spot checks against decimals worked out by hand (not by the formulas above).
	for name, w := range map[string]float64{"A_shannon_radius_std": 0.0426468052, "A_pauling_en_std": 0.2375263143, "all_shannon_radius_std": 0.1723629891} {
		if v, _ := d.Lookup(name); math.Abs(v.V-w) > 1e-10 {
			t.Errorf("%s = %.10f, want %.10f", name, v.V, w)
		}
	}
}

func TestDescriptorScopesAndSpin(t *testing.T) {
	opt := DefaultDescriptorOptions()
	opt.Properties = []string{PropShannonRadius, PropShannonCrystalRadius, PropWorkFunction, "first_ionization_eV"}
	opt.Scopes = []string{ScopeO, ScopeCompound}
	opt.Stats = []string{StatMean, StatMin, StatMax}
	d, err := Describe(sc2w3o12, opt)
	if err != nil {
		t.Fatal(err)
	}
	// compound = every element, O included: (2·0.745 + 3·0.42 + 12·1.35)/17 = 18.95/17.
	// Crystal radii: Sc3+ VI 0.885, W6+ IV 0.56, O2- II 1.21.
	checkValues(t, d, map[string]float64{
		"O_shannon_radius_mean": 1.35, "compound_shannon_radius_mean": 18.95 / 17,
		"compound_shannon_radius_min": 0.42, "compound_shannon_radius_max": 1.35,
		"compound_shannon_crystal_radius_mean": (2*0.885 + 3*0.56 + 12*1.21) / 17,
		"O_first_ionization_eV_mean":           13.618055,
	})
	// O has no work function: the O and compound work-function columns are missing, with
	// the reason, and never zero.
	for _, name := range []string{"O_work_function_mean", "compound_work_function_max"} {
		v, _ := d.Lookup(name)
		if !v.Missing || !math.IsNaN(v.V) || len(v.Why) != 1 || v.Why[0].Element != "O" ||
			v.Why[0].Reason != "elements.csv has no work_function_eV for O" {
			t.Errorf("%s = %+v, want missing for O", name, v)
		}
	}

	// Fe3+ on the A site (VI): high-spin 0.645 by default, low-spin 0.55 on request.
	fe := comp("Fe2Mo3O12", false, "Fe", 2, "Mo", 3, "O", 12)
	for _, tc := range []struct {
		spin elements.Spin
		want float64
	}{{elements.SpinAny, 0.645}, {elements.HighSpin, 0.645}, {elements.LowSpin, 0.55}} {
		o := DefaultDescriptorOptions()
		o.Spin = tc.spin
		d, err := Describe(fe, o)
		if err != nil {
			t.Fatal(err)
		}
		checkValues(t, d, map[string]float64{"A_shannon_radius_mean": tc.want})
	}
	// A coordination with no Shannon entry is reported, naming what exists.
	o := DefaultDescriptorOptions()
	o.Coordination = map[Site]string{SiteA: "IX"}
	d, err = Describe(inHfMg, o)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := d.Lookup("A_shannon_radius_mean")
	if !v.Missing || len(v.Why) != 3 || v.Why[0].Reason != "Shannon (1976) lists no radius for In3+ in coordination IX (it lists IV, VI, VIII)" {
		t.Errorf("A radius at IX: %+v", v)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*DescriptorOptions)
		want string
	}{
		{func(o *DescriptorOptions) { o.Properties = []string{"pauling_eN"} }, `unknown property "pauling_eN" (did you mean "pauling_en"?); properties are shannon_radius, shannon_crystal_radius, pauling_en, work_function, zeff_clementi, zeff_slater, zeff, oxidation_state, Z, atomic_mass, work_function_eV, zeff_clementi_valence, zeff_slater_valence, first_ionization_eV, covalent_radius_pm, work_function_crc84_primamateria_eV, work_function_elementy_eV, pauling_en_crc_mendeleev, zeff_clementi_lastfilled, zeff_slater_lastfilled, covalent_radius_pyykko_pm, period, group`},
		{func(o *DescriptorOptions) { o.Properties = []string{"zeff", "zeff_slater"} }, `property "zeff_slater" is listed twice`},
		{func(o *DescriptorOptions) { o.Stats = []string{"mean", "median"} }, `unknown stat "median" (did you mean "mean"?); stats are mean, std, range, min, max`},
		{func(o *DescriptorOptions) { o.Scopes = []string{"B"} }, `unknown scope "B" (did you mean "A"?); scopes are A, M, O, all, compound`},
		{func(o *DescriptorOptions) { o.Spin = "high" }, `unknown spin "high"; use "HS" or "LS"`},
		{func(o *DescriptorOptions) { o.Coordination = map[Site]string{SiteM: "4"} }, `unknown coordination "4" for site M; Shannon's coordinations are I, II, III, IIIPY, IV, IVPY, IVSQ, V, VI, VII, VIII, IX, X, XI, XII, XIV`},
		{func(o *DescriptorOptions) { o.Missing = "drop" }, `unknown missing-value policy "drop"; use "error", "drop_row" or "drop_column"`},
	} {
		o := DefaultDescriptorOptions()
		tc.mod(&o)
		_, err := Describe(sc2w3o12, o)
		var oe *OptionError
		if !errors.As(err, &oe) || err.Error() != tc.want {
			t.Errorf("got  %v\nwant %s", err, tc.want)
		}
	}
}

func TestZeffExpands(t *testing.T) {
	o := DefaultDescriptorOptions()
	o.Properties = []string{PropZeff}
	o.Scopes = []string{ScopeA}
	o.Stats = []string{StatMean}
	o.Fractions = false
	d, err := Describe(sc2w3o12, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Values) != 2 || d.Values[0].Name != "A_zeff_clementi_mean" || d.Values[1].Name != "A_zeff_slater_mean" {
		t.Errorf("zeff gave %+v", d.Values)
	}
}

func TestDescribeTable(t *testing.T) {
	comps := []Composition{sc2w3o12, inHfMg, zr2SP2, kmnFe}
	comps[2].Source = "nte.csv row 3"
	o := DefaultDescriptorOptions()

	// Default policy: the first missing value is an error naming compound, element and
	// property (S has no work function in elements.csv).
	_, err := DescribeTable(comps, o)
	want := `Zr2SP2O12 (nte.csv row 3): no work_function for S (elements.csv has no work_function_eV for S), needed by the M_work_function_* columns; leave the property or scope out, or set missing = "drop_row" or "drop_column"`
	var me *MissingValueError
	if !errors.As(err, &me) || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}

	o.Missing = MissingDropRow
	tab, err := DescribeTable(comps, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tab.Kept, []int{0, 1, 3}) || len(tab.Rows) != 3 || len(tab.Dropped.Rows) != 1 || tab.Dropped.Rows[0].Index != 2 {
		t.Fatalf("drop_row: kept %v, dropped %+v", tab.Kept, tab.Dropped)
	}
	if got := tab.Dropped.String(); got != "dropped compound Zr2SP2O12 (nte.csv row 3): no work_function for S (elements.csv has no work_function_eV for S)\n" {
		t.Errorf("drop_row report %q", got)
	}
	// Fractions cover the kept rows' elements only (no Zr, S, P), by atomic number:
	// O 8, Mg 12, K 19, Sc 21, Mn 25, Fe 26, Mo 42, In 49, Hf 72, W 74.
	var fr []string
	for _, c := range tab.Columns {
		if strings.HasPrefix(c, "frac_") {
			fr = append(fr, strings.TrimPrefix(c, "frac_"))
		}
	}
	if !slices.Equal(fr, []string{"O", "Mg", "K", "Sc", "Mn", "Fe", "Mo", "In", "Hf", "W"}) {
		t.Errorf("fraction columns %v", fr)
	}
	// A compound without an element has fraction 0 for it; fractions of a row sum to 1.
	hf, _ := tab.Column("frac_Hf")
	if hf[0] != 0 || hf[1] != 0.5/17 {
		t.Errorf("frac_Hf = %v", hf)
	}
	for i, r := range tab.Rows {
		var s float64
		for j, c := range tab.Columns {
			if strings.HasPrefix(c, "frac_") {
				s += r[j]
			}
			if math.IsNaN(r[j]) {
				t.Errorf("row %d %s is NaN", i, c)
			}
		}
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("row %d fractions sum to %v", i, s)
		}
	}
	// The table agrees with Describe, value for value.
	d, _ := Describe(inHfMg, o)
	for j, c := range tab.Columns {
		if v, ok := d.Lookup(c); ok && v.V != tab.Rows[1][j] {
			t.Errorf("%s: table %v, Describe %v", c, tab.Rows[1][j], v.V)
		}
	}

	o.Missing = MissingDropColumn
	tab, err = DescribeTable(comps, o)
	if err != nil {
		t.Fatal(err)
	}
	var dropped []string
	for _, c := range tab.Dropped.Columns {
		dropped = append(dropped, c.Name)
	}
	if len(tab.Rows) != 4 || !slices.Equal(dropped, []string{"M_work_function_mean", "M_work_function_range", "M_work_function_std",
		"all_work_function_mean", "all_work_function_range", "all_work_function_std"}) {
		t.Errorf("drop_column: %d rows, dropped %v", len(tab.Rows), dropped)
	}
	if slices.Contains(tab.Columns, "M_work_function_mean") || !slices.Contains(tab.Columns, "A_work_function_mean") {
		t.Errorf("columns %v", tab.Columns)
	}
	if !strings.HasPrefix(tab.Dropped.String(), "dropped column M_work_function_mean: no work_function for S (elements.csv has no work_function_eV for S)\n") {
		t.Errorf("drop_column report %q", tab.Dropped.String())
	}

	// Assignment failures are errors under every policy.
	_, err = DescribeTable([]Composition{sc2w3o12, coMnMo3O12}, o)
	var ae *AssignError
	if !errors.As(err, &ae) || ae.Kind != Ambiguous {
		t.Errorf("ambiguous compound in a table: %v", err)
	}
	// An empty table still has its columns.
	tab, err = DescribeTable(nil, DefaultDescriptorOptions())
	if err != nil || len(tab.Columns) != 45 || len(tab.Rows) != 0 {
		t.Errorf("empty table: %v, %d columns", err, len(tab.Columns))
	}
}

func TestDescribeTableDeterministic(t *testing.T) {
	comps := []Composition{kmnFe, inHfMg, sc2w3o12, hfFeMo2V}
	o := DefaultDescriptorOptions()
	a, err := DescribeTable(comps, o)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, _ := DescribeTable(comps, o)
		if !slices.Equal(a.Columns, b.Columns) {
			t.Fatal("column order changed between runs")
		}
		for i := range a.Rows {
			if !slices.Equal(a.Rows[i], b.Rows[i]) {
				t.Fatal("values changed between runs")
			}
		}
	}
}

// TestWriteText compares the `ntedsl describe` printout with a golden file
// (go test -update rewrites it). The numbers in it are checked by the tests above.
func TestWriteText(t *testing.T) {
	for _, tc := range []struct {
		c    Composition
		file string
		opt  func(*DescriptorOptions)
	}{
		{inHfMg, "describe_InHfMg.txt", nil},
		{zr2S09P2, "describe_Zr2S0.9P2O12-d.txt", func(o *DescriptorOptions) { o.Assign.AllowOxygenDeficiency = true }},
	} {
		o := DefaultDescriptorOptions()
		if tc.opt != nil {
			tc.opt(&o)
		}
		c := tc.c
		c.Canonical = "(canonical)"
		d, err := Describe(c, o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := d.WriteText(&buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", tc.file)
		if *update {
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s differs from the printout:\n%s", path, buf.String())
		}
	}
}
