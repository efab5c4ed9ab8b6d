package dgp

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	ad "github.com/ntedsl/ntedsl/stdlib/autodiff"
	"github.com/ntedsl/ntedsl/stdlib/ml"
	"github.com/ntedsl/ntedsl/stdlib/stats"
)

// Fit trains the deep GP on (X, y): inputs and targets are z-scored on the training rows
// (population SD), the model is initialized as the reference does (see newModel), and the
// negative ELBO is minimized with Adam for cfg.Iterations full-batch steps, each with
// fresh standard normals for the doubly-stochastic samples. Every random number (k-means
// start, every ε, the prediction stream's seed) comes from rng, so a seed fixes the fit.
// X and y are not modified.
//
// Fit panics if X has no columns or its row count differs from len(y). It returns an error
// for fewer than 2 rows, a non-finite value, constant targets, a cancelled ctx (checked
// before every step), a K_ZZ that is not numerically positive definite, and an ELBO that
// became non-finite.
func (r *Regressor) Fit(ctx context.Context, X *mat.Dense, y []float64, rng *rand.Rand) (ml.Predictor, error) {
	n, d := X.Dims()
	if d == 0 {
		panic("dgp: Fit: X has no columns")
	}
	if n != len(y) {
		panic(fmt.Sprintf("dgp: Fit: X has %d rows but y has %d entries", n, len(y)))
	}
	if n < 2 {
		return nil, fmt.Errorf("dgp: %d training rows; the deep GP needs at least 2 to standardize the target", n)
	}
	if err := ml.CheckFinite(X, y); err != nil {
		return nil, fmt.Errorf("dgp: %w", err)
	}
	if allEqual(y) {
		return nil, fmt.Errorf("dgp: all %d training targets equal %v; there is nothing to fit", n, y[0])
	}
	p := &Predictor{xs: stats.FitScaler(X, nil), samples: r.cfg.PredictSamples}
	p.yMean, p.ySD = stats.MeanScale(y)
	xs := make([]float64, n*d)
	ys := make([]float64, n)
	for i := range n {
		for j := range d {
			xs[i*d+j] = (X.At(i, j) - p.xs.Mean[j]) / p.xs.Scale[j]
		}
		ys[i] = (y[i] - p.yMean) / p.ySD
	}

	md, err := newModel(r.cfg, xs, n, d, rng)
	if err != nil {
		return nil, fmt.Errorf("dgp: %w", err)
	}
	tr := newTrainer(md, xs, ys, n, d, r.cfg.TrainSamples, r.cfg.LearningRate)
	p.trace = make([]float64, 0, r.cfg.Iterations)
	for it := range r.cfg.Iterations {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, err := tr.step(rng)
		if err != nil {
			return nil, fmt.Errorf("dgp: step %d: %w; try fewer inducing points, a smaller learning_rate or whiten = true", it+1, err)
		}
		p.trace = append(p.trace, e)
	}
	p.states, err = md.states(nil)
	if err != nil {
		return nil, fmt.Errorf("dgp: after training: %w", err)
	}
	p.model = md
	p.seed1, p.seed2 = rng.Uint64(), rng.Uint64()
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

// trainer holds what the Adam loop reuses between steps: the tiled data, the noise
// buffers, the tape and the optimizer.
type trainer struct {
	md   *model
	x, y *ad.Var
	s    int
	eps  [][]float64
	tp   *ad.Tape
	opt  *ad.Adam
}

func newTrainer(md *model, xs, ys []float64, n, d, s int, lr float64) *trainer {
	tx := make([]float64, 0, s*n*d)
	ty := make([]float64, 0, s*n)
	for range s {
		tx = append(tx, xs...)
		ty = append(ty, ys...)
	}
	t := &trainer{md: md, x: ad.Const(tx, s*n, d), y: ad.Const(ty, s*n, 1), s: s, tp: ad.NewTape()}
	for _, l := range md.layers[:len(md.layers)-1] {
		t.eps = append(t.eps, make([]float64, s*n*l.dOut))
	}
	t.opt = ad.NewAdam(md.ps.Vars(), lr)
	return t
}

// step draws fresh ε from rng, evaluates the ELBO and its gradient, and takes one Adam
// step on −ELBO. It returns the ELBO before the step.
func (t *trainer) step(rng *rand.Rand) (float64, error) {
	for _, e := range t.eps {
		for i := range e {
			e[i] = rng.NormFloat64()
		}
	}
	t.tp.Reset()
	t.md.ps.ZeroGrad()
	e, err := t.md.elbo(t.tp, t.x, t.y, t.s, t.eps)
	if err != nil {
		return 0, err
	}
	v := e.Value()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, fmt.Errorf("the ELBO is %v", v)
	}
	t.tp.Backward(t.tp.Neg(e))
	t.md.projectGrad()
	t.opt.Step()
	return v, nil
}

// Predictor is a fitted deep GP. It is safe for concurrent use.
type Predictor struct {
	model        *model
	states       []layerState // per layer: kernel parameters and chol(K_ZZ), fixed after Fit
	xs           stats.Scaler // the inputs' z-scoring on the training rows
	yMean, ySD   float64      // the target's
	samples      int
	seed1, seed2 uint64
	trace        []float64
}

// Trace returns the ELBO (on the z-scored targets) before each training step; its tail
// shows whether the optimization converged.
func (p *Predictor) Trace() []float64 { return append([]float64(nil), p.trace...) }

// NoiseVariance returns the learned likelihood variance in the units of y².
func (p *Predictor) NoiseVariance() float64 {
	return p.model.noise(nil).Value() * p.ySD * p.ySD
}

// Predict returns, for each row of X, the mean and variance of the predictive mixture
// (1/S) Σ_s N(μ_s, σ_s² + σ²) over S = PredictSamples samples through the layers, in the
// units of y: mean = avg μ_s, variance = avg(σ_s² + μ_s²) − mean² + σ². The samples come
// from a stream seeded during Fit, so a call is deterministic; rows are sampled
// together, so a row's prediction depends on the rows passed with it only through the
// noise draw (not in distribution). Predict panics if X's column count differs from the
// training data's.
func (p *Predictor) Predict(X *mat.Dense) (mean, variance []float64) {
	mus, vars := p.sample(X)
	n, _ := X.Dims()
	noise := p.model.noise(nil).Value()
	mean = make([]float64, n)
	variance = make([]float64, n)
	s := float64(len(mus))
	for i := range n {
		var m1, m2 float64
		for k := range mus {
			m1 += mus[k][i]
			m2 += vars[k][i] + mus[k][i]*mus[k][i]
		}
		m1 /= s
		v := math.Max(m2/s-m1*m1, 0) + noise
		mean[i] = m1*p.ySD + p.yMean
		variance[i] = v * p.ySD * p.ySD
	}
	return mean, variance
}

// LogDensity returns log p(y_i | x_i) under the predictive mixture, in the units of y:
// logsumexp_s log N(y_i | μ_s, σ_s² + σ²) − log S (the reference's test log likelihood).
// It panics if X and y disagree in length or X's column count is wrong.
func (p *Predictor) LogDensity(X *mat.Dense, y []float64) []float64 {
	n, _ := X.Dims()
	if n != len(y) {
		panic(fmt.Sprintf("dgp: LogDensity: X has %d rows but y has %d entries", n, len(y)))
	}
	mus, vars := p.sample(X)
	noise := p.model.noise(nil).Value()
	out := make([]float64, n)
	lp := make([]float64, len(mus))
	for i := range n {
		yi := (y[i] - p.yMean) / p.ySD
		mx := math.Inf(-1)
		for k := range mus {
			v := vars[k][i] + noise
			r := yi - mus[k][i]
			lp[k] = -0.5*math.Log(2*math.Pi*v) - 0.5*r*r/v
			mx = math.Max(mx, lp[k])
		}
		var s float64
		for _, l := range lp {
			s += math.Exp(l - mx)
		}
		out[i] = mx + math.Log(s/float64(len(mus))) - math.Log(p.ySD)
	}
	return out
}

// maxPredictRows bounds the rows (samples × points) pushed through the layers at once.
const maxPredictRows = 4096

// sample returns the last layer's means and variances (z-scored units) of every sample.
func (p *Predictor) sample(X *mat.Dense) (mus, vars [][]float64) {
	n, d := X.Dims()
	if d != len(p.xs.Mean) {
		panic(fmt.Sprintf("dgp: Predict: X has %d columns, the model was trained on %d", d, len(p.xs.Mean)))
	}
	xs := make([]float64, n*d)
	for i := range n {
		for j := range d {
			xs[i*d+j] = (X.At(i, j) - p.xs.Mean[j]) / p.xs.Scale[j]
		}
	}
	md := p.model
	// A one-layer model has no sampled layer: every sample is the same Gaussian.
	s := p.samples
	if len(md.layers) == 1 {
		s = 1
	}
	rng := rand.New(rand.NewPCG(p.seed1, p.seed2))
	per := max(1, maxPredictRows/max(n, 1))
	tp := ad.NewInferenceTape()
	eps := make([][]float64, len(md.layers)-1)
	for s0 := 0; s0 < s; s0 += per {
		c := min(per, s-s0)
		tx := make([]float64, 0, c*n*d)
		for range c {
			tx = append(tx, xs...)
		}
		for l := range eps {
			eps[l] = make([]float64, c*n*md.layers[l].dOut)
			for i := range eps[l] {
				eps[l][i] = rng.NormFloat64()
			}
		}
		tp.Reset()
		mu, v, _, _ := md.forward(tp, ad.Const(tx, c*n, d), eps, p.states, false)
		for k := range c {
			mus = append(mus, append([]float64(nil), mu.Data[k*n:(k+1)*n]...))
			vars = append(vars, append([]float64(nil), v.Data[k*n:(k+1)*n]...))
		}
	}
	return mus, vars
}
