package formula

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ntedsl/ntedsl/stdlib/elements"
)

type comp = []Component

func TestParse(t *testing.T) {
	// Expected compositions are worked out by hand from the formulas: a group amount
	// multiplies everything inside it and repeated elements add up.
	tests := []struct {
		in        string
		want      []Component // Col is checked too: first occurrence, 1-based runes
		canonical string
		hill      string
		deficient bool
	}{
		{"Sc2(WO4)3", comp{{"Sc", 2, 1}, {"W", 3, 5}, {"O", 12, 6}}, "Sc2W3O12", "O12Sc2W3", false},
		{"Sc2W3O12", comp{{"Sc", 2, 1}, {"W", 3, 4}, {"O", 12, 6}}, "Sc2W3O12", "O12Sc2W3", false},
		{"In(HfMg)0.5Mo3O12", comp{{"In", 1, 1}, {"Hf", 0.5, 4}, {"Mg", 0.5, 6}, {"Mo", 3, 12}, {"O", 12, 15}},
			"InHf0.5Mg0.5Mo3O12", "Hf0.5InMg0.5Mo3O12", false},
		{"Yb1.8Al0.2(MoO4)3", comp{{"Yb", 1.8, 1}, {"Al", 0.2, 6}, {"Mo", 3, 12}, {"O", 12, 14}},
			"Yb1.8Al0.2Mo3O12", "Al0.2Mo3O12Yb1.8", false},
		{"(KMn)0.75Fe1.25Mo3O12", comp{{"K", 0.75, 2}, {"Mn", 0.75, 3}, {"Fe", 1.25, 10}, {"Mo", 3, 16}, {"O", 12, 19}},
			"K0.75Mn0.75Fe1.25Mo3O12", "Fe1.25K0.75Mn0.75Mo3O12", false},
		{"Zr2S0.9P2O12-d", comp{{"Zr", 2, 1}, {"S", 0.9, 4}, {"P", 2, 8}, {"O", 12, 10}}, "Zr2S0.9P2O12-d", "O12P2S0.9Zr2", true},
		{"Zr2S0.9P2O12−δ", comp{{"Zr", 2, 1}, {"S", 0.9, 4}, {"P", 2, 8}, {"O", 12, 10}}, "Zr2S0.9P2O12-d", "O12P2S0.9Zr2", true},
		{"Er1.0Fe1.0(MoO4)3", comp{{"Er", 1, 1}, {"Fe", 1, 6}, {"Mo", 3, 12}, {"O", 12, 14}}, "ErFeMo3O12", "ErFeMo3O12", false},
		// Square brackets, nesting, and an element repeated inside and outside a group.
		{"[Sc(W0.5Mo0.5)2]O4(WO4)", comp{{"Sc", 1, 2}, {"W", 2, 5}, {"Mo", 1, 9}, {"O", 8, 17}},
			"ScW2MoO8", "MoO8ScW2", false},
		// Exact decimal arithmetic: 0.1·3 is 0.3, not 0.30000000000000004.
		{"(W0.1)3", comp{{"W", 0.3, 2}}, "W0.3", "W0.3", false},
		// Surrounding blanks are ignored; columns still count from the start of the input.
		{"  Sc2W3O12\t", comp{{"Sc", 2, 3}, {"W", 3, 6}, {"O", 12, 8}}, "Sc2W3O12", "O12Sc2W3", false},
		// Hill order puts C and H first when there is carbon.
		{"NH4HCO3", comp{{"N", 1, 1}, {"H", 5, 2}, {"C", 1, 5}, {"O", 3, 6}}, "NH5CO3", "CH5NO3", false},
		// Symbols are case-sensitive: SN is sulfur and nitrogen, not tin.
		{"SN", comp{{"S", 1, 1}, {"N", 1, 2}}, "SN", "NS", false},
		// O need not be last in the input; the canonical form keeps first appearance
		// except that a deficient formula writes O last.
		{"Zr2P2S0.9O12-d", comp{{"Zr", 2, 1}, {"P", 2, 4}, {"S", 0.9, 6}, {"O", 12, 10}}, "Zr2P2S0.9O12-d", "O12P2S0.9Zr2", true},
	}
	for _, tc := range tests {
		f, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if !slices.Equal(f.Components, tc.want) {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, f.Components, tc.want)
		}
		if got := f.Canonical(); got != tc.canonical {
			t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.canonical)
		}
		if got := f.Hill(); got != tc.hill {
			t.Errorf("Hill(%q) = %q, want %q", tc.in, got, tc.hill)
		}
		if f.OxygenDeficient != tc.deficient {
			t.Errorf("OxygenDeficient(%q) = %v", tc.in, f.OxygenDeficient)
		}
		checkRoundTrip(t, tc.in, f)
	}
}

func TestDeficiencyColumnAndOccurrences(t *testing.T) {
	f := MustParse("Zr2S0.9P2O12−δ")
	if f.DeficiencyCol != 13 {
		t.Errorf("DeficiencyCol = %d, want 13", f.DeficiencyCol)
	}
	g := MustParse("Sc2(WO4)3")
	want := []Occurrence{{"Sc", 1, 2}, {"W", 5, 3}, {"O", 6, 12}}
	if !slices.Equal(g.Occurrences, want) {
		t.Errorf("Occurrences = %v, want %v", g.Occurrences, want)
	}
	if a, ok := g.Amount("O"); !ok || a != 12 {
		t.Errorf("Amount(O) = %v, %v", a, ok)
	}
	if _, ok := g.Amount("Mo"); ok {
		t.Error("Amount(Mo) should be absent")
	}
	c := MustParse(" In(HfMg)0.5Mo3O12 ").Composition()
	if c.Formula != "In(HfMg)0.5Mo3O12" || c.Canonical != "InHf0.5Mg0.5Mo3O12" || len(c.Components) != 5 || c.Components[2].Symbol != "Mg" || c.Components[2].Amount != 0.5 {
		t.Errorf("Composition = %+v", c)
	}
	if !MustParse("Zr2S0.9P2O12-d").Composition().OxygenDeficient {
		t.Error("Composition lost the deficiency flag")
	}
}

// TestErrors pins the complete text of the errors a user sees: the column of the bad token,
// what is wrong and the suggested fix.
func TestErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		// Unknown element, suggestions by one-letter edits keeping the first letter.
		{"Mb2W3O12", `formula "Mb2W3O12", column 1: unknown element symbol "Mb"; did you mean Mg, Mn or Mo?`},
		// Capitals typed for a two-letter symbol: Z is not a symbol, "ZR" case-folds to Zr.
		{"ZR2W3O12", `formula "ZR2W3O12", column 1: unknown element symbol "Z"; did you mean Zr?`},
		{"Sc2W3Ox12", `formula "Sc2W3Ox12", column 6: unknown element symbol "Ox"; did you mean O or Os?`},
		{"sc2W3O12", `formula "sc2W3O12", column 1: element symbols start with a capital letter: "sc"; did you mean Sc?`},
		{"Sc2w3O12", `formula "Sc2w3O12", column 4: element symbols start with a capital letter: "w"; did you mean W?`},
		{"U2W3O12", `formula "U2W3O12", column 1: element U is not in the element table, which covers H to Rn (Z ≤ 86)`},
		{"Jo2", `formula "Jo2", column 1: unknown element symbol "Jo"`},
		// Bad tokens.
		{"Sc2(WO4]3", `formula "Sc2(WO4]3", column 8: "(" at column 4 is closed by "]"; use ")"`},
		{"Sc2(WO4", `formula "Sc2(WO4", column 4: "(" is never closed`},
		{"Sc2WO4)3", `formula "Sc2WO4)3", column 7: ")" closes no group`},
		{"Sc2()3", `formula "Sc2()3", column 5: empty group`},
		{"2Sc", `formula "2Sc", column 1: a formula cannot start with an amount ("2"); amounts follow an element symbol or a closing bracket`},
		{"Sc2(3W)", `formula "Sc2(3W)", column 5: amount "3" follows no element symbol or closing bracket`},
		{"Sc.5", `formula "Sc.5", column 3: amount ".5" starts with a decimal point; write "0.5"`},
		{"Sc2.W", `formula "Sc2.W", column 3: amount "2." ends with a decimal point; write "2"`},
		{"Sc1.2.3", `formula "Sc1.2.3", column 3: malformed amount "1.2.3"; write a decimal number such as "1.5"`},
		{"Sc1,5", `formula "Sc1,5", column 4: decimal comma; write amounts with a decimal point, as in "1.5"`},
		{"Sc0W3", `formula "Sc0W3", column 3: amount "0" is zero; leave the element or group out instead`},
		{"Sc2 W3O12", `formula "Sc2 W3O12", column 4: white space inside a formula; write "Sc2W3O12"`},
		{"Sc2W3O12·3H2O", `formula "Sc2W3O12·3H2O", column 9: hydrate or adduct notation ("·") is not supported; give the formula without it`},
		{"Fe3+", `formula "Fe3+", column 4: "+" is not part of a formula: write neutral formulas without charges (oxygen excess "O12+δ" is not supported)`},
		{"Lu2W3-xMoxO12", `formula "Lu2W3-xMoxO12", column 6: variables and arithmetic are not supported ("-x"); substitute the value`},
		{"Sc2W3O12-", `formula "Sc2W3O12-", column 9: a minus sign may only start the oxygen-deficiency suffix at the end, as in "O12-d"`},
		{"Sc2W3O12-dW", `formula "Sc2W3O12-dW", column 9: the oxygen-deficiency suffix "-d" must end the formula, as in "O12-d"`},
		{"Sc2(WO4)3-d", `formula "Sc2(WO4)3-d", column 10: the oxygen-deficiency suffix "-d" must directly follow the oxygen amount, as in "O12-d"`},
		{"-d", `formula "-d", column 1: the oxygen-deficiency suffix "-d" must follow the oxygen amount, as in "O12-d"`},
		{"Scδ", `formula "Scδ", column 3: "δ" may only appear in the oxygen-deficiency suffix at the end, as in "O12-δ"`},
		{"Sc2W3O12#", `formula "Sc2W3O12#", column 9: unexpected character "#"`},
		{"((((((((((W))))))))))", `formula "((((((((((W))))))))))", column 9: groups nested more than 8 deep`},
		{"   ", `formula "   ": empty formula`},
		// Columns count runes, not bytes: "δ" and "·" are one column each.
		{"ΔSc", `formula "ΔSc", column 1: unexpected character "Δ"`},
	}
	for _, tc := range tests {
		_, err := Parse(tc.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error %s", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Parse(%q):\n got %s\nwant %s", tc.in, err, tc.want)
		}
		if _, ok := err.(*Error); !ok {
			t.Errorf("Parse(%q) error is %T, want *Error", tc.in, err)
		}
	}
}

func TestErrorSourceAndCaret(t *testing.T) {
	_, err := Parse("Sc2(WO4]3")
	e := err.(*Error)
	e.Source = "a2m3o12_cte.csv row 25"
	want := `a2m3o12_cte.csv row 25: formula "Sc2(WO4]3", column 8: "(" at column 4 is closed by "]"; use ")"`
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e, want)
	}
	if got := e.Caret(); got != "Sc2(WO4]3\n       ^" {
		t.Errorf("Caret = %q", got)
	}
	if e.Col != 8 || e.Msg == "" {
		t.Errorf("fields: %+v", e)
	}
}

// checkRoundTrip asserts the canonical-string property: Parse(Canonical) succeeds with the
// same composition (same order, exactly equal amounts), flag and canonical string.
func checkRoundTrip(t *testing.T, in string, f *Formula) {
	t.Helper()
	c := f.Canonical()
	g, err := Parse(c)
	if err != nil {
		t.Fatalf("Parse(%q) ok but Parse(Canonical = %q): %v", in, c, err)
	}
	if g.Canonical() != c || g.OxygenDeficient != f.OxygenDeficient {
		t.Fatalf("%q: canonical %q reparsed as %q (deficient %v → %v)", in, c, g.Canonical(), f.OxygenDeficient, g.OxygenDeficient)
	}
	if len(g.Components) != len(f.Components) {
		t.Fatalf("%q: %v reparsed as %v", in, f.Components, g.Components)
	}
	for _, x := range f.Components {
		if a, ok := g.Amount(x.Symbol); !ok || a != x.Amount {
			t.Fatalf("%q: %s %v reparsed as %v (canonical %q)", in, x.Symbol, x.Amount, a, c)
		}
	}
	if h := g.Hill(); h != f.Hill() {
		t.Fatalf("%q: Hill %q reparsed as %q", in, f.Hill(), h)
	}
}

// FuzzParse checks that Parse never panics, that every error is a *Error whose column lies
// inside the input, and that every accepted formula satisfies the round-trip property with
// sane amounts. Run longer with: go test -fuzz FuzzParse ./lang/formula
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Sc2(WO4)3", "In(HfMg)0.5Mo3O12", "Yb1.8Al0.2(MoO4)3", "Zr2S0.9P2O12-d", "Zr2S0.9P2O12-δ",
		"(KMn)0.75Fe1.25Mo3O12", "[Sc(W0.5Mo0.5)2]O4(WO4)", "(W0.1)3", "Mb2W3O12", "ZR2", "sc",
		"Sc2(WO4]3", "Sc2W3O12·3H2O", "Lu2W3-xMoxO12", "2Sc", "Sc()", "Sc.5", "Sc1.2.3", "Sc0",
		"((((((((W))))))))", "", " ", "ΔSc", "\xff", "O12-d", "H0.000000000000000000001",
		"W99999999999999999999999999999999999999999999999999999999999999999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fm, err := Parse(s)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse(%q) error %T: %v", s, err, err)
			}
			if e.Col < 0 || e.Col > utf8.RuneCountInString(s)+1 || e.Msg == "" {
				t.Fatalf("Parse(%q): bad error %+v", s, e)
			}
			if !strings.Contains(e.Error(), e.Msg) {
				t.Fatalf("Error() lost the message")
			}
			return
		}
		if len(fm.Components) == 0 {
			t.Fatalf("Parse(%q) accepted an empty composition", s)
		}
		for _, c := range fm.Components {
			if !(c.Amount > 0) || math.IsInf(c.Amount, 0) || !elements.InTable(c.Symbol) {
				t.Fatalf("Parse(%q): bad component %+v", s, c)
			}
		}
		checkRoundTrip(t, s, fm)
	})
}

func BenchmarkParse(b *testing.B) {
	for _, s := range []string{"Sc2W3O12", "In(HfMg)0.5Mo3O12", "(KMn)0.75Fe1.25Mo3O12"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				if _, err := Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestParseComposition(t *testing.T) {
	c, err := ParseComposition("Sc2(WO4)3", "nte.csv row 4")
	if err != nil || c.Name() != "Sc2(WO4)3 (nte.csv row 4)" || c.Canonical != "Sc2W3O12" {
		t.Errorf("got %+v, %v", c, err)
	}
	_, err = ParseComposition("Sc2W3O1 2", "nte.csv row 5")
	want := `nte.csv row 5: formula "Sc2W3O1 2", column 8: white space inside a formula; write "Sc2W3O12"`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
