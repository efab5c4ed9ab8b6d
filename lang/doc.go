// Package lang owns the study language: it parses a study file (HCL native syntax), resolves
// variables and locals, turns references between blocks into edges, expands for_each, and
// decodes every node block against the attribute schema its kind declares, producing the
// list of node instances the runtime schedules. It also compiles the per-row expr-lang
// strings and maps their errors back into the HCL source, so every error a user sees is an
// hcl.Diagnostic pointing at file:line:col.
//
// The chemical-formula grammar lives in the sub-package lang/formula.
package lang
