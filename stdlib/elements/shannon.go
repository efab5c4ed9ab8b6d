package elements

import (
	"fmt"
	"slices"
	"strconv"
)

// Spin is the spin state label of a Shannon radius. Most ions have a single, unlabelled
// entry; some 3d ions (Cr2+, Mn2+, Mn3+, Fe2+, Fe3+, Co2+, Co3+, Co4+, Ni3+, Ni4+, Cu3+)
// have high- and/or low-spin entries.
type Spin string

// Spin labels. SpinAny in a query means "not specified".
const (
	SpinAny  Spin = ""
	HighSpin Spin = "HS"
	LowSpin  Spin = "LS"
)

// ShannonEntry is one row of shannon_radii.csv: an ion in one coordination and spin state.
type ShannonEntry struct {
	Symbol             string
	Charge             int    // oxidation state, e.g. 3 for Sc3+, -2 for O2-
	Coordination       string // Roman numeral as in Shannon's table: "II", "IV", "VI", "IVSQ", "IIIPY", ...
	Spin               Spin   // "", "HS" or "LS"
	IonicRadius        float64
	CrystalRadius      float64 // Å; crystal radius = ionic radius + 0.14 Å
	CoordinationNumber int
	MostReliable       bool   // Shannon's "most reliable" mark
	Flags              string // Shannon's remarks: "calculated", "estimated", "from r^3 vs V plots", ...
	Note               string // corrections made when the table was compiled (see data/README.md)
}

// Name returns the ion's name in the usual notation, e.g. "Fe3+ VI HS", "O2- II".
func (e ShannonEntry) Name() string {
	s := IonName(e.Symbol, e.Charge) + " " + e.Coordination
	if e.Spin != SpinAny {
		s += " " + string(e.Spin)
	}
	return s
}

// IonName writes an ion as symbol, magnitude and sign: "Fe3+", "K+", "O2-", "Fe0".
func IonName(symbol string, charge int) string {
	switch {
	case charge == 1:
		return symbol + "+"
	case charge == -1:
		return symbol + "-"
	case charge > 0:
		return symbol + strconv.Itoa(charge) + "+"
	case charge < 0:
		return symbol + strconv.Itoa(-charge) + "-"
	}
	return symbol + "0"
}

var shannonBySymbol map[string][]ShannonEntry

func loadShannon() error {
	rows, err := readCSV("data/shannon_radii.csv")
	if err != nil {
		return err
	}
	want := []string{"symbol", "oxidation_state", "coordination", "spin", "ionic_radius_A",
		"crystal_radius_A", "coordination_number", "Z", "most_reliable", "shannon_flags", "note"}
	if !slices.Equal(rows[0], want) {
		return fmt.Errorf("header %v, want %v", rows[0], want)
	}
	shannonBySymbol = map[string][]ShannonEntry{}
	for i, r := range rows[1:] {
		q, err1 := strconv.Atoi(r[1])
		ir, err2 := strconv.ParseFloat(r[4], 64)
		cr, err3 := strconv.ParseFloat(r[5], 64)
		cn, err4 := strconv.Atoi(r[6])
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return fmt.Errorf("row %d: %v", i+2, err)
		}
		if !IsSymbol(r[0]) {
			return fmt.Errorf("row %d: %q is not an element symbol", i+2, r[0])
		}
		e := ShannonEntry{
			Symbol: r[0], Charge: q, Coordination: r[2], Spin: Spin(r[3]),
			IonicRadius: ir, CrystalRadius: cr, CoordinationNumber: cn,
			MostReliable: r[8] == "1", Flags: r[9], Note: r[10],
		}
		if e.Spin != SpinAny && e.Spin != HighSpin && e.Spin != LowSpin {
			return fmt.Errorf("row %d: spin %q", i+2, r[3])
		}
		shannonBySymbol[e.Symbol] = append(shannonBySymbol[e.Symbol], e)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Shannon returns the Shannon (1976) entry of the ion symbol^charge in the given
// coordination ("IV", "VI", ...) and spin state.
//
// With spin HighSpin or LowSpin only an entry with that label matches. With SpinAny the
// unlabelled entry matches; when the ion has no unlabelled entry in that coordination but
// exactly one labelled one (Fe3+ IV is listed only as HS, Ni4+ VI only as LS), that one
// matches. When both HS and LS are listed, SpinAny matches nothing: the caller must
// choose (ShannonAll lists them).
//
// ok is false when nothing matches: the radius is missing, never zero.
func Shannon(symbol string, charge int, coordination string, spin Spin) (e ShannonEntry, ok bool) {
	var labelled []ShannonEntry
	for _, x := range shannonBySymbol[symbol] {
		if x.Charge != charge || x.Coordination != coordination {
			continue
		}
		if x.Spin == spin {
			return x, true
		}
		if spin == SpinAny {
			labelled = append(labelled, x)
		}
	}
	if len(labelled) == 1 {
		return labelled[0], true
	}
	return ShannonEntry{}, false
}

// ShannonAll returns every Shannon entry of the element, in the table's order (by charge,
// then coordination). The slice is a copy.
func ShannonAll(symbol string) []ShannonEntry {
	return slices.Clone(shannonBySymbol[symbol])
}

// ShannonCoordinations returns the coordinations (with spin labels where they exist, as
// "VI HS") in which Shannon lists the ion symbol^charge. It is meant for error messages
// that say what is available.
func ShannonCoordinations(symbol string, charge int) []string {
	var out []string
	for _, x := range shannonBySymbol[symbol] {
		if x.Charge != charge {
			continue
		}
		s := x.Coordination
		if x.Spin != SpinAny {
			s += " " + string(x.Spin)
		}
		out = append(out, s)
	}
	return out
}

// Coordinations returns every coordination label used in Shannon's table, in order of
// coordination number: "I", "II", "III", "IIIPY", "IV", "IVPY", "IVSQ", "V", ...
func Coordinations() []string {
	type c struct {
		label string
		n     int
	}
	var all []c
	for _, s := range allSymbols {
		for _, x := range shannonBySymbol[s] {
			if !slices.ContainsFunc(all, func(y c) bool { return y.label == x.Coordination }) {
				all = append(all, c{x.Coordination, x.CoordinationNumber})
			}
		}
	}
	slices.SortFunc(all, func(a, b c) int {
		if a.n != b.n {
			return a.n - b.n
		}
		if a.label < b.label {
			return -1
		}
		return 1
	})
	out := make([]string, len(all))
	for i, x := range all {
		out[i] = x.label
	}
	return out
}

// ShannonCharges returns the oxidation states for which Shannon lists any radius of the
// element, in increasing order.
func ShannonCharges(symbol string) []int {
	var out []int
	for _, x := range shannonBySymbol[symbol] {
		if !slices.Contains(out, x.Charge) {
			out = append(out, x.Charge)
		}
	}
	slices.Sort(out)
	return out
}
