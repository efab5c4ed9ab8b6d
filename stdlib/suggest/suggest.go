// Package suggest finds the name a user most likely meant: the "did you mean" of every
// error message about an unknown block kind, attribute, column, element or data set.
package suggest

import "strings"

// Distance is the Levenshtein edit distance between a and b, counted in runes.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest returns the candidate nearest to name, ignoring case, when it is within
// maxDist edits (ties go to the candidate that sorts first); "" otherwise. A candidate
// equal to name is not a suggestion.
func Closest(name string, candidates []string, maxDist int) string {
	best, bestD := "", maxDist+1
	ln := strings.ToLower(name)
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := Distance(ln, strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	return best
}
