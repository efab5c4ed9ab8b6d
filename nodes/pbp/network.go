package pbp

import (
	"math"
	"math/rand/v2"
)

// Prior constants of the reference: Gamma(6, 6) on the weight precision λ and on the noise
// precision γ (shape and rate; "2·n_samples" with n_samples = 3 and an observed variance of 1).
const (
	alpha0 = 6.0
	beta0  = 6.0
	// minVariance is the reference's floor: an ADF step that would leave a weight variance at
	// or below it (or NaN) is rejected for that weight.
	minVariance = 1e-100
)

// layer holds one weight matrix W_l of V_l × (V_{l−1}+1), the last column being the bias,
// as row-major means m and variances v, and the EP prior factor of every weight in natural
// parameters (precision×mean, precision, shape−1, −rate increments).
type layer struct {
	out, in   int     // in counts the bias input
	scale     float64 // 1/in: the pre-activation is W z / sqrt(in)
	sqrtScale float64 // 1/sqrt(in)
	relu      bool    // false for the linear output layer

	m, v                   []float64
	mHat, vHat, aHat, bHat []float64
}

// network is the approximate posterior: the weight layers, Gamma(aNoise, bNoise) on the
// noise precision and Gamma(aPrior, bPrior) on the weight precision.
type network struct {
	layers         []layer
	aNoise, bNoise float64
	aPrior, bPrior float64
	// rejectedNoise counts ADF steps whose noise update was not finite and positive and was
	// therefore skipped (the reference would propagate the NaN); it stays 0 in practice.
	rejectedNoise int
}

// newNetwork allocates a network for d inputs, the given hidden widths and one linear output,
// in its initial state with zero weight means (init draws them).
func newNetwork(d int, hidden []int) *network {
	widths := append(append([]int{d}, hidden...), 1)
	n := &network{aNoise: alpha0, bNoise: beta0, aPrior: alpha0, bPrior: beta0}
	n.layers = make([]layer, len(widths)-1)
	for l := range n.layers {
		in, out := widths[l]+1, widths[l+1]
		k := in * out
		buf := make([]float64, 6*k)
		n.layers[l] = layer{
			out: out, in: in,
			scale: 1 / float64(in), sqrtScale: 1 / math.Sqrt(float64(in)),
			relu: l < len(n.layers)-1,
			m:    buf[0:k:k], v: buf[k : 2*k : 2*k],
			mHat: buf[2*k : 3*k : 3*k], vHat: buf[3*k : 4*k : 4*k],
			aHat: buf[4*k : 5*k : 5*k], bHat: buf[5*k : 6*k : 6*k],
		}
	}
	return n
}

// init sets the reference's initial posterior: m_w = ε/sqrt(V_{l−1}+1) with ε ~ N(0, 1)
// drawn in storage order, v_w = β₀/(α₀−1), and prior factors equal to the prior N(0, v_w).
func (n *network) init(rng *rand.Rand) {
	v0 := beta0 / (alpha0 - 1)
	for l := range n.layers {
		L := &n.layers[l]
		for k := range L.m {
			L.m[k] = rng.NormFloat64() * L.sqrtScale
			L.v[k] = v0
			L.mHat[k] = 0
			L.vHat[k] = 1 / v0
			L.aHat[k] = 0
			L.bHat[k] = 0
		}
	}
	n.aNoise, n.bNoise, n.aPrior, n.bPrior = alpha0, beta0, alpha0, beta0
}

// noiseVariance is E[1/γ] = β/(α−1), the noise variance in standardized units.
func (n *network) noiseVariance() float64 { return n.bNoise / (n.aNoise - 1) }

// workspace holds the per-point forward and backward quantities; one per goroutine.
type workspace struct {
	zm, zv, zq [][]float64 // input of layer l (l ≥ 1): mean, variance, mean²+variance; bias last
	am, av     [][]float64 // pre-activation mean and variance of layer l
	// ReLU derivatives ∂(mz, vz)/∂(ma, va) of hidden layer l's units.
	dmzdm, dmzdv, dvzdm, dvzdv [][]float64
	dam, dav                   [][]float64 // ∂logZ/∂(ma, va) of layer l
	dzm, dzv                   []float64   // ∂logZ/∂(mz, vz) of the current layer's input
	gm, gv                     []float64   // ∂logZ/∂(m_w, v_w) of the current weight row
}

func newWorkspace(n *network) *workspace {
	L := len(n.layers)
	ws := &workspace{}
	mk := func() [][]float64 { return make([][]float64, L) }
	ws.zm, ws.zv, ws.zq = mk(), mk(), mk()
	ws.am, ws.av = mk(), mk()
	ws.dmzdm, ws.dmzdv, ws.dvzdm, ws.dvzdv = mk(), mk(), mk(), mk()
	ws.dam, ws.dav = mk(), mk()
	maxIn := 0
	for l := range n.layers {
		lay := &n.layers[l]
		maxIn = max(maxIn, lay.in)
		if l > 0 {
			ws.zm[l] = make([]float64, lay.in)
			ws.zv[l] = make([]float64, lay.in)
			ws.zq[l] = make([]float64, lay.in)
			ws.zm[l][lay.in-1] = 1 // the bias input: mean 1, variance 0
			ws.zq[l][lay.in-1] = 1
		}
		ws.am[l] = make([]float64, lay.out)
		ws.av[l] = make([]float64, lay.out)
		ws.dam[l] = make([]float64, lay.out)
		ws.dav[l] = make([]float64, lay.out)
		if lay.relu {
			ws.dmzdm[l] = make([]float64, lay.out)
			ws.dmzdv[l] = make([]float64, lay.out)
			ws.dvzdm[l] = make([]float64, lay.out)
			ws.dvzdv[l] = make([]float64, lay.out)
		}
	}
	ws.dzm = make([]float64, maxIn)
	ws.dzv = make([]float64, maxIn)
	ws.gm = make([]float64, maxIn)
	ws.gv = make([]float64, maxIn)
	return ws
}

// forward propagates the moments of one input through the network (§2.4) and returns the
// output mean and variance (without the noise). x is the input with the bias 1 appended and
// x2 its elementwise square; the input has variance 0. With train set it also stores what
// backward needs (the ReLU derivatives).
func (n *network) forward(ws *workspace, x, x2 []float64, train bool) (m, v float64) {
	for l := range n.layers {
		lay := &n.layers[l]
		in := lay.in
		am, av := ws.am[l][:lay.out], ws.av[l][:lay.out]
		if l == 0 {
			x, x2 := x[:in], x2[:in]
			for i := range am {
				rm, rv := lay.m[i*in:(i+1)*in], lay.v[i*in:(i+1)*in]
				rm, rv = rm[:len(x)], rv[:len(x)]
				var sm, sv float64
				for j, xj := range x {
					sm += rm[j] * xj
					sv += rv[j] * x2[j]
				}
				am[i] = sm * lay.sqrtScale
				av[i] = sv * lay.scale
			}
		} else {
			zm, zv, zq := ws.zm[l][:in], ws.zv[l][:in], ws.zq[l][:in]
			for i := range am {
				rm, rv := lay.m[i*in:(i+1)*in], lay.v[i*in:(i+1)*in]
				rm, rv = rm[:len(zm)], rv[:len(zm)]
				var sm, sv float64
				for j, mz := range zm {
					w := rm[j]
					sm += w * mz
					sv += w*w*zv[j] + rv[j]*zq[j]
				}
				am[i] = sm * lay.sqrtScale
				av[i] = sv * lay.scale
			}
		}
		if !lay.relu {
			return am[0], av[0]
		}
		zm, zv, zq := ws.zm[l+1], ws.zv[l+1], ws.zq[l+1]
		zm, zv, zq = zm[:len(am)], zv[:len(am)], zq[:len(am)]
		if train {
			d1, d2, d3, d4 := ws.dmzdm[l], ws.dmzdv[l], ws.dvzdm[l], ws.dvzdv[l]
			d1, d2, d3, d4 = d1[:len(am)], d2[:len(am)], d3[:len(am)], d4[:len(am)]
			for i := range am {
				mz, vz, a, b, c, d := reluGrad(am[i], av[i])
				zm[i], zv[i], zq[i] = mz, vz, mz*mz+vz
				d1[i], d2[i], d3[i], d4[i] = a, b, c, d
			}
		} else {
			for i := range am {
				mz, vz := reluMoments(am[i], av[i])
				zm[i], zv[i], zq[i] = mz, vz, mz*mz+vz
			}
		}
	}
	panic("unreachable: the last layer is linear")
}

// backward backpropagates dm = ∂logZ/∂m and dv = ∂logZ/∂v at the output through the moment
// propagation of the last forward(train = true) call. With gradM and gradV nil it applies the
// ADF update of §2.5 to every weight; otherwise it stores ∂logZ/∂m_w and ∂logZ/∂v_w there
// (one slice per layer, laid out like the weights) and leaves the weights alone.
//
// For layer l with scale s = 1/in and deltas (δm_i, δv_i) = ∂logZ/∂(ma_i, va_i):
//
//	∂/∂m_ij = δm_i·√s·mz_j + δv_i·s·2·m_ij·vz_j     ∂/∂v_ij = δv_i·s·(mz_j² + vz_j)
//	∂/∂mz_j = Σ_i δm_i·√s·m_ij + δv_i·s·2·v_ij·mz_j  ∂/∂vz_j = Σ_i δv_i·s·(m_ij² + v_ij)
//
// and the ReLU derivatives take ∂/∂(mz, vz) to the deltas of the layer below. A row's new
// values can be written as soon as its gradient is known: the backward pass reads the old
// weights of a layer only while it computes that layer's own gradients.
func (n *network) backward(ws *workspace, x, x2 []float64, dm, dv float64, gradM, gradV [][]float64) {
	last := len(n.layers) - 1
	ws.dam[last][0], ws.dav[last][0] = dm, dv
	for l := last; l >= 0; l-- {
		lay := &n.layers[l]
		in := lay.in
		dam, dav := ws.dam[l][:lay.out], ws.dav[l][:lay.out]
		gm, gv := ws.gm[:in], ws.gv[:in]
		if l == 0 {
			x, x2 := x[:in], x2[:in]
			for i := range dam {
				cm, cv := dam[i]*lay.sqrtScale, dav[i]*lay.scale
				if gradM == nil {
					// The fused ADF step. With a noise-free input, ∂m_w = cm·x and
					// ∂v_w = cv·x², so ∂m_w² − 2∂v_w = x²·(cm² − 2cv).
					k := cm*cm - 2*cv
					rm, rv := lay.m[i*in:(i+1)*in], lay.v[i*in:(i+1)*in]
					rm, rv = rm[:len(x)], rv[:len(x)]
					for j, xj := range x {
						s := rv[j]
						vNew := s - s*s*(x2[j]*k)
						mNew := rm[j] + s*(cm*xj)
						if vNew > minVariance { // see finishRow for why this also excludes a NaN mean
							rm[j], rv[j] = mNew, vNew
						}
					}
					continue
				}
				gm, gv := gm[:len(x)], gv[:len(x)]
				for j, xj := range x {
					gm[j] = cm * xj
					gv[j] = cv * x2[j]
				}
				n.finishRow(lay, l, i, gm, gv, gradM, gradV)
			}
			continue
		}
		zm, zv, zq := ws.zm[l][:in], ws.zv[l][:in], ws.zq[l][:in]
		dzm, dzv := ws.dzm[:in], ws.dzv[:in]
		clear(dzm)
		clear(dzv)
		for i := range dam {
			cm, cv := dam[i]*lay.sqrtScale, dav[i]*lay.scale
			cv2 := 2 * cv
			rm, rv := lay.m[i*in:(i+1)*in], lay.v[i*in:(i+1)*in]
			rm, rv = rm[:len(zm)], rv[:len(zm)]
			gm, gv, zv, zq, dzm, dzv := gm[:len(zm)], gv[:len(zm)], zv[:len(zm)], zq[:len(zm)], dzm[:len(zm)], dzv[:len(zm)]
			if gradM == nil {
				// The fused ADF step: the old (m, v) of the weight feed the deltas of the
				// layer below and its own gradient, then the new values replace them.
				for j, mz := range zm {
					w, s := rm[j], rv[j]
					dzm[j] += cm*w + cv2*s*mz
					dzv[j] += cv * (w*w + s)
					g := cm*mz + cv2*w*zv[j]
					vNew := s - s*s*(g*g-cv2*zq[j])
					mNew := w + s*g
					if vNew > minVariance {
						rm[j], rv[j] = mNew, vNew
					}
				}
				continue
			}
			for j, mz := range zm {
				w, s := rm[j], rv[j]
				dzm[j] += cm*w + cv2*s*mz
				dzv[j] += cv * (w*w + s)
				gm[j] = cm*mz + cv2*w*zv[j]
				gv[j] = cv * zq[j]
			}
			n.finishRow(lay, l, i, gm, gv, gradM, gradV)
		}
		// Through the ReLU of layer l−1 (its outputs are this layer's inputs but the bias).
		dam, dav = ws.dam[l-1], ws.dav[l-1][:len(ws.dam[l-1])]
		d1, d2, d3, d4 := ws.dmzdm[l-1][:len(dam)], ws.dmzdv[l-1][:len(dam)], ws.dvzdm[l-1][:len(dam)], ws.dvzdv[l-1][:len(dam)]
		dzm, dzv = dzm[:len(dam)], dzv[:len(dam)]
		for j := range dam {
			dam[j] = dzm[j]*d1[j] + dzv[j]*d3[j]
			dav[j] = dzm[j]*d2[j] + dzv[j]*d4[j]
		}
	}
}

// finishRow either stores the gradient of row i of layer l or applies the ADF update to it:
// m ← m + v·∂m, v ← v − v²·(∂m² − 2·∂v), keeping the old pair where the new variance is not
// above 1e-100 or either value is NaN. backward inlines the same update in its training path
// (TestADFUpdateApplies checks that the two agree).
func (n *network) finishRow(lay *layer, l, i int, gm, gv []float64, gradM, gradV [][]float64) {
	in := lay.in
	if gradM != nil {
		copy(gradM[l][i*in:(i+1)*in], gm)
		copy(gradV[l][i*in:(i+1)*in], gv)
		return
	}
	rm, rv := lay.m[i*in:(i+1)*in], lay.v[i*in:(i+1)*in]
	rm, rv, gv = rm[:len(gm)], rv[:len(gm)], gv[:len(gm)]
	for j, g := range gm {
		s := rv[j]
		vNew := s - s*s*(g*g-2*gv[j])
		mNew := rm[j] + s*g
		// vNew > 1e-100 is false for NaN, and it implies a finite gradient (a NaN or
		// infinite ∂m makes ∂m² − 2∂v NaN or +Inf), hence a finite new mean: the reference's
		// NaN check on the mean is implied.
		if vNew > minVariance {
			rm[j], rv[j] = mNew, vNew
		}
	}
}

// gammaMoments moment-matches a Gamma(a, b) precision against a Gaussian likelihood whose
// squared residual is r2 and whose other variance is v. It forms logZ, logZ₁ and logZ₂ of §2.5
// (log N(r | 0, v + E[1/γ]) with γ ~ Gamma(a, b), Gamma(a+1, b) and Gamma(a+2, b), less the
// constant −½log 2π, which cancels) and returns V = v + b/(a−1) and the moment-matched
// Gamma(aNew, bNew): E[γ] = (a/b)·Z₁/Z and E[γ²] = (a(a+1)/b²)·Z₂/Z give aNew = E²/Var and
// bNew = E/Var, written as in the reference.
func gammaMoments(a, b, v, r2 float64) (vv, aNew, bNew float64) {
	vv = v + b/(a-1)
	v1 := v + b/a
	v2 := v + b/(a+1)
	logZ := -0.5 * (math.Log(vv) + r2/vv)
	logZ1 := -0.5 * (math.Log(v1) + r2/v1)
	logZ2 := -0.5 * (math.Log(v2) + r2/v2)
	aNew = 1 / (math.Exp(logZ2-2*logZ1+logZ)*(a+1)/a - 1)
	bNew = 1 / (math.Exp(logZ2-logZ1)*(a+1)/b - math.Exp(logZ1-logZ)*a/b)
	return vv, aNew, bNew
}

// noiseUpdate returns the output deltas ∂logZ/∂m = (y−m)/V and ∂logZ/∂v = −1/(2V) +
// (y−m)²/(2V²) with V = v + β/(α−1), and the moment-matched noise posterior (α', β') computed
// from the old (α, β).
func noiseUpdate(a, b, m, v, y float64) (dm, dv, aNew, bNew float64) {
	r := y - m
	vv, aNew, bNew := gammaMoments(a, b, v, r*r)
	dm = r / vv
	dv = -0.5/vv + 0.5*r*r/(vv*vv)
	return dm, dv, aNew, bNew
}

// adfUpdate absorbs one standardized data point (x with bias, its square, y).
func (n *network) adfUpdate(ws *workspace, x, x2 []float64, y float64) {
	m, v := n.forward(ws, x, x2, true)
	dm, dv, aNew, bNew := noiseUpdate(n.aNoise, n.bNoise, m, v, y)
	n.backward(ws, x, x2, dm, dv, nil, nil)
	if aNew > 1 && bNew > 0 && !math.IsInf(aNew, 0) && !math.IsInf(bNew, 0) {
		n.aNoise, n.bNoise = aNew, bNew
	} else {
		n.rejectedNoise++
	}
}

// refinePrior is one EP sweep over the prior factors (§2.6), in storage order: layer by
// layer, row-major. Each factor is removed to form the cavity, the prior N(w | 0, 1/λ) with
// λ ~ Gamma(α^λ, β^λ) is moment-matched against it, the factor is replaced by the difference
// in natural parameters, and q(w) and the shared (α^λ, β^λ) are overwritten, so the order
// matters. Factors whose cavity is improper or too broad are left alone.
func (n *network) refinePrior() {
	for l := range n.layers {
		lay := &n.layers[l]
		for k := range lay.m {
			vNat := 1 / lay.v[k]
			mNat := lay.m[k] * vNat
			vCavNat := vNat - lay.vHat[k]
			mCavNat := mNat - lay.mHat[k]
			vCav := 1 / vCavNat
			mCav := mCavNat * vCav
			aCavNat := (n.aPrior - 1) - lay.aHat[k]
			bCavNat := -n.bPrior - lay.bHat[k]
			aCav, bCav := aCavNat+1, -bCavNat
			if !(vCav > 0 && bCav > 0 && aCav > 1 && vCav < 1e6) {
				continue
			}
			m2 := mCav * mCav
			vv, aNew, bNew := gammaMoments(aCav, bCav, vCav, m2)
			dm := -mCav / vv
			dv := -0.5/vv + 0.5*m2/(vv*vv)
			mNew := mCav + vCav*dm
			vNew := vCav - vCav*vCav*(dm*dm-2*dv)
			lay.vHat[k] = 1/vNew - vCavNat
			lay.mHat[k] = mNew/vNew - mCavNat
			lay.aHat[k] = (aNew - 1) - aCavNat
			lay.bHat[k] = -bNew - bCavNat
			lay.m[k], lay.v[k] = mNew, vNew
			n.aPrior, n.bPrior = aNew, bNew
		}
	}
}
