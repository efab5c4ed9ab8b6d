package daggm

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/ntedsl/ntedsl/stdlib/plot"
	"github.com/ntedsl/ntedsl/stdlib/table"
	"gonum.org/v1/gonum/stat"
)

// EnergyChange returns E_after − E_before per compound (two models, each on its own
// table), or nil without an after table.
func (r *Result) EnergyChange() []float64 {
	if r.After == nil {
		return nil
	}
	out := make([]float64, len(r.IDs))
	for i := range out {
		out[i] = r.After.Energy[i] - r.Before.Energy[i]
	}
	return out
}

// SameModelChange returns the before model's energy of the after row minus that of the
// before row, per compound (nil without an after table).
func (r *Result) SameModelChange() []float64 {
	if r.After == nil {
		return nil
	}
	out := make([]float64, len(r.IDs))
	for i := range out {
		out[i] = r.CrossEnergy[i] - r.Before.Energy[i]
	}
	return out
}

func num(name string, v []float64) *table.Column { return &table.Column{Name: name, Num: v} }

// Compounds is the per-compound table: energies, reconstruction errors and memberships.
func (r *Result) Compounds() *table.Table {
	t := &table.Table{IDs: r.IDs}
	add := func(suffix string, s *Side) {
		t.Cols = append(t.Cols, num("energy"+suffix, s.Energy), num("sq_err"+suffix, s.SqErr),
			num("rel_dist"+suffix, s.RelDist), num("cosine"+suffix, s.Cosine))
	}
	add("_before", r.Before)
	if r.After != nil {
		add("_after", r.After)
		t.Cols = append(t.Cols, num("energy_change", r.EnergyChange()),
			num("energy_after_under_before", r.CrossEnergy), num("energy_change_same_model", r.SameModelChange()),
			num("sq_err_after_under_before", r.CrossSqErr))
	}
	for _, p := range r.sides() {
		for k := 0; k < r.K; k++ {
			g := make([]float64, len(r.IDs))
			for i := range g {
				g[i] = p.side.Gamma[i*r.K+k]
			}
			t.Cols = append(t.Cols, num(fmt.Sprintf("gamma%d_%s", k+1, p.label), g))
		}
		for j := 0; j < r.D-2; j++ { // the last two are rel_dist and cosine, already listed
			z := make([]float64, len(r.IDs))
			for i := range z {
				z[i] = p.side.Z[i*r.D+j]
			}
			t.Cols = append(t.Cols, num(fmt.Sprintf("%s_%s", r.zName(j), p.label), z))
		}
	}
	return t
}

// zName labels latent coordinate j: z1…z_latent, then the two reconstruction features.
func (r *Result) zName(j int) string {
	switch j {
	case r.D - 2:
		return "z_rel_dist"
	case r.D - 1:
		return "z_cosine"
	}
	return "z" + strconv.Itoa(j+1)
}

type labelled struct {
	label string
	side  *Side
}

func (r *Result) sides() []labelled {
	out := []labelled{{"before", r.Before}}
	if r.After != nil {
		out = append(out, labelled{"after", r.After})
	}
	return out
}

// Bins is the histogram table: one row per quantity and bin.
func (r *Result) Bins() *table.Table {
	t := &table.Table{}
	var qty []string
	var lo, hi, cb, ca, cx []float64
	add := func(name string, e []float64, before, after, cross []int) {
		for i := 0; i+1 < len(e); i++ {
			t.IDs = append(t.IDs, fmt.Sprintf("%s/%d", name, i))
			qty = append(qty, name)
			lo, hi = append(lo, e[i]), append(hi, e[i+1])
			cb = append(cb, float64(before[i]))
			ca = append(ca, countOrNaN(after, i))
			cx = append(cx, countOrNaN(cross, i))
		}
	}
	var ae, as, ar []int
	if r.After != nil {
		ae, as, ar = r.After.EnergyCounts, r.After.SqErrCounts, r.After.RelDistCounts
	}
	add("energy", r.EnergyEdges, r.Before.EnergyCounts, ae, r.CrossEnergyCounts)
	add("sq_err", r.SqErrEdges, r.Before.SqErrCounts, as, nil)
	add("rel_dist", r.RelDistEdges, r.Before.RelDistCounts, ar, nil)
	t.Cols = []*table.Column{{Name: "quantity", Str: qty}, num("lo", lo), num("hi", hi), num("count_before", cb)}
	if r.After != nil {
		t.Cols = append(t.Cols, num("count_after", ca), num("count_after_under_before", cx))
	}
	return t
}

func countOrNaN(c []int, i int) float64 {
	if c == nil {
		return math.NaN()
	}
	return float64(c[i])
}

// Mixture is the table of the scoring mixtures: one row per model and component with φ,
// μ and the covariance entries.
func (r *Result) Mixture() *table.Table {
	t := &table.Table{}
	var model []string
	cols := map[string][]float64{}
	var names []string
	put := func(name string, v float64) {
		if _, ok := cols[name]; !ok {
			names = append(names, name)
		}
		cols[name] = append(cols[name], v)
	}
	for _, p := range r.sides() {
		for k := 0; k < r.K; k++ {
			t.IDs = append(t.IDs, fmt.Sprintf("%s/%d", p.label, k+1))
			model = append(model, p.label)
			put("component", float64(k+1))
			put("phi", p.side.Phi[k])
			for j := 0; j < r.D; j++ {
				put("mu_"+r.zName(j), p.side.Mu[k*r.D+j])
			}
			for a := 0; a < r.D; a++ {
				for b := 0; b < r.D; b++ {
					put(fmt.Sprintf("sigma_%d_%d", a+1, b+1), p.side.Sigma[k*r.D*r.D+a*r.D+b])
				}
			}
		}
	}
	t.Cols = []*table.Column{{Name: "model", Str: model}}
	for _, n := range names {
		t.Cols = append(t.Cols, num(n, cols[n]))
	}
	return t
}

// stepSeries draws a histogram as a closed step outline.
func stepSeries(name string, e []float64, c []int, dash bool) plot.Series {
	s := plot.Series{Name: name, Dash: dash}
	s.X = append(s.X, e[0])
	s.Y = append(s.Y, 0)
	for i, v := range c {
		s.X = append(s.X, e[i], e[i+1])
		s.Y = append(s.Y, float64(v), float64(v))
	}
	s.X = append(s.X, e[len(e)-1])
	s.Y = append(s.Y, 0)
	return s
}

// Artifacts writes the per-compound table (.csv), the histograms (_bins.csv), the scoring
// mixtures (_gmm.csv), the summary (.txt) and the figures: energy, squared-error and
// relative-distance histograms, per-compound energy before vs after, training curves.
func (r *Result) Artifacts() (map[string][]byte, error) {
	out := map[string][]byte{
		".csv":      r.Compounds().CSV(),
		"_bins.csv": r.Bins().CSV(),
		"_gmm.csv":  r.Mixture().CSV(),
		".txt":      []byte(r.Summary()),
	}
	hist := func(title, xlabel string, e []float64, get func(*Side) []int, cross []int) []byte {
		ch := &plot.Chart{Title: title, XLabel: xlabel, YLabel: "compounds"}
		for _, p := range r.sides() {
			ch.Series = append(ch.Series, stepSeries(p.label+" (own model)", e, get(p.side), false))
		}
		if cross != nil {
			ch.Series = append(ch.Series, stepSeries("after (before model)", e, cross, true))
		}
		return ch.SVG()
	}
	out["_energy.svg"] = hist("DAGMM sample energy E(z)", "energy E(z) (low = typical)", r.EnergyEdges,
		func(s *Side) []int { return s.EnergyCounts }, r.CrossEnergyCounts)
	out["_sq_err.svg"] = hist("DAGMM reconstruction error", "‖x − x'‖² (scaled inputs)", r.SqErrEdges,
		func(s *Side) []int { return s.SqErrCounts }, nil)
	out["_rel_dist.svg"] = hist("DAGMM relative reconstruction error", "‖x − x'‖ / ‖x‖", r.RelDistEdges,
		func(s *Side) []int { return s.RelDistCounts }, nil)
	if r.After != nil {
		ch := &plot.Chart{Title: "per-compound energy, after vs before regularization", XLabel: "E(z) before (before model)",
			YLabel: "E(z) after", Diagonal: true, Series: []plot.Series{
				{Name: "after model", X: r.Before.Energy, Y: r.After.Energy, Points: true},
				{Name: "before model", X: r.Before.Energy, Y: r.CrossEnergy, Points: true},
			}}
		out["_energy_scatter.svg"] = ch.SVG()
	}
	lc := &plot.Chart{Title: "DAGMM training loss J (dropout on)", XLabel: "Adam step", YLabel: "J"}
	for _, p := range r.sides() {
		x := make([]float64, len(p.side.Trace))
		for i := range x {
			x[i] = float64(i + 1)
		}
		lc.Series = append(lc.Series, plot.Series{Name: p.label, X: x, Y: p.side.Trace})
	}
	out["_loss.svg"] = lc.SVG()
	return out, nil
}

func meanSD(x []float64) (float64, float64) {
	m, v := stat.PopMeanVariance(x, nil)
	return m, math.Sqrt(v)
}

func median(x []float64) float64 {
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return stat.Quantile(0.5, stat.LinInterp, s, nil)
}

// Summary gives mean energies and reconstruction errors before and after, how many
// compounds moved up or down in energy, and the largest changes.
func (r *Result) Summary() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "DAGMM novelty analysis: %d compounds, %d columns (%s scaling), K = %d, %d steps per model\n",
		len(r.IDs), len(r.Columns), r.Scaling, r.K, r.Steps)
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	type col struct {
		name                      string
		energy, sq, rel           []float64
		j                         float64
		hasLoss, hasRel, hasSqErr bool
	}
	cs := []col{{name: "before", energy: r.Before.Energy, sq: r.Before.SqErr, rel: r.Before.RelDist, j: r.Before.J, hasLoss: true, hasRel: true, hasSqErr: true}}
	if r.After != nil {
		cs = append(cs, col{name: "after", energy: r.After.Energy, sq: r.After.SqErr, rel: r.After.RelDist, j: r.After.J, hasLoss: true, hasRel: true, hasSqErr: true},
			col{name: "after under before model", energy: r.CrossEnergy, sq: r.CrossSqErr, hasSqErr: true})
	}
	fmt.Fprint(tw, "\t")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t", c.name)
	}
	fmt.Fprintln(tw)
	row := func(label string, f func(c col) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, c := range cs {
			fmt.Fprintf(tw, "%s\t", f(c))
		}
		fmt.Fprintln(tw)
	}
	row("mean energy E(z) ± SD", func(c col) string { m, s := meanSD(c.energy); return fmt.Sprintf("%.3f ± %.3f", m, s) })
	row("median energy", func(c col) string { return fmt.Sprintf("%.3f", median(c.energy)) })
	row("mean ‖x−x'‖²", func(c col) string { m, _ := meanSD(c.sq); return fmt.Sprintf("%.3f", m) })
	row("mean ‖x−x'‖/‖x‖", func(c col) string {
		if !c.hasRel {
			return "—"
		}
		m, _ := meanSD(c.rel)
		return fmt.Sprintf("%.3f", m)
	})
	row("final loss J", func(c col) string {
		if !c.hasLoss {
			return "—"
		}
		return fmt.Sprintf("%.3f", c.j)
	})
	tw.Flush()
	if r.After == nil {
		return b.String()
	}
	updown := func(d []float64) (up, down int) {
		for _, v := range d {
			if v > 0 {
				up++
			} else if v < 0 {
				down++
			}
		}
		return
	}
	dc, ds := r.EnergyChange(), r.SameModelChange()
	u, d := updown(dc)
	us, ds2 := updown(ds)
	fmt.Fprintf(&b, "Energy rose for %d compounds and fell for %d (after model vs before model); under the before model alone it rose for %d and fell for %d.\n", u, d, us, ds2)
	b.WriteString("Energies of two separately trained models have no common origin: compare their distributions; the before-model column compares the tables under one density.\n")
	if r.Top > 0 {
		idx := make([]int, len(r.IDs))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, c int) bool { return math.Abs(dc[idx[a]]) > math.Abs(dc[idx[c]]) })
		fmt.Fprintf(&b, "Largest energy changes:\n")
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "compound\tE before\tE after\tchange\tE after (before model)\tchange (before model)")
		for _, i := range idx[:min(r.Top, len(idx))] {
			fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%+.3f\t%.3f\t%+.3f\n", r.IDs[i], r.Before.Energy[i], r.After.Energy[i], dc[i], r.CrossEnergy[i], ds[i])
		}
		tw.Flush()
	}
	return b.String()
}
