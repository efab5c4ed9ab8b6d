package elements

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/elements.csv data/shannon_radii.csv data/icsd_bv_occurrence.yaml
var dataFS embed.FS

// Element is one row of elements.csv. Its fields are the identifying columns; every
// numeric column (including Z, period and group) is available through Value.
type Element struct {
	Symbol string // IUPAC symbol, e.g. "Sc"
	Name   string // English name, e.g. "Scandium"
	Z      int    // atomic number
	Block  string // "s", "p", "d" or "f"

	values  []float64 // indexed like numericColumns; meaningful only where present is true
	present []bool
	strs    map[string]string // string columns by name (empty cells absent)
}

// Value returns the element's value of a numeric column of elements.csv, for example
// "pauling_en", "work_function_eV" or "zeff_clementi_valence". ok is false when the table
// has no value for this element (an empty cell): the value is missing, not zero.
//
// Value panics if property is not a numeric column; check user input with
// IsNumericProperty first.
func (e *Element) Value(property string) (v float64, ok bool) {
	i, found := numericIndex[property]
	if !found {
		panic(fmt.Sprintf("elements: %q is not a numeric column of elements.csv", property))
	}
	return e.values[i], e.present[i]
}

// Text returns the element's value of a string column of elements.csv, such as
// "valence_subshell", "electron_configuration" or "work_function_source". ok is false when
// the cell is empty or column is not a string column.
func (e *Element) Text(column string) (s string, ok bool) {
	s, ok = e.strs[column]
	return s, ok
}

var (
	byZ            []*Element          // index Z-1
	bySymbol       map[string]*Element // exact, case-sensitive symbol
	numericColumns []string            // in file order
	numericIndex   map[string]int
	stringColumns  []string
)

func init() {
	if err := loadElements(); err != nil {
		panic("elements: embedded elements.csv: " + err.Error())
	}
	if err := loadShannon(); err != nil {
		panic("elements: embedded shannon_radii.csv: " + err.Error())
	}
	if err := loadOxidationStates(); err != nil {
		panic("elements: embedded icsd_bv_occurrence.yaml: " + err.Error())
	}
}

// Digests returns the SHA-256 of each embedded data file, by file name, so that results
// computed from the tables can be keyed on their content rather than on a code version
// someone might forget to bump after editing a table. The map is the caller's.
func Digests() map[string]string { return maps.Clone(digests()) }

// digests hashes the embedded files once: they cannot change while the program runs, and
// every cache key of a descriptor node asks for them.
var digests = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, name := range []string{"elements.csv", "shannon_radii.csv", "icsd_bv_occurrence.yaml"} {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			panic("elements: embedded " + name + ": " + err.Error())
		}
		sum := sha256.Sum256(b)
		out["elements:"+name] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
})

func readCSV(name string) ([][]string, error) {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(b))
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("no data rows")
	}
	return rows, nil
}

func loadElements() error {
	rows, err := readCSV("data/elements.csv")
	if err != nil {
		return err
	}
	header := rows[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"symbol", "name", "Z", "block"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("missing column %q", need)
		}
	}
	// A column is numeric when every non-empty cell parses as a number. Deciding this from
	// the data (instead of a hard-coded list) keeps the table and the code in step when a
	// column is added.
	isNum := make([]bool, len(header))
	for j := range header {
		isNum[j] = header[j] != "symbol"
		for _, r := range rows[1:] {
			if r[j] == "" {
				continue
			}
			if _, err := strconv.ParseFloat(r[j], 64); err != nil {
				isNum[j] = false
				break
			}
		}
	}
	numericIndex = map[string]int{}
	var numCols []int
	for j, h := range header {
		if isNum[j] {
			numericIndex[h] = len(numericColumns)
			numericColumns = append(numericColumns, h)
			numCols = append(numCols, j)
		} else if h != "symbol" {
			stringColumns = append(stringColumns, h)
		}
	}
	bySymbol = map[string]*Element{}
	for i, r := range rows[1:] {
		z, err := strconv.Atoi(r[col["Z"]])
		if err != nil || z != i+1 {
			return fmt.Errorf("row %d: Z %q: rows must be in order of atomic number", i+2, r[col["Z"]])
		}
		e := &Element{
			Symbol:  r[col["symbol"]],
			Name:    r[col["name"]],
			Z:       z,
			Block:   r[col["block"]],
			values:  make([]float64, len(numCols)),
			present: make([]bool, len(numCols)),
			strs:    map[string]string{},
		}
		for k, j := range numCols {
			if r[j] == "" {
				continue
			}
			v, _ := strconv.ParseFloat(r[j], 64)
			e.values[k], e.present[k] = v, true
		}
		for j, h := range header {
			if !isNum[j] && h != "symbol" && r[j] != "" {
				e.strs[h] = r[j]
			}
		}
		if _, dup := bySymbol[e.Symbol]; dup {
			return fmt.Errorf("duplicate symbol %q", e.Symbol)
		}
		bySymbol[e.Symbol] = e
		byZ = append(byZ, e)
	}
	return nil
}

// Lookup returns the element with the given symbol. Symbols are case-sensitive ("Sn", not
// "SN" or "sn"); ok is false for anything else, including real elements beyond the table
// (see InTable and IsSymbol).
func Lookup(symbol string) (e *Element, ok bool) {
	e, ok = bySymbol[symbol]
	return e, ok
}

// ByZ returns the element with atomic number z, or ok false outside 1..MaxZ().
func ByZ(z int) (e *Element, ok bool) {
	if z < 1 || z > len(byZ) {
		return nil, false
	}
	return byZ[z-1], true
}

// MaxZ is the largest atomic number in the table (86, radon).
func MaxZ() int { return len(byZ) }

// Symbols returns the symbols of the table in order of atomic number.
func Symbols() []string {
	out := make([]string, len(byZ))
	for i, e := range byZ {
		out[i] = e.Symbol
	}
	return out
}

// Value returns property of the element symbol (see Element.Value). ok is false when the
// element is not in the table or its value is missing. It panics if property is not a
// numeric column.
func Value(symbol, property string) (v float64, ok bool) {
	e, found := bySymbol[symbol]
	if !found {
		if _, isCol := numericIndex[property]; !isCol {
			panic(fmt.Sprintf("elements: %q is not a numeric column of elements.csv", property))
		}
		return 0, false
	}
	return e.Value(property)
}

// NumericProperties returns the names of the numeric columns of elements.csv in file
// order: Z, atomic_mass, pauling_en, work_function_eV, zeff_clementi_valence, ...
func NumericProperties() []string { return slices.Clone(numericColumns) }

// IsNumericProperty reports whether name is a numeric column of elements.csv.
func IsNumericProperty(name string) bool {
	_, ok := numericIndex[name]
	return ok
}

// TextColumns returns the names of the non-numeric columns of elements.csv other than
// symbol, in file order.
func TextColumns() []string { return slices.Clone(stringColumns) }

// allSymbols lists the 118 IUPAC element symbols by atomic number, so that a symbol of a
// real element missing from the table (U, Th, ...) can be told apart from a typo.
var allSymbols = strings.Fields(`H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr
Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs
Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn
Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts
Og`)

// IsSymbol reports whether s is the symbol of any of the 118 elements, whether or not the
// table holds data for it.
func IsSymbol(s string) bool { return slices.Contains(allSymbols, s) }

// InTable reports whether the table holds data for the element symbol s.
func InTable(s string) bool {
	_, ok := bySymbol[s]
	return ok
}
