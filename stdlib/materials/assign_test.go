package materials

import (
	"errors"
	"slices"
	"testing"
)

func comp(formula string, deficient bool, parts ...any) Composition {
	c := Composition{Formula: formula, OxygenDeficient: deficient}
	for i := 0; i < len(parts); i += 2 {
		c.Components = append(c.Components, Component{Symbol: parts[i].(string), Amount: toF(parts[i+1])})
	}
	return c
}

func toF(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	panic("amount")
}

var (
	sc2w3o12   = comp("Sc2W3O12", false, "Sc", 2, "W", 3, "O", 12)
	inHfMg     = comp("In(HfMg)0.5Mo3O12", false, "In", 1, "Hf", 0.5, "Mg", 0.5, "Mo", 3, "O", 12)
	kmnFe      = comp("(KMn)0.75Fe1.25Mo3O12", false, "K", 0.75, "Mn", 0.75, "Fe", 1.25, "Mo", 3, "O", 12)
	hfFeMo2V   = comp("HfFeMo2VO12", false, "Hf", 1, "Fe", 1, "Mo", 2, "V", 1, "O", 12)
	zr2SP2     = comp("Zr2SP2O12", false, "Zr", 2, "S", 1, "P", 2, "O", 12)
	zr2S09P2   = comp("Zr2S0.9P2O12-d", true, "Zr", 2, "S", 0.9, "P", 2, "O", 12)
	coMnMo3O12 = comp("CoMnMo3O12", false, "Co", 1, "Mn", 1, "Mo", 3, "O", 12)
)

type want struct {
	sym    string
	site   Site
	charge int
	rank   int
}

func TestAssign(t *testing.T) {
	// Expected states: the usual ones of the issue (Hf4+, Zr4+, Mg2+, Mn2+, Fe3+, K+) and
	// of the A2M3O12 convention in data/README.md (W6+, Mo6+, V5+, P5+, S6+); each balance
	// is checked by hand in the comment.
	tests := []struct {
		c    Composition
		opt  AssignOptions
		want []want
		cost int
	}{
		// 2·3 + 3·6 = 24
		{sc2w3o12, AssignOptions{}, []want{{"Sc", SiteA, 3, 0}, {"W", SiteM, 6, 0}, {"O", SiteO, -2, -1}}, 0},
		// 3 + 0.5·4 + 0.5·2 + 3·6 = 24
		{inHfMg, AssignOptions{}, []want{{"In", SiteA, 3, 0}, {"Hf", SiteA, 4, 0}, {"Mg", SiteA, 2, 0}, {"Mo", SiteM, 6, 0}, {"O", SiteO, -2, -1}}, 0},
		// 0.75·1 + 0.75·2 + 1.25·3 + 18 = 24: the (KMn)3+ pair of the source
		{kmnFe, AssignOptions{}, []want{{"K", SiteA, 1, 0}, {"Mn", SiteA, 2, 0}, {"Fe", SiteA, 3, 0}, {"Mo", SiteM, 6, 0}, {"O", SiteO, -2, -1}}, 0},
		// 4 + 3 + 2·6 + 5 = 24
		{hfFeMo2V, AssignOptions{}, []want{{"Hf", SiteA, 4, 0}, {"Fe", SiteA, 3, 0}, {"Mo", SiteM, 6, 0}, {"V", SiteM, 5, 0}, {"O", SiteO, -2, -1}}, 0},
		// 2·4 + 6 + 2·5 = 24
		{zr2SP2, AssignOptions{}, []want{{"Zr", SiteA, 4, 0}, {"S", SiteM, 6, 0}, {"P", SiteM, 5, 0}, {"O", SiteO, -2, -1}}, 0},
		// Fe2W3O11: Fe3+ cannot balance (6 + 3w = 22 has no candidate w); Fe2+ (rank 1)
		// with W6+ does: 4 + 18 = 22. No other choice balances, so rank 1 is unique.
		{comp("Fe2W3O11", false, "Fe", 2, "W", 3, "O", 11), AssignOptions{},
			[]want{{"Fe", SiteA, 2, 1}, {"W", SiteM, 6, 0}, {"O", SiteO, -2, -1}}, 1},
		// A state fixed by the study resolves the ambiguity of CoMnMo3O12: Co2+ leaves
		// Mn4+ (rank 2 of Mn 2/3/4/...): 2 + 4 + 18 = 24.
		{coMnMo3O12, AssignOptions{States: map[string]int{"Co": 2, "Zr": 4}}, []want{{"Co", SiteA, 2, -1}, {"Mn", SiteA, 4, 2}, {"Mo", SiteM, 6, 0}, {"O", SiteO, -2, -1}}, 2},
		// Cr added to the M site: Al3+ and Cr6+ (rank 1 of Cr 3/6/2/5/4): 6 + 18 = 24.
		{comp("Al2(CrO4)3", false, "Al", 2, "Cr", 3, "O", 12), AssignOptions{MSite: []string{"W", "Mo", "Cr"}},
			[]want{{"Al", SiteA, 3, 0}, {"Cr", SiteM, 6, 1}, {"O", SiteO, -2, -1}}, 1},
	}
	for _, tc := range tests {
		a, err := Assign(tc.c, tc.opt)
		if err != nil {
			t.Errorf("%s: %v", tc.c.Formula, err)
			continue
		}
		var got []want
		for _, x := range a.Ions {
			got = append(got, want{x.Symbol, x.Site, x.Charge, x.Rank})
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.c.Formula, got, tc.want)
		}
		if a.Cost != tc.cost {
			t.Errorf("%s: cost %d, want %d", tc.c.Formula, a.Cost, tc.cost)
		}
		if q := a.CationCharge(); q != 2*a.SiteTotal(SiteO) {
			t.Errorf("%s: cation charge %v does not balance O%v", tc.c.Formula, q, a.SiteTotal(SiteO))
		}
	}
}

func TestAssignOxygenDeficiency(t *testing.T) {
	// 2·4 + 0.9·6 + 2·5 = 23.4 = 2·(12 − δ) → δ = 0.3.
	a, err := Assign(zr2S09P2, AssignOptions{AllowOxygenDeficiency: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Delta != 0.3 || a.Cost != 0 {
		t.Errorf("δ = %v, cost %d; want 0.3, 0", a.Delta, a.Cost)
	}
	// MaxDelta below the needed 0.3 leaves nothing that balances.
	if _, err := Assign(zr2S09P2, AssignOptions{AllowOxygenDeficiency: true, MaxDelta: 0.2}); err == nil {
		t.Error("δ = 0.3 accepted with MaxDelta 0.2")
	}
	// The option does nothing for a formula without the suffix.
	if _, err := Assign(comp("Zr2S0.9P2O12", false, "Zr", 2, "S", 0.9, "P", 2, "O", 12), AssignOptions{AllowOxygenDeficiency: true}); err == nil {
		t.Error("a formula without -δ balanced with δ > 0")
	}
}

// TestAssignErrors pins the complete messages of the failures a study can hit.
func TestAssignErrors(t *testing.T) {
	tests := []struct {
		c    Composition
		opt  AssignOptions
		kind AssignErrorKind
		want string
	}{
		{comp("Sc2Mo3O11", false, "Sc", 2, "Mo", 3, "O", 11), AssignOptions{}, Unbalanced,
			"Sc2Mo3O11: cannot balance the charge of O11 (22−) with the candidate oxidation states Sc 3+, Mo 6+/5+/3+/4+ (usual state first); the usual states give 24+; state the oxidation states in the study, or check the formula"},
		{zr2S09P2, AssignOptions{}, Unbalanced,
			"Zr2S0.9P2O12-d: cannot balance the charge of O12 (24−) with the candidate oxidation states Zr 4+, S 6+/4+, P 5+/3+ (usual state first); the usual states give 23.4+. The formula is oxygen-deficient (O12-δ): with the usual states it balances at δ = 0.3; allow oxygen deficiency in the study to use that"},
		{coMnMo3O12, AssignOptions{}, Ambiguous,
			"CoMnMo3O12: ambiguous oxidation states: 3 assignments balance O12 (24−) equally well: Co2+ Mn4+ Mo6+; Co3+ Mn3+ Mo6+; Co4+ Mn2+ Mo6+; state the oxidation states in the study (for example Co = 2)"},
		{sc2w3o12, AssignOptions{States: map[string]int{"Sc": 2, "W": 6}}, Unbalanced,
			"Sc2W3O12: the oxidation states given in the study give 22+, but O12 needs 24+"},
		{sc2w3o12, AssignOptions{States: map[string]int{"Sc": 2}}, Unbalanced,
			"Sc2W3O12: cannot balance the charge of O12 (24−) with the candidate oxidation states Sc 2+ (given), W 6+/5+/4+ (usual state first); the usual states give 22+; state the oxidation states in the study, or check the formula"},
		{comp("Pt2W3O12", false, "Pt", 2, "W", 3, "O", 12), AssignOptions{}, NoStates,
			"Pt2W3O12: Pt has no common cation oxidation state in the element data; state it in the study (for example Pt = 4)"},
		{sc2w3o12, AssignOptions{States: map[string]int{"Sc": 0}}, NoStates,
			"Sc2W3O12: the study gives Sc the oxidation state 0; a cation needs a positive state"},
		{comp("Sc2W3", false, "Sc", 2, "W", 3), AssignOptions{}, NotFramework,
			"Sc2W3: the A2M3O12 site model needs O as the anion, and the formula has no O"},
		{comp("Sc2O3", false, "Sc", 2, "O", 3), AssignOptions{}, NotFramework,
			"Sc2O3: no M-site element (W, Mo, V, P, S): not an A2M3O12 compound, or its tetrahedral element must be added to the M site in the study"},
		{comp("WO3", false, "W", 1, "O", 3), AssignOptions{}, NotFramework,
			"WO3: no A-site cation: every cation is on the M site (W, Mo, V, P, S)"},
	}
	for _, tc := range tests {
		_, err := Assign(tc.c, tc.opt)
		var ae *AssignError
		if !errors.As(err, &ae) {
			t.Errorf("%s: error %v, want *AssignError", tc.c.Formula, err)
			continue
		}
		if ae.Kind != tc.kind || err.Error() != tc.want {
			t.Errorf("%s:\n got (%d) %s\nwant (%d) %s", tc.c.Formula, ae.Kind, err, tc.kind, tc.want)
		}
	}
	_, err := Assign(coMnMo3O12, AssignOptions{})
	if ae := err.(*AssignError); !slices.Equal(ae.Candidates, []string{"Co2+ Mn4+ Mo6+", "Co3+ Mn3+ Mo6+", "Co4+ Mn2+ Mo6+"}) {
		t.Errorf("candidates %v", ae.Candidates)
	}
	src := sc2w3o12
	src.Source = "nte.csv row 4"
	_, err = Assign(src, AssignOptions{States: map[string]int{"Sc": 2, "W": 6}})
	if want := "Sc2W3O12 (nte.csv row 4): the oxidation states given in the study give 22+, but O12 needs 24+"; err == nil || err.Error() != want {
		t.Errorf("with source: %v", err)
	}
}

func TestAssignSearchBudget(t *testing.T) {
	// 14 A-site elements with several states each and a charge that no choice meets: the
	// search must stop with TooComplex or Unbalanced, not run for minutes.
	c := Composition{Formula: "many"}
	for _, s := range []string{"Mn", "Fe", "Co", "Ni", "Cr", "V", "Ti", "Cu", "Ru", "Ir", "Nb", "Ta", "Re", "Sb"} {
		c.Components = append(c.Components, Component{Symbol: s, Amount: 0.1})
	}
	c.Components = append(c.Components, Component{Symbol: "W", Amount: 3}, Component{Symbol: "O", Amount: 20})
	_, err := Assign(c, AssignOptions{})
	var ae *AssignError
	if !errors.As(err, &ae) || (ae.Kind != TooComplex && ae.Kind != Unbalanced) {
		t.Errorf("got %v", err)
	}
}
