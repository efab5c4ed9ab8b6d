package diffusion

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// reference is testdata/reference.json, made by testdata/gen_reference.py (numpy).
type reference struct {
	PowerAlphaBarLast []struct {
		T            int     `json:"T"`
		BetaStart    float64 `json:"beta_start"`
		BetaEnd      float64 `json:"beta_end"`
		P            float64 `json:"p"`
		AlphaBarLast float64 `json:"alphabar_last"`
	} `json:"power_alphabar_last"`
	Quad      betaAbar `json:"quad_1e-4_0.5_T50"`
	MidCourse []struct {
		T            int     `json:"T"`
		Omega        float64 `json:"omega"`
		SumBeta      float64 `json:"sum_beta"`
		AlphaBarLast float64 `json:"alphabar_last"`
		Peak         float64 `json:"peak"`
	} `json:"midcourse"`
	Cosine50   betaAbar `json:"cosine_T50"`
	Cosine1000 betaAbar `json:"cosine_T1000"`
	FullChain  []struct {
		BetaEnd float64 `json:"beta_end"`
		T       int     `json:"T"`
		M       float64 `json:"m"`
		S2      float64 `json:"s2"`
		Mean    float64 `json:"mean"`
		Var     float64 `json:"var"`
	} `json:"full_chain"`
	Truncated []struct {
		TStar    int     `json:"tstar"`
		AlphaBar float64 `json:"alphabar"`
		Gain     float64 `json:"gain"`
		W        float64 `json:"w"`
		Mean     float64 `json:"mean"`
		Var      float64 `json:"var"`
		ExactVar float64 `json:"exact_var"`
	} `json:"truncated_quad_0.05_T50_m0.7_s2_0.25"`
	BayesLoss float64 `json:"bayes_eps_loss_quad_0.5_T50_s2_0.25"`
	TStar     []struct {
		S2            float64 `json:"s2"`
		Step          int     `json:"step"`
		ArgMax        int     `json:"argmax"`
		ArgMaxLogSNR  int     `json:"argmax_logsnr"`
		Inflection    int     `json:"inflection"`
		Budget        int     `json:"budget"`
		WAtArgMax     float64 `json:"w_at_argmax"`
		WAtArgMaxLSNR float64 `json:"w_at_argmax_logsnr"`
	} `json:"tstar_quad_0.05_T50"`
}

type betaAbar struct {
	Beta     []float64 `json:"beta"`
	AlphaBar []float64 `json:"alphabar"`
}

func loadReference(t *testing.T) *reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// within reports whether got rounds to the published value pub given to dp decimals.
func within(got, pub float64, dp int) bool {
	return math.Abs(got-pub) <= 0.5*math.Pow(10, -float64(dp))*(1+1e-9)
}

func mustPower(t testing.TB, T int, bs, be, p float64) *Schedule {
	t.Helper()
	s, err := Power(T, bs, be, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// naiveAlphaBarPower computes ᾱ_{T−1} of the power schedule the plain way, independently of
// Schedule: β_t from the formula of csdi_icr.md §1.2 and a running product of (1−β_t).
func naiveAlphaBarPower(T int, bs, be, p float64) float64 {
	ab := 1.0
	for t := 0; t < T; t++ {
		v := math.Pow(bs, p) + (math.Pow(be, p)-math.Pow(bs, p))*float64(t)/float64(T-1)
		ab *= 1 - math.Pow(v, 1/p)
	}
	return ab
}

func TestPowerAlphaBar(t *testing.T) {
	ref := loadReference(t)
	// Published ᾱ_{T−1}, T = 50, β_start = 1e-4: csdi_icr.md A2 (3 decimals; quad to 0.05
	// also to 4 decimals, 0.4091, in the §4.2 table).
	published := map[[2]float64]float64{
		{0.05, 0.5}: 0.409, {0.05, 1}: 0.280, {0.05, 0.9}: 0.298,
		{0.01, 0.5}: 0.829, {0.01, 1}: 0.776, {0.01, 0.9}: 0.785,
		{0.005, 0.5}: 0.907, {0.005, 1}: 0.880, {0.005, 0.9}: 0.885,
	}
	if len(ref.PowerAlphaBarLast) != len(published) {
		t.Fatalf("fixture has %d power cases, want %d", len(ref.PowerAlphaBarLast), len(published))
	}
	for _, c := range ref.PowerAlphaBarLast {
		s := mustPower(t, c.T, c.BetaStart, c.BetaEnd, c.P)
		got := s.AlphaBar(c.T - 1)
		if want := naiveAlphaBarPower(c.T, c.BetaStart, c.BetaEnd, c.P); math.Abs(got-want) > 1e-12 {
			t.Errorf("power(%g→%g, p=%g): ᾱ_49 = %.15f, plain product %.15f", c.BetaStart, c.BetaEnd, c.P, got, want)
		}
		if math.Abs(got-c.AlphaBarLast) > 1e-12 {
			t.Errorf("power(%g→%g, p=%g): ᾱ_49 = %.15f, numpy %.15f", c.BetaStart, c.BetaEnd, c.P, got, c.AlphaBarLast)
		}
		if pub := published[[2]float64{c.BetaEnd, c.P}]; !within(got, pub, 3) {
			t.Errorf("power(%g→%g, p=%g): ᾱ_49 = %.5f, published %.3f", c.BetaStart, c.BetaEnd, c.P, got, pub)
		}
	}
	if got := mustPower(t, 50, 1e-4, 0.05, 0.5).AlphaBar(49); !within(got, 0.4091, 4) {
		t.Errorf("quad to 0.05: ᾱ_49 = %.6f, published 0.4091", got)
	}
}

func TestQuadAgainstCSDI(t *testing.T) {
	ref := loadReference(t)
	s := mustPower(t, 50, 1e-4, 0.5, 0.5)
	for i := range ref.Quad.Beta {
		if d := math.Abs(s.Beta(i) - ref.Quad.Beta[i]); d > 1e-15 {
			t.Errorf("β_%d = %.17g, CSDI linspace**2 %.17g", i, s.Beta(i), ref.Quad.Beta[i])
		}
		// cumprod vs log-sum: agree to rounding.
		if d := math.Abs(s.AlphaBar(i) - ref.Quad.AlphaBar[i]); d > 1e-14 {
			t.Errorf("ᾱ_%d = %.17g, numpy cumprod %.17g", i, s.AlphaBar(i), ref.Quad.AlphaBar[i])
		}
	}
}

func TestScheduleIdentities(t *testing.T) {
	s := mustPower(t, 50, 1e-4, 0.5, 0.5)
	prod := 1.0
	for i := 0; i < s.T(); i++ {
		b := s.Beta(i)
		prod *= 1 - b
		ab := s.AlphaBar(i)
		checks := []struct {
			name      string
			got, want float64
		}{
			{"α", s.Alpha(i), 1 - b},
			{"ᾱ", ab, prod},
			{"1−ᾱ", s.OneMinusAlphaBar(i), 1 - prod},
			{"√ᾱ", s.SqrtAlphaBar(i), math.Sqrt(prod)},
			{"√(1−ᾱ)", s.SqrtOneMinusAlphaBar(i), math.Sqrt(1 - prod)},
			{"λ", s.SNR(i), prod / (1 - prod)},
			{"log λ", s.LogSNR(i), math.Log(prod / (1 - prod))},
		}
		for _, c := range checks {
			if math.Abs(c.got-c.want) > 1e-12*math.Max(1, math.Abs(c.want)) {
				t.Errorf("t=%d %s = %.17g, want %.17g", i, c.name, c.got, c.want)
			}
		}
		var pv float64 // β̃_0 = 0 by convention
		if i > 0 {
			pv = b * (1 - s.AlphaBar(i-1)) / (1 - ab)
		}
		if math.Abs(s.PosteriorVariance(i)-pv) > 1e-12 || math.Abs(s.Sigma(i)-math.Sqrt(pv)) > 1e-12 {
			t.Errorf("t=%d β̃ = %g σ = %g, want %g, %g", i, s.PosteriorVariance(i), s.Sigma(i), pv, math.Sqrt(pv))
		}
	}
	// 1−ᾱ_0 must be β_0 to full relative precision (no cancellation): the naive 1−(1−β_0)
	// loses 4 digits at β_0 = 1e-4.
	if r := s.OneMinusAlphaBar(0)/1e-4 - 1; math.Abs(r) > 1e-15 {
		t.Errorf("1−ᾱ_0 = %.17g, want β_0 = 1e-4 (relative error %g)", s.OneMinusAlphaBar(0), r)
	}
	// Round trip through Betas.
	s2, err := New(s.Betas(nil))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < s.T(); i++ {
		if s2.AlphaBar(i) != s.AlphaBar(i) {
			t.Fatalf("New(Betas()) differs at t=%d", i)
		}
	}
}

func TestLinearIsPowerOne(t *testing.T) {
	s := mustPower(t, 50, 1e-4, 0.05, 1)
	for i := 0; i < 50; i++ {
		want := 1e-4 + (0.05-1e-4)*float64(i)/49 // csdi_icr.md §1.2 "linear"
		if math.Abs(s.Beta(i)-want) > 1e-15 {
			t.Errorf("β_%d = %.17g, linear %.17g", i, s.Beta(i), want)
		}
	}
}

func TestMidCourse(t *testing.T) {
	ref := loadReference(t)
	// Published (csdi_icr.md A4): ω = 0.005: Σβ = 0.098, ᾱ_49 = 0.906, peak 0.0025; ω = 0.1: ᾱ_49 = 0.134.
	pub := map[float64][3]float64{0.005: {0.098, 0.906, 0.0025}, 0.1: {math.NaN(), 0.134, math.NaN()}}
	for _, c := range ref.MidCourse {
		s, err := MidCourse(c.T, c.Omega)
		if err != nil {
			t.Fatal(err)
		}
		var sum, peak, prod float64 = 0, 0, 1
		for i := 0; i < c.T; i++ {
			u := (float64(i) + 0.5) / float64(c.T)
			if want := c.Omega * math.Sqrt(u*(1-u)); math.Abs(s.Beta(i)-want) > 1e-14*want { // u−u² vs u(1−u): rounding only
				t.Errorf("ω=%g β_%d = %g, want %g", c.Omega, i, s.Beta(i), want)
			}
			sum += s.Beta(i)
			peak = math.Max(peak, s.Beta(i))
			prod *= 1 - s.Beta(i)
		}
		last := s.AlphaBar(c.T - 1)
		if math.Abs(sum-c.SumBeta) > 1e-13 || math.Abs(last-c.AlphaBarLast) > 1e-12 || math.Abs(peak-c.Peak) > 1e-15 || math.Abs(last-prod) > 1e-12 {
			t.Errorf("ω=%g: Σβ %.15g ᾱ_49 %.15g peak %.15g; numpy %.15g %.15g %.15g", c.Omega, sum, last, peak, c.SumBeta, c.AlphaBarLast, c.Peak)
		}
		p := pub[c.Omega]
		if !math.IsNaN(p[0]) && (!within(sum, p[0], 3) || !within(peak, p[2], 4)) {
			t.Errorf("ω=%g: Σβ %.5f peak %.5f, published %g, %g", c.Omega, sum, peak, p[0], p[2])
		}
		if !within(last, p[1], 3) {
			t.Errorf("ω=%g: ᾱ_49 = %.5f, published %g", c.Omega, last, p[1])
		}
	}
}

func TestCosine(t *testing.T) {
	ref := loadReference(t)
	for _, c := range []struct {
		T   int
		ref betaAbar
	}{{50, ref.Cosine50}, {1000, ref.Cosine1000}} {
		s, err := Cosine(c.T)
		if err != nil {
			t.Fatal(err)
		}
		f := func(tau float64) float64 {
			v := math.Cos((tau + 0.008) / 1.008 * math.Pi / 2)
			return v * v
		}
		for i := 0; i < c.T; i++ {
			if math.Abs(s.Beta(i)-c.ref.Beta[i]) > 1e-14 || math.Abs(s.AlphaBar(i)-c.ref.AlphaBar[i]) > 1e-12 {
				t.Errorf("T=%d t=%d: β %.17g ᾱ %.17g; improved-diffusion %.17g %.17g", c.T, i, s.Beta(i), s.AlphaBar(i), c.ref.Beta[i], c.ref.AlphaBar[i])
			}
			// Closed form of the index convention: ᾱ_t = f((t+1)/T)/f(0) while unclipped.
			if i < c.T-1 {
				if want := f(float64(i+1)/float64(c.T)) / f(0); math.Abs(s.AlphaBar(i)-want) > 1e-12 {
					t.Errorf("T=%d t=%d: ᾱ %.17g, f((t+1)/T)/f(0) = %.17g", c.T, i, s.AlphaBar(i), want)
				}
			}
		}
		if s.Beta(c.T-1) != CosineMaxBeta {
			t.Errorf("T=%d: last β = %g, want the clip %g", c.T, s.Beta(c.T-1), CosineMaxBeta)
		}
	}
}

func TestSingleStep(t *testing.T) {
	// T = 1 edges: power gives β_0 = β_start (numpy linspace(a, b, 1) = [a]); mid-course u = 1/2.
	p := mustPower(t, 1, 1e-4, 0.05, 0.5)
	if p.T() != 1 || p.Beta(0) != 1e-4 || p.AlphaBar(0) != 1-1e-4 || p.PosteriorVariance(0) != 0 {
		t.Errorf("power T=1: β_0 = %g ᾱ_0 = %g β̃_0 = %g", p.Beta(0), p.AlphaBar(0), p.PosteriorVariance(0))
	}
	m, err := MidCourse(1, 0.1)
	if err != nil || m.Beta(0) != 0.05 {
		t.Errorf("mid-course T=1: β_0 = %g (err %v), want ω/2 = 0.05", m.Beta(0), err)
	}
	c, err := Cosine(1)
	if err != nil || c.Beta(0) != CosineMaxBeta {
		t.Errorf("cosine T=1: β_0 = %g (err %v), want the clip", c.Beta(0), err)
	}
	// Power T = 2 hits both endpoints exactly.
	p2 := mustPower(t, 2, 1e-4, 0.05, 0.9)
	if p2.Beta(0) != 1e-4 || p2.Beta(1) != 0.05 {
		t.Errorf("power T=2: β = %g, %g", p2.Beta(0), p2.Beta(1))
	}
}

func TestInvalidSchedules(t *testing.T) {
	stepErr := func(step int, constraint string) func(error) bool {
		return func(err error) bool {
			var se *StepError
			return errors.As(err, &se) && se.Step == step && se.Constraint == constraint
		}
	}
	paramErr := func(param string) func(error) bool {
		return func(err error) bool {
			var pe *ParamError
			return errors.As(err, &pe) && pe.Param == param
		}
	}
	cases := []struct {
		name string
		make func() (*Schedule, error)
		ok   func(error) bool
	}{
		{"empty", func() (*Schedule, error) { return New(nil) }, paramErr("steps")},
		{"zero β", func() (*Schedule, error) { return New([]float64{0.1, 0, 0.2}) }, stepErr(1, "β_t > 0")},
		{"negative β", func() (*Schedule, error) { return New([]float64{-0.1}) }, stepErr(0, "β_t > 0")},
		{"β = 1", func() (*Schedule, error) { return New([]float64{0.1, 0.2, 1}) }, stepErr(2, "β_t < 1")},
		{"NaN β", func() (*Schedule, error) { return New([]float64{0.1, math.NaN()}) }, stepErr(1, "β_t finite")},
		{"Inf β", func() (*Schedule, error) { return New([]float64{math.Inf(1)}) }, stepErr(0, "β_t finite")},
		{"steps 0", func() (*Schedule, error) { return Power(0, 1e-4, 0.05, 0.5) }, paramErr("steps")},
		{"power 0", func() (*Schedule, error) { return Power(50, 1e-4, 0.05, 0) }, paramErr("power")},
		{"power NaN", func() (*Schedule, error) { return Power(50, 1e-4, 0.05, math.NaN()) }, paramErr("power")},
		{"beta_start 0", func() (*Schedule, error) { return Power(50, 0, 0.05, 0.5) }, paramErr("beta_start")},
		{"beta_end 1", func() (*Schedule, error) { return Power(50, 1e-4, 1, 0.5) }, paramErr("beta_end")},
		{"omega 0", func() (*Schedule, error) { return MidCourse(50, 0) }, paramErr("omega")},
		{"omega 2", func() (*Schedule, error) { return MidCourse(50, 2) }, paramErr("omega")},
		{"cosine steps", func() (*Schedule, error) { return Cosine(-3) }, paramErr("steps")},
		{"func steps", func() (*Schedule, error) { return FromFunc(0, func(int) float64 { return 0.1 }) }, paramErr("steps")},
		// A user formula 0.5·u·4 reaches β ≥ 1 at u ≥ 1/2: t = 25 of 50 (u = 0.51).
		{"func β ≥ 1", func() (*Schedule, error) {
			return FromFunc(50, func(t int) float64 { return 2 * MidU(t, 50) })
		}, stepErr(25, "β_t < 1")},
	}
	for _, c := range cases {
		s, err := c.make()
		if s != nil || err == nil || !c.ok(err) {
			t.Errorf("%s: got (%v, %v), want the documented error", c.name, s, err)
			continue
		}
		t.Logf("%s: %v", c.name, err)
	}
}

func TestFromFuncMatchesMidCourse(t *testing.T) {
	a, err := FromFunc(50, func(t int) float64 { u := MidU(t, 50); return 0.005 * math.Sqrt(u-u*u) })
	if err != nil {
		t.Fatal(err)
	}
	b, _ := MidCourse(50, 0.005)
	for i := 0; i < 50; i++ {
		if a.AlphaBar(i) != b.AlphaBar(i) {
			t.Fatalf("t=%d: FromFunc ᾱ %g, MidCourse ᾱ %g", i, a.AlphaBar(i), b.AlphaBar(i))
		}
	}
}
