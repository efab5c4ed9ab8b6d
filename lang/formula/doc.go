// Package formula parses chemical formulas such as "Sc2(WO4)3", "In(HfMg)0.5Mo3O12",
// "Yb1.8Al0.2(MoO4)3" and "Zr2S0.9P2O12-d" into a normalized composition.
//
// # Grammar
//
// The grammar is written as Go structs for participle (see grammar.go):
//
//	formula    = term { term } [ deficiency ]
//	term       = element | group
//	element    = Symbol [ amount ]
//	group      = ( "(" term { term } ")" | "[" term { term } "]" ) [ amount ]
//	amount     = digit { digit } [ "." digit { digit } ]
//	deficiency = ( "-" | "−" | "–" ) ( "d" | "δ" )
//
// Decisions, each chosen so that a formula means one thing and a mistake is reported rather
// than guessed at:
//
//   - Element symbols are case-sensitive IUPAC symbols: a capital letter followed by lower-case
//     letters. "Sn" is tin; "SN" is sulfur and nitrogen; "sn" is an error that suggests "Sn".
//     A symbol must be in the element table (H–Rn); an unknown one is an error with
//     suggestions from case-folding ("ZR" → "Zr") or one-letter edits ("Mb" → Mg, Mn, Mo).
//   - Amounts are plain decimals with a point ("0.5", "12"; not ".5", "1,5" or "1e-3"), and
//     must be positive. Group amounts multiply everything inside; nesting is limited to 8.
//   - Amounts are computed exactly (decimal rationals) and converted to float64 once, so
//     "(W0.1)3" is exactly W0.3 and the canonical string never shows rounding noise.
//   - The oxygen-deficiency suffix "-d" / "-δ" must come last, directly after the oxygen
//     amount ("O12-δ"). It is recorded (OxygenDeficient), never dropped; O keeps its nominal
//     amount.
//   - Leading and trailing white space is ignored; white space inside a formula is an error.
//     Hydrate notation ("·nH2O"), charges ("+"), variables ("W3-xMox") and other characters
//     are rejected with a message saying what to write instead.
//
// # Composition order and canonical strings
//
// Components are listed in order of first appearance in the formula, with amounts summed
// over groups: "In(HfMg)0.5Mo3O12" gives In 1, Hf 0.5, Mg 0.5, Mo 3, O 12.
// Canonical writes them flat in that order, omitting amounts of 1 ("InHf0.5Mg0.5Mo3O12"),
// with O moved last and "-d" appended for an oxygen-deficient formula. Parse(Canonical())
// gives the same composition and the same canonical string. Hill writes the composition in
// Hill order (C, H, then alphabetical; alphabetical without carbon), which is the same for
// every spelling of a composition ("Sc2(WO4)3" and "Sc2W3O12" both give "O12Sc2W3").
//
// # Errors
//
// Every error is a *Error with the 1-based column (in runes) of the offending character in
// the string passed to Parse. Callers that read formulas from a file set Error.Source
// (for example "nte.csv row 12") so that the message names the row too.
package formula
