package materials

import "slices"

// Component is one element of a composition and its amount per formula unit.
type Component struct {
	Symbol string
	Amount float64 // > 0
}

// Composition is a compound as a list of elements with amounts: the input of site and
// oxidation-state assignment and of the descriptors. lang/formula builds it from a formula
// string (formula.Formula.Composition).
type Composition struct {
	// Formula is the formula as written (e.g. "Sc2(WO4)3"). It names the compound in every
	// message about it.
	Formula string
	// Canonical is an optional normalized spelling for display ("Sc2W3O12").
	Canonical string
	// Source optionally says where the compound came from, e.g. "nte.csv row 12"; messages
	// about the compound include it.
	Source string
	// Components lists each element once, in a deterministic order (lang/formula uses the
	// order of first appearance in the formula). Amounts are positive.
	Components []Component
	// OxygenDeficient records an "O12-δ" suffix: the oxygen amount is nominal.
	OxygenDeficient bool
}

// Name is how messages refer to the compound: the formula, with its source when known.
func (c Composition) Name() string {
	if c.Source != "" {
		return c.Formula + " (" + c.Source + ")"
	}
	return c.Formula
}

// Amount returns the amount of the element symbol, and false when it is absent.
func (c Composition) Amount(symbol string) (float64, bool) {
	for _, x := range c.Components {
		if x.Symbol == symbol {
			return x.Amount, true
		}
	}
	return 0, false
}

// Total returns the number of atoms per formula unit (the sum of all amounts).
func (c Composition) Total() float64 {
	var s float64
	for _, x := range c.Components {
		s += x.Amount
	}
	return s
}

// Symbols returns the element symbols in composition order.
func (c Composition) Symbols() []string {
	out := make([]string, len(c.Components))
	for i, x := range c.Components {
		out[i] = x.Symbol
	}
	return out
}

// Clone returns a deep copy.
func (c Composition) Clone() Composition {
	c.Components = slices.Clone(c.Components)
	return c
}
