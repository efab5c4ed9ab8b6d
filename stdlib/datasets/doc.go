// Package datasets owns ntedsl's built-in data sets: their bytes (embedded with go:embed)
// and what is known about them (provenance, columns, the formula and target columns).
// Studies name them with a "builtin:" source, e.g. source = "builtin:a2m3o12".
//
// Parsing the CSV into a table, and filtering rows with `where`, is the engine's job; this
// package only serves the bytes and their description. data/README.md holds the
// provenance of every file.
package datasets
