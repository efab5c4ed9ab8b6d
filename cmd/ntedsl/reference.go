package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ntedsl/ntedsl/nodes"
)

// writeReference writes the Markdown reference of every node kind: the generated part of
// SPEC.md, checked by a test so the specification cannot drift from the code.
func writeReference(w io.Writer, reg *nodes.Registry) {
	for _, k := range reg.Kinds() {
		fmt.Fprintf(w, "### `%s` (version %d) → %s\n\n%s\n\n", k.Name, k.Version, k.Output, k.Doc)
		if k.Seeded {
			fmt.Fprintf(w, "Draws random numbers: its seed (from the study seed and the instance address) is part of the cache key.\n\n")
		}
		if len(k.Schema.Attrs) == 0 {
			fmt.Fprintf(w, "No attributes.\n\n")
			continue
		}
		fmt.Fprintf(w, "| attribute | type | default | description |\n|---|---|---|---|\n")
		for _, a := range k.Schema.Attrs {
			def := a.Default
			if a.Required {
				def = "required"
			}
			if def != "" && def != "required" {
				def = "`" + def + "`"
			}
			ty := a.TypeName
			if len(a.Enum) > 0 {
				ty += ": `" + strings.Join(a.Enum, "` \\| `") + "`"
			}
			if len(a.Accepts) > 0 {
				article := " to a "
				if strings.ContainsRune("aeiou", rune(a.Accepts[0][0])) {
					article = " to an "
				}
				ty += article + strings.Join(a.Accepts, " or ")
			}
			doc := strings.ReplaceAll(a.Doc, "|", "\\|")
			fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", a.Name, ty, def, doc)
		}
		fmt.Fprintln(w)
	}
}
