package nodes

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/hashicorp/hcl/v2"
	"github.com/ntedsl/ntedsl/lang"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
	"github.com/ntedsl/ntedsl/stdlib/plot"
	"github.com/ntedsl/ntedsl/stdlib/table"
)

// ScheduleConfig declares a diffusion noise schedule. It is exported so the command line
// can build the same schedules (`ntedsl schedule`).
type ScheduleConfig struct {
	Kind      string    `attr:"kind" enum:"power,cosine,midcourse,expr" doc:"power: β_t = (β_s^p + (β_e^p − β_s^p)·t/(T−1))^(1/p) (p = 0.5 is CSDI's quad, 1 linear, 0.9 the preprint's); cosine: Nichol & Dhariwal (s = 0.008, β ≤ 0.999); midcourse: β_t = ω·√(u − u²), u = (t + 0.5)/T; expr: β_t given by an expr-lang formula."`
	Steps     int       `attr:"steps" doc:"Number of diffusion steps T (t = 0..T−1, as in CSDI)."`
	Power     float64   `attr:"power" doc:"Exponent p of the power schedule."`
	BetaStart float64   `attr:"beta_start" doc:"β_0 of the power schedule."`
	BetaEnd   float64   `attr:"beta_end" doc:"β_{T−1} of the power schedule."`
	Omega     float64   `attr:"omega" doc:"Scale ω of the mid-course schedule (its peak is ω/2)."`
	Beta      lang.Expr `attr:"beta" doc:"expr-lang formula for β_t of the expr schedule, in u = (t + 0.5)/T, t and T, e.g. \"0.005 * sqrt(u - u*u)\"."`
}

func (c *ScheduleConfig) Validate() error {
	_, err := c.Build()
	return err
}

// Build makes the schedule. Errors point at the attribute that causes them.
func (c *ScheduleConfig) Build() (*diffusion.Schedule, error) {
	var s *diffusion.Schedule
	var err error
	switch c.Kind {
	case "power":
		s, err = diffusion.Power(c.Steps, c.BetaStart, c.BetaEnd, c.Power)
	case "cosine":
		s, err = diffusion.Cosine(c.Steps)
	case "midcourse":
		s, err = diffusion.MidCourse(c.Steps, c.Omega)
	case "expr":
		if c.Beta.IsZero() {
			return nil, &lang.AttrError{Attr: "beta", Summary: "no formula", Detail: "An expr schedule needs beta = \"formula in u, t, T\"."}
		}
		env := map[string]any{"u": 0.0, "t": 0.0, "T": 0.0}
		prog, diags := lang.CompileExpr(c.Beta, env, lang.ExprFloat, "noise schedule formula")
		if diags.HasErrors() {
			return nil, diags
		}
		var runErr error
		s, err = diffusion.FromFunc(c.Steps, func(t int) float64 {
			env["u"], env["t"], env["T"] = diffusion.MidU(t, c.Steps), float64(t), float64(c.Steps)
			v, e := expr.Run(prog, env)
			if e != nil {
				runErr = e
				return math.NaN()
			}
			return v.(float64)
		})
		if runErr != nil {
			return nil, hcl.Diagnostics{lang.ExprDiag(c.Beta, runErr, "Noise schedule formula failed")}
		}
	}
	if err == nil {
		return s, nil
	}
	var pe *diffusion.ParamError
	if errors.As(err, &pe) {
		return nil, &lang.AttrError{Attr: pe.Param, Summary: fmt.Sprintf("%s = %g must satisfy %s", pe.Param, pe.Value, pe.Constraint)}
	}
	var se *diffusion.StepError
	if errors.As(err, &se) {
		attr := map[string]string{"power": "beta_end", "midcourse": "omega", "expr": "beta", "cosine": "steps"}[c.Kind]
		return nil, &lang.AttrError{Attr: attr, Summary: fmt.Sprintf("β at step %d is %g", se.Step, se.Beta),
			Detail: fmt.Sprintf("Every β_t must satisfy 0 < β_t < 1; at step t = %d (of T = %d) β_t = %g violates %s.", se.Step, se.Steps, se.Beta, se.Constraint)}
	}
	return nil, err
}

// ScheduleValue is the value of a noise_schedule node.
type ScheduleValue struct {
	*diffusion.Schedule
}

// TypeName implements Value.
func (s *ScheduleValue) TypeName() string { return "schedule" }

// MarshalBinary stores β_t bit for bit; everything else derives from it.
func (s *ScheduleValue) MarshalBinary() ([]byte, error) {
	b := []byte("ntedsl-schedule/1\n")
	for _, x := range s.Betas(nil) {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b, nil
}

func decodeSchedule(data []byte) (Value, error) {
	rest, ok := bytes.CutPrefix(data, []byte("ntedsl-schedule/1\n"))
	if !ok || len(rest)%8 != 0 {
		return nil, errors.New("not a schedule")
	}
	beta := make([]float64, len(rest)/8)
	for i := range beta {
		beta[i] = math.Float64frombits(binary.LittleEndian.Uint64(rest[8*i:]))
	}
	s, err := diffusion.New(beta)
	if err != nil {
		return nil, err
	}
	return &ScheduleValue{s}, nil
}

// Table lists t, u, β_t, α_t, ᾱ_t, SNR λ_t, log λ_t and the sampler's β̃_t.
func (s *ScheduleValue) Table() *table.Table {
	T := s.T()
	cols := map[string][]float64{}
	names := []string{"t", "u", "beta", "alpha", "alpha_bar", "snr", "log_snr", "posterior_variance"}
	ids := make([]string, T)
	for t := 0; t < T; t++ {
		ids[t] = strconv.Itoa(t)
		for _, n := range names {
			var v float64
			switch n {
			case "t":
				v = float64(t)
			case "u":
				v = diffusion.MidU(t, T)
			case "beta":
				v = s.Beta(t)
			case "alpha":
				v = s.Alpha(t)
			case "alpha_bar":
				v = s.AlphaBar(t)
			case "snr":
				v = s.SNR(t)
			case "log_snr":
				v = s.LogSNR(t)
			case "posterior_variance":
				v = s.PosteriorVariance(t)
			}
			cols[n] = append(cols[n], v)
		}
	}
	tb := &table.Table{IDs: ids}
	for _, n := range names {
		tb.Cols = append(tb.Cols, &table.Column{Name: n, Num: cols[n]})
	}
	return tb
}

// Artifacts writes the schedule as CSV and a figure of ᾱ_t and β_t.
func (s *ScheduleValue) Artifacts() (map[string][]byte, error) {
	tb := s.Table()
	t, ab, beta := tb.Col("t").Num, tb.Col("alpha_bar").Num, tb.Col("beta").Num
	c := &plot.Chart{Title: "noise schedule", XLabel: "diffusion step t", YLabel: "ᾱ_t and β_t (log scale)", LogY: true,
		Series: []plot.Series{{Name: "ᾱ_t", X: t, Y: ab}, {Name: "β_t", X: t, Y: beta, Dash: true}}}
	return map[string][]byte{".csv": tb.CSV(), ".svg": c.SVG()}, nil
}

// Summary is a one-line description.
func (s *ScheduleValue) Summary() string {
	T := s.T()
	return fmt.Sprintf("T = %d, β_0 = %.4g, β_{T−1} = %.4g, ᾱ_{T−1} = %.4f", T, s.Beta(0), s.Beta(T-1), s.AlphaBar(T-1))
}

// DefaultSchedule is the configuration of a noise_schedule block with no attributes:
// CSDI's quad schedule.
var DefaultSchedule = ScheduleConfig{Kind: "power", Steps: 50, Power: 0.5, BetaStart: 1e-4, BetaEnd: 0.5, Omega: 0.005}

func registerSchedule(r *Registry) {
	r.RegisterValue("schedule", decodeSchedule)
	Register(r, Def[ScheduleConfig]{
		Name: "noise_schedule",
		Doc: "A diffusion noise schedule β_t, t = 0..T−1, with α_t = 1 − β_t, ᾱ_t = Π α_s and the SNR ᾱ_t/(1 − ᾱ_t). " +
			"Every β_t must lie in (0, 1); a violation is reported at the attribute that causes it.",
		Version:  1,
		Output:   "schedule",
		Defaults: DefaultSchedule,
		Run: func(c *Context, cfg *ScheduleConfig) (Value, error) {
			s, err := cfg.Build()
			if err != nil {
				return nil, err
			}
			return &ScheduleValue{s}, nil
		},
	})
}
