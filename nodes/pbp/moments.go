package pbp

import "math"

const (
	invSqrt2Pi = 0.398942280401432677939946059934 // 1/sqrt(2π)
	// asymptoteAlpha is where the inverse Mills ratio g = φ(α)/Φ(α) switches to its
	// asymptotic series, as in the reference: φ and Φ underflow together a little below
	// α = −38, and the series is accurate to 1e-8 relative from −30 down.
	asymptoteAlpha = -30.0
)

// normTails returns Φ(α) and Φ(−α), each computed from the erfc of the smaller tail so
// that neither loses relative precision (0.5·(1+erf) underflows for α ≲ −8).
func normTails(alpha float64) (p, q float64) {
	if alpha < 0 {
		p = 0.5 * math.Erfc(-alpha/math.Sqrt2)
		return p, 1 - p
	}
	q = 0.5 * math.Erfc(alpha/math.Sqrt2)
	return 1 - q, q
}

// reluMoments returns the mean and variance of max(a, 0) for a ~ N(ma, va), va > 0, in the
// reference's form: with α = ma/√va and g = φ(α)/Φ(α) (the asymptote −α − 1/α + 2/α³ below
// α = −30),
//
//	mz = Φ(α)·(ma + √va·g)
//	vz = mz·(ma + √va·g)·Φ(−α) + Φ(α)·va·(1 − g² − g·α).
func reluMoments(ma, va float64) (mz, vz float64) {
	s := math.Sqrt(va)
	a := ma / s
	p, q := normTails(a)
	var g float64
	if a < asymptoteAlpha {
		g = -a - 1/a + 2/(a*a*a)
	} else {
		g = invSqrt2Pi * math.Exp(-0.5*a*a) / p
	}
	u := ma + s*g
	mz = p * u
	vz = mz*u*q + p*va*(1-g*g-g*a)
	return mz, vz
}

// reluGrad is reluMoments together with the four partial derivatives of (mz, vz) with
// respect to (ma, va).
//
// Where g is exact (α ≥ −30) the moments equal the textbook E[relu] = Φ(α)·m + √v·φ(α) and
// E[relu²] = Φ(α)(m²+v) + m√v·φ(α), whose derivatives are short and free of cancellation:
// ∂E[relu]/∂m = Φ, ∂E[relu]/∂v = φ/(2√v), ∂E[relu²]/∂m = 2·E[relu], ∂E[relu²]/∂v = Φ, so
//
//	∂mz/∂m = Φ(α)              ∂mz/∂v = φ(α)/(2√v)
//	∂vz/∂m = 2·mz·Φ(−α)        ∂vz/∂v = Φ(α) − mz·φ(α)/√v.
//
// Below −30 the forward pass uses the asymptotic g, a different function of α, so the
// derivatives are those of the g-form above with g'(α) = −1 + 1/α² − 6/α⁴ (the chain rule
// through α = m/√v: ∂α/∂m = 1/√v, ∂α/∂v = −α/(2v)). The finite-difference tests check both
// branches.
func reluGrad(ma, va float64) (mz, vz, dmzdm, dmzdv, dvzdm, dvzdv float64) {
	s := math.Sqrt(va)
	a := ma / s
	p, q := normTails(a)
	phi := invSqrt2Pi * math.Exp(-0.5*a*a)
	if a >= asymptoteAlpha {
		g := phi / p
		u := ma + s*g
		mz = p * u
		vz = mz*u*q + p*va*(1-g*g-g*a)
		dmzdm = p
		dmzdv = phi / (2 * s)
		dvzdm = 2 * mz * q
		dvzdv = p - mz*phi/s
		return
	}
	a2 := a * a
	g := -a - 1/a + 2/(a*a2)
	gp := -1 + 1/a2 - 6/(a2*a2) // dg/dα
	u := ma + s*g
	qq := 1 - g*g - g*a
	mz = p * u
	vz = mz*u*q + p*va*qq
	dadm := 1 / s
	dadv := -a / (2 * va)
	dudm := 1 + gp
	dudv := (g - a*gp) / (2 * s)
	dqq := -2*g*gp - gp*a - g // dQ/dα
	dmzdm = phi*dadm*u + p*dudm
	dmzdv = phi*dadv*u + p*dudv
	dvzdm = dmzdm*u*q + mz*dudm*q - mz*u*phi*dadm + phi*dadm*va*qq + p*va*dqq*dadm
	dvzdv = dmzdv*u*q + mz*dudv*q - mz*u*phi*dadv + phi*dadv*va*qq + p*qq + p*va*dqq*dadv
	return
}
