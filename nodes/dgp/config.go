package dgp

import (
	"fmt"
	"math"

	"github.com/ntedsl/ntedsl/stdlib/ml"
)

// Config is the configuration of a deep GP regressor. Zero values are not defaults: start
// from DefaultConfig.
type Config struct {
	// Layers is the number of GP layers L; 1 is a sparse variational GP (SVGP).
	Layers int `attr:"layers" doc:"Number of GP layers; 1 is a sparse variational GP (SVGP), 2 the preprint's likely depth."`
	// InnerWidth is the output width of every inner layer; 0 means D, the input dimension,
	// as in the reference demo (whose inner layers then have identity mean functions).
	// Narrower layers project the inputs on their leading principal directions, wider ones
	// pad them with zeros. The default 5 is a cost decision: a step costs O(width·M²·N),
	// and on the A2M3O12 data widths 5, 10 and 30 cross-validate alike (see the package
	// documentation); the DSVI paper used min(30, D).
	InnerWidth int `attr:"inner_width" doc:"Output width of each inner layer (0: the input dimension D, as the reference demo; the DSVI paper used min(30, D)). A step costs O(width·M²·N)."`
	// Inducing is the largest number of inducing points per layer: M = min(Inducing, N).
	// With M = N the inducing inputs start at the training inputs, otherwise at k-means
	// centres (seeded from the rng).
	Inducing int `attr:"inducing" doc:"Inducing points per layer, M = min(inducing, N); they start at the training inputs when M = N, at k-means centres otherwise."`
	// Iterations is the number of Adam steps on the whole training set. 1000 keeps a
	// 10 × 10 cross-validation of the built-in data within minutes and is enough there;
	// smooth, low-noise targets keep improving for thousands more (the demo runs 10 000).
	Iterations int `attr:"iterations" doc:"Adam steps on the full training set. 1000 suffices on the noisy A2M3O12 data; low-noise targets improve for thousands more (the reference demo runs 10 000)."`
	// LearningRate is Adam's step size (the reference's 0.01).
	LearningRate float64 `attr:"learning_rate" doc:"Adam learning rate."`
	// Whiten parameterizes q(u) through u = L_Z v (q_sqrt starts at I). The reference
	// default is false: q(u) on the inducing outputs, q_sqrt starting at chol(K_ZZ).
	Whiten bool `attr:"whiten" doc:"Whitened inducing variables u = chol(K_ZZ)·v (the reference default is false)."`
	// TrainSamples is the number of doubly-stochastic samples per Adam step (the reference's 1).
	TrainSamples int `attr:"train_samples" doc:"Monte Carlo samples through the layers per training step."`
	// PredictSamples is the number of samples through the layers behind each prediction;
	// the predictive distribution is their equally weighted Gaussian mixture.
	PredictSamples int `attr:"predict_samples" doc:"Monte Carlo samples through the layers per prediction; the prediction is their Gaussian mixture."`
	// NoiseVariance is the initial Gaussian likelihood variance, on the z-scored target.
	NoiseVariance float64 `attr:"noise_variance" doc:"Initial Gaussian likelihood variance on the z-scored target (learned)."`
}

// DefaultConfig returns the doubly-stochastic DGP of the reference demo (ARD RBF kernels,
// M = min(100, N), Adam 0.01, one training sample, 100 prediction samples, noise 0.05,
// not whitened), with two layers, inner width 5 and 1000 iterations instead of the demo's
// 10 000 (see the package documentation for the convergence evidence and the costs).
func DefaultConfig() Config {
	return Config{
		Layers:         2,
		InnerWidth:     5,
		Inducing:       100,
		Iterations:     1000,
		LearningRate:   0.01,
		Whiten:         false,
		TrainSamples:   1,
		PredictSamples: 100,
		NoiseVariance:  0.05,
	}
}

// Bounds that turn a typo into an error instead of an out-of-memory crash: a layer holds
// M²·width variational parameters, and every step costs O(width·M²·N).
const (
	maxLayers   = 10
	maxWidth    = 1000
	maxInducing = 5000
	maxSamples  = 100000
)

// Validate reports the first invalid parameter of c, naming it.
func (c Config) Validate() error {
	switch {
	case c.Layers < 1 || c.Layers > maxLayers:
		return fmt.Errorf("dgp: layers = %d; it must be between 1 and %d (the preprint's DGP most likely has 2)", c.Layers, maxLayers)
	case c.InnerWidth < 0 || c.InnerWidth > maxWidth:
		return fmt.Errorf("dgp: inner_width = %d; it must be 0 (the input dimension) or a width up to %d", c.InnerWidth, maxWidth)
	case c.Inducing < 1 || c.Inducing > maxInducing:
		return fmt.Errorf("dgp: inducing = %d; it must be between 1 and %d (the reference uses 100)", c.Inducing, maxInducing)
	case c.Iterations < 1:
		return fmt.Errorf("dgp: iterations = %d; it must be at least 1", c.Iterations)
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("dgp: learning_rate = %v; it must be a finite number > 0 (the reference uses 0.01)", c.LearningRate)
	case c.TrainSamples < 1 || c.TrainSamples > maxSamples:
		return fmt.Errorf("dgp: train_samples = %d; it must be between 1 and %d (the reference uses 1)", c.TrainSamples, maxSamples)
	case c.PredictSamples < 1 || c.PredictSamples > maxSamples:
		return fmt.Errorf("dgp: predict_samples = %d; it must be between 1 and %d (the reference uses 100)", c.PredictSamples, maxSamples)
	case !(c.NoiseVariance > noiseFloor) || math.IsInf(c.NoiseVariance, 0):
		return fmt.Errorf("dgp: noise_variance = %v; it must be a finite number above %g (the reference starts at 0.05)", c.NoiseVariance, noiseFloor)
	}
	return nil
}

// Regressor is a deep GP configuration; it implements ml.Regressor.
type Regressor struct {
	cfg Config
}

// New validates c and returns a deep GP regressor.
func New(c Config) (ml.Regressor, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &Regressor{cfg: c}, nil
}

// Config returns the regressor's configuration.
func (r *Regressor) Config() Config { return r.cfg }
