package dgp

import (
	"fmt"
	"math"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// Numerical constants of the reference (ICL-SML/Doubly-Stochastic-DGP on GPflow, see
// shared/methods/models.md §3.1).
const (
	// kzzJitter is added to the diagonal of every K_ZZ (GPflow's default jitter).
	kzzJitter = 1e-6
	// innerWhite is the variance of the White kernel added to every inner layer's RBF.
	innerWhite = 2e-6
	// sampleJitter is added to σ̃² under the square root when a layer's output is sampled,
	// as the reference's reparameterize does.
	sampleJitter = 1e-6
	// noiseFloor is the lower bound of the Gaussian likelihood variance (GPflow 2's
	// Gaussian likelihood default): σ² = softplus(θ) + noiseFloor.
	noiseFloor = 1e-6
	// innerQScale multiplies the inner layers' initial q_sqrt so that they start nearly
	// deterministic (the reference demo).
	innerQScale = 1e-5
)

type meanKind int

const (
	meanZero     meanKind = iota // the last layer
	meanIdentity                 // an inner layer with as many outputs as inputs
	meanLinear                   // fixed x·W: a PCA projection (down) or [I, 0] (up)
)

// layer is one GP layer: dOut independent GPs of dIn inputs sharing an ARD RBF kernel
// (plus a White kernel of variance white) and M inducing inputs Z, with a full-rank
// Gaussian q(U) per output.
type layer struct {
	dIn, dOut, m int

	z      *ad.Var // [m, dIn] inducing inputs
	rawVar *ad.Var // [1] kernel variance σ_f² = softplus(rawVar)
	rawLen *ad.Var // [dIn] lengthscales ℓ = softplus(rawLen)
	qMu    *ad.Var // [m, dOut] variational means, one column per output
	// qSqrt holds the lower-triangular factors L_d of S_d = L_d L_dᵀ side by side,
	// [L_1 | … | L_dOut] as [m, dOut·m], so that one product or triangular solve handles
	// every output. Its strict upper parts are zero and stay zero: projectGrad clears their
	// gradient before each step. The diagonal is unconstrained (S only sees L_ii²), as in
	// GPflow.
	qSqrt *ad.Var

	mean  meanKind
	w     *ad.Var // [dIn, dOut] constant, for meanLinear
	white float64 // White kernel variance (innerWhite on inner layers, 0 on the last)

	// Constants built by prepare.
	eye     *ad.Var // [m, m] identity
	kzzDiag *ad.Var // [m, m] (jitter + white)·I
	white1  *ad.Var // [1] white, added to k(x, x)
}

// model is a deep GP: its layers, the Gaussian likelihood and their parameter registry.
type model struct {
	layers   []*layer
	rawNoise *ad.Var // [1] σ² = softplus(rawNoise) + noiseFloor
	whiten   bool
	// jitter on K_ZZ and the jitter under the sampling square root; the tests lower them
	// to reach the exact-GP identities.
	jitter, sampleJitter float64
	ps                   *ad.Params
}

// softplusInv returns θ with softplus(θ) = v for v > 0, without overflow or cancellation.
func softplusInv(v float64) float64 {
	return v + math.Log(-math.Expm1(-v))
}

// newLayer registers a layer's parameters in ps with the given initial values (copied):
// z [m·dIn], kernel variance and lengthscale (one value for every dimension). q_mu and
// q_sqrt are 0 until set.
func newLayer(ps *ad.Params, name string, z []float64, m, dIn, dOut int, variance, lengthscale float64) *layer {
	l := &layer{dIn: dIn, dOut: dOut, m: m}
	l.z = ps.Add(name+"/z", ad.NewVar(append([]float64(nil), z...), m, dIn))
	l.rawVar = ps.Add(name+"/variance", ad.NewVar([]float64{softplusInv(variance)}, 1))
	raw := make([]float64, dIn)
	for i := range raw {
		raw[i] = softplusInv(lengthscale)
	}
	l.rawLen = ps.Add(name+"/lengthscales", ad.NewVar(raw, dIn))
	l.qMu = ps.New(name+"/q_mu", m, dOut)
	l.qSqrt = ps.New(name+"/q_sqrt", m, dOut*m)
	return l
}

// prepare builds the layer's constants; call it after changing jitter or white.
func (l *layer) prepare(jitter float64) {
	m := l.m
	eye := make([]float64, m*m)
	dg := make([]float64, m*m)
	for i := 0; i < m; i++ {
		eye[i*m+i] = 1
		dg[i*m+i] = jitter + l.white
	}
	l.eye = ad.Const(eye, m, m)
	l.kzzDiag = ad.Const(dg, m, m)
	l.white1 = ad.Const([]float64{l.white}, 1)
}

func (md *model) prepare() {
	for _, l := range md.layers {
		l.prepare(md.jitter)
	}
}

// projectGrad clears the gradient of the strict upper parts of every q_sqrt block, which
// keeps them at zero under Adam (a zero gradient leaves a zero-initialized Adam state and
// the parameter unchanged).
func (md *model) projectGrad() {
	for _, l := range md.layers {
		g := l.qSqrt.Grad
		m, w := l.m, l.dOut
		for i := 0; i < m; i++ {
			for d := 0; d < w; d++ {
				clear(g[i*w*m+d*m+i+1 : i*w*m+(d+1)*m])
			}
		}
	}
}

// layerState holds what a step computes once per layer and shares between the conditional
// and the KL: the constrained kernel parameters, L_Z = chol(K_ZZ), its inverse, and the
// variational parameters expressed in whitened form, V_m = L_Z⁻¹ q_mu and
// V_Q = L_Z⁻¹ [L_1 | … ] (the parameters themselves for a whitened layer).
type layerState struct {
	variance, lens, lz, linv *ad.Var
	vm, vq                   *ad.Var
}

// state computes a layer's state. L_Z⁻¹ is formed explicitly (one m×m triangular solve)
// so that the wide products with it (L_Z⁻¹k_Z(x), L_Z⁻¹q) run on the fast matrix-product
// kernel rather than as triangular solves.
func (l *layer) state(tp *ad.Tape, whiten bool) (layerState, error) {
	var st layerState
	st.variance = tp.Softplus(l.rawVar)
	st.lens = tp.Softplus(l.rawLen)
	kzz := tp.Add(l.kern(tp, st, l.z, nil), l.kzzDiag)
	lz, err := tp.Cholesky(kzz)
	if err != nil {
		return st, err
	}
	st.lz = lz
	l.whitened(tp, &st, whiten)
	return st, nil
}

// whitened sets st.linv, st.vm and st.vq from st.lz.
func (l *layer) whitened(tp *ad.Tape, st *layerState, whiten bool) {
	st.linv = tp.TriSolve(st.lz, l.eye, false)
	if whiten {
		st.vm, st.vq = l.qMu, l.qSqrt
		return
	}
	st.vm = tp.MatMul(st.linv, l.qMu, false, false)
	st.vq = tp.MatMul(st.linv, l.qSqrt, false, false)
}

// kern returns the RBF Gram matrix σ_f²·exp(−½‖(a_i − b_j)/ℓ‖²) between the rows of a
// and b (b nil: a with itself).
func (l *layer) kern(tp *ad.Tape, st layerState, a, b *ad.Var) *ad.Var {
	return rbf(tp, a, b, st.lens, st.variance)
}

// conditional returns the marginals of q(f(x)) for the P rows of f [P, dIn]: the means
// μ̃ [P, dOut] (mean function included) and variances σ̃² [P, dOut] (White included).
// With Φ = L_Z⁻¹k_Z(x) both parameterizations of models.md §3.1 read
// μ̃ = Φᵀ V_m and σ̃² = k(x,x) − ΦᵀΦ + ‖V_dᵀΦ‖², where V_m, V_d are the whitened
// parameters (L_Z⁻¹q_mu, L_Z⁻¹L_d when not whitened): Aᵀm = k_Zᵀ K_ZZ⁻¹ m = Φᵀ L_Z⁻¹m and
// AᵀS_dA = ‖L_dᵀ L_Z⁻ᵀ Φ‖².
func (l *layer) conditional(tp *ad.Tape, st layerState, f *ad.Var) (mu, v *ad.Var) {
	p := f.Shape[0]
	phi := tp.MatMul(st.linv, l.kern(tp, st, l.z, f), false, false) // L_Z⁻¹k_Z(x), [m, P]
	mu = tp.MatMul(phi, st.vm, true, false)                         // [P, dOut]
	sv := groupSumSq(tp, tp.MatMul(phi, st.vq, true, false), l.m)
	kq := tp.Reshape(tp.SumAxis(tp.Square(phi), 0), p, 1)
	v = tp.Add(tp.Sub(sv, kq), tp.Add(st.variance, l.white1))
	switch l.mean {
	case meanIdentity:
		mu = tp.Add(mu, f)
	case meanLinear:
		mu = tp.Add(mu, tp.MatMul(f, l.w, false, false))
	}
	return mu, v
}

// kl returns Σ_d KL(q(u_d) ‖ p(u_d)): non-whitened
// ½[tr(K⁻¹S) + mᵀK⁻¹m − M + log|K| − log|S|], whitened ½[tr S + mᵀm − M − log|S|],
// where tr(K⁻¹S_d) = ‖L_Z⁻¹L_d‖²_F and mᵀK⁻¹m = ‖L_Z⁻¹m‖².
func (l *layer) kl(tp *ad.Tape, st layerState, whiten bool) *ad.Var {
	logdet := logDiagSq(tp, l.qSqrt, l.m, l.dOut) // Σ_d log|S_d|
	if !whiten {
		logdet = tp.Sub(logdet, tp.Scale(tp.LogDetChol(st.lz), float64(l.dOut)))
	}
	s := tp.Sub(tp.Add(sumSq(tp, st.vq), sumSq(tp, st.vm)), logdet)
	return tp.Scale(tp.AddScalar(s, -float64(l.dOut*l.m)), 0.5)
}

// forward pushes f [P, D] through the layers, sampling every inner layer's output with
// the standard normals eps[l] (each [P·dOut_l]), and returns the last layer's μ̃ and σ̃²
// [P, 1]. With wantKL it also returns Σ_l KL. states may hold precomputed layer states.
func (md *model) forward(tp *ad.Tape, f *ad.Var, eps [][]float64, states []layerState, wantKL bool) (mu, v, kl *ad.Var, err error) {
	p := f.Shape[0]
	for i, l := range md.layers {
		var st layerState
		if states != nil {
			st = states[i]
		} else if st, err = l.state(tp, md.whiten); err != nil {
			return nil, nil, nil, fmt.Errorf("layer %d of %d: %w", i+1, len(md.layers), err)
		}
		mu, v = l.conditional(tp, st, f)
		if wantKL {
			k := l.kl(tp, st, md.whiten)
			if kl == nil {
				kl = k
			} else {
				kl = tp.Add(kl, k)
			}
		}
		if i < len(md.layers)-1 {
			e := ad.Const(eps[i][:p*l.dOut], p, l.dOut)
			f = tp.Add(mu, tp.Mul(e, tp.Sqrt(tp.AddScalar(v, md.sampleJitter))))
		}
	}
	return mu, v, kl, nil
}

// states computes every layer's state with tp.
func (md *model) states(tp *ad.Tape) ([]layerState, error) {
	out := make([]layerState, len(md.layers))
	for i, l := range md.layers {
		st, err := l.state(tp, md.whiten)
		if err != nil {
			return nil, fmt.Errorf("layer %d of %d: %w", i+1, len(md.layers), err)
		}
		out[i] = st
	}
	return out, nil
}

// noise returns the likelihood variance σ² as a [1] Var.
func (md *model) noise(tp *ad.Tape) *ad.Var {
	return tp.AddScalar(tp.Softplus(md.rawNoise), noiseFloor)
}

// elbo builds the evidence lower bound on the full batch: x [S·N, D] holds the N
// (standardized) training inputs tiled S times, y [S·N, 1] the targets likewise, and
// eps[l] the standard normals of inner layer l ([S·N·dOut_l]):
//
//	ELBO = (1/S) Σ_s Σ_n E_{N(f|μ̃, σ̃²)}[log N(y_n | f, σ²)] − Σ_l KL_l,
//	E[…] = −½log(2πσ²) − ((y − μ̃)² + σ̃²)/(2σ²).
func (md *model) elbo(tp *ad.Tape, x, y *ad.Var, s int, eps [][]float64) (*ad.Var, error) {
	mu, v, kl, err := md.forward(tp, x, eps, nil, true)
	if err != nil {
		return nil, err
	}
	n := float64(x.Shape[0] / s)
	noise := md.noise(tp)
	r := tp.Sum(tp.Add(tp.Square(tp.Sub(y, mu)), v))
	lik := tp.Add(tp.Scale(tp.Log(noise), -0.5*n), tp.Scale(tp.Div(r, noise), -0.5/float64(s)))
	lik = tp.AddScalar(lik, -0.5*n*math.Log(2*math.Pi))
	return tp.Sub(lik, kl), nil
}
