package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Activation is the nonlinearity of an MLP's hidden layers.
type Activation int

const (
	// Tanh: σ' = 1 − t², σ'' = −2t(1 − t²) with t = tanh(a).
	Tanh Activation = iota
	// ReLU: σ' = 1 for a > 0 and 0 otherwise (0 at a = 0, as PyTorch), σ'' = 0. The loss is
	// then not twice differentiable where a pre-activation crosses 0; the R-operator gives
	// the Hessian of the piece the weights lie in.
	ReLU
)

func (a Activation) String() string {
	switch a {
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// MLP is a fully connected network with one output: a_l = W_l h_{l−1} + b_l, h_l = σ(a_l)
// for the hidden layers and a linear output ŷ = a_L. Sizes lists the widths from the input
// to the output, e.g. {d, 16, 1}; the last must be 1.
//
// The parameters are one flat vector θ: for each layer in order, W_l row-major [out × in]
// and then b_l [out], PyTorch's nn.Linear layout and parameters() order (and that of
// autodiff.NewMLP), so flat vectors move between them unchanged.
type MLP struct {
	Sizes []int
	Act   Activation
}

func (m MLP) check() {
	if len(m.Sizes) < 2 {
		panic(fmt.Sprintf("hessian: MLP needs at least two sizes, have %v", m.Sizes))
	}
	for _, s := range m.Sizes {
		if s < 1 {
			panic(fmt.Sprintf("hessian: MLP sizes must be positive, have %v", m.Sizes))
		}
	}
	if m.Sizes[len(m.Sizes)-1] != 1 {
		panic(fmt.Sprintf("hessian: MLP must have one output, have sizes %v", m.Sizes))
	}
	if m.Act != Tanh && m.Act != ReLU {
		panic(fmt.Sprintf("hessian: MLP: unknown activation %v", m.Act))
	}
}

// NumParams returns the length of the flat parameter vector. It panics if Sizes is invalid.
func (m MLP) NumParams() int {
	m.check()
	p := 0
	for l := 1; l < len(m.Sizes); l++ {
		p += m.Sizes[l]*m.Sizes[l-1] + m.Sizes[l]
	}
	return p
}

// Init fills theta (length NumParams) with PyTorch's nn.Linear default: every weight and
// bias of a layer with `in` inputs ~ U(−1/√in, 1/√in), drawn from rng in layout order.
func (m MLP) Init(theta []float64, rng *rand.Rand) {
	if len(theta) != m.NumParams() {
		panic(fmt.Sprintf("hessian: MLP.Init: len(theta) = %d, want %d", len(theta), m.NumParams()))
	}
	o := 0
	for l := 1; l < len(m.Sizes); l++ {
		in, out := m.Sizes[l-1], m.Sizes[l]
		bound := 1 / math.Sqrt(float64(in))
		for range out*in + out {
			theta[o] = (2*rng.Float64() - 1) * bound
			o++
		}
	}
}

// Predict writes the network's output for each row of X into dst (nil allocates) and
// returns it. It panics if X has the wrong number of columns or len(theta) is wrong.
func (m MLP) Predict(dst, theta []float64, X mat.Matrix) []float64 {
	n, d := X.Dims()
	if d != m.Sizes[0] {
		panic(fmt.Sprintf("hessian: MLP.Predict: X has %d columns, the network %d inputs", d, m.Sizes[0]))
	}
	o := NewObjective(m, X, make([]float64, n))
	o.forward(theta)
	if dst == nil {
		dst = make([]float64, n)
	}
	if len(dst) != n {
		panic(fmt.Sprintf("hessian: MLP.Predict: len(dst) = %d, X has %d rows", len(dst), n))
	}
	copy(dst, o.act[len(o.act)-1])
	return dst
}

// Objective is the mean squared error L(θ) = (1/n)·Σ_i (ŷ_i(θ) − y_i)² of an MLP on fixed
// data, with its gradient and exact Hessian-vector products (Pearlmutter's R-operator).
// It holds workspace, so one Objective must not be used from several goroutines at once.
type Objective struct {
	net   MLP
	n     int
	x     []float64 // n × d, row-major
	y     []float64
	sizes []int
	p     int
	// Forward workspace, per layer l = 0..L, each n × Sizes[l] row-major: pre-activations
	// (pre[0] unused) and activations (act[0] = X, act[L] = ŷ).
	pre, act [][]float64
	// dact[l] = σ'(a_l) and ddact[l] = σ''(a_l) for hidden layers.
	dact, ddact [][]float64
}

// NewObjective binds the network to the data (copied): X is n × Sizes[0], y has n entries.
// It panics on mismatched shapes or n = 0.
func NewObjective(net MLP, X mat.Matrix, y []float64) *Objective {
	net.check()
	n, d := X.Dims()
	if n == 0 || d != net.Sizes[0] || len(y) != n {
		panic(fmt.Sprintf("hessian: NewObjective: X is %d×%d and y has %d entries for a network with %d inputs", n, d, len(y), net.Sizes[0]))
	}
	o := &Objective{net: net, n: n, sizes: append([]int(nil), net.Sizes...), p: net.NumParams()}
	o.x = make([]float64, n*d)
	for i := range n {
		for j := range d {
			o.x[i*d+j] = X.At(i, j)
		}
	}
	o.y = append([]float64(nil), y...)
	L := len(o.sizes) - 1
	o.pre = make([][]float64, L+1)
	o.act = make([][]float64, L+1)
	o.dact = make([][]float64, L+1)
	o.ddact = make([][]float64, L+1)
	o.act[0] = o.x
	for l := 1; l <= L; l++ {
		o.pre[l] = make([]float64, n*o.sizes[l])
		if l < L {
			o.act[l] = make([]float64, n*o.sizes[l])
			o.dact[l] = make([]float64, n*o.sizes[l])
			o.ddact[l] = make([]float64, n*o.sizes[l])
		} else {
			o.act[l] = o.pre[l] // linear output
		}
	}
	return o
}

// Net returns the network.
func (o *Objective) Net() MLP { return o.net }

// NumParams returns the dimension p of θ.
func (o *Objective) NumParams() int { return o.p }

// Rows returns the number of data rows n.
func (o *Objective) Rows() int { return o.n }

func (o *Objective) checkTheta(fn string, theta []float64) {
	if len(theta) != o.p {
		panic(fmt.Sprintf("hessian: %s: len(theta) = %d, the network has %d parameters", fn, len(theta), o.p))
	}
}

// offsets returns the start of W_l and b_l in θ for layer l ≥ 1.
func (o *Objective) offsets(l int) (w, b int) {
	for k := 1; k < l; k++ {
		w += o.sizes[k]*o.sizes[k-1] + o.sizes[k]
	}
	return w, w + o.sizes[l]*o.sizes[l-1]
}

// forward fills pre, act, dact, ddact at theta and returns the loss.
func (o *Objective) forward(theta []float64) float64 {
	o.checkTheta("forward", theta)
	L := len(o.sizes) - 1
	for l := 1; l <= L; l++ {
		in, out := o.sizes[l-1], o.sizes[l]
		wo, bo := o.offsets(l)
		W, b := theta[wo:bo], theta[bo:bo+out]
		hPrev, a := o.act[l-1], o.pre[l]
		for i := range o.n {
			hi := hPrev[i*in : (i+1)*in]
			ai := a[i*out : (i+1)*out]
			for k := range out {
				s := b[k]
				wk := W[k*in : (k+1)*in]
				for j, h := range hi {
					s += wk[j] * h
				}
				ai[k] = s
			}
		}
		if l == L {
			break
		}
		h, d1, d2 := o.act[l], o.dact[l], o.ddact[l]
		switch o.net.Act {
		case Tanh:
			for i, ai := range a {
				t := math.Tanh(ai)
				h[i] = t
				d1[i] = 1 - t*t
				d2[i] = -2 * t * (1 - t*t)
			}
		case ReLU:
			for i, ai := range a {
				if ai > 0 {
					h[i], d1[i] = ai, 1
				} else {
					h[i], d1[i] = 0, 0
				}
				d2[i] = 0
			}
		}
	}
	var loss float64
	for i, yh := range o.act[L] {
		r := yh - o.y[i]
		loss += r * r
	}
	return loss / float64(o.n)
}

// Loss returns L(θ). It panics if len(theta) ≠ NumParams.
func (o *Objective) Loss(theta []float64) float64 { return o.forward(theta) }

// Predict writes ŷ(θ) on the objective's rows into dst (nil allocates) and returns it.
func (o *Objective) Predict(dst, theta []float64) []float64 {
	o.forward(theta)
	if dst == nil {
		dst = make([]float64, o.n)
	}
	copy(dst, o.act[len(o.act)-1])
	return dst
}

// Grad writes ∇L(θ) into grad (length NumParams) and returns L(θ), by backpropagation:
// δ_L = 2(ŷ − y)/n, δ_l = σ'(a_l) ⊙ W_{l+1}ᵀδ_{l+1}, ∂L/∂W_l = Σ_i δ_l h_{l−1}ᵀ and
// ∂L/∂b_l = Σ_i δ_l. It panics on wrong lengths.
func (o *Objective) Grad(grad, theta []float64) float64 {
	o.checkTheta("Grad", grad)
	loss := o.forward(theta)
	deltas := o.backward(theta)
	clear(grad)
	L := len(o.sizes) - 1
	for l := 1; l <= L; l++ {
		in, out := o.sizes[l-1], o.sizes[l]
		wo, bo := o.offsets(l)
		gW, gb := grad[wo:bo], grad[bo:bo+out]
		hPrev, dl := o.act[l-1], deltas[l]
		for i := range o.n {
			hi := hPrev[i*in : (i+1)*in]
			for k, dk := range dl[i*out : (i+1)*out] {
				gb[k] += dk
				row := gW[k*in : (k+1)*in]
				for j, h := range hi {
					row[j] += dk * h
				}
			}
		}
	}
	return loss
}

// backward returns δ_l = ∂L/∂a_l (n × Sizes[l]) for l = 1..L after forward(theta).
func (o *Objective) backward(theta []float64) [][]float64 {
	L := len(o.sizes) - 1
	deltas := make([][]float64, L+1)
	dL := make([]float64, o.n)
	for i, yh := range o.act[L] {
		dL[i] = 2 * (yh - o.y[i]) / float64(o.n)
	}
	deltas[L] = dL
	for l := L; l > 1; l-- {
		in, out := o.sizes[l-1], o.sizes[l]
		wo, _ := o.offsets(l)
		W := theta[wo : wo+out*in]
		dPrev := make([]float64, o.n*in)
		for i := range o.n {
			di := deltas[l][i*out : (i+1)*out]
			dp := dPrev[i*in : (i+1)*in]
			for k, dk := range di {
				for j, w := range W[k*in : (k+1)*in] {
					dp[j] += w * dk
				}
			}
			s := o.dact[l-1][i*in : (i+1)*in]
			for j := range dp {
				dp[j] *= s[j]
			}
		}
		deltas[l-1] = dPrev
	}
	return deltas
}

// HVP returns the exact Hessian-vector product v ↦ ∇²L(θ)·v at θ (copied), by Pearlmutter's
// R-operator (models.md §6.1). The forward pass and the δ's are computed once here; each
// product then costs about two gradients:
//
//	R-forward:  R{a_l} = V_l h_{l−1} + W_l R{h_{l−1}} + c_l,  R{h_l} = σ'(a_l)⊙R{a_l},  R{h_0} = 0
//	R-backward: R{δ_L} = 2R{ŷ}/n,
//	            R{δ_l} = σ''(a_l)⊙R{a_l}⊙(W_{l+1}ᵀδ_{l+1}) + σ'(a_l)⊙(V_{l+1}ᵀδ_{l+1} + W_{l+1}ᵀR{δ_{l+1}})
//	Hv:         for W_l: Σ_i R{δ_l} h_{l−1}ᵀ + δ_l R{h_{l−1}}ᵀ;  for b_l: Σ_i R{δ_l}
//
// where v = (V_l, c_l) is split like θ. The operator holds its own workspace: it must not be
// called concurrently, but it is independent of later calls on o. It panics if len(theta) ≠
// NumParams (now) or if dst or v have the wrong length (when called).
func (o *Objective) HVP(theta []float64) HVP {
	o.checkTheta("HVP", theta)
	theta = append([]float64(nil), theta...)
	o.forward(theta)
	deltas := o.backward(theta)
	L := len(o.sizes) - 1
	sizes := o.sizes
	n := o.n
	// Snapshot the forward quantities the products need.
	act := make([][]float64, L+1)
	dact := make([][]float64, L+1)
	ddact := make([][]float64, L+1)
	act[0] = o.x
	for l := 1; l < L; l++ {
		act[l] = append([]float64(nil), o.act[l]...)
		dact[l] = append([]float64(nil), o.dact[l]...)
		ddact[l] = append([]float64(nil), o.ddact[l]...)
	}
	// g[l] = W_{l+1}ᵀ δ_{l+1} for hidden layers, the σ''-term's factor.
	g := make([][]float64, L+1)
	wOff := make([]int, L+1)
	bOff := make([]int, L+1)
	for l := 1; l <= L; l++ {
		wOff[l], bOff[l] = o.offsets(l)
	}
	for l := 1; l < L; l++ {
		in, out := sizes[l], sizes[l+1]
		W := theta[wOff[l+1] : wOff[l+1]+out*in]
		gl := make([]float64, n*in)
		for i := range n {
			di := deltas[l+1][i*out : (i+1)*out]
			gi := gl[i*in : (i+1)*in]
			for k, dk := range di {
				for j, w := range W[k*in : (k+1)*in] {
					gi[j] += w * dk
				}
			}
		}
		g[l] = gl
	}
	// Per-sample R-quantities.
	maxW := 0
	for _, s := range sizes {
		maxW = max(maxW, s)
	}
	ra := make([][]float64, L+1) // R{a_l}
	rh := make([][]float64, L+1) // R{h_l}
	rd := make([][]float64, L+1) // R{δ_l}
	for l := 0; l <= L; l++ {
		ra[l] = make([]float64, sizes[l])
		rh[l] = make([]float64, sizes[l])
		rd[l] = make([]float64, sizes[l])
	}
	rg := make([]float64, maxW)
	p := o.p
	inv2n := 2 / float64(n)
	return func(dst, v []float64) {
		if len(dst) != p || len(v) != p {
			panic(fmt.Sprintf("hessian: MLP HVP: len(dst) = %d, len(v) = %d, want %d", len(dst), len(v), p))
		}
		clear(dst)
		for i := range n {
			// R-forward; R{h_0} = 0.
			for l := 1; l <= L; l++ {
				in, out := sizes[l-1], sizes[l]
				V := v[wOff[l]:bOff[l]]
				c := v[bOff[l] : bOff[l]+out]
				W := theta[wOff[l]:bOff[l]]
				hi := act[l-1][i*in : (i+1)*in]
				rhp := rh[l-1]
				for k := range out {
					s := c[k]
					vk := V[k*in : (k+1)*in]
					for j, h := range hi {
						s += vk[j] * h
					}
					if l > 1 {
						wk := W[k*in : (k+1)*in]
						for j, r := range rhp {
							s += wk[j] * r
						}
					}
					ra[l][k] = s
				}
				if l < L {
					d1 := dact[l][i*out : (i+1)*out]
					for k := range out {
						rh[l][k] = d1[k] * ra[l][k]
					}
				}
			}
			// R-backward.
			rd[L][0] = inv2n * ra[L][0]
			for l := L; l >= 1; l-- {
				in, out := sizes[l-1], sizes[l]
				hi := act[l-1][i*in : (i+1)*in]
				di := deltas[l][i*out : (i+1)*out]
				hW := dst[wOff[l]:bOff[l]]
				hb := dst[bOff[l] : bOff[l]+out]
				for k := range out {
					r, d := rd[l][k], di[k]
					hb[k] += r
					row := hW[k*in : (k+1)*in]
					for j, h := range hi {
						row[j] += r * h
					}
					if l > 1 {
						for j, x := range rh[l-1] {
							row[j] += d * x
						}
					}
				}
				if l == 1 {
					break
				}
				// R{δ_{l−1}} = σ''⊙R{a}⊙g + σ'⊙(V_lᵀδ_l + W_lᵀR{δ_l}).
				V := v[wOff[l]:bOff[l]]
				W := theta[wOff[l]:bOff[l]]
				rgl := rg[:in]
				clear(rgl)
				for k := range out {
					r, d := rd[l][k], di[k]
					vk := V[k*in : (k+1)*in]
					wk := W[k*in : (k+1)*in]
					for j := range rgl {
						rgl[j] += vk[j]*d + wk[j]*r
					}
				}
				d1 := dact[l-1][i*in : (i+1)*in]
				d2 := ddact[l-1][i*in : (i+1)*in]
				gi := g[l-1][i*in : (i+1)*in]
				for j := range rgl {
					rd[l-1][j] = d2[j]*ra[l-1][j]*gi[j] + d1[j]*rgl[j]
				}
			}
		}
	}
}
