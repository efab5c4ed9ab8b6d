package dgp

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
)

// innerWidth resolves Config.InnerWidth for d inputs.
func innerWidth(cfg Config, d int) int {
	if cfg.InnerWidth > 0 {
		return cfg.InnerWidth
	}
	return d
}

// newModel builds the deep GP of cfg for the standardized training inputs x (n×d,
// row-major) the way the reference's init_layers_linear does (models.md §3.1):
//
//   - Z = x when M = min(Inducing, n) equals n, else k-means centres of x (from rng);
//   - inner layer l maps the running inputs (x and Z pushed through the previous mean
//     functions) with an identity mean when the width is unchanged, the top right singular
//     vectors of the running x when it shrinks, [I, 0] when it grows; the last layer has a
//     zero mean and one output;
//   - RBF kernels with σ_f² = 1, ℓ = 1, plus a White kernel of 2e-6 on inner layers;
//   - q_mu = 0, q_sqrt = chol(K_ZZ) (non-whitened) or I (whitened), × 1e-5 on inner layers;
//   - likelihood variance cfg.NoiseVariance.
func newModel(cfg Config, x []float64, n, d int, rng *rand.Rand) (*model, error) {
	m := min(cfg.Inducing, n)
	var z []float64
	if m == n {
		z = append([]float64(nil), x...)
	} else {
		z = kmeans(x, n, d, m, 10, rng)
	}
	md := &model{whiten: cfg.Whiten, jitter: kzzJitter, sampleJitter: sampleJitter, ps: ad.NewParams()}
	xr, zr := x, z
	din := d
	w := innerWidth(cfg, d)
	for l := 0; l < cfg.Layers; l++ {
		last := l == cfg.Layers-1
		dout := w
		if last {
			dout = 1
		}
		ly := newLayer(md.ps, fmt.Sprintf("layer%d", l), zr, m, din, dout, 1, 1)
		switch {
		case last:
			ly.mean = meanZero
		case dout == din:
			ly.mean = meanIdentity
			ly.white = innerWhite
		default:
			ly.mean = meanLinear
			ly.white = innerWhite
			wm := linearMean(xr, n, din, dout)
			ly.w = ad.Const(wm, din, dout)
			xr = matmul(xr, n, din, wm, dout)
			zr = matmul(zr, m, din, wm, dout)
		}
		md.layers = append(md.layers, ly)
		din = dout
	}
	md.rawNoise = md.ps.Add("noise", ad.NewVar([]float64{softplusInv(cfg.NoiseVariance - noiseFloor)}, 1))
	md.prepare()
	if err := md.initQ(); err != nil {
		return nil, err
	}
	return md, nil
}

// initQ sets q_mu = 0 and q_sqrt to chol(K_ZZ) (non-whitened) or I (whitened) for every
// output, scaled by innerQScale on inner layers.
func (md *model) initQ() error {
	for i, l := range md.layers {
		scale := 1.0
		if i < len(md.layers)-1 {
			scale = innerQScale
		}
		clear(l.qMu.Data)
		lz := make([]float64, l.m*l.m)
		if md.whiten {
			for k := 0; k < l.m; k++ {
				lz[k*l.m+k] = 1
			}
		} else {
			st, err := l.state(nil, false)
			if err != nil {
				return fmt.Errorf("layer %d of %d: initial K_ZZ: %w", i+1, len(md.layers), err)
			}
			copy(lz, st.lz.Data)
		}
		for r := 0; r < l.m; r++ {
			for o := 0; o < l.dOut; o++ {
				row := l.qSqrt.Data[(r*l.dOut+o)*l.m : (r*l.dOut+o+1)*l.m] // row r of L_o
				for c := range row {
					row[c] = scale * lz[r*l.m+c]
				}
			}
		}
	}
	return nil
}

// linearMean returns the fixed weights W [din, dout] of an inner layer's linear mean:
// the top dout right singular vectors of the running inputs x (n×din) when shrinking (a
// PCA projection of the uncentred inputs, as the reference), [I, 0] when growing.
func linearMean(x []float64, n, din, dout int) []float64 {
	w := make([]float64, din*dout)
	if dout > din {
		for i := 0; i < din; i++ {
			w[i*dout+i] = 1
		}
		return w
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, din, append([]float64(nil), x...)), mat.SVDFullV) {
		// Gonum's SVD does not fail on finite input; fall back to the leading coordinates.
		for i := 0; i < dout; i++ {
			w[i*dout+i] = 1
		}
		return w
	}
	var v mat.Dense
	svd.VTo(&v) // din×din, singular values in decreasing order
	for i := 0; i < din; i++ {
		for j := 0; j < dout; j++ {
			w[i*dout+j] = v.At(i, j)
		}
	}
	return w
}

// matmul returns a (r×k) · b (k×c), row-major.
func matmul(a []float64, r, k int, b []float64, c int) []float64 {
	out := make([]float64, r*c)
	mat.NewDense(r, c, out).Mul(mat.NewDense(r, k, a), mat.NewDense(k, c, b))
	return out
}

// kmeans returns k centres of the n×d rows of x: Lloyd's algorithm for iters rounds from
// k distinct rows drawn with rng (scipy's kmeans2(minit='points') as the reference uses
// it). A point goes to the nearest centre, ties to the lowest index; an empty cluster
// keeps its centre.
func kmeans(x []float64, n, d, k, iters int, rng *rand.Rand) []float64 {
	c := make([]float64, k*d)
	for i, r := range rng.Perm(n)[:k] {
		copy(c[i*d:(i+1)*d], x[r*d:(r+1)*d])
	}
	assign := make([]int, n)
	sum := make([]float64, k*d)
	cnt := make([]int, k)
	for it := 0; it < iters; it++ {
		for i := 0; i < n; i++ {
			xi := x[i*d : (i+1)*d]
			best, bd := 0, math.Inf(1)
			for j := 0; j < k; j++ {
				cj := c[j*d : (j+1)*d]
				var s float64
				for q, v := range xi {
					t := v - cj[q]
					s += t * t
				}
				if s < bd {
					best, bd = j, s
				}
			}
			assign[i] = best
		}
		clear(sum)
		clear(cnt)
		for i, j := range assign {
			cnt[j]++
			for q := 0; q < d; q++ {
				sum[j*d+q] += x[i*d+q]
			}
		}
		for j := 0; j < k; j++ {
			if cnt[j] == 0 {
				continue
			}
			for q := 0; q < d; q++ {
				c[j*d+q] = sum[j*d+q] / float64(cnt[j])
			}
		}
	}
	return c
}
