package materials

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ntedsl/ntedsl/stdlib/elements"
)

// Site is a site class of the A2M3O12 framework.
type Site string

// The three site classes: A (octahedral cations), M (tetrahedral cations) and O (the anion).
const (
	SiteA Site = "A"
	SiteM Site = "M"
	SiteO Site = "O"
)

// DefaultMSite returns the default tetrahedral M-site elements: W, Mo, V, P, S (the
// M-site cations W6+, Mo6+, V5+, P5+ and S6+ of the A2M3O12 family).
func DefaultMSite() []string { return []string{"W", "Mo", "V", "P", "S"} }

// AssignOptions configure site and oxidation-state assignment. The zero value is the
// default: M site W, Mo, V, P, S; every state chosen by charge balance; no oxygen
// deficiency.
type AssignOptions struct {
	// MSite lists the elements on the tetrahedral M site; nil means DefaultMSite. A study
	// that puts another element (Cr, Ge, ...) on the M site lists all of them here.
	MSite []string
	// States fixes the oxidation state of elements, e.g. {"Fe": 2}. Elements absent from a
	// compound are ignored, so one map can serve a whole table. O is always 2−.
	States map[string]int
	// AllowOxygenDeficiency lets a formula written with an oxygen-deficiency suffix
	// (O12-δ) balance with δ > 0: cation charge = 2·(nO − δ), 0 ≤ δ ≤ MaxDelta. Without it
	// such a formula must balance its nominal oxygen like any other.
	AllowOxygenDeficiency bool
	// MaxDelta bounds the inferred δ; 0 means 1.
	MaxDelta float64
}

func (o AssignOptions) mSite() []string {
	if o.MSite == nil {
		return DefaultMSite()
	}
	return o.MSite
}

// Ion is an element of a compound with its site and oxidation state.
type Ion struct {
	Symbol string
	Amount float64
	Site   Site
	Charge int
	// Rank is the position of Charge in the element's preference list
	// (elements.CommonOxidationStates): 0 for the usual state. It is -1 for O and for
	// states fixed by AssignOptions.States.
	Rank  int
	Fixed bool // the state was given in AssignOptions.States
}

// Name is the ion in the usual notation, "Fe3+".
func (i Ion) Name() string { return elements.IonName(i.Symbol, i.Charge) }

// Assignment is a compound with every element placed on a site and given an oxidation
// state that balances the charge.
type Assignment struct {
	Compound string // Composition.Name()
	Ions     []Ion  // in composition order
	// Delta is the oxygen deficiency inferred from charge balance (O12-δ); 0 unless the
	// formula carries the suffix and AssignOptions.AllowOxygenDeficiency is set.
	Delta float64
	// Cost is the sum of the ranks of the chosen states: 0 when every element is in its
	// usual state.
	Cost int
}

// Site returns the ions on site s, in composition order.
func (a *Assignment) Site(s Site) []Ion {
	var out []Ion
	for _, x := range a.Ions {
		if x.Site == s {
			out = append(out, x)
		}
	}
	return out
}

// Ion returns the ion of element symbol.
func (a *Assignment) Ion(symbol string) (Ion, bool) {
	for _, x := range a.Ions {
		if x.Symbol == symbol {
			return x, true
		}
	}
	return Ion{}, false
}

// SiteTotal returns the summed amount on site s (2, 3 and 12 for an ideal A2M3O12).
func (a *Assignment) SiteTotal(s Site) float64 {
	var t float64
	for _, x := range a.Site(s) {
		t += x.Amount
	}
	return t
}

// CationCharge returns Σ amount·charge over the A and M sites.
func (a *Assignment) CationCharge() float64 {
	var q float64
	for _, x := range a.Ions {
		if x.Site != SiteO {
			q += x.Amount * float64(x.Charge)
		}
	}
	return q
}

// AssignError explains why a compound could not be given sites and oxidation states. Its
// message names the compound and, for charge-balance failures, the candidate states.
type AssignError struct {
	Compound string
	Kind     AssignErrorKind
	Msg      string // the full explanation, without the compound name
	// Candidates holds, for Ambiguous, the equally good assignments (as "Co2+ Mn4+ Mo6+").
	Candidates []string
}

// AssignErrorKind classifies an AssignError.
type AssignErrorKind int

// Kinds of AssignError.
const (
	NotFramework AssignErrorKind = iota // no O, no A-site or no M-site element
	NoStates                            // an element has no candidate oxidation state
	Unbalanced                          // no candidate states balance the charge
	Ambiguous                           // several assignments balance equally well
	TooComplex                          // the search exceeded its budget
)

func (e *AssignError) Error() string { return e.Compound + ": " + e.Msg }

// maxSearchNodes bounds the search for balancing states; compositions that need more ask
// the study for explicit states instead of running for minutes.
const maxSearchNodes = 2_000_000

// Assign places each element of c on the A, M or O site and chooses its oxidation state.
//
// Sites: O is the anion (2−); the elements of opt.MSite (default W, Mo, V, P, S) are on
// the tetrahedral M site; every other element is an A-site cation.
//
// States: each cation takes one of its common oxidation states
// (elements.CommonOxidationStates, usual state first), or the state fixed in opt.States,
// such that Σ amount·charge over the cations equals 2·nO (or 2·(nO − δ) for an allowed
// oxygen deficiency). Among all balancing choices, the one with the smallest total rank
// wins (rank 0 = the usual state, 1 = the next most common, ...). When several choices
// share the smallest total rank the compound is ambiguous, and when none balances it is
// unbalanced; both are *AssignError values naming the compound and the candidates, which
// the study resolves by fixing states in opt.States.
func Assign(c Composition, opt AssignOptions) (*Assignment, error) {
	name := c.Name()
	fail := func(kind AssignErrorKind, format string, args ...any) error {
		return &AssignError{Compound: name, Kind: kind, Msg: fmt.Sprintf(format, args...)}
	}
	mSite := opt.mSite()
	nO, hasO := c.Amount("O")
	if !hasO {
		return nil, fail(NotFramework, "the A2M3O12 site model needs O as the anion, and the formula has no O")
	}
	a := &Assignment{Compound: name}
	var hasA, hasM bool
	var free []int // indices into a.Ions of the cations whose state is searched
	for _, x := range c.Components {
		ion := Ion{Symbol: x.Symbol, Amount: x.Amount, Site: SiteA, Rank: -1}
		switch {
		case x.Symbol == "O":
			ion.Site, ion.Charge = SiteO, -2
		case slices.Contains(mSite, x.Symbol):
			ion.Site, hasM = SiteM, true
		default:
			hasA = true
		}
		if ion.Site != SiteO {
			if q, ok := opt.States[x.Symbol]; ok {
				if q <= 0 {
					return nil, fail(NoStates, "the study gives %s the oxidation state %d; a cation needs a positive state", x.Symbol, q)
				}
				ion.Charge, ion.Fixed = q, true
			} else {
				if len(elements.CommonOxidationStates(x.Symbol)) == 0 {
					return nil, fail(NoStates, "%s has no common cation oxidation state in the element data; state it in the study (for example %s = %d)",
						x.Symbol, x.Symbol, exampleState(x.Symbol))
				}
				free = append(free, len(a.Ions))
			}
		}
		a.Ions = append(a.Ions, ion)
	}
	if !hasM {
		return nil, fail(NotFramework, "no M-site element (%s): not an A2M3O12 compound, or its tetrahedral element must be added to the M site in the study",
			strings.Join(mSite, ", "))
	}
	if !hasA {
		return nil, fail(NotFramework, "no A-site cation: every cation is on the M site (%s)", strings.Join(mSite, ", "))
	}

	target := 2 * nO // anion charge to balance, for δ = 0
	lo, hi := target, target
	deficient := c.OxygenDeficient && opt.AllowOxygenDeficiency
	if deficient {
		maxDelta := opt.MaxDelta
		if maxDelta == 0 {
			maxDelta = 1
		}
		lo = 2 * (nO - maxDelta)
	}
	tol := 1e-9 * math.Max(1, target)

	var fixed float64
	for _, x := range a.Ions {
		if x.Site != SiteO && x.Fixed {
			fixed += x.Amount * float64(x.Charge)
		}
	}
	s := &search{ions: a.Ions, free: free, lo: lo - fixed - tol, hi: hi - fixed + tol, best: math.MaxInt}
	s.prepare()
	s.dfs(0, 0, 0)
	if s.nodes > maxSearchNodes {
		return nil, fail(TooComplex, "too many combinations of oxidation states to search; state them in the study")
	}
	usual := fixed
	for _, k := range free {
		usual += a.Ions[k].Amount * float64(s.cands[k][0])
	}
	switch len(s.found) {
	case 0:
		msg := fmt.Sprintf("cannot balance the charge of O%s (%s−) with the candidate oxidation states %s; the usual states give %s+",
			num(nO), num(target), s.describeCandidates(), num(usual))
		if len(free) == 0 {
			msg = fmt.Sprintf("the oxidation states given in the study give %s+, but O%s needs %s+", num(usual), num(nO), num(target))
		}
		switch {
		case c.OxygenDeficient && !opt.AllowOxygenDeficiency && usual < target:
			msg += fmt.Sprintf(". The formula is oxygen-deficient (O%s-δ): with the usual states it balances at δ = %s; allow oxygen deficiency in the study to use that",
				num(nO), num((target-usual)/2))
		case len(free) > 0:
			msg += "; state the oxidation states in the study, or check the formula"
		}
		return nil, &AssignError{Compound: name, Kind: Unbalanced, Msg: msg}
	case 1:
	default:
		var cands []string
		for _, f := range s.found {
			cands = append(cands, s.render(f))
		}
		return nil, &AssignError{Compound: name, Kind: Ambiguous, Candidates: cands,
			Msg: fmt.Sprintf("ambiguous oxidation states: %d assignments balance O%s (%s−) equally well: %s; state the oxidation states in the study (for example %s = %d)",
				len(cands), num(nO), num(target), strings.Join(cands, "; "), a.Ions[free[0]].Symbol, s.found[0][0])}
	}
	for j, k := range free {
		q := s.found[0][j]
		a.Ions[k].Charge = q
		a.Ions[k].Rank = slices.Index(s.cands[k], q)
		a.Cost += a.Ions[k].Rank
	}
	if deficient {
		// Amounts are decimals, so δ is too; rounding removes float noise (0.3000000000000007).
		a.Delta = math.Round((nO-a.CationCharge()/2)*1e12) / 1e12
	}
	return a, nil
}

// exampleState proposes a state for a message: 3, 4 or 2 if Shannon lists it (in that
// order), else Shannon's first positive state, else 3. It is only an example of syntax.
func exampleState(sym string) int {
	qs := elements.ShannonCharges(sym)
	for _, q := range []int{3, 4, 2} {
		if slices.Contains(qs, q) {
			return q
		}
	}
	for _, q := range qs {
		if q > 0 {
			return q
		}
	}
	return 3
}

// num formats a number for messages: shortest exact form, "24", "23.4", "0.3".
func num(v float64) string {
	v = math.Round(v*1e9) / 1e9 // hide float noise such as 23.400000000000002
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// search enumerates balancing assignments in order of total rank.
type search struct {
	ions   []Ion
	free   []int
	lo, hi float64       // allowed range of Σ over free ions of amount·charge
	cands  map[int][]int // candidate charges by ion index
	// remMin[j], remMax[j]: smallest and largest charge sum reachable by free[j:].
	remMin, remMax []float64
	cur            []int
	best           int
	found          [][]int
	nodes          int
}

func (s *search) prepare() {
	s.cands = map[int][]int{}
	for _, k := range s.free {
		for _, st := range elements.CommonOxidationStates(s.ions[k].Symbol) {
			s.cands[k] = append(s.cands[k], st.Charge)
		}
	}
	n := len(s.free)
	s.remMin = make([]float64, n+1)
	s.remMax = make([]float64, n+1)
	for j := n - 1; j >= 0; j-- {
		k := s.free[j]
		a := s.ions[k].Amount
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, q := range s.cands[k] {
			lo = math.Min(lo, a*float64(q))
			hi = math.Max(hi, a*float64(q))
		}
		s.remMin[j] = s.remMin[j+1] + lo
		s.remMax[j] = s.remMax[j+1] + hi
	}
	s.cur = make([]int, n)
}

// dfs assigns free[j:], given the charge sum and rank cost of free[:j]. It keeps every
// assignment of the smallest cost found.
func (s *search) dfs(j int, sum float64, cost int) {
	s.nodes++
	if s.nodes > maxSearchNodes || cost > s.best {
		return
	}
	if sum+s.remMin[j] > s.hi || sum+s.remMax[j] < s.lo {
		return
	}
	if j == len(s.free) {
		if cost < s.best {
			s.best, s.found = cost, nil
		}
		s.found = append(s.found, slices.Clone(s.cur))
		return
	}
	k := s.free[j]
	for r, q := range s.cands[k] {
		s.cur[j] = q
		s.dfs(j+1, sum+s.ions[k].Amount*float64(q), cost+r)
	}
}

func (s *search) describeCandidates() string {
	var parts []string
	for _, x := range s.ions {
		if x.Site == SiteO {
			continue
		}
		var qs []string
		if x.Fixed {
			qs = append(qs, chargeString(x.Charge)+" (given)")
		} else {
			for _, q := range s.cands[indexOf(s.ions, x.Symbol)] {
				qs = append(qs, chargeString(q))
			}
		}
		parts = append(parts, x.Symbol+" "+strings.Join(qs, "/"))
	}
	return strings.Join(parts, ", ") + " (usual state first)"
}

func indexOf(ions []Ion, sym string) int {
	for i, x := range ions {
		if x.Symbol == sym {
			return i
		}
	}
	return -1
}

// chargeString writes a charge as "3+", "+", "2-".
func chargeString(q int) string { return elements.IonName("", q) }

func (s *search) render(states []int) string {
	var parts []string
	j := 0
	for k, x := range s.ions {
		if x.Site == SiteO {
			continue
		}
		q := x.Charge
		if j < len(s.free) && s.free[j] == k {
			q = states[j]
			j++
		}
		parts = append(parts, elements.IonName(x.Symbol, q))
	}
	return strings.Join(parts, " ")
}
