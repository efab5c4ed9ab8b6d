package csdi

import (
	"math"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/diffusion"
)

// fastDenoiser evaluates the network for ICR (every sequence conditioned on the same
// columns) without repeating work that is the same for all samples of a row, and without
// computing what the output does not depend on. It computes the same function as
// network.forward, up to the order of floating-point sums (TestFastDenoiserMatchesForward).
//
// Two facts make it cheaper:
//
//   - In the first block, a conditioning token's input ReLU(W_in·[x̃_ij, 0] + b) plus the step
//     embedding is the same for every sample of row i. So are its query, key and value, and
//     its attention scores against the other conditioning tokens: the softmax sums over
//     conditioning keys (max, normalizer, weighted values) are computed once per row and
//     step, and each sample only adds the terms of its noised keys. Per sample, the first
//     block's attention costs O(K·|noised|) instead of O(K²) exponentials.
//   - ε̂ is read only at the noised columns, and the output depends on the last block only
//     through its skip output at those tokens. The last block therefore needs keys and values
//     of every token but queries, feed-forward, gates and projections only at the noised
//     tokens.
//
// Blocks between the first and the last run in full.
type fastDenoiser struct {
	se       *session
	net      *network
	k, c, d  int
	heads    int
	scale    float64     // 1/√(C/heads)
	x0       []float64   // [rows, K, C] first-block input of every token as a conditioning token
	side     [][]float64 // per block, the side term [K, 2C]
	sideN    [][]float64 // per block, the side term at the noised tokens [d, 2C]
	e        [][]float64 // per step, the diffusion projections of every block [L·C]
	isNoised []bool
	// The last block's packed input projection split into its query rows and its key and
	// value rows (views of the parameters).
	wq, bq, wkv, bkv *ad.Var
}

func (m *Model) fastDenoiser(se *session, s *diffusion.Schedule) *fastDenoiser {
	n := m.net
	k, c := n.k, n.c
	f := &fastDenoiser{se: se, net: n, k: k, c: c, d: len(se.noised), heads: n.blocks[0].tf.Attn.Heads}
	f.scale = 1 / math.Sqrt(float64(c/f.heads))
	f.isNoised = make([]bool, k)
	for _, j := range se.noised {
		f.isNoised[j] = true
	}
	rows := se.layout.Rows
	win, bin := n.in.W.Data, n.in.B.Data // W_in [C, 2]
	f.x0 = make([]float64, rows*k*c)
	for i := 0; i < rows; i++ {
		z := se.z.RawRowView(i)
		for j := 0; j < k; j++ {
			v := se.cond[j] * z[j]
			dst := f.x0[(i*k+j)*c : (i*k+j+1)*c]
			for ch := range dst {
				dst[ch] = max(0, win[2*ch]*v+bin[ch])
			}
		}
	}
	for _, st := range n.sideTerms(nil, ad.Const(se.cond, 1, k, 1)) {
		f.side = append(f.side, st.Data)
		sn := make([]float64, 0, f.d*2*c)
		for _, j := range se.noised {
			sn = append(sn, st.Data[j*2*c:(j+1)*2*c]...)
		}
		f.sideN = append(f.sideN, sn)
	}
	tab := make([]float64, embDim)
	f.e = make([][]float64, s.T())
	for t := range f.e {
		if m.Config.Conditioning == CondStep {
			stepTable(tab, t)
		} else {
			noiseTable(tab, s.LogSNR(t))
		}
		emb := n.stepEmbedding(nil, ad.Const(tab, 1, embDim))
		for _, b := range n.blocks {
			f.e[t] = append(f.e[t], b.diffProj.Forward(nil, emb).Data...)
		}
	}
	last := n.blocks[len(n.blocks)-1].tf.Attn.InProj
	f.wq, f.bq = ad.Const(last.W.Data[:c*c], c, c), ad.Const(last.B.Data[:c], c)
	f.wkv, f.bkv = ad.Const(last.W.Data[c*c:], 2*c, c), ad.Const(last.B.Data[c:], 2*c)
	return f
}

// eps implements denoiser.
func (f *fastDenoiser) eps(dst, x []float64, lo, hi, t int, w *worker) {
	tp := w.tp
	n := f.net
	k, c, d, H := f.k, f.c, f.d, f.heads
	dh := c / H
	S := f.se.layout.Samples
	nr := hi - lo
	nb := nr * S
	nl := len(n.blocks)
	e := f.e[t]
	noised := f.se.noised

	// Block 0, shared per row: conditioning tokens' inputs u = x0 + e and their q, k, v.
	b0 := n.blocks[0]
	uc := w.alloc(nr * k * c)
	copy(uc, f.x0[lo*k*c:hi*k*c])
	addRows(uc, e[:c])
	qkvc := tp.Linear(ad.Const(uc, nr, k, c), b0.tf.Attn.InProj.W, b0.tf.Attn.InProj.B).Data // [nr, K, 3C]
	// Per sample: the noised tokens' inputs and q, k, v.
	win, bin := n.in.W.Data, n.in.B.Data
	xn := w.alloc(nb * d * c)
	for q := 0; q < nb; q++ {
		for dd := 0; dd < d; dd++ {
			v := x[q*d+dd]
			row := xn[(q*d+dd)*c : (q*d+dd+1)*c]
			for ch := range row {
				row[ch] = max(0, win[2*ch+1]*v+bin[ch])
			}
		}
	}
	un := w.alloc(nb * d * c)
	copy(un, xn)
	addRows(un, e[:c])
	qkvn := tp.Linear(ad.Const(un, nb, d, c), b0.tf.Attn.InProj.W, b0.tf.Attn.InProj.B).Data // [nb, d, 3C]

	skip := w.alloc(nb * d * c) // Σ over blocks of the skip outputs at the noised tokens
	if nl == 1 {
		// The only block is also the last: keys and values of every token, queries of the
		// noised ones.
		kv := w.alloc(nb * k * 2 * c)
		for q := 0; q < nb; q++ {
			r := q / S
			for j := 0; j < k; j++ {
				if !f.isNoised[j] {
					copy(kv[(q*k+j)*2*c:(q*k+j+1)*2*c], qkvc[(r*k+j)*3*c+c:(r*k+j+1)*3*c])
				}
			}
			for dd, j := range noised {
				copy(kv[(q*k+j)*2*c:(q*k+j+1)*2*c], qkvn[(q*d+dd)*3*c+c:(q*d+dd+1)*3*c])
			}
		}
		qn := w.alloc(nb * d * c)
		for i := 0; i < nb*d; i++ {
			copy(qn[i*c:(i+1)*c], qkvn[i*3*c:i*3*c+c])
		}
		o := w.alloc(nb * d * c)
		f.attendNoised(o, qn, kv, nb)
		f.tail(skip, tp, 0, un, o, nb)
		f.output(dst, tp, skip, nb)
		return
	}

	// Softmax sums of each conditioning query over the conditioning keys, per row and head:
	// max mS, normalizer zS and the weighted values aS.
	mS := w.alloc(nr * k * H)
	zS := w.alloc(nr * k * H)
	aS := w.alloc(nr * k * c)
	for r := 0; r < nr; r++ {
		base := qkvc[r*k*3*c:]
		for h := 0; h < H; h++ {
			for a := 0; a < k; a++ {
				if f.isNoised[a] {
					continue
				}
				qa := base[a*3*c+h*dh : a*3*c+(h+1)*dh]
				m := math.Inf(-1)
				for b := 0; b < k; b++ {
					if !f.isNoised[b] {
						m = max(m, dot(qa, base[b*3*c+c+h*dh:b*3*c+c+(h+1)*dh]))
					}
				}
				var z float64
				acc := aS[(r*k+a)*c+h*dh : (r*k+a)*c+(h+1)*dh]
				for b := 0; b < k; b++ {
					if f.isNoised[b] {
						continue
					}
					p := math.Exp(f.scale * (dot(qa, base[b*3*c+c+h*dh:b*3*c+c+(h+1)*dh]) - m))
					z += p
					axpy(acc, p, base[b*3*c+2*c+h*dh:b*3*c+2*c+(h+1)*dh])
				}
				mS[(r*k+a)*H+h], zS[(r*k+a)*H+h] = m, z
			}
		}
	}
	// Attention outputs of every token of every sample.
	o := w.alloc(nb * k * c)
	raw := make([]float64, max(k, d))
	for q := 0; q < nb; q++ {
		r := q / S
		base := qkvc[r*k*3*c:]
		nbase := qkvn[q*d*3*c:]
		for h := 0; h < H; h++ {
			for a := 0; a < k; a++ {
				out := o[(q*k+a)*c+h*dh : (q*k+a)*c+(h+1)*dh]
				if !f.isNoised[a] {
					// Shared sums over conditioning keys plus this sample's noised keys.
					qa := base[a*3*c+h*dh : a*3*c+(h+1)*dh]
					m := mS[(r*k+a)*H+h]
					mx := m
					for dd := 0; dd < d; dd++ {
						raw[dd] = dot(qa, nbase[dd*3*c+c+h*dh:dd*3*c+c+(h+1)*dh])
						mx = max(mx, raw[dd])
					}
					ws := math.Exp(f.scale * (m - mx))
					z := zS[(r*k+a)*H+h] * ws
					axpy(out, ws, aS[(r*k+a)*c+h*dh:(r*k+a)*c+(h+1)*dh])
					for dd := 0; dd < d; dd++ {
						p := math.Exp(f.scale * (raw[dd] - mx))
						z += p
						axpy(out, p, nbase[dd*3*c+2*c+h*dh:dd*3*c+2*c+(h+1)*dh])
					}
					scal(out, 1/z)
					continue
				}
				// A noised query attends to every key.
				dq := noisedIndex(noised, a)
				qa := nbase[dq*3*c+h*dh : dq*3*c+(h+1)*dh]
				mx := math.Inf(-1)
				for b := 0; b < k; b++ {
					raw[b] = dot(qa, f.keyOf(base, nbase, b, h, dh, 1))
					mx = max(mx, raw[b])
				}
				var z float64
				for b := 0; b < k; b++ {
					p := math.Exp(f.scale * (raw[b] - mx))
					z += p
					axpy(out, p, f.keyOf(base, nbase, b, h, dh, 2))
				}
				scal(out, 1/z)
			}
		}
	}
	// Full token inputs of block 0 (x) and of its transformer (u), per sample.
	xf := w.alloc(nb * k * c)
	uf := w.alloc(nb * k * c)
	for q := 0; q < nb; q++ {
		r := q / S
		copy(xf[q*k*c:(q+1)*k*c], f.x0[(lo+r)*k*c:(lo+r+1)*k*c])
		copy(uf[q*k*c:(q+1)*k*c], uc[r*k*c:(r+1)*k*c])
		for dd, j := range noised {
			copy(xf[(q*k+j)*c:(q*k+j+1)*c], xn[(q*d+dd)*c:(q*d+dd+1)*c])
			copy(uf[(q*k+j)*c:(q*k+j+1)*c], un[(q*d+dd)*c:(q*d+dd+1)*c])
		}
	}
	tf := b0.tf
	u := ad.Const(uf, nb, k, c)
	z := tf.Norm1.Forward(tp, tp.Add(u, tf.Attn.OutProj.Forward(tp, ad.Const(o, nb, k, c))))
	y := tf.Norm2.Forward(tp, tp.Add(z, tf.Lin2.Forward(tp, tp.GELU(tf.Lin1.Forward(tp, z)))))
	xv := f.gated(skip, tp, 0, ad.Const(xf, nb, k, c), y, nb)

	// Middle blocks in full.
	for l := 1; l < nl-1; l++ {
		b := n.blocks[l]
		y := b.tf.Forward(tp, tp.Add(xv, ad.Const(e[l*c:(l+1)*c], 1, 1, c)), nil)
		xv = f.gated(skip, tp, l, xv, y, nb)
	}

	// Last block: keys and values of every token, the rest at the noised tokens only.
	l := nl - 1
	uv := tp.Add(xv, ad.Const(e[l*c:(l+1)*c], 1, 1, c))
	kv := tp.Linear(uv, f.wkv, f.bkv).Data // [nb, K, 2C]
	unl := w.alloc(nb * d * c)
	gatherNoised(unl, uv.Data, noised, nb, k, c)
	qn := tp.Linear(ad.Const(unl, nb, d, c), f.wq, f.bq).Data // [nb, d, C]
	ol := w.alloc(nb * d * c)
	f.attendNoised(ol, qn, kv, nb)
	f.tail(skip, tp, l, unl, ol, nb)
	f.output(dst, tp, skip, nb)
}

// keyOf returns the key (part 1) or value (part 2) of token b, head h, of a sequence whose
// conditioning tokens' packed projections are in base (per row) and noised tokens' in nbase.
func (f *fastDenoiser) keyOf(base, nbase []float64, b, h, dh, part int) []float64 {
	c := f.c
	if f.isNoised[b] {
		dd := noisedIndex(f.se.noised, b)
		return nbase[dd*3*c+part*c+h*dh : dd*3*c+part*c+(h+1)*dh]
	}
	return base[b*3*c+part*c+h*dh : b*3*c+part*c+(h+1)*dh]
}

// attendNoised sets o [nb, d, C] to the attention outputs of the noised queries q [nb, d, C]
// over every token's keys and values kv [nb, K, 2C] (keys then values).
func (f *fastDenoiser) attendNoised(o, q, kv []float64, nb int) {
	k, c, d, H := f.k, f.c, f.d, f.heads
	dh := c / H
	raw := make([]float64, k)
	for s := 0; s < nb; s++ {
		for dd := 0; dd < d; dd++ {
			for h := 0; h < H; h++ {
				qa := q[(s*d+dd)*c+h*dh : (s*d+dd)*c+(h+1)*dh]
				mx := math.Inf(-1)
				for b := 0; b < k; b++ {
					off := (s*k+b)*2*c + h*dh
					raw[b] = dot(qa, kv[off:off+dh])
					mx = max(mx, raw[b])
				}
				out := o[(s*d+dd)*c+h*dh : (s*d+dd)*c+(h+1)*dh]
				var z float64
				for b := 0; b < k; b++ {
					p := math.Exp(f.scale * (raw[b] - mx))
					z += p
					off := (s*k+b)*2*c + c + h*dh
					axpy(out, p, kv[off:off+dh])
				}
				scal(out, 1/z)
			}
		}
	}
}

// gated finishes block l on every token from its transformer output y: the mid and side
// projections, the gate, the output projection; it adds the skip output at the noised
// tokens to skip and returns the next block's input (x + residual)/√2.
func (f *fastDenoiser) gated(skip []float64, tp *ad.Tape, l int, x, y *ad.Var, nb int) *ad.Var {
	b := f.net.blocks[l]
	c := f.c
	g := tp.Add(b.mid.Forward(tp, y), ad.Const(f.side[l], f.k, 2*c))
	gf := tp.Split(g, c, c)
	rs := tp.Split(b.out.Forward(tp, tp.Mul(tp.Sigmoid(gf[0]), tp.Tanh(gf[1]))), c, c)
	sk := rs[1].Data
	for q := 0; q < nb; q++ {
		for dd, j := range f.se.noised {
			axpy(skip[(q*f.d+dd)*c:(q*f.d+dd+1)*c], 1, sk[(q*f.k+j)*c:(q*f.k+j+1)*c])
		}
	}
	return tp.Scale(tp.Add(x, rs[0]), 1/math.Sqrt2)
}

// tail finishes the transformer and the gated unit of block l at the noised tokens only,
// from their transformer inputs u and attention outputs o [nb, d, C], and adds their skip
// output to skip.
func (f *fastDenoiser) tail(skip []float64, tp *ad.Tape, l int, u, o []float64, nb int) {
	b := f.net.blocks[l]
	c, d := f.c, f.d
	tf := b.tf
	z := tf.Norm1.Forward(tp, tp.Add(ad.Const(u, nb, d, c), tf.Attn.OutProj.Forward(tp, ad.Const(o, nb, d, c))))
	y := tf.Norm2.Forward(tp, tp.Add(z, tf.Lin2.Forward(tp, tp.GELU(tf.Lin1.Forward(tp, z)))))
	g := tp.Add(b.mid.Forward(tp, y), ad.Const(f.sideN[l], d, 2*c))
	gf := tp.Split(g, c, c)
	rs := tp.Split(b.out.Forward(tp, tp.Mul(tp.Sigmoid(gf[0]), tp.Tanh(gf[1]))), c, c)
	axpy(skip, 1, rs[1].Data)
}

// output maps the skip sum at the noised tokens to ε̂: out2(ReLU(out1(Σ skip/√layers))).
func (f *fastDenoiser) output(dst []float64, tp *ad.Tape, skip []float64, nb int) {
	n := f.net
	h := tp.Scale(ad.Const(skip, nb, f.d, f.c), n.skipNorm)
	out := n.out2.Forward(tp, tp.ReLU(n.out1.Forward(tp, h)))
	copy(dst, out.Data)
}

func noisedIndex(noised []int, j int) int {
	for dd, x := range noised {
		if x == j {
			return dd
		}
	}
	panic("csdi: column is not noised")
}

func gatherNoised(dst, src []float64, noised []int, nb, k, c int) {
	d := len(noised)
	for q := 0; q < nb; q++ {
		for dd, j := range noised {
			copy(dst[(q*d+dd)*c:(q*d+dd+1)*c], src[(q*k+j)*c:(q*k+j+1)*c])
		}
	}
}

// addRows adds v (length C) to every row of x (rows of length C).
func addRows(x, v []float64) {
	c := len(v)
	for i := 0; i < len(x); i += c {
		row := x[i : i+c]
		for j, a := range v {
			row[j] += a
		}
	}
}

func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(y []float64, a float64, x []float64) {
	x = x[:len(y)]
	for i, v := range x {
		y[i] += a * v
	}
}

func scal(x []float64, a float64) {
	for i := range x {
		x[i] *= a
	}
}
