package materials

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/ntedsl/ntedsl/stdlib/elements"
)

// Description is everything known about one compound: what `ntedsl describe` prints.
type Description struct {
	Composition Composition
	Assignment  *Assignment
	// Radii holds, per ion in composition order, the Shannon entry at its site's
	// coordination; ok false where Shannon lists none.
	Radii []IonRadius
	// Values is the descriptor vector: the statistic columns, then the fractions. Missing
	// values are kept, marked, with the reason; the missing-value policy does not apply.
	Values []Value
}

// IonRadius is the Shannon entry used for an ion.
type IonRadius struct {
	Ion   Ion
	Entry elements.ShannonEntry
	OK    bool
}

// Describe assigns sites and oxidation states to c and computes its descriptors. It
// returns an error only for invalid options or an assignment failure (*AssignError).
func Describe(c Composition, opt DescriptorOptions) (*Description, error) {
	p, err := newPlan(opt)
	if err != nil {
		return nil, err
	}
	a, err := Assign(c, opt.Assign)
	if err != nil {
		return nil, err
	}
	d := &Description{Composition: c, Assignment: a, Values: p.vector(a)}
	for _, x := range a.Ions {
		coord := p.coord[x.Site]
		e, ok := elements.Shannon(x.Symbol, x.Charge, coord, p.spin)
		if !ok {
			e, ok = elements.Shannon(x.Symbol, x.Charge, coord, elements.SpinAny)
		}
		d.Radii = append(d.Radii, IonRadius{Ion: x, Entry: e, OK: ok})
	}
	if opt.Fractions {
		syms := c.Symbols()
		bySymbolZ(syms)
		d.Values = append(d.Values, fractions(c, syms)...)
	}
	return d, nil
}

// Lookup returns the descriptor called name.
func (d *Description) Lookup(name string) (Value, bool) {
	for _, v := range d.Values {
		if v.Name == name {
			return v, true
		}
	}
	return Value{}, false
}

// WriteText prints the description for a reader: composition, sites, oxidation states,
// the Shannon radii used, and the descriptor vector.
func (d *Description) WriteText(w io.Writer) error {
	c, a := d.Composition, d.Assignment
	var b strings.Builder
	fmt.Fprintf(&b, "compound     %s\n", c.Name())
	if c.Canonical != "" {
		fmt.Fprintf(&b, "canonical    %s\n", c.Canonical)
	}
	var parts []string
	for _, x := range c.Components {
		parts = append(parts, x.Symbol+" "+fmtNum(x.Amount))
	}
	fmt.Fprintf(&b, "composition  %s  (%s atoms per formula unit)\n", strings.Join(parts, ", "), fmtNum(c.Total()))
	if c.OxygenDeficient {
		if a.Delta != 0 {
			fmt.Fprintf(&b, "oxygen       deficient (O%s-δ); δ = %s from charge balance\n", fmtNum(a.SiteTotal(SiteO)), fmtNum(a.Delta))
		} else {
			fmt.Fprintf(&b, "oxygen       deficient (O%s-δ); balanced at the nominal amount\n", fmtNum(a.SiteTotal(SiteO)))
		}
	}
	fmt.Fprintf(&b, "sites        A %s, M %s, O %s (ideal A2M3O12: 2, 3, 12)\n",
		fmtNum(a.SiteTotal(SiteA)), fmtNum(a.SiteTotal(SiteM)), fmtNum(a.SiteTotal(SiteO)))
	fmt.Fprintf(&b, "charge       cations %s+, anions %s−\n\n", fmtNum(a.CationCharge()), fmtNum(2*(a.SiteTotal(SiteO)-a.Delta)))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ion\tamount\tsite\tcoord\tionic radius (Å)\tstate")
	for _, r := range d.Radii {
		x := r.Ion
		radius := "missing"
		coord := "-"
		if r.OK {
			radius = fmtNum(r.Entry.IonicRadius)
			coord = r.Entry.Coordination
			if r.Entry.Spin != elements.SpinAny {
				coord += " " + string(r.Entry.Spin)
			}
		}
		state := "anion"
		switch {
		case x.Fixed:
			state = "given in the study"
		case x.Site == SiteO:
		case x.Rank == 0:
			state = "usual"
		default:
			state = "choice " + strconv.Itoa(x.Rank+1) + " of the common states"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.Name(), fmtNum(x.Amount), x.Site, coord, radius, state)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "descriptor\tvalue")
	for _, v := range d.Values {
		if v.Missing {
			var why []string
			for _, m := range v.Why {
				why = append(why, m.Reason)
			}
			if len(why) == 0 {
				why = append(why, "the scope is empty")
			}
			fmt.Fprintf(tw, "%s\tmissing: %s\n", v.Name, strings.Join(slices.Compact(why), "; "))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\n", v.Name, strconv.FormatFloat(v.V, 'g', 10, 64))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\nScope \"all\" is every cation (A and M sites); O is left out (constant O12 anion, no work function).\n")
	return err
}

func fmtNum(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e9)/1e9, 'f', -1, 64)
}
