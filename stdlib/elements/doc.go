// Package elements owns ntedsl's embedded element data: the per-element property table
// (elements.csv: Pauling electronegativity, work function, Clementi and Slater effective
// nuclear charges, ionization energy, radii, ...), every Shannon (1976) ionic and crystal
// radius (shannon_radii.csv), and the table of common oxidation states with their
// preference order used for charge balancing.
//
// The data are embedded with go:embed from data/, whose README.md gives the provenance of
// every file. Nothing is read from disk at run time.
//
// Missing values are explicit: every numeric look-up returns (value, ok) and ok is false
// when the source has no value (the work function of O, the electronegativity of He, ...).
// A missing value is never reported as zero.
//
// All data are immutable after package initialization, so every function is safe for
// concurrent use.
package elements
