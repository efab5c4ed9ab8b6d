package materials

import (
	"fmt"
	"github.com/ntedsl/ntedsl/stdlib/suggest"
	"math"
	"slices"
	"strings"

	"github.com/ntedsl/ntedsl/stdlib/elements"
)

// Scopes over which statistics are taken. Column names start with the scope name.
const (
	ScopeA        = "A"        // A-site cations
	ScopeM        = "M"        // M-site cations
	ScopeO        = "O"        // the anion
	ScopeAll      = "all"      // every cation (A ∪ M); O excluded, see the package doc
	ScopeCompound = "compound" // every element including O
)

// Statistics. All are taken over the elements of a scope; mean and std weight each element
// by its amount.
const (
	StatMean  = "mean"  // Σ wᵢ pᵢ with wᵢ = nᵢ / Σ n
	StatStd   = "std"   // population std: sqrt(Σ wᵢ (pᵢ − mean)²)
	StatRange = "range" // max pᵢ − min pᵢ
	StatMin   = "min"
	StatMax   = "max"
)

// Missing-value policies for tables.
const (
	MissingError      = "error"       // a missing value is an error naming compound, element and property (default)
	MissingDropRow    = "drop_row"    // drop every compound with a missing value, and report them
	MissingDropColumn = "drop_column" // drop every column with a missing value, and report them
)

// Property aliases. Any numeric column of elements.csv may be named too.
const (
	PropShannonRadius        = "shannon_radius"         // Shannon ionic radius (Å) at the site's coordination
	PropShannonCrystalRadius = "shannon_crystal_radius" // Shannon crystal radius (Å) at the site's coordination
	PropPaulingEN            = "pauling_en"             // elements.csv pauling_en
	PropWorkFunction         = "work_function"          // elements.csv work_function_eV
	PropZeffClementi         = "zeff_clementi"          // elements.csv zeff_clementi_valence
	PropZeffSlater           = "zeff_slater"            // elements.csv zeff_slater_valence
	PropZeff                 = "zeff"                   // shorthand for zeff_clementi and zeff_slater
	PropOxidationState       = "oxidation_state"        // the assigned oxidation state
)

var aliasColumns = map[string]string{
	PropPaulingEN:    "pauling_en",
	PropWorkFunction: "work_function_eV",
	PropZeffClementi: "zeff_clementi_valence",
	PropZeffSlater:   "zeff_slater_valence",
}

// PropertyNames returns every property name the descriptors accept: the aliases, then the
// numeric columns of elements.csv.
func PropertyNames() []string {
	out := []string{PropShannonRadius, PropShannonCrystalRadius, PropPaulingEN, PropWorkFunction,
		PropZeffClementi, PropZeffSlater, PropZeff, PropOxidationState}
	for _, c := range elements.NumericProperties() {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// DescriptorOptions configure the descriptors. Empty lists mean the defaults of
// DefaultDescriptorOptions.
type DescriptorOptions struct {
	Assign AssignOptions
	// Properties to describe: aliases (shannon_radius, pauling_en, work_function,
	// zeff_clementi, zeff_slater, zeff, oxidation_state, shannon_crystal_radius) or numeric
	// columns of elements.csv by name (first_ionization_eV, covalent_radius_pm, ...).
	Properties []string
	// Stats: mean, std, range, min, max.
	Stats []string
	// Scopes: A, M, O, all (cations), compound (every element).
	Scopes []string
	// Fractions adds frac_<El> = nₑₗ / Σ n (atomic fraction, O included) for every element.
	Fractions bool
	// Coordination of the Shannon radius by site; missing entries default to A VI, M IV,
	// O II.
	Coordination map[Site]string
	// Spin picks the Shannon entry where both high- and low-spin radii are listed
	// (Fe3+ VI, Mn2+ VI, ...). Empty means HighSpin: O2− is a weak-field ligand, so the 3d
	// ions of oxides are high-spin.
	Spin elements.Spin
	// Missing is the policy for missing values in tables: MissingError (default),
	// MissingDropRow or MissingDropColumn. Describe reports missing values whatever it is.
	Missing string
}

// DefaultDescriptorOptions returns the defaults: properties shannon_radius, pauling_en,
// work_function, zeff_clementi, zeff_slater; stats mean, range, std; scopes A, M, all;
// composition fractions on; missing values are errors.
func DefaultDescriptorOptions() DescriptorOptions {
	return DescriptorOptions{
		Properties: []string{PropShannonRadius, PropPaulingEN, PropWorkFunction, PropZeffClementi, PropZeffSlater},
		Stats:      []string{StatMean, StatRange, StatStd},
		Scopes:     []string{ScopeA, ScopeM, ScopeAll},
		Fractions:  true,
		Missing:    MissingError,
	}
}

// property is a resolved property request.
type property struct {
	name   string // as it appears in column names
	column string // elements.csv column; "" for the Shannon radii and the oxidation state
}

// plan is a validated DescriptorOptions.
type plan struct {
	opt    DescriptorOptions
	props  []property
	stats  []string
	scopes []string
	coord  map[Site]string
	spin   elements.Spin
}

// OptionError is an invalid option: an unknown property, stat, scope or policy.
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return e.Msg }

func optionErr(format string, args ...any) error {
	return &OptionError{Msg: fmt.Sprintf(format, args...)}
}

// Check reports an invalid option (an unknown property, stat, scope, coordination or
// policy) without computing anything, so a study can be checked before it runs.
func (opt DescriptorOptions) Check() error {
	_, err := newPlan(opt)
	return err
}

func newPlan(opt DescriptorOptions) (*plan, error) {
	def := DefaultDescriptorOptions()
	p := &plan{opt: opt, coord: map[Site]string{SiteA: "VI", SiteM: "IV", SiteO: "II"}, spin: opt.Spin}
	if p.spin == elements.SpinAny {
		p.spin = elements.HighSpin
	}
	switch p.spin {
	case elements.HighSpin, elements.LowSpin:
	default:
		return nil, optionErr("unknown spin %q; use %q or %q", opt.Spin, elements.HighSpin, elements.LowSpin)
	}
	known := elements.Coordinations()
	for _, s := range []Site{SiteA, SiteM, SiteO} { // fixed order: deterministic messages
		c, ok := opt.Coordination[s]
		if !ok {
			continue
		}
		if !slices.Contains(known, c) {
			return nil, optionErr("unknown coordination %q for site %s; Shannon's coordinations are %s", c, s, strings.Join(known, ", "))
		}
		p.coord[s] = c
	}
	names := opt.Properties
	if len(names) == 0 {
		names = def.Properties
	}
	seen := map[string]bool{}
	add := func(name, column string) error {
		if seen[name] {
			return optionErr("property %q is listed twice", name)
		}
		seen[name] = true
		p.props = append(p.props, property{name: name, column: column})
		return nil
	}
	for _, n := range names {
		var err error
		switch {
		case n == PropZeff:
			if err = add(PropZeffClementi, aliasColumns[PropZeffClementi]); err == nil {
				err = add(PropZeffSlater, aliasColumns[PropZeffSlater])
			}
		case n == PropShannonRadius, n == PropShannonCrystalRadius, n == PropOxidationState:
			err = add(n, "")
		case aliasColumns[n] != "":
			err = add(n, aliasColumns[n])
		case elements.IsNumericProperty(n):
			err = add(n, n)
		default:
			err = optionErr("unknown property %q%s; properties are %s", n, didYouMean(n, PropertyNames()), strings.Join(PropertyNames(), ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	p.stats = opt.Stats
	if len(p.stats) == 0 {
		p.stats = def.Stats
	}
	allStats := []string{StatMean, StatStd, StatRange, StatMin, StatMax}
	if err := checkList("stat", p.stats, allStats); err != nil {
		return nil, err
	}
	p.scopes = opt.Scopes
	if len(p.scopes) == 0 {
		p.scopes = def.Scopes
	}
	if err := checkList("scope", p.scopes, []string{ScopeA, ScopeM, ScopeO, ScopeAll, ScopeCompound}); err != nil {
		return nil, err
	}
	switch opt.Missing {
	case "", MissingError, MissingDropRow, MissingDropColumn:
	default:
		return nil, optionErr("unknown missing-value policy %q; use %q, %q or %q", opt.Missing, MissingError, MissingDropRow, MissingDropColumn)
	}
	return p, nil
}

func checkList(what string, got, allowed []string) error {
	for i, g := range got {
		if !slices.Contains(allowed, g) {
			return optionErr("unknown %s %q%s; %ss are %s", what, g, didYouMean(g, allowed), what, strings.Join(allowed, ", "))
		}
		if slices.Contains(got[:i], g) {
			return optionErr("%s %q is listed twice", what, g)
		}
	}
	return nil
}

// didYouMean returns “ (did you mean "x"?)“ for the closest name within two edits, or "".
func didYouMean(s string, names []string) string {
	best, bd := "", 3
	for _, n := range names {
		if d := suggest.Distance(strings.ToLower(s), strings.ToLower(n)); d < bd {
			best, bd = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Missing is a property value that the element data do not have.
type Missing struct {
	Compound string // Composition.Name()
	Element  string
	Property string // as requested, e.g. "work_function"
	Scope    string // the scope whose columns it affects
	Reason   string // e.g. "elements.csv has no work_function_eV for O"
}

// MissingValueError is a missing value under the MissingError policy. Its message names
// the compound, the element and the property, and says how to proceed.
type MissingValueError struct{ Missing }

func (e *MissingValueError) Error() string {
	return fmt.Sprintf("%s: no %s for %s (%s), needed by the %s columns; leave the property or scope out, or set missing = %q or %q",
		e.Compound, e.Property, e.Element, e.Reason, e.Scope+"_"+e.Property+"_*", MissingDropRow, MissingDropColumn)
}

// value returns property p of an assigned ion.
func (p *plan) value(ion Ion, pr property) (float64, string) {
	switch pr.name {
	case PropOxidationState:
		return float64(ion.Charge), ""
	case PropShannonRadius, PropShannonCrystalRadius:
		coord := p.coord[ion.Site]
		e, ok := elements.Shannon(ion.Symbol, ion.Charge, coord, p.spin)
		if !ok {
			e, ok = elements.Shannon(ion.Symbol, ion.Charge, coord, elements.SpinAny)
		}
		if !ok {
			have := elements.ShannonCoordinations(ion.Symbol, ion.Charge)
			why := fmt.Sprintf("Shannon (1976) lists no radius for %s in coordination %s", ion.Name(), coord)
			if len(have) > 0 {
				why += " (it lists " + strings.Join(have, ", ") + ")"
			}
			return math.NaN(), why
		}
		if pr.name == PropShannonCrystalRadius {
			return e.CrystalRadius, ""
		}
		return e.IonicRadius, ""
	}
	v, ok := elements.Value(ion.Symbol, pr.column)
	if !ok {
		return math.NaN(), fmt.Sprintf("elements.csv has no %s for %s", pr.column, ion.Symbol)
	}
	return v, ""
}

func inScope(scope string, s Site) bool {
	switch scope {
	case ScopeA:
		return s == SiteA
	case ScopeM:
		return s == SiteM
	case ScopeO:
		return s == SiteO
	case ScopeAll:
		return s != SiteO
	}
	return true // ScopeCompound
}

// Value is one descriptor of one compound. When Missing is set, V is NaN and Why says
// which element lacks which value.
type Value struct {
	Name    string
	V       float64
	Missing bool
	Why     []Missing
}

// vector computes the statistic columns (without fractions) of one assigned compound.
func (p *plan) vector(a *Assignment) []Value {
	var out []Value
	for _, scope := range p.scopes {
		var ions []Ion
		for _, x := range a.Ions {
			if inScope(scope, x.Site) {
				ions = append(ions, x)
			}
		}
		for _, pr := range p.props {
			vals := make([]float64, len(ions))
			var why []Missing
			for i, x := range ions {
				v, reason := p.value(x, pr)
				if reason != "" {
					why = append(why, Missing{Compound: a.Compound, Element: x.Symbol, Property: pr.name, Scope: scope, Reason: reason})
				}
				vals[i] = v
			}
			st := stats(ions, vals)
			for _, s := range p.stats {
				v := Value{Name: scope + "_" + pr.name + "_" + s, V: st.get(s)}
				if len(why) > 0 || len(ions) == 0 {
					v.V, v.Missing, v.Why = math.NaN(), true, why
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// summary holds every statistic of one scope and property.
type summary struct{ mean, std, rng, min, max float64 }

func (s summary) get(stat string) float64 {
	switch stat {
	case StatMean:
		return s.mean
	case StatStd:
		return s.std
	case StatRange:
		return s.rng
	case StatMin:
		return s.min
	}
	return s.max
}

// stats returns every statistic of the values of ions, weighted by amount.
func stats(ions []Ion, vals []float64) summary {
	var tot, mean float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, x := range ions {
		tot += x.Amount
		lo, hi = math.Min(lo, vals[i]), math.Max(hi, vals[i])
	}
	for i, x := range ions {
		mean += x.Amount / tot * vals[i]
	}
	// Two passes, so that the variance of equal values is exactly zero.
	var v float64
	for i, x := range ions {
		d := vals[i] - mean
		v += x.Amount / tot * d * d
	}
	if len(ions) == 1 {
		mean, v = vals[0], 0
	}
	return summary{mean: mean, std: math.Sqrt(v), rng: hi - lo, min: lo, max: hi}
}

// fractions returns frac_<El> for the given symbols.
func fractions(c Composition, symbols []string) []Value {
	tot := c.Total()
	out := make([]Value, len(symbols))
	for i, s := range symbols {
		n, _ := c.Amount(s)
		out[i] = Value{Name: "frac_" + s, V: n / tot}
	}
	return out
}

// bySymbolZ sorts element symbols by atomic number.
func bySymbolZ(syms []string) {
	slices.SortFunc(syms, func(a, b string) int {
		ea, _ := elements.Lookup(a)
		eb, _ := elements.Lookup(b)
		return zOf(ea) - zOf(eb)
	})
}

func zOf(e *elements.Element) int {
	if e == nil {
		return math.MaxInt32
	}
	return e.Z
}
