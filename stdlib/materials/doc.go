// Package materials owns the chemistry of ntedsl's descriptors: site assignment for the
// A2M3O12 framework, oxidation-state assignment by charge balance, and composition-based
// descriptors (amount-weighted statistics of element properties per site, and composition
// fractions) for single compounds and whole tables.
//
// It works on Composition values (element → amount); lang/formula turns formula strings
// into them. Element data come from stdlib/elements.
//
// Everything here is deterministic: the same compositions and options give the same
// columns, in the same order, with the same bytes.
package materials
