package daggm

import (
	"fmt"
	"math/rand/v2"

	"github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// Arch is the shape of a DAGMM: the compression network d → Hidden… → Latent with a
// mirror decoder, and the estimation network (Latent+2) → EstHidden… → K.
type Arch struct {
	Hidden    []int   // encoder hidden widths (tanh); the decoder uses them reversed
	Latent    int     // dim z_c (linear output of the encoder)
	EstHidden []int   // estimation hidden widths (tanh, then dropout)
	K         int     // mixture components
	Dropout   float64 // dropout rate after each estimation hidden layer, training only
}

// Network is a DAGMM's parameters and layers.
type Network struct {
	Arch
	Params  *autodiff.Params
	Encoder *autodiff.MLP // d → Hidden… → Latent, tanh between layers, last linear
	Decoder *autodiff.MLP // Latent → reversed Hidden… → d
	Est     []*autodiff.Linear
}

// NewNetwork registers a network for d inputs, initialized as PyTorch's nn.Linear
// (U(±1/√fan_in)) from rng in the order encoder, decoder, estimation. It panics on
// non-positive sizes, K < 1 or a dropout rate outside [0, 1).
func NewNetwork(d int, a Arch, rng *rand.Rand) *Network {
	if d < 1 || a.Latent < 1 || a.K < 1 || !(a.Dropout >= 0 && a.Dropout < 1) {
		panic(fmt.Sprintf("daggm: NewNetwork: invalid sizes d = %d, %+v", d, a))
	}
	for _, h := range append(append([]int(nil), a.Hidden...), a.EstHidden...) {
		if h < 1 {
			panic(fmt.Sprintf("daggm: NewNetwork: hidden width %d", h))
		}
	}
	a.Hidden = append([]int(nil), a.Hidden...)
	a.EstHidden = append([]int(nil), a.EstHidden...)
	ps := autodiff.NewParams()
	enc := append(append([]int{d}, a.Hidden...), a.Latent)
	dec := make([]int, len(enc))
	for i, s := range enc {
		dec[len(enc)-1-i] = s
	}
	n := &Network{Arch: a, Params: ps}
	n.Encoder = autodiff.NewMLP(ps, "encoder", enc, (*autodiff.Tape).Tanh, rng)
	n.Decoder = autodiff.NewMLP(ps, "decoder", dec, (*autodiff.Tape).Tanh, rng)
	est := append(append([]int{a.Latent + 2}, a.EstHidden...), a.K)
	for i := 0; i+1 < len(est); i++ {
		n.Est = append(n.Est, autodiff.NewLinear(ps, fmt.Sprintf("estimation.%d", i), est[i], est[i+1], true, rng))
	}
	return n
}

// Output is one forward pass over a batch x [N, d].
type Output struct {
	Zc    *autodiff.Var // [N, Latent]
	XRec  *autodiff.Var // x' [N, d]
	SqErr *autodiff.Var // ‖x − x'‖² [N]
	Z     *autodiff.Var // [z_c, relative distance, cosine] [N, Latent+2]
	Gamma *autodiff.Var // memberships [N, K]
}

// Forward runs the compression and estimation networks on x [N, d]. rng drives dropout
// (training mode); a nil rng is evaluation mode (no dropout).
func (n *Network) Forward(tp *autodiff.Tape, x *autodiff.Var, rng *rand.Rand) Output {
	var o Output
	o.Zc = n.Encoder.Forward(tp, x)
	o.XRec = n.Decoder.Forward(tp, o.Zc)
	var feat *autodiff.Var
	feat, o.SqErr = ReconFeatures(tp, x, o.XRec)
	o.Z = tp.Concat(o.Zc, feat)
	h := o.Z
	for i, l := range n.Est {
		h = l.Forward(tp, h)
		if i+1 < len(n.Est) {
			h = tp.Tanh(h)
			if rng != nil {
				h = tp.Dropout(h, n.Dropout, rng)
			}
		}
	}
	o.Gamma = tp.Softmax(h)
	return o
}

// Weights are the loss weights: J = mean‖x−x'‖² + Lambda1·mean E + Lambda2·Σ 1/Σ_jj, with
// Jitter on the covariance diagonals inside E.
type Weights struct {
	Lambda1, Lambda2, Jitter float64
}

// Loss is the scalar J and its parts for one forward pass.
type Loss struct {
	J          *autodiff.Var
	Recon      float64 // mean ‖x−x'‖²
	Energy     float64 // mean E(z) under the batch's own mixture
	CovPenalty float64 // Σ_k Σ_j 1/Σ_k,jj
}

// Loss builds J for the batch x [N, d], the mixture being estimated from the batch itself
// (as in training). rng drives dropout; nil turns it off (for gradient checks).
func (n *Network) Loss(tp *autodiff.Tape, x *autodiff.Var, rng *rand.Rand, w Weights) (Loss, error) {
	o := n.Forward(tp, x, rng)
	phi, mu, sigma := GMMParams(tp, o.Z, o.Gamma)
	e, err := Energy(tp, o.Z, phi, mu, sigma, w.Jitter)
	if err != nil {
		return Loss{}, err
	}
	rec, me, pen := tp.Mean(o.SqErr), tp.Mean(e), CovDiagPenalty(tp, sigma)
	j := tp.Add(tp.Add(rec, tp.Scale(me, w.Lambda1)), tp.Scale(pen, w.Lambda2))
	return Loss{J: j, Recon: rec.Value(), Energy: me.Value(), CovPenalty: pen.Value()}, nil
}
