// Package nodes owns the node kinds of the study language and the registry through which
// a kind plugs in. A kind is a name, a version, a configuration struct whose tags declare
// its attributes (see lang.SchemaOf), the type of value it produces, and a Run function.
// Regressors are kinds too: RegisterRegressor turns any stdlib/ml Regressor with a
// configuration struct into a block kind usable by evaluate and predict, with no other
// change — the built-in boost, pbp and ridge go through exactly that path.
//
// A kind's cache key is built from its configuration and the content of its inputs; a kind
// that also reads files (dataset, benchmark) declares them in Def.Sources, so that editing
// such a file re-runs it.
//
// The core kinds (dataset, table, evaluate, predict, ...) live in this package, one file
// each; model kinds live in sub-packages (nodes/boost, nodes/pbp, ...). nodes/all lists
// every kind in one place.
package nodes
