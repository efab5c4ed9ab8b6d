package lang

import (
	"io"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/ntedsl/ntedsl/stdlib/suggest"
)

// Suggest returns the candidate closest to name, or "" when none is close enough to be a
// plausible typo. Case differences count as small edits, so `SN` suggests `Sn`; a name that
// begins exactly one candidate suggests it.
func Suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := suggest.Distance(strings.ToLower(name), strings.ToLower(c))
		if strings.ToLower(name) == strings.ToLower(c) {
			d = 0
		}
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(name) <= 3 {
		limit = 1
	}
	if best != "" && bestD <= limit && best != name {
		return best
	}
	// A shortened name (alpha_l for alpha_l_1e6_per_K) is far in edit distance but
	// unambiguous when exactly one candidate starts with it.
	if len(name) >= 3 {
		prefixed := ""
		for _, c := range candidates {
			if len(c) > len(name) && strings.HasPrefix(strings.ToLower(c), strings.ToLower(name)) {
				if prefixed != "" {
					return ""
				}
				prefixed = c
			}
		}
		return prefixed
	}
	return ""
}

// WriteDiagnostics renders diagnostics the way HCL does: file:line:col, the source line
// with the range underlined, and the detail. files maps file names to parsed files.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	sorted := make(hcl.Diagnostics, len(diags))
	copy(sorted, diags)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].Subject, sorted[j].Subject
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		}
		return a.Start.Byte < b.Start.Byte
	})
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(sorted)
}

// errorDiag builds an error diagnostic.
func errorDiag(summary, detail string, subject hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: subject.Ptr()}
}

// didYouMean appends a suggestion sentence to detail when one is close.
func didYouMean(detail, name string, candidates []string) string {
	if s := Suggest(name, candidates); s != "" {
		return detail + " Did you mean \"" + s + "\"?"
	}
	return detail
}
