package diffusion

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// This file is the Gaussian ground truth of csdi_icr.md §2.4 and §4: when the target's
// conditional law is N(m, S), the Bayes-optimal ε-predictor is known in closed form, and with
// it the DDPM sampler is an affine recursion whose moments propagate exactly.

// ShrinkWeight returns the ICR shrinkage weight w_t = λ_t s²/(1+λ_t s²) for a scalar target
// of conditional variance s2 (csdi_icr.md §2.4): truncating at t, a perfect model maps y to
// w_t·y + (1−w_t)·m on average.
func (s *Schedule) ShrinkWeight(t int, s2 float64) float64 {
	// λs²/(1+λs²) = ᾱs²/(ᾱs² + 1−ᾱ): no overflow of λ when ᾱ → 1.
	as := s.alphaBar[t] * s2
	return as / (as + s.oneMinusAbar[t])
}

// GaussianDisplacement returns the expected squared ICR displacement at truncation t,
// E(E[ỹ^reg|y] − y)² = s²/(1+λ_t s²)² = s²(1−w_t)² for y ~ N(m, s²) (csdi_icr.md §2.5).
func (s *Schedule) GaussianDisplacement(t int, s2 float64) float64 {
	u := 1 - s.ShrinkWeight(t, s2)
	return s2 * u * u
}

// ExactTruncatedVar returns the variance, given the measured y, of the output of an exact
// posterior sampler started from the noised x_t = √ᾱ_t y + √(1−ᾱ_t)ε: the posterior
// variance s²/(1+λs²) plus the spread w²/λ of the posterior mean over ε, which equals
// s²(1−w_t²). The DDPM sampler with β̃ noise falls short of it (csdi_icr.md §4.2 table).
func (s *Schedule) ExactTruncatedVar(t int, s2 float64) float64 {
	w := s.ShrinkWeight(t, s2)
	return s2 * (1 - w*w)
}

// OracleEps returns the Bayes-optimal noise prediction E[ε | x_t = x] for a scalar target
// with conditional law N(m, s2) (csdi_icr.md §4.2):
//
//	ε*(x, t) = √(1−ᾱ_t)·(x − √ᾱ_t m)/(ᾱ_t s² + 1−ᾱ_t).
func (s *Schedule) OracleEps(x float64, t int, m, s2 float64) float64 {
	return s.sqrtOneMAbar[t] * (x - s.sqrtAbar[t]*m) / (s.alphaBar[t]*s2 + s.oneMinusAbar[t])
}

// OracleAffine returns the coefficients of one oracle reverse step for a scalar target with
// conditional law N(m, s2): x_{t−1} = a·x_t + b + sigma·z (csdi_icr.md §4.2), with
// k_t = β_t/√(1−ᾱ_t), c_t = √(1−ᾱ_t)/(ᾱ_t s² + 1−ᾱ_t), a = (1 − k_t c_t)/√α_t,
// b = k_t c_t √ᾱ_t m/√α_t and sigma = σ_t (0 at t = 0).
func (s *Schedule) OracleAffine(t int, m, s2 float64) (a, b, sigma float64) {
	kc := s.epsCoef[t] * s.sqrtOneMAbar[t] / (s.alphaBar[t]*s2 + s.oneMinusAbar[t])
	a = (1 - kc) * s.invSqrtAlpha[t]
	b = kc * s.sqrtAbar[t] * m * s.invSqrtAlpha[t]
	return a, b, s.sigma[t]
}

// Moments are the exact moments of the oracle sampler's output: given the measured y it is
// N(Gain·y + Mean, Var). Gain is 0 for the full chain.
type Moments struct {
	Mean, Var, Gain float64
}

// PropagateFull returns the exact output law of the full oracle chain (start N(0, 1) at
// t = T−1, steps T−1..0) for a scalar target N(m, s2): M ← A M + B, V ← A² V + σ_t²
// (csdi_icr.md §4.2). For quad(1e-4, 0.5), T = 50, m = 0.7, s² = 0.25: Mean 0.7000, Var 0.2142.
func (s *Schedule) PropagateFull(m, s2 float64) Moments {
	return s.propagate(s.T()-1, Moments{Mean: 0, Var: 1, Gain: 0}, m, s2)
}

// PropagateTruncated returns the exact output law of the truncated oracle chain from tStar
// (start √ᾱ_{t*} y + N(0, 1−ᾱ_{t*}), steps t*..0) for a scalar target N(m, s2): the output
// given y is N(Gain·y + Mean, Var), with Gain = w_{t*} and Mean = (1−w_{t*})m to rounding
// (csdi_icr.md §2.4, §4.2). It panics if tStar is outside [0, T−1].
func (s *Schedule) PropagateTruncated(tStar int, m, s2 float64) Moments {
	if tStar < 0 || tStar >= s.T() {
		panic("diffusion: PropagateTruncated: tStar outside [0, T−1]")
	}
	return s.propagate(tStar, Moments{Mean: 0, Var: s.oneMinusAbar[tStar], Gain: s.sqrtAbar[tStar]}, m, s2)
}

func (s *Schedule) propagate(from int, mo Moments, m, s2 float64) Moments {
	for t := from; t >= 0; t-- {
		a, b, sig := s.OracleAffine(t, m, s2)
		mo.Mean = a*mo.Mean + b
		mo.Var = a*a*mo.Var + sig*sig
		mo.Gain *= a
	}
	return mo
}

// BayesEpsLoss returns the ε-loss of the Bayes-optimal predictor averaged over the T steps,
// (1/T)·Σ_t ᾱ_t s²/(ᾱ_t s² + 1−ᾱ_t), for a scalar target of conditional variance s2: the floor
// of CSDI's validation loss (csdi_icr.md §4.3).
func (s *Schedule) BayesEpsLoss(s2 float64) float64 {
	var sum float64
	for t := range s.beta {
		as := s.alphaBar[t] * s2
		sum += as / (as + s.oneMinusAbar[t])
	}
	return sum / float64(s.T())
}

// BayesEpsLossCov is BayesEpsLoss for a target of conditional covariance cov (dimension d):
// (1/T)·Σ_t tr(I − (1−ᾱ_t)(ᾱ_t S + (1−ᾱ_t)I)⁻¹)/d. It returns an error if ᾱ_t S + (1−ᾱ_t)I
// is not positive definite at some t (cov not positive semi-definite).
func (s *Schedule) BayesEpsLossCov(cov mat.Symmetric) (float64, error) {
	d := cov.SymmetricDim()
	var sum float64
	var inv mat.SymDense
	for t := range s.beta {
		if err := s.shiftedInverse(&inv, cov, t); err != nil {
			return 0, err
		}
		tr := float64(d)
		for j := 0; j < d; j++ {
			tr -= s.oneMinusAbar[t] * inv.At(j, j)
		}
		sum += tr / float64(d)
	}
	return sum / float64(s.T()), nil
}

// ErrNotPSD is wrapped by the errors returned for a covariance that is not positive
// semi-definite.
var ErrNotPSD = errors.New("covariance is not positive semi-definite")

// shiftedInverse sets dst to (ᾱ_t S + (1−ᾱ_t) I)⁻¹.
func (s *Schedule) shiftedInverse(dst *mat.SymDense, cov mat.Symmetric, t int) error {
	d := cov.SymmetricDim()
	m := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := s.alphaBar[t] * cov.At(i, j)
			if i == j {
				v += s.oneMinusAbar[t]
			}
			m.SetSym(i, j, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(m) {
		return fmt.Errorf("diffusion: ᾱ_t·S + (1−ᾱ_t)·I is not positive definite at t = %d: %w", t, ErrNotPSD)
	}
	return ch.InverseTo(dst)
}

// GaussianOracle is the Bayes-optimal ε-predictor for rows whose target (of dimension d)
// has conditional law N(m_i, S): one mean per row and a covariance S shared by all rows
// (csdi_icr.md §4.1–4.2),
//
//	ε*(x_t, t) = √(1−ᾱ_t)·(ᾱ_t S + (1−ᾱ_t) I)⁻¹·(x_t − √ᾱ_t m_i).
//
// Its Eps method is an EpsFunc for any Layout with Rows·Dim = len(means).
type GaussianOracle struct {
	s     *Schedule
	dim   int
	means []float64
	gain  []float64 // T blocks of d×d, row-major: K_t = √(1−ᾱ_t)(ᾱ_t S + (1−ᾱ_t)I)⁻¹
}

// NewGaussianOracle returns the oracle for schedule s, per-row means laid out [row][dim]
// (len(means) a positive multiple of d = cov.SymmetricDim()) and covariance cov. means is
// copied. It returns an error wrapping ErrNotPSD if cov is not positive semi-definite, and
// panics if len(means) is not a positive multiple of d.
func NewGaussianOracle(s *Schedule, means []float64, cov mat.Symmetric) (*GaussianOracle, error) {
	d := cov.SymmetricDim()
	if d < 1 || len(means) == 0 || len(means)%d != 0 {
		panic("diffusion: NewGaussianOracle: len(means) must be a positive multiple of the covariance dimension")
	}
	o := &GaussianOracle{s: s, dim: d, means: append([]float64(nil), means...), gain: make([]float64, s.T()*d*d)}
	var inv mat.SymDense
	for t := range s.beta {
		if err := s.shiftedInverse(&inv, cov, t); err != nil {
			return nil, err
		}
		k := o.gain[t*d*d : (t+1)*d*d]
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				k[i*d+j] = s.sqrtOneMAbar[t] * inv.At(i, j)
			}
		}
	}
	return o, nil
}

// Dim returns the target dimension d.
func (o *GaussianOracle) Dim() int { return o.dim }

// Eps sets dst to ε*(x, t) for states x laid out [row][sample][dim]; the number of samples
// is len(x)/len(means). It never returns an error; it panics if len(x) is not a multiple of
// len(means) or len(dst) != len(x).
func (o *GaussianOracle) Eps(dst, x []float64, t int) error {
	rd := len(o.means)
	if len(x)%rd != 0 || len(dst) != len(x) {
		panic("diffusion: GaussianOracle.Eps: len(x) is not Rows·Samples·Dim")
	}
	d := o.dim
	samples := len(x) / rd
	rows := rd / d
	sa := o.s.sqrtAbar[t]
	k := o.gain[t*d*d : (t+1)*d*d]
	if d == 1 {
		g := k[0]
		for i := 0; i < rows; i++ {
			c := sa * o.means[i]
			xi, di := x[i*samples:(i+1)*samples], dst[i*samples:(i+1)*samples]
			for j, v := range xi {
				di[j] = g * (v - c)
			}
		}
		return nil
	}
	r := make([]float64, d)
	for i := 0; i < rows; i++ {
		m := o.means[i*d : (i+1)*d]
		for smp := 0; smp < samples; smp++ {
			off := (i*samples + smp) * d
			for j := range r {
				r[j] = x[off+j] - sa*m[j]
			}
			for a := 0; a < d; a++ {
				var v float64
				for b, rb := range r {
					v += k[a*d+b] * rb
				}
				dst[off+a] = v
			}
		}
	}
	return nil
}
