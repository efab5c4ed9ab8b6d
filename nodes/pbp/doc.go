// Package pbp owns Probabilistic Backpropagation (Hernández-Lobato & Adams, ICML 2015): a
// Bayesian ReLU network with a factorized Gaussian posterior over its weights, trained by
// assumed density filtering (one moment-matching update per data point, repeated for a number
// of epochs) plus an expectation-propagation refinement of the shared Gamma prior on the
// weight precision, and a Gamma posterior on the noise precision.
//
// The package implements the specification of shared/methods/models.md §2, which follows the
// authors' C implementation (HIPS/Probabilistic-Backpropagation): scaled pre-activations
// a = W z / sqrt(V+1), closed-form ReLU moments with the α < −30 asymptote, gradients of
// log Z with respect to every weight's mean and variance derived by hand (backpropagation
// through the moment propagation), a Gaussian approximation of the Student-t likelihood for
// the noise update, and one sequential EP sweep over the prior factors per epoch.
//
// New returns an ml.Regressor. Its Predictor returns the predictive mean and the predictive
// variance (the model variance plus the noise variance β/(α−1)) in the units of y.
//
// Validation (see the tests): the closed-form ReLU moments, the noise update and the prior
// refinement against scipy fixtures; every ∂logZ/∂m_w and ∂logZ/∂v_w against central
// differences; the moment propagation against Monte Carlo; whole training runs against the
// authors' C implementation (agreement to rounding, ≤ 2.5e-10 after 40 epochs on Boston); and
// the 20 standard UCI splits of Boston, Concrete, Energy, Wine and Yacht against the published
// RMSE and log-likelihood (NTEDSL_LONG=1).
//
// The inner loop is allocation-free: each layer keeps its weight means and variances
// row-major and contiguous, the training inputs are stored once with their squares and the
// bias column, and the gradient of a weight row is applied as soon as it is computed (the
// weights of a layer are not read again in the same backward pass).
package pbp
