package pbp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// Fit trains PBP on (X, y) as the reference does: inputs z-scored when NormalizeInputs,
// targets z-scored, the posterior initialized from rng, then Epochs times an ADF pass over a
// fresh permutation drawn from rng followed by one EP refinement of the prior. X and y are
// not modified.
//
// Fit panics if X has no columns or its row count differs from len(y). It returns an error
// for fewer than 2 rows, a non-finite value, constant targets, a cancelled ctx (checked
// between epochs and every 4096 points), and a posterior that became non-finite.
func (r *Regressor) Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error) {
	rows, d := X.Dims()
	if d == 0 {
		panic("pbp: Fit: X has no columns")
	}
	if rows != len(y) {
		panic(fmt.Sprintf("pbp: Fit: X has %d rows but y has %d entries", rows, len(y)))
	}
	if rows < 2 {
		return nil, fmt.Errorf("pbp: %d training rows; PBP needs at least 2 to standardize the target", rows)
	}
	if err := ml.CheckFinite(X, y); err != nil {
		return nil, fmt.Errorf("pbp: %w", err)
	}
	p := &Predictor{xs: stats.IdentityScaler(d)}
	if r.cfg.NormalizeInputs {
		p.xs = stats.FitScaler(X, nil)
	}
	p.yMean, p.ySD = stats.MeanScale(y)
	if allEqual(y) {
		return nil, fmt.Errorf("pbp: all %d training targets equal %v; there is nothing to fit", rows, y[0])
	}

	// The standardized inputs with the bias column, and their squares, row-major.
	w := d + 1
	xb := make([]float64, rows*w)
	x2 := make([]float64, rows*w)
	yn := make([]float64, rows)
	for i := range rows {
		for j := range d {
			v := (X.At(i, j) - p.xs.Mean[j]) / p.xs.Scale[j]
			xb[i*w+j], x2[i*w+j] = v, v*v
		}
		xb[i*w+d], x2[i*w+d] = 1, 1
		yn[i] = (y[i] - p.yMean) / p.ySD
	}

	net := newNetwork(d, r.cfg.Hidden)
	net.init(rng)
	ws := newWorkspace(net)
	perm := make([]int, rows)
	swap := func(i, j int) { perm[i], perm[j] = perm[j], perm[i] }
	for epoch := range r.cfg.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for i := range perm {
			perm[i] = i
		}
		rng.Shuffle(rows, swap)
		for k, i := range perm {
			if k&4095 == 4095 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			net.adfUpdate(ws, xb[i*w:(i+1)*w], x2[i*w:(i+1)*w], yn[i])
		}
		net.refinePrior()
		if err := net.checkFinite(); err != nil {
			return nil, fmt.Errorf("pbp: epoch %d: %w", epoch+1, err)
		}
	}
	p.net = net
	return p, nil
}

func allEqual(y []float64) bool {
	for _, v := range y[1:] {
		if v != y[0] {
			return false
		}
	}
	return true
}

// checkFinite reports a posterior that numerical trouble has made unusable.
func (n *network) checkFinite() error {
	if !(n.aNoise > 1 && n.bNoise > 0 && !math.IsInf(n.aNoise, 0) && !math.IsInf(n.bNoise, 0)) {
		return fmt.Errorf("the noise posterior Gamma(%v, %v) is invalid; the data may be badly scaled", n.aNoise, n.bNoise)
	}
	for l := range n.layers {
		lay := &n.layers[l]
		for k := range lay.m {
			if math.IsNaN(lay.m[k]) || math.IsInf(lay.m[k], 0) || math.IsInf(lay.v[k], 0) {
				return fmt.Errorf("a weight of layer %d became non-finite; the data may be badly scaled", l+1)
			}
		}
	}
	return nil
}

// Predictor is a fitted PBP network; it implements ml.Predictor and is safe for concurrent use.
type Predictor struct {
	net        *network
	xs         stats.Scaler // the inputs' z-scoring (identity without NormalizeInputs)
	yMean, ySD float64      // the target's z-scoring
}

// Predict returns, for each row of X, the predictive mean and the predictive variance (the
// variance of the network output under the approximate posterior plus the noise variance
// β/(α−1)), in the units of y. It panics if X's column count differs from the training data's.
func (p *Predictor) Predict(X *mat.Dense) (mean, variance []float64) {
	rows, d := X.Dims()
	if d != len(p.xs.Mean) {
		panic(fmt.Sprintf("pbp: Predict: X has %d columns, the model was fitted on %d", d, len(p.xs.Mean)))
	}
	ws := newWorkspace(p.net)
	x := make([]float64, d+1)
	x2 := make([]float64, d+1)
	x[d], x2[d] = 1, 1
	mean = make([]float64, rows)
	variance = make([]float64, rows)
	noise := p.net.noiseVariance()
	for i := range rows {
		for j := range d {
			v := (X.At(i, j) - p.xs.Mean[j]) / p.xs.Scale[j]
			x[j], x2[j] = v, v*v
		}
		m, v := p.net.forward(ws, x, x2, false)
		mean[i] = m*p.ySD + p.yMean
		variance[i] = (v + noise) * p.ySD * p.ySD
	}
	return mean, variance
}

// NoiseVariance returns the posterior mean of the noise variance, β/(α−1), in the units of y.
func (p *Predictor) NoiseVariance() float64 {
	return p.net.noiseVariance() * p.ySD * p.ySD
}
