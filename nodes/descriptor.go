package nodes

import (
	"fmt"
	"math"
	"strings"

	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/lang/formula"
	"github.com/ntedsl/ntedsl/stdlib/elements"
	"github.com/ntedsl/ntedsl/stdlib/materials"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

type descriptorConfig struct {
	Data             lang.Ref             `attr:"data,required" accepts:"table" doc:"A table with a formula column (set formula = \"COLUMN\" in its dataset block)."`
	Formula          string               `attr:"formula" doc:"The formula column; default the table's formula column."`
	Sites            string               `attr:"sites" enum:"A2M3O12" doc:"The structure whose sites are described: A2M3O12 (M = tetrahedral W, Mo, V, P, S; A = the other cations; O = the anion)."`
	MSite            []string             `attr:"m_site" doc:"Elements on the tetrahedral M site; default W, Mo, V, P, S. List all of them when adding one (e.g. Cr)."`
	OxidationStates  map[string]float64   `attr:"oxidation_states" doc:"Fixed oxidation states by element, e.g. { Fe = 2 }; the others are chosen by charge balance (cations = 24+ for O12), usual states first."`
	OxygenDeficiency bool                 `attr:"oxygen_deficiency" doc:"Let formulas written O12-d balance with an inferred oxygen deficiency 0 ≤ δ ≤ 1."`
	Properties       []string             `attr:"properties" doc:"Element properties: shannon_radius (at the site's coordination: A VI, M IV, O II), shannon_crystal_radius, pauling_en, work_function, zeff_clementi, zeff_slater, zeff (both), oxidation_state, or any numeric column of elements.csv."`
	Stats            []string             `attr:"stats" doc:"Statistics per scope and property: mean and std (weighted by amount; std with population weights), range (max − min), min, max."`
	Scopes           []string             `attr:"scopes" doc:"A, M, O (the sites), all (every cation) and compound (every element, O included)."`
	Fractions        bool                 `attr:"fractions" doc:"Add atomic fractions frac_<El> of every element of the table (O included)."`
	Missing          string               `attr:"missing" enum:"error,drop_row,drop_column" doc:"A property value missing from the element tables: error names compound, element and property; drop_row / drop_column drop the affected compounds or columns and report them."`
	Keep             []string             `attr:"keep" doc:"Columns of data passed through unchanged (e.g. synthesis_T_C). The target column is always kept."`
	Derive           map[string]lang.Expr `attr:"derive" doc:"Extra numeric columns, name = expr-lang expression over the descriptor columns, e.g. \"A_shannon_radius_mean / M_shannon_radius_mean\"."`
}

func registerDescriptor(r *Registry) {
	def := materials.DefaultDescriptorOptions()
	Register(r, Def[descriptorConfig]{
		Name: "descriptor",
		Doc: "Composition descriptors of A2M3O12 compounds from their formulas: per site (A, M) and compound, the " +
			"amount-weighted mean, range and standard deviation of Shannon radii, Pauling electronegativity, work function, " +
			"effective nuclear charge and any element property; atomic fractions; derived columns. Oxidation states come from " +
			"charge balance. The result keeps the row ids, the formula and the target of the input.",
		Version: 1,
		Output:  "table",
		// The element tables are data: key on their content, not only on the version.
		Sources: func(*descriptorConfig, string) map[string]string { return elements.Digests() },
		Defaults: descriptorConfig{
			Sites: "A2M3O12", Properties: def.Properties, Stats: def.Stats, Scopes: def.Scopes,
			Fractions: true, Missing: materials.MissingError,
		},
		Run: runDescriptor,
	})
}

func (c *descriptorConfig) options() (materials.DescriptorOptions, error) {
	opt := materials.DescriptorOptions{
		Assign:     materials.AssignOptions{MSite: c.MSite, AllowOxygenDeficiency: c.OxygenDeficiency},
		Properties: c.Properties, Stats: c.Stats, Scopes: c.Scopes, Fractions: c.Fractions, Missing: c.Missing,
	}
	if len(c.OxidationStates) > 0 {
		opt.Assign.States = map[string]int{}
		for el, q := range c.OxidationStates {
			if q != math.Trunc(q) {
				return opt, &lang.AttrError{Attr: "oxidation_states", Summary: fmt.Sprintf("%s = %v is not a whole number", el, q)}
			}
			opt.Assign.States[el] = int(q)
		}
	}
	return opt, nil
}

// Validate checks the options when the study is loaded, so `ntedsl validate` reports a
// misspelt property or stat instead of the run.
func (c *descriptorConfig) Validate() error {
	opt, err := c.options()
	if err != nil {
		return err
	}
	if err := opt.Check(); err != nil {
		var oe *materials.OptionError
		if asErr(err, &oe) {
			summary, _, _ := strings.Cut(oe.Msg, ";")
			summary, _, _ = strings.Cut(summary, " (")
			return &lang.AttrError{Attr: optionAttr(oe.Msg), Summary: summary, Detail: oe.Msg}
		}
		return err
	}
	return nil
}

func runDescriptor(c *Context, cfg *descriptorConfig) (Value, error) {
	in, err := c.Table(cfg.Data)
	if err != nil {
		return nil, err
	}
	fcol := cfg.Formula
	if fcol == "" {
		fcol = in.Formula
	}
	if fcol == "" {
		return nil, c.AttrError("formula", "No formula column", fmt.Sprintf("%s has no formula column: set formula = \"COLUMN\" here or in its dataset block.", cfg.Data.Addr))
	}
	col := in.Col(fcol)
	if col == nil || col.IsNum() {
		return nil, c.AttrError("formula", "No formula column", didYouMean(fmt.Sprintf("%s has no text column %q.", cfg.Data.Addr, fcol), fcol, in.Names()))
	}
	opt, err := cfg.options()
	if err != nil {
		return nil, err
	}
	comps := make([]materials.Composition, in.NumRows())
	var errs []string
	for i, f := range col.Str {
		comp, err := formula.ParseComposition(f, fmt.Sprintf("%s row %q", cfg.Data.Addr, in.IDs[i]))
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		comps[i] = comp
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d formula(s) could not be read:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	dt, err := materials.DescribeTable(comps, opt)
	if err != nil {
		var oe *materials.OptionError
		if asErr(err, &oe) {
			return nil, c.AttrError(optionAttr(oe.Msg), "Invalid descriptor option", oe.Msg)
		}
		var ae *materials.AssignError
		if asErr(err, &ae) {
			return nil, fmt.Errorf("%w\n(fix: set oxidation_states = { El = charge } or oxygen_deficiency = true in %s, or filter the row out)", err, c.Addr)
		}
		return nil, err
	}
	if !dt.Dropped.Empty() {
		c.Warn(strings.TrimSpace(dt.Dropped.String()))
	}
	kept := in.Select(dt.Kept)
	out := &table.Table{IDs: kept.IDs, Formula: fcol, Cols: []*table.Column{kept.Col(fcol)}}
	for j, name := range dt.Columns {
		vals := make([]float64, len(dt.Rows))
		for i := range dt.Rows {
			vals[i] = dt.Rows[i][j]
		}
		out.Cols = append(out.Cols, &table.Column{Name: name, Num: vals})
	}
	for _, k := range cfg.Keep {
		kc := kept.Col(k)
		if kc == nil {
			return nil, c.AttrError("keep", "Unknown column "+k, didYouMean(fmt.Sprintf("%s has no column %q.", cfg.Data.Addr, k), k, in.Names()))
		}
		if out.Col(k) != nil {
			return nil, c.AttrError("keep", "Duplicate column "+k, fmt.Sprintf("%q is already a descriptor column.", k))
		}
		out.Cols = append(out.Cols, kc)
	}
	if in.Target != "" && out.Col(in.Target) == nil {
		out.Cols = append(out.Cols, kept.Col(in.Target))
		out.Target = in.Target
	}
	if out, err = deriveColumns(out, cfg.Derive); err != nil {
		return nil, err
	}
	return out, out.Validate()
}

// optionAttr maps a descriptor option error to the attribute it is about.
func optionAttr(msg string) string {
	for _, a := range []string{"propert", "stat", "scope", "coordination", "missing"} {
		if strings.Contains(strings.ToLower(msg), a) {
			switch a {
			case "propert":
				return "properties"
			case "stat":
				return "stats"
			case "scope":
				return "scopes"
			}
			return a
		}
	}
	return ""
}
