// Package materials owns the chemistry of ntedsl's descriptors: site assignment for the
// A2M3O12 framework, oxidation-state assignment by charge balance, and composition-based
// descriptors (amount-weighted statistics of element properties per site, and composition
// fractions) for single compounds (Describe) and whole tables (DescribeTable).
//
// It works on Composition values (element → amount); lang/formula turns formula strings
// into them. Element data come from stdlib/elements.
//
// # Sites and oxidation states
//
// O is the anion (O2−). The M site holds the tetrahedral cations W, Mo, V, P and S (a
// study may list others); every other element is an A-site cation. Each cation takes one
// of its common oxidation states, listed by elements.CommonOxidationStates in order of
// preference (ICSD occurrence, most frequent first: Fe3+ before Fe2+, Mn2+ before Mn3+),
// or a state fixed by the study, such that the cation charge equals the O charge (24+ for
// O12). Among the balancing choices the one with the smallest total rank wins (rank 0 for
// each usual state). A tie is an error listing the tied assignments, and so is a
// composition that no choice balances; the study resolves either by fixing states. An
// oxygen-deficient formula (O12-δ) may balance with δ > 0 only when the study allows it.
//
// # Descriptors
//
// For each scope (A, M, O, all, compound), property and statistic there is a column
// <scope>_<property>_<stat>, e.g. A_shannon_radius_mean, M_pauling_en_range,
// all_work_function_std. With nᵢ the amount and pᵢ the property of element i of the scope
// and wᵢ = nᵢ/Σn:
//
//	mean  = Σ wᵢ pᵢ
//	std   = sqrt(Σ wᵢ (pᵢ − mean)²)   (population weighting: the composition is the whole population)
//	range = max pᵢ − min pᵢ           (unweighted; also min and max)
//
// The scope "all" is every cation (A ∪ M) and leaves O out: O is the common anion, 12 of
// every 17 atoms, so it would only add the same offset to every compound's mean, and it has
// no work function. The scope "compound" includes O for those who want it.
//
// The Shannon radius of an ion is taken at its site's coordination (A VI, M IV, O II),
// high-spin where Shannon lists both spins (O2− is a weak-field ligand).
//
// Composition fractions frac_<El> = nₑₗ/Σn count every atom, O included. In a table they
// cover the union of the elements of the kept compounds, ordered by atomic number, and are
// 0 where a compound lacks the element.
//
// A property value that the element data do not have (the work function of O or S, a
// Shannon radius at a coordination Shannon did not tabulate) is never replaced: Describe
// marks it missing with the reason, and DescribeTable either fails naming the compound,
// element and property, or drops the affected rows or columns and reports them.
//
// Everything here is deterministic: the same compositions and options give the same
// columns, in the same order, with the same values.
package materials
