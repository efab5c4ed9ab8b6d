package diffusion

import (
	"fmt"
	"math"
)

// Schedule is an immutable discrete noise schedule of T steps indexed t = 0..T−1 as in
// CSDI's code (csdi_icr.md, notation): β_t is the per-step variance, α_t = 1−β_t and
// ᾱ_t = Π_{s=0..t} α_s, so even t = 0 adds noise β_0 (csdi_icr.md §5.1).
//
// Methods taking a step t panic if t is outside [0, T−1].
type Schedule struct {
	beta         []float64
	logAlphaBar  []float64 // Σ_{s≤t} log1p(−β_s), exact to rounding even when ᾱ_t ≈ 1
	alphaBar     []float64
	oneMinusAbar []float64 // 1−ᾱ_t computed as −expm1(log ᾱ_t): no cancellation at small t
	postVar      []float64 // β̃_t, with β̃_0 = 0
	invSqrtAlpha []float64 // 1/√α_t
	epsCoef      []float64 // β_t/√(1−ᾱ_t)
	sigma        []float64 // √β̃_t
	sqrtAbar     []float64 // √ᾱ_t
	sqrtOneMAbar []float64 // √(1−ᾱ_t)
}

// StepError reports a β_t that violates 0 < β_t < 1 (finite). Step is t, Beta the offending
// value and Constraint the violated condition, so that a node can point the user at the
// attribute that produced it.
type StepError struct {
	Step, Steps int
	Beta        float64
	Constraint  string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("diffusion: noise schedule step t = %d (of T = %d, t = 0..T−1): β_t = %g violates %s",
		e.Step, e.Steps, e.Beta, e.Constraint)
}

// ParamError reports an invalid schedule parameter. Param is named as the noise_schedule
// attribute that carries it: "steps", "power", "beta_start", "beta_end" or "omega".
type ParamError struct {
	Param      string
	Value      float64
	Constraint string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("diffusion: noise schedule parameter %s = %g: must satisfy %s", e.Param, e.Value, e.Constraint)
}

func checkSteps(T int) error {
	if T < 1 {
		return &ParamError{Param: "steps", Value: float64(T), Constraint: "steps ≥ 1"}
	}
	return nil
}

// New returns the schedule with the given per-step variances β_0..β_{T−1} (T = len(beta) ≥ 1).
// beta is copied. It returns a *StepError for the first β_t that is not finite or not in
// (0, 1), and a *ParamError if beta is empty.
func New(beta []float64) (*Schedule, error) {
	T := len(beta)
	if err := checkSteps(T); err != nil {
		return nil, err
	}
	for t, b := range beta {
		switch {
		case math.IsNaN(b) || math.IsInf(b, 0):
			return nil, &StepError{Step: t, Steps: T, Beta: b, Constraint: "β_t finite"}
		case !(b > 0):
			return nil, &StepError{Step: t, Steps: T, Beta: b, Constraint: "β_t > 0"}
		case !(b < 1):
			return nil, &StepError{Step: t, Steps: T, Beta: b, Constraint: "β_t < 1"}
		}
	}
	s := &Schedule{
		beta:         append([]float64(nil), beta...),
		logAlphaBar:  make([]float64, T),
		alphaBar:     make([]float64, T),
		oneMinusAbar: make([]float64, T),
		postVar:      make([]float64, T),
		invSqrtAlpha: make([]float64, T),
		epsCoef:      make([]float64, T),
		sigma:        make([]float64, T),
		sqrtAbar:     make([]float64, T),
		sqrtOneMAbar: make([]float64, T),
	}
	var logAbar float64
	for t, b := range s.beta {
		logAbar += math.Log1p(-b)
		s.logAlphaBar[t] = logAbar
		s.alphaBar[t] = math.Exp(logAbar)
		s.oneMinusAbar[t] = -math.Expm1(logAbar)
		s.sqrtAbar[t] = math.Sqrt(s.alphaBar[t])
		s.sqrtOneMAbar[t] = math.Sqrt(s.oneMinusAbar[t])
		s.invSqrtAlpha[t] = 1 / math.Sqrt(1-b)
		s.epsCoef[t] = b / s.sqrtOneMAbar[t]
		if t > 0 {
			// β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t) (csdi_icr.md §1.5).
			s.postVar[t] = b * s.oneMinusAbar[t-1] / s.oneMinusAbar[t]
		}
		// β̃_0 = 0: the convention ᾱ_{−1} = 1 of DDPM implementations. The sampler adds no
		// noise at t = 0 whatever β̃_0 is, so this only matters to callers reading β̃_0.
		s.sigma[t] = math.Sqrt(s.postVar[t])
	}
	return s, nil
}

// Power returns the power-p schedule of csdi_icr.md §1.2,
//
//	β_t = ( β_s^p + (β_e^p − β_s^p)·t/(T−1) )^{1/p},  t = 0..T−1,
//
// with β_s = betaStart and β_e = betaEnd. p = 0.5 is CSDI's "quad", p = 1 "linear", and
// p = 0.9 the preprint's variant (a) (csdi_icr.md A2). For T = 1 the single step is β_0 = β_s,
// as numpy's linspace(a, b, 1) = [a] gives in CSDI's code.
// Errors: *ParamError for T < 1, p not finite and > 0, or β_s, β_e not in (0, 1).
func Power(T int, betaStart, betaEnd, p float64) (*Schedule, error) {
	if err := checkSteps(T); err != nil {
		return nil, err
	}
	if !(p > 0) || math.IsInf(p, 0) {
		return nil, &ParamError{Param: "power", Value: p, Constraint: "0 < power < ∞ (0.5 = quad, 1 = linear)"}
	}
	if !(betaStart > 0 && betaStart < 1) {
		return nil, &ParamError{Param: "beta_start", Value: betaStart, Constraint: "0 < beta_start < 1"}
	}
	if !(betaEnd > 0 && betaEnd < 1) {
		return nil, &ParamError{Param: "beta_end", Value: betaEnd, Constraint: "0 < beta_end < 1"}
	}
	a, b := math.Pow(betaStart, p), math.Pow(betaEnd, p)
	beta := make([]float64, T)
	for t := 1; t < T-1; t++ {
		beta[t] = math.Pow(a+(b-a)*float64(t)/float64(T-1), 1/p)
	}
	// The endpoints are set exactly rather than as (β^p)^{1/p}, which may differ by an ulp.
	beta[T-1] = betaEnd
	beta[0] = betaStart
	return New(beta)
}

// CosineOffset and CosineMaxBeta are the constants of Nichol & Dhariwal (2021), "Improved
// denoising diffusion probabilistic models", eq. 17 and the clipping that follows it.
const (
	CosineOffset  = 0.008
	CosineMaxBeta = 0.999
)

// Cosine returns the cosine schedule of Nichol & Dhariwal (2021) with s = CosineOffset,
// f(τ) = cos²(((τ+s)/(1+s))·π/2), and β clipped at CosineMaxBeta.
//
// Index convention: the paper's steps t = 1..T are this package's t = 0..T−1, so
//
//	β_t = min(1 − f((t+1)/T)/f(t/T), 0.999),  and, where no clipping occurred,  ᾱ_t = f((t+1)/T)/f(0),
//
// which is improved-diffusion's betas_for_alpha_bar. The last step always clips (f(1) = 0),
// so ᾱ_{T−1} = 0.001·ᾱ_{T−2} instead of 0. Errors: *ParamError for T < 1.
func Cosine(T int) (*Schedule, error) {
	if err := checkSteps(T); err != nil {
		return nil, err
	}
	f := func(tau float64) float64 {
		c := math.Cos((tau + CosineOffset) / (1 + CosineOffset) * math.Pi / 2)
		return c * c
	}
	beta := make([]float64, T)
	for t := range beta {
		beta[t] = math.Min(1-f(float64(t+1)/float64(T))/f(float64(t)/float64(T)), CosineMaxBeta)
	}
	return New(beta)
}

// MidU is the position u_t = (t + 0.5)/T in (0, 1) of step t on the mid-course grid
// (csdi_icr.md A4). The noise_schedule node evaluates user formulas in u on this grid, so
// that u never hits 0 or 1 (where √(u−u²) would give β = 0).
func MidU(t, T int) float64 { return (float64(t) + 0.5) / float64(T) }

// MidCourse returns the preprint's "mid-course" schedule in the reading of csdi_icr.md A4:
// β_t = ω·√(u_t − u_t²) with u_t = MidU(t, T), whose peak is ω/2. For T = 50, ω = 0.005:
// Σβ = 0.098 and ᾱ_{T−1} = 0.906. Errors: *ParamError for T < 1 or ω not in (0, 2); a
// *StepError cannot occur for valid ω.
func MidCourse(T int, omega float64) (*Schedule, error) {
	if err := checkSteps(T); err != nil {
		return nil, err
	}
	if !(omega > 0 && omega < 2) {
		return nil, &ParamError{Param: "omega", Value: omega, Constraint: "0 < omega < 2 (the peak β is omega/2)"}
	}
	return FromFunc(T, func(t int) float64 {
		u := MidU(t, T)
		return omega * math.Sqrt(u-u*u)
	})
}

// FromFunc returns the schedule β_t = beta(t), t = 0..T−1, for user-defined schedules (the
// noise_schedule node compiles an expr-lang formula in u, t and T into beta; use MidU for u).
// beta is called once per step, in increasing t. Errors: *ParamError for T < 1 and
// *StepError for the first β_t that is not finite or not in (0, 1).
func FromFunc(T int, beta func(t int) float64) (*Schedule, error) {
	if err := checkSteps(T); err != nil {
		return nil, err
	}
	b := make([]float64, T)
	for t := range b {
		b[t] = beta(t)
	}
	return New(b)
}

// T returns the number of steps.
func (s *Schedule) T() int { return len(s.beta) }

// Betas copies β_0..β_{T−1} into dst, which must have length T (or be nil, in which case a
// new slice is allocated), and returns it. A schedule is fully determined by its betas: New
// of the result rebuilds it bit for bit.
func (s *Schedule) Betas(dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(s.beta))
	}
	if len(dst) != len(s.beta) {
		panic("diffusion: Betas: len(dst) != T")
	}
	copy(dst, s.beta)
	return dst
}

// Beta returns β_t.
func (s *Schedule) Beta(t int) float64 { return s.beta[t] }

// Alpha returns α_t = 1 − β_t (CSDI's code calls this alpha_hat).
func (s *Schedule) Alpha(t int) float64 { return 1 - s.beta[t] }

// AlphaBar returns ᾱ_t = Π_{s=0..t} α_s (CSDI's code calls this alpha).
func (s *Schedule) AlphaBar(t int) float64 { return s.alphaBar[t] }

// OneMinusAlphaBar returns 1 − ᾱ_t, computed without cancellation.
func (s *Schedule) OneMinusAlphaBar(t int) float64 { return s.oneMinusAbar[t] }

// SqrtAlphaBar returns √ᾱ_t, the signal coefficient of the forward marginal.
func (s *Schedule) SqrtAlphaBar(t int) float64 { return s.sqrtAbar[t] }

// SqrtOneMinusAlphaBar returns √(1−ᾱ_t), the noise coefficient of the forward marginal.
func (s *Schedule) SqrtOneMinusAlphaBar(t int) float64 { return s.sqrtOneMAbar[t] }

// SNR returns the signal-to-noise ratio λ_t = ᾱ_t/(1−ᾱ_t).
func (s *Schedule) SNR(t int) float64 { return math.Exp(s.LogSNR(t)) }

// LogSNR returns log λ_t = log ᾱ_t − log(1−ᾱ_t), the schedule-agnostic abscissa of §2.5.
func (s *Schedule) LogSNR(t int) float64 { return s.logAlphaBar[t] - math.Log(s.oneMinusAbar[t]) }

// PosteriorVariance returns β̃_t = β_t(1−ᾱ_{t−1})/(1−ᾱ_t) for t ≥ 1 and β̃_0 = 0 (the
// convention ᾱ_{−1} = 1; the sampler adds no noise at t = 0).
func (s *Schedule) PosteriorVariance(t int) float64 { return s.postVar[t] }

// Sigma returns σ_t = √β̃_t, the standard deviation of the noise the reverse step adds.
func (s *Schedule) Sigma(t int) float64 { return s.sigma[t] }
