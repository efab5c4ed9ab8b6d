package elements

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// OxidationState is a candidate cation oxidation state of an element with the evidence
// behind its preference rank.
type OxidationState struct {
	Charge int
	// ICSDOccurrence is how often the species was found among ICSD structures by the
	// bond-valence analysis behind pymatgen's icsd_bv.yaml ("occurrence" section).
	ICSDOccurrence int
}

// commonStates holds, per symbol, the candidate states in preference order.
var commonStates map[string][]OxidationState

// icsdOccurrence holds every species of the occurrence section, including anions and the
// zero state, keyed by symbol and charge.
var icsdOccurrence map[string]map[int]int

var speciesLine = regexp.MustCompile(`^  ([A-Z][a-z]?)([0-9]*)([+-]): ([0-9]+)$`)

func loadOxidationStates() error {
	b, err := dataFS.ReadFile("data/icsd_bv_occurrence.yaml")
	if err != nil {
		return err
	}
	icsdOccurrence = map[string]map[int]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if t == "occurrence:" || t == "" || t[0] == '#' {
			continue
		}
		m := speciesLine.FindStringSubmatch(t)
		if m == nil {
			return fmt.Errorf("line %d: cannot read %q", line, t)
		}
		q := 1
		if m[2] != "" {
			q, _ = strconv.Atoi(m[2])
		}
		if m[3] == "-" {
			q = -q
		}
		n, _ := strconv.Atoi(m[4])
		if icsdOccurrence[m[1]] == nil {
			icsdOccurrence[m[1]] = map[int]int{}
		}
		icsdOccurrence[m[1]][q] = n
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// Candidates: positive states that Shannon lists (his table was built from oxides and
	// fluorides, so these are the states known in ionic solids, and each has a radius) and
	// that ICSD has at least once. Preference: ICSD occurrence, most frequent first; equal
	// counts (Re4+ and Re6+, 40 each) are ordered by the lower charge first.
	commonStates = map[string][]OxidationState{}
	for _, e := range byZ {
		var st []OxidationState
		for _, q := range ShannonCharges(e.Symbol) {
			if n := icsdOccurrence[e.Symbol][q]; q > 0 && n > 0 {
				st = append(st, OxidationState{Charge: q, ICSDOccurrence: n})
			}
		}
		slices.SortStableFunc(st, func(a, b OxidationState) int {
			if a.ICSDOccurrence != b.ICSDOccurrence {
				return b.ICSDOccurrence - a.ICSDOccurrence
			}
			return a.Charge - b.Charge
		})
		commonStates[e.Symbol] = st
	}
	return nil
}

// CommonOxidationStates returns the candidate cation oxidation states of the element in
// order of preference, the usual state first: Fe → [3 2 4 6], Mn → [2 3 4 7 5 6],
// Mo → [6 5 3 4], Hf → [4]. A state is a candidate when it is positive, Shannon (1976)
// lists a radius for it, and the ICSD bond-valence survey in pymatgen's icsd_bv.yaml found
// it at least once; the order is that survey's occurrence count (see data/README.md).
//
// The result is empty for elements without such a state (noble gases, O, F, and Tc, Pm,
// Os, Pt, Au, Po, At, which ICSD survey does not cover); a study must then state the
// oxidation state itself. The slice is a copy.
func CommonOxidationStates(symbol string) []OxidationState {
	return slices.Clone(commonStates[symbol])
}

// ICSDOccurrence returns the occurrence count of the species symbol^charge in the ICSD
// bond-valence survey, for any charge including anions and 0. ok is false when the
// survey does not list the species.
func ICSDOccurrence(symbol string, charge int) (n int, ok bool) {
	n, ok = icsdOccurrence[symbol][charge]
	return n, ok
}
