package formula

import (
	"fmt"
	"github.com/ntedsl/ntedsl/stdlib/suggest"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ntedsl/ntedsl/stdlib/elements"
)

// Error is a formula that cannot be read. Its message names the formula and the column of
// the offending character, says what is wrong and, where one exists, suggests a fix.
type Error struct {
	// Formula is the string that was parsed, exactly as given.
	Formula string
	// Col is the 1-based column, counted in runes, of the offending character in Formula;
	// 0 when the error concerns the formula as a whole (an empty formula).
	Col int
	// Msg says what is wrong, e.g. `unknown element symbol "Mb"`.
	Msg string
	// Suggestions are replacements for the offending token (element symbols such as "Sn"),
	// most likely first; empty when there is no good guess.
	Suggestions []string
	// Source is set by callers that read formulas from somewhere, e.g. "nte.csv row 12";
	// Error() puts it first.
	Source string
}

// Error renders the error on one line, e.g.
//
//	nte.csv row 12: formula "Mb2W3O12", column 1: unknown element symbol "Mb"; did you mean Mg, Mn or Mo?
func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "formula %q", e.Formula)
	if e.Col > 0 {
		fmt.Fprintf(&b, ", column %d", e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if len(e.Suggestions) > 0 {
		b.WriteString("; did you mean ")
		b.WriteString(orList(e.Suggestions))
		b.WriteString("?")
	}
	return b.String()
}

// Caret returns the formula and, below it, a caret under the offending column, for
// terminal output. It returns the formula alone when Col is 0.
func (e *Error) Caret() string {
	if e.Col <= 0 {
		return e.Formula
	}
	return e.Formula + "\n" + strings.Repeat(" ", e.Col-1) + "^"
}

func orList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// letterRun returns the maximal run of ASCII letters of s starting at rune index i.
func letterRun(runes []rune, i int) string {
	j := i
	for j < len(runes) && isASCIILetter(runes[j]) {
		j++
	}
	return string(runes[i:j])
}

func isASCIILetter(r rune) bool { return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' }

// title upper-cases the first letter of s and lower-cases the rest.
func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
}

// caseFoldSymbol returns the element symbol spelled, in other letter case, by the first
// two letters of run, or else by its first letter ("ZR2" → "Zr", "sc" → "Sc", "w3" → "W");
// "" when there is none. Only a change of case counts: "Ox" does not fold to "O".
func caseFoldSymbol(run string) string {
	for k := min(2, len(run)); k >= 1; k-- {
		if c := title(run[:k]); c != run[:k] && elements.InTable(c) {
			return c
		}
	}
	return ""
}

// suggestSymbols proposes table symbols for an unknown symbol token. run is the letter run
// of the input that starts with the token, so that "ZR" (lexed as Z, R) can suggest Zr.
// Otherwise it proposes the symbols one edit away that keep the first letter ("Mb" → Mg,
// Mn, Mo; "Scx" → Sc), or, failing those, any symbol one edit away when there are at most
// two (more would be noise: "Jo" is one edit from Co, Ho, Mo and Po).
func suggestSymbols(token, run string) []string {
	if c := caseFoldSymbol(run); c != "" {
		return []string{c}
	}
	var same, other []string
	for _, s := range elements.Symbols() {
		if suggest.Distance(token, s) != 1 {
			continue
		}
		if s[0] == token[0] {
			same = append(same, s)
		} else {
			other = append(other, s)
		}
	}
	if len(same) > 0 {
		slices.Sort(same)
		return same
	}
	if len(other) <= 2 {
		slices.Sort(other)
		return other
	}
	return nil
}

// quoteRune quotes one character for a message.
func quoteRune(r rune) string {
	if r == utf8.RuneError {
		return "invalid UTF-8"
	}
	return fmt.Sprintf("%q", string(r))
}
